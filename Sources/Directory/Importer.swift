import Foundation
import Logging
import SQLKit
import TesseraCore
import TesseraStore

/// Brings a connection's users into the directory and keeps them current.
///
/// A full pass pages through the source's users and writes each page in one transaction together with where the
/// pass stands, so a pass stopped anywhere (a crash, `kill -9`, a restart) resumes at the next page and every user
/// is written exactly once per pass. Paging uses Tessera's checkpoint pagination (`from`/`take`) where the source
/// offers it, else Auth0's offset pages (`page`/`per_page`, at most 1,000 users). At the end of a pass, users the
/// source no longer listed are each confirmed with a `GET` before they are marked deleted.
public struct Importer: Sendable {
    let store: Store
    let connections: ConnectionStore
    let transport: any OutboundTransport
    let clock: TesseraClock
    let logger: Logger
    let sleep: @Sendable (Double) async throws -> Void

    static let pageSize = 100
    /// Auth0's ceiling for offset paging of `GET /api/v2/users`.
    static let offsetCeiling = 1_000

    /// One client per connection for as long as its settings stay the same, so its access token is reused by
    /// every pass and pull instead of being asked for each time.
    let clients = ManagementClients()

    func client(_ connection: Connection) async -> ManagementClient {
        await clients.client(for: connection) {
            ManagementClient(connection: connection, transport: transport, clock: clock, logger: logger, sleep: sleep)
        }
    }

    // MARK: - Testing a connection

    /// UserHub's "test connection": a token for the Management API and one `read:users` call. The connection
    /// becomes `ACTIVE`, or `FAILED` with the reason.
    @discardableResult
    public func test(_ id: String) async throws -> Connection {
        let connection = try await connections.connection(id)
        // Someone waits for this answer: two tries, not a sync's patience.
        let client = ManagementClient(connection: connection, transport: transport, clock: clock, logger: logger, maxAttempts: 2, sleep: sleep)
        do {
            _ = try await client.get("users", query: [("per_page", "1"), ("page", "0")])
            try await connections.setState(id, .active, reason: nil)
        } catch let error as DirectoryError {
            try await connections.setState(id, .failed, reason: error.message)
        }
        return try await connections.connection(id)
    }

    // MARK: - One user

    /// Pulls one user from the source (the sign-in path): created in the directory if new, refreshed if known.
    public func pull(externalId: String, connectionId: String) async throws -> DirectoryUser {
        let connection = try await connections.connection(connectionId)
        guard let source = try await client(connection).get("users/" + Self.pathEscaped(externalId)) else {
            throw DirectoryError(.notFound, "\(connection.domain) has no user \(externalId)", reason: "EXTERNAL_USER_NOT_FOUND")
        }
        let now = Timestamp.string(clock.now())
        try await store.transaction { db in
            _ = try await Self.upsert(source, connection: connection, pass: nil, now: now, in: db)
        }
        return try await DirectoryStore(store: store, clock: clock).user(.account(externalId: externalId, connectionId: connectionId))
    }

    // MARK: - Full passes

    /// Runs (or resumes) a full pass; `progress` sees the state after every page is saved (and may stop the pass by
    /// throwing: it resumes from there).
    @discardableResult
    public func sync(_ id: String, progress: @Sendable (SyncState) async throws -> Void = { _ in }) async throws -> SyncState {
        let connection = try await connections.connection(id)
        let client = await client(connection)
        var state = connection.sync
        do {
            if state.pass == nil {
                state = SyncState()
                state.pass = RandomToken.identifier(prefix: "pass", bytes: 8)
                state.startTime = Timestamp.string(clock.now())
                state.lastPullTime = connection.sync.lastPullTime
                state.lastPassUsers = connection.sync.lastPassUsers
                try await save(id, state)
            } else {
                logger.info("resuming directory import", metadata: ["connection": "\(id)", "done": "\(state.done)"])
                if state.lastError != nil {
                    state.lastError = nil
                    try await save(id, state)
                }
            }
            if state.mode == nil {
                state.mode = try await pagingMode(client)
                // The total drives progress reports in every mode, and picks the export job where pages fall short.
                let total = try await total(client)
                state.total = total
                if state.mode == "pages", total > Self.offsetCeiling { state.mode = "export" }
                try await save(id, state)
            }
            // An export file is read whole, so a pass stopped in one starts over on a new file (writes are upserts:
            // users already written this pass are written again, still once each).
            var exported: ExportedUsers?
            if state.mode == "export" {
                exported = try await ExportedUsers(client, logger: logger, sleep: sleep)
                state.total = exported?.count
                state.done = 0
                state.cursor = nil
            }
            // The next page is fetched while this one is written: the source and the store work side by side.
            let first = state, file = exported
            var fetching: Task<(users: [JSONValue], next: String?), any Error>? = Task { try await fetchPage(client, state: first, exported: file) }
            defer { fetching?.cancel() }
            while let current = fetching {
                let page = try await current.value
                let now = Timestamp.string(clock.now())
                var next = state
                next.done += page.users.count
                next.cursor = page.next
                let finished = page.next == nil || page.users.isEmpty
                let ahead = next
                fetching = finished ? nil : Task { try await fetchPage(client, state: ahead, exported: file) }
                let pass = state.pass
                let saved = next
                try await store.transaction { db in
                    try await Self.upsert(page: page.users, connection: connection, pass: pass!, now: now, in: db)
                    try await Self.save(id, saved, in: db)
                }
                state = next
                try await progress(state)
            }
            try await confirmMissing(client, connection: connection, pass: state.pass!)
            state.lastPullTime = Timestamp.string(clock.now())
            state.lastPassUsers = state.done
            state.pass = nil
            state.mode = nil
            state.cursor = nil
            state.lastError = nil
            try await save(id, state)
            if connection.state != .active { try await connections.setState(id, .active, reason: nil) }
            return state
        } catch let error as DirectoryError {
            state.lastError = error.message
            try? await save(id, state)
            throw error
        }
    }

    /// Tessera's checkpoint paging if the source answers `take` with `{users, next}`; else Auth0's offset pages
    /// (refused past 1,000 users).
    func pagingMode(_ client: ManagementClient) async throws -> String {
        do {
            if let probe = try await client.get("users", query: [("take", "1")]), probe.objectValue?["users"] != nil { return "checkpoint" }
        } catch let error as DirectoryError where error.reason == "SOURCE_REFUSED" {
            // Auth0 refuses parameters it does not know: offset pages then.
        }
        return "pages"
    }

    /// How many users the source has: past Auth0's 1,000, offset pages cannot reach them all and the pass reads a
    /// users-export file instead.
    func total(_ client: ManagementClient) async throws -> Int {
        let totals = try await client.get("users", query: [("page", "0"), ("per_page", "1"), ("include_totals", "true")])
        return Int(totals?.objectValue?["total"]?.numberValue ?? 0)
    }

    func fetchPage(_ client: ManagementClient, state: SyncState, exported: ExportedUsers? = nil) async throws -> (users: [JSONValue], next: String?) {
        if let exported {
            let start = Int(state.cursor ?? "0") ?? 0
            let users = try exported.users(start..<min(start + Self.pageSize, exported.count))
            return (users, start + Self.pageSize < exported.count ? "\(start + Self.pageSize)" : nil)
        }
        if state.mode == "checkpoint" {
            var query = [("take", "\(Self.pageSize)")]
            if let cursor = state.cursor { query.append(("from", cursor)) }
            let body = try await client.get("users", query: query)
            let users = body?.objectValue?["users"]?.arrayValue ?? []
            return (users, body?.objectValue?["next"]?.stringValue)
        }
        let page = Int(state.cursor ?? "0") ?? 0
        let body = try await client.get("users", query: [("page", "\(page)"), ("per_page", "\(Self.pageSize)"), ("sort", "created_at:1")])
        let users = body?.arrayValue ?? body?.objectValue?["users"]?.arrayValue ?? []
        let more = users.count == Self.pageSize && (page + 1) * Self.pageSize < Self.offsetCeiling
        return (users, more ? "\(page + 1)" : nil)
    }

    /// Users of the connection the pass did not see: gone at the source (a `GET` answers 404) or just missed.
    func confirmMissing(_ client: ManagementClient, connection: Connection, pass: String) async throws {
        let missing = try await store.read { db in
            try await db.select().columns("external_id").from("directory_accounts").where("connection_id", .equal, connection.id)
                .where(SQLBinaryExpression(SQLFunction("coalesce", args: SQLColumn("seen_sync"), SQLLiteral.string("")), .notEqual, SQLBind(pass)))
                .all().map { try $0.string("external_id") }
        }
        for externalId in missing {
            let now = Timestamp.string(clock.now())
            if let source = try await client.get("users/" + Self.pathEscaped(externalId)) {
                try await store.transaction { db in _ = try await Self.upsert(source, connection: connection, pass: pass, now: now, in: db) }
            } else {
                try await store.transaction { db in
                    try await db.raw("""
                        UPDATE directory_users SET delete_time = \(bind: now), update_time = \(bind: now), state = 'PENDING_DELETION'
                        WHERE delete_time IS NULL AND id IN (SELECT user_id FROM directory_accounts WHERE connection_id = \(bind: connection.id) AND external_id = \(bind: externalId))
                        """).run()
                    try await db.update("directory_accounts").set("seen_sync", to: pass).set("pull_time", to: now)
                        .where("connection_id", .equal, connection.id).where("external_id", .equal, externalId).run()
                }
                logger.info("directory user deleted at the source", metadata: ["connection": "\(connection.id)", "external_id": "\(externalId)"])
            }
        }
    }

    // MARK: - Writing

    /// A page of source users in a handful of statements whatever its size: one read of the accounts already
    /// known, one insert for the new users and one for their accounts, one update marking the unchanged as seen;
    /// only users whose profile changed at the source are written one by one.
    static func upsert(page sources: [JSONValue], connection: Connection, pass: String, now: String, in db: any SQLDatabase) async throws {
        var pulled: [String: [String: JSONValue]] = [:]
        var order: [String] = []
        for source in sources {
            guard let externalId = Auth0Mapping.externalId(source) else { continue }
            if pulled[externalId] == nil { order.append(externalId) }
            pulled[externalId] = Auth0Mapping.profile(source)
        }
        guard !order.isEmpty else { return }
        var known: [String: [String: JSONValue]] = [:]
        for row in try await db.select().columns("external_id", "profile").from("directory_accounts")
            .where("connection_id", .equal, connection.id).where("external_id", .in, order).all() {
            known[try row.string("external_id")] = try row.jsonObject("profile")
        }
        var unchanged: [String] = []
        var fresh: [(externalId: String, user: DirectoryUser)] = []
        for externalId in order {
            let profile = pulled[externalId]!
            switch known[externalId] {
            case nil:
                fresh.append((externalId, DirectoryUser(id: RandomToken.identifier(prefix: "usr", bytes: 10), uniqueId: nil, profile: profile,
                                                         createTime: now, updateTime: now)))
            case profile?: unchanged.append(externalId)
            default:
                let source = sources.last { Auth0Mapping.externalId($0) == externalId }!
                _ = try await upsert(source, connection: connection, pass: pass, now: now, in: db)
            }
        }
        if !unchanged.isEmpty {
            try await db.update("directory_accounts").set("pull_time", to: now).set("seen_sync", to: pass)
                .where("connection_id", .equal, connection.id).where("external_id", .in, unchanged).run()
        }
        guard !fresh.isEmpty else { return }
        let users = db.insert(into: "directory_users")
            .columns("id", "unique_id", "profile", "display_name_key", "email_key", "state", "signup_time", "create_time", "update_time", "delete_time")
        let accounts = db.insert(into: "directory_accounts")
            .columns("connection_id", "external_id", "user_id", "profile", "pull_time", "seen_sync", "create_time", "update_time")
        for (externalId, user) in fresh {
            users.values(SQLBind(user.id), SQLBind(String?.none), jsonBind(user.profile), SQLBind(DirectoryStore.sortKey(user.profile["displayName"])),
                         SQLBind(DirectoryStore.sortKey(user.profile["email"])), SQLBind(user.state.rawValue),
                         SQLBind(user.profile["signupTime"]?.stringValue), SQLBind(now), SQLBind(now), SQLBind(String?.none))
            accounts.values(SQLBind(connection.id), SQLBind(externalId), SQLBind(user.id), jsonBind(user.profile), SQLBind(now), SQLBind(pass),
                            SQLBind(now), SQLBind(now))
        }
        try await users.run()
        try await accounts.run()
    }

    /// Creates or refreshes the directory user behind one source user; returns its id.
    static func upsert(_ source: JSONValue, connection: Connection, pass: String?, now: String, in db: any SQLDatabase) async throws -> String? {
        guard let externalId = Auth0Mapping.externalId(source) else { return nil }
        let pulled = Auth0Mapping.profile(source)
        if let row = try await db.select().columns("user_id", "profile").from("directory_accounts")
            .where("connection_id", .equal, connection.id).where("external_id", .equal, externalId).first() {
            let userId = try row.string("user_id")
            let update = db.update("directory_accounts").set("pull_time", to: now)
            if let pass { update.set("seen_sync", to: pass) }
            if try row.jsonObject("profile") != pulled { update.set("profile", to: jsonBind(pulled)).set("update_time", to: now) }
            try await update.where("connection_id", .equal, connection.id).where("external_id", .equal, externalId).run()
            // The source owns the fields it provides; the directory's own fields (uniqueId, codes, address) stay.
            if let userRow = try await db.select().columns("*").from("directory_users").where("id", .equal, userId).first() {
                var user = try DirectoryStore.decode(userRow)
                var profile = user.profile
                for name in UserFields.sourceFields { profile[name] = pulled[name] }
                if profile != user.profile {
                    user.profile = profile
                    user.updateTime = now
                    try await DirectoryStore.write(user, in: db)
                }
            }
            return userId
        }
        let user = DirectoryUser(id: RandomToken.identifier(prefix: "usr", bytes: 10), uniqueId: nil, profile: pulled, createTime: now, updateTime: now)
        try await DirectoryStore.insert(user, in: db)
        try await db.insert(into: "directory_accounts")
            .columns("connection_id", "external_id", "user_id", "profile", "pull_time", "seen_sync", "create_time", "update_time")
            .values(SQLBind(connection.id), SQLBind(externalId), SQLBind(user.id), jsonBind(pulled), SQLBind(now), SQLBind(pass), SQLBind(now), SQLBind(now))
            .run()
        return user.id
    }

    func save(_ id: String, _ state: SyncState) async throws {
        try await store.transaction { db in try await Self.save(id, state, in: db) }
    }

    static func save(_ id: String, _ state: SyncState, in db: any SQLDatabase) async throws {
        try await db.update("directory_connections").set("sync_state", to: jsonBind(state.json)).where("id", .equal, id).run()
    }

    /// A user id in a path: `auth0|123` as `auth0%7C123`.
    static func pathEscaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// The Management API clients of the connections, each kept while its connection's settings are unchanged.
actor ManagementClients {
    private var clients: [String: (connection: Connection, client: ManagementClient)] = [:]

    func client(for connection: Connection, make: () -> ManagementClient) -> ManagementClient {
        if let kept = clients[connection.id], kept.connection.domain == connection.domain, kept.connection.clientId == connection.clientId,
           kept.connection.clientSecret == connection.clientSecret {
            return kept.client
        }
        let client = make()
        clients[connection.id] = (connection, client)
        return client
    }
}
