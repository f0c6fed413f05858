import SQLKit
import TesseraCore
import TesseraStore

/// APIs (Auth0 "resource servers"): the audiences tokens are minted for.
public struct ResourceServers: Sendable {
    let store: Store
    let clock: TesseraClock
    /// Sign-ins read the API named by the audience on every request.
    let cached: RowCache<String, ResourceServer>

    init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
        cached = RowCache(.identity, of: store, clock: clock)
    }

    static let fields: Set<String> = [
        "name", "identifier", "signing_alg", "token_lifetime", "scopes", "allow_offline_access",
        "skip_consent_for_verifiable_first_party_clients", "token_lifetime_for_web", "signing_secret",
    ]
    static let maxLifetime = 2_592_000

    public func create(_ body: JSONValue, isSystem: Bool = false) async throws -> ResourceServer {
        let payload = try Payload(body, allowed: Self.fields)
        let identifier = try payload.requiredString("identifier", maxLength: 600)
        guard !identifier.isEmpty else {
            throw DomainError.invalidBody("Payload validation error: 'String is too short (0 chars), minimum 1' on property identifier.")
        }
        var server = ResourceServer(
            id: RandomToken.hex(bytes: 12),
            name: try Validate.name(try payload.string("name", maxLength: 200) ?? identifier),
            identifier: identifier,
            signingAlg: "RS256", signingSecret: nil, tokenLifetime: 86_400, scopes: [],
            allowOfflineAccess: false, isSystem: isSystem
        )
        try apply(payload, to: &server)
        let now = Timestamp.string(clock.now())
        let stored = server
        try await store.transaction(changing: .identity) { db in
            do {
                try await db.insert(into: "resource_servers")
                    .columns("id", "name", "identifier", "signing_alg", "signing_secret", "token_lifetime", "scopes",
                             "allow_offline_access", "is_system", "created_at", "updated_at")
                    .values(SQLBind(stored.id), SQLBind(stored.name), SQLBind(stored.identifier),
                            SQLBind(stored.signingAlg), SQLBind(stored.signingSecret), SQLBind(stored.tokenLifetime),
                            Self.scopesBind(stored.scopes), SQLBind(stored.allowOfflineAccess), SQLBind(stored.isSystem),
                            SQLBind(now), SQLBind(now))
                    .run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("A resource server with the same identifier already exists",
                                           code: "operation_not_supported")
            }
        }
        return server
    }

    public func list() async throws -> [ResourceServer] {
        try await store.read { db in
            try await db.select().columns("*").from("resource_servers").orderBy("created_at").all().map(Self.decode)
        }
    }

    /// By id or by identifier (audience), as Auth0 accepts either in the path.
    public func get(_ idOrIdentifier: String) async throws -> ResourceServer {
        guard let server = try await find(idOrIdentifier) else {
            throw DomainError.notFound("The resource server does not exist", code: "inexistent_resource_server")
        }
        return server
    }

    public func find(_ idOrIdentifier: String) async throws -> ResourceServer? {
        try await cached.value(idOrIdentifier) {
            try await store.read { db in
                try await db.select().columns("*").from("resource_servers")
                    .where("id", .equal, idOrIdentifier).orWhere("identifier", .equal, idOrIdentifier)
                    .first().map(Self.decode)
            }
        }
    }

    public func update(_ idOrIdentifier: String, _ body: JSONValue) async throws -> ResourceServer {
        let payload = try Payload(body, allowed: Self.fields.subtracting(["identifier"]))
        var server = try await get(idOrIdentifier)
        guard !server.isSystem else {
            throw DomainError(.forbidden, code: "operation_not_supported", "The Management API resource server cannot be modified")
        }
        if let name = try payload.string("name", maxLength: 200) { server.name = try Validate.name(name) }
        try apply(payload, to: &server)
        let now = Timestamp.string(clock.now())
        let stored = server
        try await store.transaction(changing: .identity) { db in
            try await db.update("resource_servers")
                .set("name", to: stored.name).set("signing_alg", to: stored.signingAlg)
                .set("signing_secret", to: stored.signingSecret).set("token_lifetime", to: stored.tokenLifetime)
                .set("scopes", to: Self.scopesBind(stored.scopes))
                .set("allow_offline_access", to: stored.allowOfflineAccess).set("updated_at", to: now)
                .where("id", .equal, stored.id).run()
        }
        return server
    }

    public func delete(_ idOrIdentifier: String) async throws {
        let server = try await get(idOrIdentifier)
        guard !server.isSystem else {
            throw DomainError(.forbidden, code: "operation_not_supported", "The Management API resource server cannot be deleted")
        }
        try await store.transaction(changing: .identity) { db in
            try await db.delete(from: "client_grants").where("audience", .equal, server.identifier).run()
            try await db.delete(from: "resource_servers").where("id", .equal, server.id).run()
        }
    }

    /// Only for the system (Management API) resource server, which the API itself refuses to modify.
    func replaceSystemScopes(_ id: String, _ scopes: [String]) async throws {
        try await store.transaction(changing: .identity) { db in
            try await db.update("resource_servers")
                .set("scopes", to: Self.scopesBind(scopes.map { ResourceServerScope(value: $0, description: $0) }))
                .where("id", .equal, id).where("is_system", .equal, true).run()
        }
    }

    private func apply(_ payload: Payload, to server: inout ResourceServer) throws {
        if let alg = try payload.string("signing_alg") {
            guard alg == "RS256" || alg == "HS256" else {
                throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(alg)\"' on property signing_alg.")
            }
            server.signingAlg = alg
        }
        if let secret = try payload.string("signing_secret", maxLength: 512) {
            guard secret.utf8.count >= 32 else {
                throw DomainError.invalidBody("Payload validation error: 'String is too short, minimum 32' on property signing_secret.")
            }
            server.signingSecret = secret
        }
        if server.signingAlg == "HS256" && server.signingSecret == nil {
            server.signingSecret = RandomToken.base64URL(bytes: 32)
        }
        server.tokenLifetime = try payload.integer("token_lifetime", range: 1...Self.maxLifetime) ?? server.tokenLifetime
        server.allowOfflineAccess = try payload.bool("allow_offline_access") ?? server.allowOfflineAccess
        if let scopes = try payload.array("scopes") {
            server.scopes = try scopes.map { item in
                let scope = try Payload(item, allowed: ["value", "description"])
                let value = try scope.requiredString("value", maxLength: 280)
                guard !value.isEmpty, !value.contains(" ") else {
                    throw DomainError.invalidBody("Payload validation error: 'A scope value must be non-empty and contain no spaces' on property scopes.")
                }
                return ResourceServerScope(value: value, description: try scope.string("description", maxLength: 500) ?? "")
            }
        }
    }

    static func scopesBind(_ scopes: [ResourceServerScope]) -> SQLBind {
        jsonBind(.array(scopes.map { .object(["value": .string($0.value), "description": .string($0.description)]) }))
    }

    static func decode(_ row: any SQLRow) throws -> ResourceServer {
        let scopes: [ResourceServerScope]
        if case .array(let items) = try row.json("scopes") {
            scopes = items.compactMap { item in
                guard let object = item.objectValue, let value = object["value"]?.stringValue else { return nil }
                return ResourceServerScope(value: value, description: object["description"]?.stringValue ?? "")
            }
        } else {
            scopes = []
        }
        return ResourceServer(
            id: try row.string("id"), name: try row.string("name"), identifier: try row.string("identifier"),
            signingAlg: try row.string("signing_alg"), signingSecret: try row.optionalString("signing_secret"),
            tokenLifetime: try row.integer("token_lifetime"), scopes: scopes,
            allowOfflineAccess: try row.bool("allow_offline_access"), isSystem: try row.bool("is_system")
        )
    }
}
