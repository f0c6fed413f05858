import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// An admin API key as stored: its digest (the key itself is shown once), and what it may do.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var description: String
    /// `auth0`: the key serves only the provider paths (`:event`, `:import`, `:reportAction`).
    public var integration: String?
    public var expireTime: String?

    /// As `/admin/v1/apiKeys` shows it: never the key, which exists only in the answer that created it.
    public var wire: JSONValue {
        var fields: [String: JSONValue] = ["id": .string(id), "description": .string(description)]
        if let integration { fields["integration"] = .string(integration) }
        if let expireTime { fields["expireTime"] = .string(expireTime) }
        return .object(fields)
    }
}

/// Admin API keys in the main store, kept as SHA-256 digests: a key is 256 random bits, so a digest suffices and
/// lookups stay one indexed read.
public struct APIKeys: Sendable {
    let store: Store
    let clock: TesseraClock

    public init(store: Store, clock: TesseraClock = .system) {
        self.store = store
        self.clock = clock
    }

    public static let integrations: Set<String> = ["auth0"]
    static let prefix = "userhub_admin_"

    /// A new key; the returned text is the only time it exists outside the caller.
    public func create(description: String, integration: String?, expires: Date?) async throws -> (key: String, record: APIKey) {
        let key = Self.prefix + RandomToken.base64URL(bytes: 32)
        let record = try await register(key, description: description, integration: integration, expires: expires).record
        return (key, record)
    }

    /// Stores a key given in the tenant file (idempotent: the same key keeps its record, with the new settings);
    /// `changed` says whether anything was written.
    @discardableResult
    public func register(_ key: String, description: String, integration: String?, expires: Date?) async throws -> (record: APIKey, changed: Bool) {
        guard key.utf8.count >= 24 else {
            throw DirectoryError.invalid("key", "An API key must be at least 24 characters")
        }
        if let integration, !Self.integrations.contains(integration) {
            throw DirectoryError.invalid("integration", "Unknown integration \(integration): the directory knows auth0")
        }
        let digest = OpaqueSecret.digest(key)
        let now = Timestamp.string(clock.now())
        let expireTime = expires.map(Timestamp.string)
        return try await store.transaction { db in
            if let row = try await db.select().columns("id", "description", "integration", "expire_time").from("directory_api_keys")
                .where("digest", .equal, digest).first() {
                let record = APIKey(id: try row.string("id"), description: description, integration: integration, expireTime: expireTime)
                let same = try row.string("description") == description && row.optionalString("integration") == integration
                    && row.optionalString("expire_time") == expireTime
                if same { return (record, false) }
                try await db.update("directory_api_keys").set("description", to: description).set("integration", to: SQLBind(integration))
                    .set("expire_time", to: SQLBind(expireTime)).where("id", .equal, record.id).run()
                return (record, true)
            }
            let record = APIKey(id: RandomToken.identifier(prefix: "key", bytes: 10), description: description,
                                integration: integration, expireTime: expireTime)
            try await db.insert(into: "directory_api_keys").columns("id", "digest", "description", "integration", "expire_time", "create_time")
                .values(SQLBind(record.id), SQLBind(digest), SQLBind(description), SQLBind(integration), SQLBind(expireTime), SQLBind(now)).run()
            return (record, true)
        }
    }

    /// The key a bearer token is, if it is one and has not expired.
    public func authenticate(_ bearer: String?) async throws -> APIKey {
        guard let bearer, !bearer.isEmpty else {
            throw DirectoryError(.unauthenticated, "Missing admin API key: send Authorization: Bearer <key>", reason: "API_KEY_MISSING")
        }
        guard bearer.utf8.count <= 512 else { throw Self.invalidKey }
        let digest = OpaqueSecret.digest(bearer)
        let row = try await store.read { db in
            try await db.select().columns("id", "description", "integration", "expire_time").from("directory_api_keys")
                .where("digest", .equal, digest).first()
        }
        guard let row else { throw Self.invalidKey }
        let key = APIKey(id: try row.string("id"), description: try row.string("description"),
                         integration: try row.optionalString("integration"), expireTime: try row.optionalString("expire_time"))
        if let expireTime = key.expireTime, let expiry = RFC3339.date(expireTime), expiry <= clock.now() {
            throw DirectoryError(.unauthenticated, "The API key has expired", reason: "API_KEY_EXPIRED")
        }
        return key
    }

    public func list() async throws -> [APIKey] {
        try await store.read { db in
            try await db.select().columns("id", "description", "integration", "expire_time").from("directory_api_keys")
                .orderBy("create_time").all().map { row in
                    APIKey(id: try row.string("id"), description: try row.string("description"),
                           integration: try row.optionalString("integration"), expireTime: try row.optionalString("expire_time"))
                }
        }
    }

    /// Deletes a key by id; false when there is none.
    @discardableResult
    public func delete(id: String) async throws -> Bool {
        try await store.transaction { db in
            guard try await db.select().column("id").from("directory_api_keys").where("id", .equal, id).first() != nil else { return false }
            try await db.delete(from: "directory_api_keys").where("id", .equal, id).run()
            return true
        }
    }

    static let invalidKey = DirectoryError(.unauthenticated, "Invalid admin API key", reason: "API_KEY_INVALID")
}
