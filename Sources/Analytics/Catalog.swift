import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// A workspace: its data, pipes and tokens. The admin token is also the HS256 key of the workspace's JWTs,
/// so it is kept as given (the store is 0600), beside a digest used to look it up.
public struct Workspace: Sendable, Equatable {
    public let id: String
    public let name: String
    public let adminToken: String
    public let settings: [String: JSONValue]
    public let createdAt: String

    /// `embedded` (the default) or `clickhouse`.
    public var engine: String { settings["engine"]?.stringValue ?? "embedded" }

    /// Who may frame this workspace's chart pages (`frame-ancestors`); `'self'` unless configured.
    public var frameAncestors: String {
        settings["frame_ancestors"]?.stringValue ?? "'self'"
    }
}

public struct DataSourceRecord: Sendable, Equatable {
    public let id: String
    public let name: String
    public let definition: DataSourceDefinition
    public let createdAt: String
}

public struct PipeRecord: Sendable, Equatable {
    public let id: String
    public let name: String
    public let definition: PipeDefinition
    public let createdAt: String
    public let updatedAt: String
}

/// A static token's scope, in Tinybird's `TYPE[:resource[:filter]]` form.
public enum TokenScope: Sendable, Equatable, CustomStringConvertible {
    case admin
    case tokens
    case dataSourcesCreate
    case pipesCreate
    case pipesRead(String)
    case dataSourcesAppend(String)
    case dataSourcesRead(String, filter: String?)

    public static func parse(_ text: String) throws -> TokenScope {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let kind = parts.prefix(2).joined(separator: ":").uppercased()
        let resource = parts.count > 2 ? parts[2] : ""
        switch (parts.first?.uppercased() ?? "", kind) {
        case ("ADMIN", _): return .admin
        case ("TOKENS", _): return .tokens
        case (_, "DATASOURCES:CREATE"): return .dataSourcesCreate
        case (_, "PIPES:CREATE"): return .pipesCreate
        case (_, "PIPES:READ") where !resource.isEmpty: return .pipesRead(resource)
        case (_, "DATASOURCES:APPEND") where !resource.isEmpty: return .dataSourcesAppend(resource)
        case (_, "DATASOURCES:READ") where !resource.isEmpty: return .dataSourcesRead(resource, filter: parts.count > 3 ? parts[3] : nil)
        default:
            throw DomainError.invalidQuery("Invalid scope \(text.prefix(100)): use ADMIN, TOKENS, DATASOURCES:CREATE, PIPES:CREATE, PIPES:READ:<pipe>, DATASOURCES:APPEND:<datasource> or DATASOURCES:READ:<datasource>[:<filter>]")
        }
    }

    public var description: String {
        switch self {
        case .admin: "ADMIN"
        case .tokens: "TOKENS"
        case .dataSourcesCreate: "DATASOURCES:CREATE"
        case .pipesCreate: "PIPES:CREATE"
        case .pipesRead(let pipe): "PIPES:READ:\(pipe)"
        case .dataSourcesAppend(let name): "DATASOURCES:APPEND:\(name)"
        case .dataSourcesRead(let name, let filter): "DATASOURCES:READ:\(name)" + (filter.map { ":\($0)" } ?? "")
        }
    }
}

public struct StaticToken: Sendable, Equatable {
    public let id: String
    public let name: String
    public let scopes: [TokenScope]
    public let createdAt: String
}

/// Workspaces, data sources, pipes and static tokens, kept in the main store (SQLite or PostgreSQL).
public struct Catalog: Sendable {
    let store: Store
    let clock: TesseraClock
    /// Seals each workspace's admin token (the HMAC key of its JWTs) with the master key, when one is set.
    let sealer: SecretSealer
    /// Every endpoint request reads its workspace, pipes and data sources; changes to any of them drop the copies.
    let cachedWorkspaces: RowCache<String, Workspace>
    let cachedTokens: RowCache<String, TokenOwner>
    let cachedDataSources: RowCache<String, [DataSourceRecord]>
    let cachedPipes: RowCache<String, [PipeRecord]>

    public init(store: Store, clock: TesseraClock = .system, sealer: SecretSealer = .plain) {
        self.store = store
        self.clock = clock
        self.sealer = sealer
        cachedWorkspaces = RowCache(.analytics, of: store, clock: clock)
        cachedTokens = RowCache(.analytics, of: store, clock: clock)
        cachedDataSources = RowCache(.analytics, of: store, clock: clock)
        cachedPipes = RowCache(.analytics, of: store, clock: clock)
    }

    /// A static token and the workspace it belongs to.
    struct TokenOwner: Sendable {
        let workspaceID: String
        let token: StaticToken
    }

    static var namePattern: Regex<Substring> { /[A-Za-z_][A-Za-z0-9_]{0,99}/ }

    static func checkName(_ name: String, _ what: String) throws {
        guard name.wholeMatch(of: namePattern) != nil, !name.lowercased().hasPrefix("sqlite_") else {
            throw DomainError.invalidQuery("Invalid \(what) name '\(name.prefix(100))': use letters, digits and underscores, starting with a letter or underscore")
        }
    }

    // MARK: Workspaces

    /// Creates the workspace, or returns the existing one with that name (updating its id-less settings).
    public func ensureWorkspace(name: String, id: String?, adminToken: String?, settings: [String: JSONValue]) async throws -> (Workspace, created: Bool) {
        try Self.checkName(name, "workspace")
        if let id, UUID(uuidString: id) == nil { throw DomainError.invalidBody("workspace id must be a UUID") }
        if let adminToken, adminToken.utf8.count < 32 {
            throw DomainError.invalidBody("workspace \(name): the admin token signs JWTs with HS256, so it needs at least 32 bytes")
        }
        if let existing = try await workspace(named: name) {
            if let id, id.lowercased() != existing.id {
                throw DomainError.conflict("workspace \(name) already exists with id \(existing.id)")
            }
            var current = existing
            if let adminToken, adminToken != existing.adminToken { current = try await setAdminToken(existing, adminToken) }
            if settings != existing.settings {
                try await store.transaction(changing: .analytics) { db in
                    try await db.update("analytics_workspaces").set("settings", to: jsonBind(settings)).where("id", .equal, existing.id).run()
                }
                current = try await workspace(id: existing.id) ?? current
            }
            return (current, false)
        }
        let workspaceID = (id ?? UUID().uuidString).lowercased()
        let token = adminToken ?? Self.newToken()
        let now = Timestamp.string(clock.now())
        try await store.transaction(changing: .analytics) { db in
            try await db.insert(into: "analytics_workspaces")
                .columns("id", "name", "admin_token", "admin_token_digest", "settings", "created_at")
                .values(SQLBind(workspaceID), SQLBind(name), SQLBind(try sealer.seal(token)), SQLBind(OpaqueSecret.digest(token)),
                        jsonBind(settings), SQLBind(now))
                .run()
        }
        guard let created = try await workspace(id: workspaceID) else { throw DomainError.notFound("workspace vanished") }
        return (created, true)
    }

    /// Tinybird's static tokens look like `p.<random>`; a JWT never starts with `p.`.
    static func newToken() -> String {
        "p." + RandomToken.base64URL(bytes: 40)
    }

    public func setAdminToken(_ workspace: Workspace, _ token: String) async throws -> Workspace {
        try await store.transaction(changing: .analytics) { db in
            try await db.update("analytics_workspaces").set("admin_token", to: try sealer.seal(token))
                .set("admin_token_digest", to: OpaqueSecret.digest(token)).where("id", .equal, workspace.id).run()
        }
        return try await self.workspace(id: workspace.id) ?? workspace
    }

    public func workspace(id: String) async throws -> Workspace? {
        let id = id.lowercased()
        return try await cachedWorkspaces.value("id:" + id) {
            try await store.read { db in
                try await db.select().columns("*").from("analytics_workspaces").where("id", .equal, id).first().map(workspace)
            }
        }
    }

    public func workspace(named name: String) async throws -> Workspace? {
        try await store.read { db in
            try await db.select().columns("*").from("analytics_workspaces").where("name", .equal, name).first().map(workspace)
        }
    }

    public func workspaces() async throws -> [Workspace] {
        try await store.read { db in
            try await db.select().columns("*").from("analytics_workspaces").orderBy("name").all().map(workspace)
        }
    }

    /// The workspace whose admin token this is, if any.
    public func workspace(adminToken token: String) async throws -> Workspace? {
        let digest = OpaqueSecret.digest(token)
        return try await cachedWorkspaces.value("admin:" + digest) {
            try await store.read { db in
                try await db.select().columns("*").from("analytics_workspaces")
                    .where("admin_token_digest", .equal, digest).first().map(workspace)
            }
        }
    }

    func workspace(_ row: any SQLRow) throws -> Workspace {
        Workspace(id: try row.string("id"), name: try row.string("name"), adminToken: try sealer.open(try row.string("admin_token")),
                  settings: try row.jsonObject("settings"), createdAt: try row.string("created_at"))
    }

    // MARK: Data sources

    /// What a data source must be before its table is made: a valid name and distinct columns (SQLite compares
    /// names without case, so `a` and `A` are the same column).
    public static func check(_ definition: DataSourceDefinition) throws {
        try checkName(definition.name, "Data Source")
        guard !definition.name.lowercased().hasSuffix("_quarantine") else {
            throw DomainError.invalidQuery("Data Source names ending in _quarantine are reserved for rejected rows")
        }
        guard !definition.columns.isEmpty else { throw DomainError.invalidQuery("A Data Source needs at least one column") }
        var seen = Set<String>()
        for column in definition.columns where !seen.insert(column.name.lowercased()).inserted {
            throw DomainError.invalidQuery("Column \(column.name) is defined twice (names are compared without case)")
        }
    }

    /// `check`, and no other data source whose name differs only by case (SQLite would give both one table).
    public func checkBeforeSaving(_ definition: DataSourceDefinition, in workspace: Workspace) async throws {
        try Self.check(definition)
        if let existing = try await dataSources(in: workspace).first(where: {
            $0.name.lowercased() == definition.name.lowercased() && $0.name != definition.name
        }) {
            throw DomainError.conflict("A Data Source named \(existing.name) already exists; names differ by more than case")
        }
    }

    /// Creates or updates a data source's definition; its columns may only grow, and only when `allowingAddedColumns`
    /// (an alteration whose table change is already made).
    public func saveDataSource(_ definition: DataSourceDefinition, in workspace: Workspace,
                               allowingAddedColumns: Bool = false) async throws -> (DataSourceRecord, changed: Bool) {
        try Self.check(definition)
        let text = Self.encode(definition)
        let now = Timestamp.string(clock.now())
        return try await store.transaction(changing: .analytics) { db in
            if let row = try await db.select().columns("*").from("analytics_datasources")
                .where("workspace_id", .equal, workspace.id).where("name", .equal, definition.name).first() {
                let existing = try Self.dataSource(row)
                if existing.definition == definition { return (existing, false) }
                let grows = allowingAddedColumns && definition.columns.map(\.name).starts(with: existing.definition.columns.map(\.name))
                guard existing.definition.columns == definition.columns || grows else {
                    throw DomainError.conflict("Data Source \(definition.name) already exists with another schema; delete it first to change columns",
                                               code: "schema_change")
                }
                try await db.update("analytics_datasources").set("definition", to: text).set("updated_at", to: now)
                    .where("id", .equal, existing.id).run()
                return (DataSourceRecord(id: existing.id, name: definition.name, definition: definition, createdAt: existing.createdAt), true)
            }
            let id = "t_" + RandomToken.hex(bytes: 16)
            try await db.insert(into: "analytics_datasources").columns("id", "workspace_id", "name", "definition", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(workspace.id), SQLBind(definition.name), SQLBind(text), SQLBind(now), SQLBind(now)).run()
            return (DataSourceRecord(id: id, name: definition.name, definition: definition, createdAt: now), true)
        }
    }

    public func dataSources(in workspace: Workspace) async throws -> [DataSourceRecord] {
        try await cachedDataSources.value(workspace.id) {
            try await store.read { db in
                try await db.select().columns("*").from("analytics_datasources").where("workspace_id", .equal, workspace.id)
                    .orderBy("name").all().map(Self.dataSource)
            }
        } ?? []
    }

    public func dataSource(_ nameOrID: String, in workspace: Workspace) async throws -> DataSourceRecord? {
        try await dataSources(in: workspace).first { $0.name == nameOrID || $0.id == nameOrID }
    }

    public func deleteDataSource(_ record: DataSourceRecord) async throws {
        try await store.transaction(changing: .analytics) { db in try await db.delete(from: "analytics_datasources").where("id", .equal, record.id).run() }
    }

    static func encode(_ definition: DataSourceDefinition) -> String {
        JSONValue.object([
            "description": .string(definition.description), "engine": .array(definition.engine.map(JSONValue.string)),
            "columns": .array(definition.columns.map { .object(["name": .string($0.name), "type": .string("\($0.type)"),
                                                                 "jsonpath": .array($0.jsonPath.map(JSONValue.string))]) }),
        ]).jsonText()
    }

    static func dataSource(_ row: any SQLRow) throws -> DataSourceRecord {
        let fields = try row.jsonObject("definition")
        var columns: [ColumnSpec] = []
        if case .array(let items)? = fields["columns"] {
            for item in items {
                guard let column = item.objectValue, let name = column["name"]?.stringValue, let type = column["type"]?.stringValue else { continue }
                var path: [String]?
                if case .array(let parts)? = column["jsonpath"] { path = parts.compactMap(\.stringValue) }
                columns.append(ColumnSpec(name: name, type: try ColumnType.parse(type), jsonPath: path))
            }
        }
        var engine: [String] = []
        if case .array(let items)? = fields["engine"] { engine = items.compactMap(\.stringValue) }
        let name = try row.string("name")
        return DataSourceRecord(id: try row.string("id"), name: name,
                                definition: DataSourceDefinition(name: name, description: fields["description"]?.stringValue ?? "",
                                                                 columns: columns, engine: engine),
                                createdAt: try row.string("created_at"))
    }

    // MARK: Pipes

    public func savePipe(_ definition: PipeDefinition, in workspace: Workspace) async throws -> (PipeRecord, changed: Bool) {
        try Self.checkName(definition.name, "Pipe")
        for node in definition.nodes {
            do { _ = try PipeTemplate(node.sql) } catch {
                throw DomainError.invalidBody("pipe \(definition.name), node \(node.name): \(error.message)")
            }
        }
        let text = Self.encode(definition)
        let now = Timestamp.string(clock.now())
        return try await store.transaction(changing: .analytics) { db in
            if let row = try await db.select().columns("*").from("analytics_pipes")
                .where("workspace_id", .equal, workspace.id).where("name", .equal, definition.name).first() {
                let existing = try Self.pipe(row)
                if existing.definition == definition { return (existing, false) }
                try await db.update("analytics_pipes").set("definition", to: text).set("updated_at", to: now)
                    .where("id", .equal, existing.id).run()
                return (PipeRecord(id: existing.id, name: definition.name, definition: definition, createdAt: existing.createdAt,
                                   updatedAt: now), true)
            }
            let id = "t_" + RandomToken.hex(bytes: 16)
            try await db.insert(into: "analytics_pipes").columns("id", "workspace_id", "name", "definition", "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(workspace.id), SQLBind(definition.name), SQLBind(text), SQLBind(now), SQLBind(now)).run()
            return (PipeRecord(id: id, name: definition.name, definition: definition, createdAt: now, updatedAt: now), true)
        }
    }

    public func pipes(in workspace: Workspace) async throws -> [PipeRecord] {
        try await cachedPipes.value(workspace.id) {
            try await store.read { db in
                try await db.select().columns("*").from("analytics_pipes").where("workspace_id", .equal, workspace.id)
                    .orderBy("name").all().map(Self.pipe)
            }
        } ?? []
    }

    public func pipe(_ nameOrID: String, in workspace: Workspace) async throws -> PipeRecord? {
        try await pipes(in: workspace).first { $0.name == nameOrID || $0.id == nameOrID }
    }

    public func deletePipe(_ record: PipeRecord) async throws {
        try await store.transaction(changing: .analytics) { db in try await db.delete(from: "analytics_pipes").where("id", .equal, record.id).run() }
    }

    static func encode(_ definition: PipeDefinition) -> String {
        JSONValue.object([
            "description": .string(definition.description), "tokens": .array(definition.tokens.map(JSONValue.string)),
            "nodes": .array(definition.nodes.map { node in
                var fields: [String: JSONValue] = ["name": .string(node.name), "sql": .string(node.sql),
                                                   "description": .string(node.description), "type": .string(node.type)]
                if let target = node.datasource { fields["datasource"] = .string(target) }
                return .object(fields)
            }),
        ]).jsonText()
    }

    static func pipe(_ row: any SQLRow) throws -> PipeRecord {
        let fields = try row.jsonObject("definition")
        var nodes: [PipeNode] = []
        if case .array(let items)? = fields["nodes"] {
            for item in items {
                guard let node = item.objectValue, let name = node["name"]?.stringValue, let sql = node["sql"]?.stringValue else { continue }
                nodes.append(PipeNode(name: name, description: node["description"]?.stringValue ?? "", sql: sql,
                                      type: node["type"]?.stringValue ?? "", datasource: node["datasource"]?.stringValue))
            }
        }
        var tokens: [String] = []
        if case .array(let items)? = fields["tokens"] { tokens = items.compactMap(\.stringValue) }
        let name = try row.string("name")
        return PipeRecord(id: try row.string("id"), name: name,
                          definition: PipeDefinition(name: name, description: fields["description"]?.stringValue ?? "", nodes: nodes,
                                                     tokens: tokens),
                          createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"))
    }

    // MARK: Static tokens

    /// Creates a token (its value is returned once) or, when one with this name exists, adds the scopes.
    public func ensureToken(name: String, scopes: [TokenScope], in workspace: Workspace) async throws -> (StaticToken, value: String?) {
        guard !name.isEmpty, name.count <= 100 else { throw DomainError.invalidQuery("A token needs a name of 1 to 100 characters") }
        if let existing = try await tokens(in: workspace).first(where: { $0.name == name }) {
            let merged = existing.scopes + scopes.filter { !existing.scopes.contains($0) }
            guard merged != existing.scopes else { return (existing, nil) }
            try await store.transaction(changing: .analytics) { db in
                try await db.update("analytics_tokens").set("scopes", to: jsonBind(merged.map(\.description)))
                    .where("id", .equal, existing.id).run()
            }
            return (StaticToken(id: existing.id, name: name, scopes: merged, createdAt: existing.createdAt), nil)
        }
        let value = Self.newToken()
        let id = RandomToken.identifier(prefix: "tok", bytes: 12)
        let now = Timestamp.string(clock.now())
        try await store.transaction(changing: .analytics) { db in
            do {
                try await db.insert(into: "analytics_tokens").columns("id", "workspace_id", "name", "token_digest", "scopes", "created_at")
                    .values(SQLBind(id), SQLBind(workspace.id), SQLBind(name), SQLBind(OpaqueSecret.digest(value)),
                            jsonBind(scopes.map(\.description)), SQLBind(now)).run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("A token named \(name) already exists")
            }
        }
        return (StaticToken(id: id, name: name, scopes: scopes, createdAt: now), value)
    }

    public func tokens(in workspace: Workspace) async throws -> [StaticToken] {
        try await store.read { db in
            try await db.select().columns("id", "name", "scopes", "created_at").from("analytics_tokens")
                .where("workspace_id", .equal, workspace.id).orderBy("name").all().map(Self.token)
        }
    }

    public func deleteToken(_ nameOrID: String, in workspace: Workspace) async throws -> Bool {
        guard let token = try await tokens(in: workspace).first(where: { $0.name == nameOrID || $0.id == nameOrID }) else { return false }
        try await store.transaction(changing: .analytics) { db in try await db.delete(from: "analytics_tokens").where("id", .equal, token.id).run() }
        return true
    }

    /// The workspace and token a static token value belongs to.
    public func token(value: String) async throws -> (Workspace, StaticToken)? {
        let digest = OpaqueSecret.digest(value)
        guard let owner = try await cachedTokens.value(digest, load: {
            try await store.read { db -> TokenOwner? in
                guard let row = try await db.select().columns("*").from("analytics_tokens").where("token_digest", .equal, digest).first()
                else { return nil }
                return TokenOwner(workspaceID: try row.string("workspace_id"), token: try Self.token(row))
            }
        }), let workspace = try await workspace(id: owner.workspaceID) else { return nil }
        return (workspace, owner.token)
    }

    static func token(_ row: any SQLRow) throws -> StaticToken {
        StaticToken(id: try row.string("id"), name: try row.string("name"),
                    scopes: try row.jsonStrings("scopes").map(TokenScope.parse), createdAt: try row.string("created_at"))
    }
}
