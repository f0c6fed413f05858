import SQLKit
import TesseraCore
import TesseraStore

/// Client grants: which client may get client-credentials tokens for which audience, with which scopes.
public struct ClientGrants: Sendable {
    let store: Store
    let clock: TesseraClock

    public func create(_ body: JSONValue) async throws -> ClientGrant {
        let payload = try Payload(body, allowed: ["client_id", "audience", "scope"])
        let grant = ClientGrant(
            id: RandomToken.identifier(prefix: "cgr"),
            clientID: try payload.requiredString("client_id"),
            audience: try payload.requiredString("audience", maxLength: 600),
            scope: try payload.strings("scope", maxCount: 500) ?? []
        )
        let now = Timestamp.string(clock.now())
        try await store.transaction(changing: .identity) { db in
            guard try await db.select().column("client_id").from("clients")
                .where("client_id", .equal, grant.clientID).first() != nil
            else {
                throw DomainError.notFound("The client does not exist", code: "inexistent_client")
            }
            guard let serverRow = try await db.select().column("scopes").from("resource_servers")
                .where("identifier", .equal, grant.audience).first()
            else {
                throw DomainError.notFound("No resource server found for audience \(grant.audience)",
                                           code: "inexistent_resource_server")
            }
            let known = Set(try ResourceServers.decodeScopeValues(serverRow))
            if let unknown = grant.scope.first(where: { !known.contains($0) }) {
                throw DomainError.invalidBody("Scope \"\(unknown)\" is not defined by the resource server \(grant.audience)")
            }
            do {
                try await db.insert(into: "client_grants")
                    .columns("id", "client_id", "audience", "scope", "created_at")
                    .values(SQLBind(grant.id), SQLBind(grant.clientID), SQLBind(grant.audience),
                            jsonBind(grant.scope), SQLBind(now))
                    .run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("A client grant for this client and audience already exists",
                                           code: "client_grant_conflict")
            }
        }
        return grant
    }

    public func list(clientID: String? = nil, audience: String? = nil) async throws -> [ClientGrant] {
        try await store.read { db in
            let query = db.select().columns("*").from("client_grants")
            if let clientID { query.where("client_id", .equal, clientID) }
            if let audience { query.where("audience", .equal, audience) }
            return try await query.orderBy("created_at").all().map(Self.decode)
        }
    }

    public func find(clientID: String, audience: String) async throws -> ClientGrant? {
        try await list(clientID: clientID, audience: audience).first
    }

    public func update(_ id: String, _ body: JSONValue) async throws -> ClientGrant {
        let payload = try Payload(body, allowed: ["scope"])
        let scope = try payload.strings("scope", maxCount: 500)
        return try await store.transaction(changing: .identity) { db in
            guard var grant = try await db.select().columns("*").from("client_grants").where("id", .equal, id)
                .first().map(Self.decode)
            else {
                throw DomainError.notFound("The client grant does not exist", code: "inexistent_client_grant")
            }
            if let scope {
                grant.scope = scope
                try await db.update("client_grants").set("scope", to: jsonBind(scope)).where("id", .equal, id).run()
            }
            return grant
        }
    }

    public func delete(_ id: String) async throws {
        try await store.transaction(changing: .identity) { db in
            guard try await db.select().column("id").from("client_grants").where("id", .equal, id).first() != nil else {
                throw DomainError.notFound("The client grant does not exist", code: "inexistent_client_grant")
            }
            try await db.delete(from: "client_grants").where("id", .equal, id).run()
        }
    }

    static func decode(_ row: any SQLRow) throws -> ClientGrant {
        ClientGrant(id: try row.string("id"), clientID: try row.string("client_id"),
                    audience: try row.string("audience"), scope: try row.jsonStrings("scope"))
    }
}

extension ResourceServers {
    static func decodeScopeValues(_ row: any SQLRow) throws -> [String] {
        guard case .array(let items) = try row.json("scopes") else { return [] }
        return items.compactMap { $0.objectValue?["value"]?.stringValue }
    }
}
