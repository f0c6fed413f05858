import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// A user provider the directory imports from: an Auth0 tenant (or Tessera, which speaks the same Management API)
/// reached with a machine-to-machine application's credentials.
public struct Connection: Sendable, Equatable {
    public enum State: String, Sendable {
        case pendingSetup = "PENDING_SETUP", active = "ACTIVE", failed = "FAILED"
    }

    public var id: String
    public var displayName: String
    public var type = "AUTH0"
    public var domain: String
    public var clientId: String
    public var clientSecret: String
    public var state: State = .pendingSetup
    public var stateReason: String?
    public var sync: SyncState = SyncState()
    public var createTime: String = ""
    public var updateTime: String = ""

    public init(id: String, displayName: String, type: String = "AUTH0", domain: String, clientId: String, clientSecret: String,
                state: State = .pendingSetup, stateReason: String? = nil, sync: SyncState = SyncState(),
                createTime: String = "", updateTime: String = "") {
        self.id = id
        self.displayName = displayName
        self.type = type
        self.domain = domain
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.state = state
        self.stateReason = stateReason
        self.sync = sync
        self.createTime = createTime
        self.updateTime = updateTime
    }

    /// Where the Management API lives: `https://<domain>` for a bare Auth0 domain, or the URL as given
    /// (`http://127.0.0.1:8080` for Tessera itself).
    public var baseURL: String {
        let trimmed = domain.hasSuffix("/") ? String(domain.dropLast()) : domain
        return trimmed.contains("://") ? trimmed : "https://" + trimmed
    }

    var summary: ConnectionSummary {
        ConnectionSummary(id: id, displayName: displayName, type: type, state: state.rawValue)
    }

    /// The API's view: everything but the secret.
    public var wire: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "displayName": .string(displayName), "type": .string(type), "state": .string(state.rawValue),
            "auth0": ["domain": .string(domain), "clientId": .string(clientId)],
            "sync": sync.wire, "createTime": .string(createTime), "updateTime": .string(updateTime),
        ]
        if let stateReason { fields["stateReason"] = .string(stateReason) }
        return .object(fields)
    }

    static func checkedDomain(_ domain: String) throws(DirectoryError) -> String {
        let url = URL(string: domain.contains("://") ? domain : "https://" + domain)
        guard !domain.isEmpty, domain.utf8.count <= 255, let url, ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              url.host?.isEmpty == false, url.query == nil, url.fragment == nil, url.path.isEmpty || url.path == "/" else {
            throw DirectoryError.invalid("domain", "domain must be an Auth0 domain (tenant.us.auth0.com) or a base URL such as http://127.0.0.1:8080")
        }
        return domain
    }
}

/// Where a connection's import stands, saved after every page so that an import resumes where it stopped.
public struct SyncState: Sendable, Equatable {
    /// The running pass, nil when idle: its id (accounts seen by it carry it), the paging mode, the next page.
    public var pass: String?
    public var mode: String?
    public var cursor: String?
    public var done = 0
    public var total: Int?
    public var startTime: String?
    /// The last finished pass.
    public var lastPullTime: String?
    public var lastPassUsers: Int?
    public var lastError: String?

    public init() {}

    /// A failed pass keeps its id and cursor so that the next one resumes there, but nothing runs until then.
    public var isRunning: Bool { pass != nil && lastError == nil }

    init(json: JSONValue) {
        let fields = json.objectValue ?? [:]
        pass = fields["pass"]?.stringValue
        mode = fields["mode"]?.stringValue
        cursor = fields["cursor"]?.stringValue
        done = fields["done"]?.numberValue.map { Int($0) } ?? 0
        total = fields["total"]?.numberValue.map { Int($0) }
        startTime = fields["startTime"]?.stringValue
        lastPullTime = fields["lastPullTime"]?.stringValue
        lastPassUsers = fields["lastPassUsers"]?.numberValue.map { Int($0) }
        lastError = fields["lastError"]?.stringValue
    }

    var json: JSONValue {
        var fields: [String: JSONValue] = ["done": .number(Double(done))]
        if let pass { fields["pass"] = .string(pass) }
        if let mode { fields["mode"] = .string(mode) }
        if let cursor { fields["cursor"] = .string(cursor) }
        if let total { fields["total"] = .number(Double(total)) }
        if let startTime { fields["startTime"] = .string(startTime) }
        if let lastPullTime { fields["lastPullTime"] = .string(lastPullTime) }
        if let lastPassUsers { fields["lastPassUsers"] = .number(Double(lastPassUsers)) }
        if let lastError { fields["lastError"] = .string(lastError) }
        return .object(fields)
    }

    var wire: JSONValue {
        var fields: [String: JSONValue] = ["running": .bool(isRunning), "usersDone": .number(Double(done))]
        if let total { fields["usersTotal"] = .number(Double(total)) }
        if let startTime { fields["startTime"] = .string(startTime) }
        if let lastPullTime { fields["lastPullTime"] = .string(lastPullTime) }
        if let lastPassUsers { fields["lastPassUsers"] = .number(Double(lastPassUsers)) }
        if let lastError { fields["lastError"] = .string(lastError) }
        return .object(fields)
    }
}

/// Connections in the main store; client secrets sealed with the master key when one is set.
public struct ConnectionStore: Sendable {
    let store: Store
    let clock: TesseraClock
    let sealer: SecretSealer

    /// Creates or updates a connection by id (the tenant file's and the API's one way in). Returns whether anything
    /// changed; a changed domain or credential sends the connection back to `PENDING_SETUP` until it is tested.
    @discardableResult
    public func save(_ connection: Connection) async throws -> Bool {
        _ = try Connection.checkedDomain(connection.domain)
        guard connection.id.hasPrefix("conn_"), connection.id.utf8.count <= 64,
              connection.id.dropFirst(5).allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }),
              connection.id.count > 5 else {
            throw DirectoryError.invalid("id", "A connection id is conn_ followed by letters, digits, _ or -")
        }
        guard !connection.clientId.isEmpty, !connection.clientSecret.isEmpty else {
            throw DirectoryError.invalid("clientId", "A connection needs clientId and clientSecret")
        }
        let now = Timestamp.string(clock.now())
        let config: JSONValue = ["domain": .string(connection.domain), "clientId": .string(connection.clientId),
                                 "clientSecret": .string(try sealer.seal(connection.clientSecret))]
        return try await store.transaction { db in
            if let existing = try await Self.find(connection.id, in: db, sealer: sealer) {
                let same = existing.domain == connection.domain && existing.clientId == connection.clientId
                    && existing.clientSecret == connection.clientSecret
                if same && existing.displayName == connection.displayName { return false }
                let update = db.update("directory_connections").set("display_name", to: connection.displayName)
                    .set("config", to: jsonBind(config)).set("update_time", to: now)
                if !same { update.set("state", to: Connection.State.pendingSetup.rawValue).set("state_reason", to: SQLLiteral.null) }
                try await update.where("id", .equal, connection.id).run()
                return true
            }
            try await db.insert(into: "directory_connections")
                .columns("id", "display_name", "type", "config", "state", "sync_state", "create_time", "update_time")
                .values(SQLBind(connection.id), SQLBind(connection.displayName), SQLBind(connection.type), jsonBind(config),
                        SQLBind(Connection.State.pendingSetup.rawValue), jsonBind(SyncState().json), SQLBind(now), SQLBind(now)).run()
            return true
        }
    }

    public func connection(_ id: String) async throws -> Connection {
        guard let found = try await store.read({ db in try await Self.find(id, in: db, sealer: sealer) }) else {
            throw DirectoryError(.notFound, "Connection not found: \(id)", reason: "CONNECTION_NOT_FOUND")
        }
        return found
    }

    public func list() async throws -> [Connection] {
        try await store.read { db in
            try await db.select().columns("*").from("directory_connections").orderBy("create_time").all().map { try Self.decode($0, sealer: sealer) }
        }
    }

    public func setState(_ id: String, _ state: Connection.State, reason: String?) async throws {
        try await store.transaction { db in
            try await db.update("directory_connections").set("state", to: state.rawValue).set("state_reason", to: SQLBind(reason))
                .set("update_time", to: Timestamp.string(clock.now())).where("id", .equal, id).run()
        }
    }

    public func delete(_ id: String) async throws {
        _ = try await connection(id)
        try await store.transaction { db in
            try await db.delete(from: "directory_accounts").where("connection_id", .equal, id).run()
            try await db.delete(from: "directory_connections").where("id", .equal, id).run()
        }
    }

    /// How many directory users each connection holds an account for (deleted ones included).
    public func accountCounts() async throws -> [String: Int] {
        try await store.read { db in
            var counts: [String: Int] = [:]
            for row in try await db.raw("SELECT connection_id, COUNT(*) AS n FROM directory_accounts GROUP BY connection_id").all() {
                counts[try row.string("connection_id")] = try row.integer("n")
            }
            return counts
        }
    }

    static func find(_ id: String, in db: any SQLDatabase, sealer: SecretSealer) async throws -> Connection? {
        try await db.select().columns("*").from("directory_connections").where("id", .equal, id).first().map { try decode($0, sealer: sealer) }
    }

    static func decode(_ row: any SQLRow, sealer: SecretSealer) throws -> Connection {
        let config = try row.jsonObject("config")
        return Connection(id: try row.string("id"), displayName: try row.string("display_name"), type: try row.string("type"),
                          domain: config["domain"]?.stringValue ?? "", clientId: config["clientId"]?.stringValue ?? "",
                          clientSecret: try sealer.open(config["clientSecret"]?.stringValue ?? ""),
                          state: Connection.State(rawValue: try row.string("state")) ?? .pendingSetup,
                          stateReason: try row.optionalString("state_reason"), sync: SyncState(json: try row.json("sync_state")),
                          createTime: try row.string("create_time"), updateTime: try row.string("update_time"))
    }
}
