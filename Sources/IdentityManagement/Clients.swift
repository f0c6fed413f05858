import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// Applications: create, read, update, delete, rotate secret, authenticate.
public struct Clients: Sendable {
    let store: Store
    let clock: TesseraClock
    /// The sign-in and token paths read a client on every request; the Management API's changes drop the copies.
    let cached: RowCache<String, Found>
    let cachedMachineAccess: RowCache<MachineAccess.Key, MachineAccess>

    init(store: Store, clock: TesseraClock) {
        self.store = store
        self.clock = clock
        cached = RowCache(.identity, of: store, clock: clock)
        cachedMachineAccess = RowCache(.identity, of: store, clock: clock)
    }

    static let fields: Set<String> = [
        "name", "description", "app_type", "token_endpoint_auth_method", "callbacks", "web_origins",
        "allowed_origins", "allowed_logout_urls", "grant_types", "client_metadata", "is_first_party",
        "oidc_conformant",
    ]

    public func create(_ body: JSONValue, clientID: String? = nil) async throws -> Client {
        let payload = try Payload(body, allowed: Self.fields)
        let now = Timestamp.string(clock.now())
        let appTypeText = try payload.string("app_type") ?? "regular_web"
        guard let appType = AppType(wire: appTypeText) else {
            throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(appTypeText)\"' on property app_type.")
        }
        var client = Client(
            clientID: clientID ?? RandomToken.base64URL(bytes: 24),
            name: try Validate.name(try payload.requiredString("name", maxLength: 100)),
            description: try payload.string("description", maxLength: 140) ?? "",
            appType: appType,
            tokenEndpointAuthMethod: appType.isConfidential ? "client_secret_post" : "none",
            callbacks: [], webOrigins: [], allowedOrigins: [], allowedLogoutURLs: [],
            grantTypes: appType.defaultGrantTypes, clientMetadata: [:], isFirstParty: true,
            createdAt: now, updatedAt: now, clientSecret: nil
        )
        try apply(payload, to: &client)
        var digest: String?
        if client.tokenEndpointAuthMethod != "none" {
            let secret = OpaqueSecret.generate()
            client.clientSecret = secret
            digest = OpaqueSecret.digest(secret)
        }
        let stored = client
        let secretDigest = digest
        try await store.transaction(changing: .identity) { db in
            try await Self.insert(stored, digest: secretDigest, db: db)
        }
        return client
    }

    public func get(_ clientID: String) async throws -> Client {
        guard let client = try await found(clientID)?.client else {
            throw DomainError.notFound("The client does not exist", code: "inexistent_client")
        }
        return client
    }

    public func list() async throws -> [Client] {
        try await store.read { db in
            try await db.select().columns("*").from("clients").orderBy("created_at").all().map { try Self.decode($0).client }
        }
    }

    public func update(_ clientID: String, _ body: JSONValue) async throws -> Client {
        let payload = try Payload(body, allowed: Self.fields)
        let now = Timestamp.string(clock.now())
        return try await store.transaction(changing: .identity) { db in
            guard var client = try await Self.find(clientID, db: db)?.client else {
                throw DomainError.notFound("The client does not exist", code: "inexistent_client")
            }
            if let name = try payload.string("name", maxLength: 100) { client.name = try Validate.name(name) }
            if let description = try payload.string("description", maxLength: 140) { client.description = description }
            if let appTypeText = try payload.string("app_type") {
                guard let appType = AppType(wire: appTypeText) else {
                    throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(appTypeText)\"' on property app_type.")
                }
                client.appType = appType
            }
            try self.apply(payload, to: &client)
            client.updatedAt = now
            do {
                try await db.update("clients")
                .set("name", to: client.name).set("description", to: client.description)
                .set("app_type", to: client.appType.rawValue)
                .set("token_endpoint_auth_method", to: client.tokenEndpointAuthMethod)
                .set("callbacks", to: jsonBind(client.callbacks)).set("web_origins", to: jsonBind(client.webOrigins))
                .set("allowed_origins", to: jsonBind(client.allowedOrigins))
                .set("allowed_logout_urls", to: jsonBind(client.allowedLogoutURLs))
                .set("grant_types", to: jsonBind(client.grantTypes.map(\.rawValue)))
                .set("client_metadata", to: jsonBind(client.clientMetadata))
                .set("is_first_party", to: client.isFirstParty).set("updated_at", to: now)
                .where("client_id", .equal, clientID).run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("An application named \"\(client.name)\" already exists", code: "client_conflict")
            }
            return client
        }
    }

    public func delete(_ clientID: String) async throws {
        try await store.transaction(changing: .identity) { db in
            guard try await Self.find(clientID, db: db) != nil else {
                throw DomainError.notFound("The client does not exist", code: "inexistent_client")
            }
            try await db.delete(from: "clients").where("client_id", .equal, clientID).run()
        }
    }

    /// Issues a new secret; the old one stops working at once. The new one is in the response only.
    public func rotateSecret(_ clientID: String) async throws -> Client {
        let secret = OpaqueSecret.generate()
        let now = Timestamp.string(clock.now())
        var client = try await store.transaction(changing: .identity) { db in
            guard let client = try await Self.find(clientID, db: db)?.client else {
                throw DomainError.notFound("The client does not exist", code: "inexistent_client")
            }
            try await db.update("clients").set("client_secret_digest", to: OpaqueSecret.digest(secret))
                .set("updated_at", to: now).where("client_id", .equal, clientID).run()
            return client
        }
        client.clientSecret = secret
        return client
    }

    /// Sets a confidential client's secret to one chosen by the operator (the tenant file's `client_secret`, so that
    /// a connection declared in the same file can use it). At least 32 characters.
    public func setSecret(_ clientID: String, to secret: String) async throws {
        guard secret.utf8.count >= 32 else {
            throw DomainError.invalidBody("A client secret must be at least 32 characters")
        }
        let now = Timestamp.string(clock.now())
        try await store.transaction(changing: .identity) { db in
            guard let found = try await Self.find(clientID, db: db), found.digest != nil else {
                throw DomainError.notFound("The client does not exist or has no secret", code: "inexistent_client")
            }
            try await db.update("clients").set("client_secret_digest", to: OpaqueSecret.digest(secret))
                .set("updated_at", to: now).where("client_id", .equal, clientID).run()
        }
    }

    /// The client if `secret` is its secret. `nil` for an unknown client or a wrong secret alike,
    /// so a caller cannot tell which.
    public func authenticate(clientID: String, secret: String?) async throws -> Client? {
        guard let found = try await found(clientID) else { return nil }
        guard let digest = found.digest else {
            return nil
        }
        guard let secret, OpaqueSecret.matches(secret, digest: digest) else { return nil }
        return found.client
    }

    private func apply(_ payload: Payload, to client: inout Client) throws {
        if let method = try payload.string("token_endpoint_auth_method") {
            guard ["none", "client_secret_post", "client_secret_basic"].contains(method) else {
                throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(method)\"' on property token_endpoint_auth_method.")
            }
            if method == "none" && client.appType == .nonInteractive {
                throw DomainError.invalidBody("A machine-to-machine application must authenticate with a client secret.")
            }
            client.tokenEndpointAuthMethod = method
        }
        client.callbacks = try Validate.urls(try payload.strings("callbacks"), property: "callbacks") ?? client.callbacks
        client.webOrigins = try Validate.urls(try payload.strings("web_origins"), property: "web_origins") ?? client.webOrigins
        client.allowedOrigins = try Validate.urls(try payload.strings("allowed_origins"), property: "allowed_origins") ?? client.allowedOrigins
        client.allowedLogoutURLs = try Validate.urls(try payload.strings("allowed_logout_urls"), property: "allowed_logout_urls") ?? client.allowedLogoutURLs
        if let grantTypes = try payload.strings("grant_types") {
            client.grantTypes = try grantTypes.map { name in
                guard let grantType = GrantType(rawValue: name) else {
                    throw DomainError.invalidBody("Payload validation error: 'No enum match for: \"\(name)\"' on property grant_types.")
                }
                return grantType
            }
        }
        if let metadata = try payload.object("client_metadata") {
            guard metadata.values.allSatisfy({ $0.stringValue != nil }) else {
                throw DomainError.invalidBody("Payload validation error: 'client_metadata values must be strings' on property client_metadata.")
            }
            client.clientMetadata = metadata
        }
        client.isFirstParty = try payload.bool("is_first_party") ?? client.isFirstParty
    }

    struct Found: Sendable {
        let client: Client
        let digest: String?
    }

    /// The client and its secret's digest, from the cache when it is current.
    func found(_ clientID: String) async throws -> Found? {
        try await cached.value(clientID) { try await store.read { db in try await Self.find(clientID, db: db) } }
    }

    static func find(_ clientID: String, db: any SQLDatabase) async throws -> Found? {
        try await db.select().columns("*").from("clients").where("client_id", .equal, clientID).first().map(decode)
    }

    static func insert(_ client: Client, digest: String?, db: any SQLDatabase) async throws {
        do {
            try await db.insert(into: "clients")
                .columns("client_id", "name", "description", "app_type", "client_secret_digest",
                         "token_endpoint_auth_method", "callbacks", "web_origins", "allowed_origins",
                         "allowed_logout_urls", "grant_types", "client_metadata", "is_first_party",
                         "created_at", "updated_at")
                .values(SQLBind(client.clientID), SQLBind(client.name), SQLBind(client.description),
                        SQLBind(client.appType.rawValue), SQLBind(digest), SQLBind(client.tokenEndpointAuthMethod),
                        jsonBind(client.callbacks), jsonBind(client.webOrigins), jsonBind(client.allowedOrigins),
                        jsonBind(client.allowedLogoutURLs), jsonBind(client.grantTypes.map(\.rawValue)),
                        jsonBind(client.clientMetadata), SQLBind(client.isFirstParty),
                        SQLBind(client.createdAt), SQLBind(client.updatedAt))
                .run()
        } catch where error.isUniqueViolation {
            throw DomainError.conflict("An application named \"\(client.name)\" already exists", code: "client_conflict")
        }
    }

    static func decode(_ row: any SQLRow) throws -> Found {
        Found(
            client: Client(
                clientID: try row.string("client_id"),
                name: try row.string("name"),
                description: try row.string("description"),
                appType: AppType(rawValue: try row.string("app_type")) ?? .regularWeb,
                tokenEndpointAuthMethod: try row.string("token_endpoint_auth_method"),
                callbacks: try row.jsonStrings("callbacks"),
                webOrigins: try row.jsonStrings("web_origins"),
                allowedOrigins: try row.jsonStrings("allowed_origins"),
                allowedLogoutURLs: try row.jsonStrings("allowed_logout_urls"),
                grantTypes: try row.jsonStrings("grant_types").compactMap(GrantType.init(rawValue:)),
                clientMetadata: try row.jsonObject("client_metadata"),
                isFirstParty: try row.bool("is_first_party"),
                createdAt: try row.string("created_at"),
                updatedAt: try row.string("updated_at"),
                clientSecret: nil
            ),
            digest: try row.optionalString("client_secret_digest")
        )
    }
}
