import Foundation
import Logging
import NIOCore
import SQLiteNIO
import TesseraCore

/// A workspace's `engine: clickhouse` settings, as its catalog entry keeps them (`settings.clickhouse`): where the
/// server is, the database the workspace's tables live in, who Tessera is to it, and on a cluster the cluster's name
/// and every node (DDL goes to each). The password is never kept: `password_env` names the variable it is read from.
public struct ClickHouseWorkspaceSettings: Sendable, Equatable {
    public let nodes: [ClickHouseSettings]
    public var primary: ClickHouseSettings { nodes[0] }

    public static let defaultPasswordVariable = "TESSERA_CLICKHOUSE_PASSWORD"

    /// nil when the workspace uses the embedded engine.
    public init?(workspace: Workspace, environment: [String: String]) throws {
        guard workspace.settings["engine"]?.stringValue == "clickhouse" else { return nil }
        guard let fields = workspace.settings["clickhouse"]?.objectValue, let url = fields["url"]?.stringValue else {
            throw DomainError(.unavailable, code: "engine_misconfigured",
                              "The workspace \(workspace.name) uses ClickHouse but names no clickhouse.url")
        }
        let database = fields["database"]?.stringValue ?? "tessera_" + workspace.name
        let user = fields["user"]?.stringValue ?? "default"
        let password = environment[fields["password_env"]?.stringValue ?? Self.defaultPasswordVariable] ?? ""
        let cluster = fields["cluster"]?.stringValue
        let timeout = TimeAmount.milliseconds(Int64((fields["timeout_seconds"]?.numberValue ?? 10) * 1000))
        let others = (fields["nodes"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0 != url }
        nodes = ([url] + others).map {
            ClickHouseSettings(url: $0, database: database, user: user, password: password, cluster: cluster, timeout: timeout)
        }
    }
}

/// A workspace's tables on ClickHouse: the datafile's tables (local and `Distributed` ones on a cluster), inserts in
/// blocks through one buffer per table, reads in the workspace's database with `readonly` set.
public actor ClickHouseWorkspace: WorkspaceTables {
    public let settings: ClickHouseWorkspaceSettings
    let nodes: [ClickHouseClient]
    let logger: Logger
    private var prepared: Task<ClickHouseCapabilities, any Error>?
    private var buffers: [String: ClickHouseInsertBuffer] = [:]

    public init(settings: ClickHouseWorkspaceSettings, logger: Logger) {
        self.settings = settings
        self.nodes = settings.nodes.map { ClickHouseClient(settings: $0) }
        self.logger = logger
    }

    var primary: ClickHouseClient { nodes[0] }
    var cluster: String? { settings.primary.cluster }
    var database: String { settings.primary.database }
    /// A `Distributed` table queues inserts for its shards by default; waiting for the shards means an acknowledged
    /// row is on them, and the next read sees it.
    var insertSettings: [String: String] { cluster == nil ? [:] : ["insert_distributed_sync": "1"] }

    /// The database on every node, and the server's version (asked once; a failure is asked again next time).
    func capabilities() async throws -> ClickHouseCapabilities {
        if let prepared, let known = try? await prepared.value { return known }
        let nodes = self.nodes, database = self.database
        let task = Task { () throws -> ClickHouseCapabilities in
            for node in nodes {
                try await node.execute("CREATE DATABASE IF NOT EXISTS \(ClickHouseSQL.identifier(database))", settings: [:], inDatabase: "default")
            }
            let version = try await nodes[0].query("SELECT version() AS v").rows.first?.first?.stringValue ?? "0"
            return ClickHouseCapabilities(version: version)
        }
        prepared = task
        return try await mapped("preparing the workspace's database") { try await task.value }
    }

    /// ClickHouse's errors as the API answers them: what the server refused is the statement's fault (400), a server
    /// that cannot be reached or did not answer in time is 503, with the reason.
    private func mapped<Result>(_ context: String, _ body: () async throws -> Result) async throws -> Result {
        do { return try await body() } catch let error as ClickHouseError {
            switch error {
            case .server(let code, let message):
                throw DomainError.invalidQuery("[Error] \(message) (ClickHouse code \(code), \(context))")
            case .unavailable(let reason, _):
                throw DomainError(.unavailable, code: "engine_unavailable", "The analytics engine (ClickHouse) is unavailable: \(reason)")
            }
        }
    }

    private func everyNode(_ statements: [ClickHouseSchema.Statement], _ context: String) async throws {
        try await mapped(context) {
            for node in nodes { for statement in statements { try await node.execute(statement.sql) } }
        }
    }

    public func create(_ definition: DataSourceDefinition) async throws {
        let statements = try ClickHouseSchema.create(definition, database: database, cluster: cluster,
                                                     capabilities: try await capabilities())
        try await everyNode(statements, "creating \(definition.name)")
    }

    public func addColumns(_ columns: [ColumnSpec], to name: String) async throws {
        let capabilities = try await capabilities()
        let tables = cluster == nil ? [name] : [name + ClickHouseSchema.localSuffix, name]
        try await mapped("adding columns to \(name)") {
            for node in nodes {
                for table in tables {
                    let existing = Set(try await node.query("""
                        SELECT name FROM system.columns WHERE database = \(ClickHouseSQL.string(database)) AND table = \(ClickHouseSQL.string(table))
                        """).rows.compactMap { $0.first?.stringValue })
                    for column in columns where !existing.contains(column.name) {
                        try await node.execute("""
                            ALTER TABLE \(ClickHouseSchema.qualified(database, table)) ADD COLUMN \(ClickHouseSQL.identifier(column.name)) \
                            \(try ClickHouseSchema.type(column.type, capabilities)) DEFAULT \(column.type.defaultLiteral)
                            """)
                    }
                }
            }
        }
    }

    public func drop(_ name: String) async throws {
        try await everyNode(ClickHouseSchema.drop(name, database: database, cluster: cluster), "dropping \(name)")
        buffers[name] = nil
    }

    public func truncate(_ name: String) async throws {
        let tables = [name, name + "_quarantine"].map { cluster == nil ? $0 : $0 + ClickHouseSchema.localSuffix }
        try await everyNode(tables.map { ClickHouseSchema.Statement(sql: "TRUNCATE TABLE \(ClickHouseSchema.qualified(database, $0))") },
                            "truncating \(name)")
    }

    /// Rows go through the table's buffer, so concurrent requests share one block. A block ClickHouse refuses is
    /// retried one request at a time, halving until the rows it refuses are found; those go to quarantine with its
    /// reason, the rest are written. Nothing is dropped.
    public func append(_ definition: DataSourceDefinition, rows: [[SQLiteData]], quarantined: [QuarantinedRow],
                       replace: Bool, views: [MaterializedView]) async throws -> [(index: Int, row: QuarantinedRow)] {
        let capabilities = try await capabilities()
        if replace { try await truncate(definition.name) }
        let encoder = try ClickHouseRowEncoder(definition, capabilities: capabilities)
        var refused: [(index: Int, row: QuarantinedRow)] = []
        if !rows.isEmpty {
            let buffer = buffer(for: definition.name)
            do {
                try await mapped("appending to \(definition.name)") {
                    try await buffer.append(lines: encoder.lines(rows[...]), count: rows.count)
                }
            } catch let error as DomainError where error.kind != .unavailable {
                refused = try await insertFindingRefusedRows(rows[...], encoder: encoder, into: definition.name)
            }
        }
        let quarantine = quarantined + refused.map(\.row)
        if !quarantine.isEmpty {
            let now = CalendarText.dateTime(fromUnix: Date().timeIntervalSince1970) ?? ""
            try await insertQuarantined(quarantine.map { row -> JSONValue in
                .object(["c__error": .string(row.error), "c__error_column": .string(row.column), "c__line": .string(row.line),
                         "insertion_date": .string(now)])
            }, into: definition.name)
        }
        return refused
    }

    /// Rows of `<name>_quarantine`, as objects with its four columns.
    func insertQuarantined(_ rows: [JSONValue], into name: String) async throws {
        try await mapped("quarantining rows of \(name)") {
            try await primary.insert(into: name + "_quarantine", rows: rows, settings: insertSettings)
        }
    }

    /// Inserts `rows` directly, splitting a refused set in halves down to single rows, which are returned (with their
    /// index) and ClickHouse's reason. At most `maximumProbes` inserts are tried; past that, the rest of a refused set is returned.
    private func insertFindingRefusedRows(_ rows: ArraySlice<[SQLiteData]>, encoder: ClickHouseRowEncoder,
                                          into table: String) async throws -> [(index: Int, row: QuarantinedRow)] {
        var refused: [(index: Int, row: QuarantinedRow)] = []
        var pending = [rows]
        var probes = 0
        while let set = pending.popLast() {
            probes += 1
            do {
                try await mapped("appending to \(table)") { try await primary.insert(into: table, lines: encoder.lines(set), settings: insertSettings) }
            } catch let error as DomainError where error.kind != .unavailable {
                if set.count == 1 || probes >= Self.maximumProbes {
                    refused += set.indices.map { ($0, QuarantinedRow(error: error.message, column: "", line: encoder.line(set[$0]))) }
                } else {
                    let middle = set.startIndex + set.count / 2
                    pending += [set[middle...], set[..<middle]]
                }
            }
        }
        return refused
    }

    static let maximumProbes = 64

    private func buffer(for table: String) -> ClickHouseInsertBuffer {
        if let known = buffers[table] { return known }
        let buffer = ClickHouseInsertBuffer(client: primary, table: table, settings: insertSettings)
        buffers[table] = buffer
        return buffer
    }

    public func populate(_ view: MaterializedView, truncate: Bool) async throws -> Int {
        _ = try await capabilities()
        if truncate { try await self.truncate(view.target.name) }
        let produced = try await columns(of: view.clickHouseSQL)
        let names = view.target.columns.map(\.name).filter(produced.contains).map(ClickHouseSQL.identifier).joined(separator: ", ")
        try await mapped("populating \(view.target.name)") {
            try await primary.execute("INSERT INTO \(ClickHouseSQL.identifier(view.target.name)) (\(names)) SELECT \(names) FROM (\n\(view.clickHouseSQL)\n)",
                                      settings: insertSettings)
        }
        return try await rowCount(view.target.name)
    }

    /// A materialized pipe as a ClickHouse materialized view into its target, so every insert into the source, from
    /// any instance, feeds it. On a cluster each node gets one from its local source table into its local target
    /// table: rows stay on the shard they were written to, and the target's `Distributed` table reads them all.
    func attach(_ view: MaterializedView) async throws {
        _ = try await capabilities()
        let local = cluster != nil
        let sql = ClickHouseSubqueries.replacingSources([view.source], in: view.clickHouseSQL) { name in
            local ? ClickHouseSQL.identifier(name + ClickHouseSchema.localSuffix) + " AS " + ClickHouseSQL.identifier(name) : nil
        }
        let target = local ? view.target.name + ClickHouseSchema.localSuffix : view.target.name
        try await everyNode([ClickHouseSchema.Statement(sql: """
            CREATE MATERIALIZED VIEW IF NOT EXISTS \(ClickHouseSchema.qualified(database, Self.viewName(view.pipe))) \
            TO \(ClickHouseSchema.qualified(database, target)) AS \(sql)
            """)], "creating the materialized view of \(view.pipe)")
    }

    func detachView(of pipe: String) async throws {
        try await everyNode([ClickHouseSchema.Statement(sql: "DROP TABLE IF EXISTS \(ClickHouseSchema.qualified(database, Self.viewName(pipe)))")],
                            "dropping the materialized view of \(pipe)")
    }

    static func viewName(_ pipe: String) -> String { pipe + "__materialized" }

    public func columns(of sql: String) async throws -> [String] {
        _ = try await capabilities()
        return try await mapped("reading the query's columns") {
            try await primary.query("SELECT * FROM (\n\(sql)\n) LIMIT 0", settings: Self.readOnly).columns.map(\.name)
        }
    }

    public func rowCount(_ name: String) async throws -> Int {
        _ = try await capabilities()
        return try await mapped("counting \(name)") {
            Int(try await primary.query("SELECT count() FROM \(ClickHouseSQL.identifier(name))").rows.first?.first?.numberValue ?? 0)
        }
    }

    /// A read as an endpoint runs it: capped at `maximumRows + 1` rows so the caller can tell it was cut, and with
    /// `readonly=2`, so endpoint SQL can change no data (settings, which the client sends, stay allowed).
    public func query(_ sql: String, context: String) async throws -> ClickHouseResult {
        _ = try await capabilities()
        try ClickHouseQueryGuard.check(sql, database: database)
        return try await mapped(context) {
            try await primary.query("SELECT * FROM (\n\(SQLText.trimmed(sql))\n) LIMIT \(WorkspaceDatabase.maximumRows + 1)", settings: Self.readOnly)
        }
    }

    static let readOnly = ["readonly": "2"]

    /// Whether every node answers.
    public func ping() async -> Bool {
        for node in nodes where !(await node.ping()) { return false }
        return true
    }
}

/// What endpoint SQL may name on a server that other workspaces share: its own tables, not another database's (a
/// qualified `db.table` after `FROM`, `JOIN` or `IN`, quoted or not), no table functions that reach files, URLs or other
/// servers, and no lookups by table name (`joinGet`, `dictGet`). This is the SQL's boundary; a ClickHouse user per
/// workspace limited with `allow_databases` is the server's (README, "Analytics on ClickHouse").
enum ClickHouseQueryGuard {
    static let tableFunctions = ["file", "url", "remote", "remoteSecure", "cluster", "clusterAllReplicas", "mysql", "jdbc", "odbc",
                                 "hdfs", "s3", "input", "postgresql", "executable", "merge", "dictionary", "urlCluster", "s3Cluster",
                                 "numbers_mt", "generateRandom"]
    static let identifier = #"(?:`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)"#

    // Compiled once: a request's SQL is checked against them on every read.
    static let qualifiedName = try? NSRegularExpression(pattern: #"(?i)\b(?:FROM|JOIN|IN)\s+("# + identifier + #")\s*\.\s*"# + identifier)
    static let tableFunction = try? NSRegularExpression(pattern: #"(?i)\b(?:FROM|JOIN)\s+`?(?:"# + tableFunctions.joined(separator: "|") + #")`?\s*\("#)
    static let lookupByName = try? NSRegularExpression(pattern: #"(?i)\b(?:joinGet|dictGet[A-Za-z0-9]*|dictHas|dictIsIn)\s*\("#)

    static func check(_ sql: String, database: String) throws {
        for match in matches(qualifiedName, in: sql) {
            let owner = match.count > 1 ? match[1].trimmingCharacters(in: CharacterSet(charactersIn: "`\"")) : ""
            guard owner.lowercased() == database.lowercased() else {
                throw DomainError.invalidQuery("[Error] \(match[0].dropFirst(match[0].prefix { !$0.isWhitespace }.count).trimmingCharacters(in: .whitespaces).prefix(80)) is not a Data Source of this workspace")
            }
        }
        if let found = matches(tableFunction, in: sql).first {
            throw DomainError.invalidQuery("[Error] table functions are not allowed in pipes: \(found[0].prefix(60))")
        }
        if let found = matches(lookupByName, in: sql).first {
            throw DomainError.invalidQuery("[Error] \(found[0].dropLast()) reads tables by name and is not allowed in pipes")
        }
    }

    /// Each match's text and its capture groups.
    static func matches(_ expression: NSRegularExpression?, in text: String) -> [[String]] {
        guard let expression else { return [] }
        let string = text as NSString
        return expression.matches(in: text, range: NSRange(location: 0, length: string.length)).map { match in
            (0..<match.numberOfRanges).map { index in
                let range = match.range(at: index)
                return range.location == NSNotFound ? "" : string.substring(with: range)
            }
        }
    }
}

/// Checked rows as `JSONEachRow` lines for one data source: names escaped once, values written by column type, with
/// the stand-ins an old server needs (`Bool` as 0/1 on a `UInt8`, `DateTime64` without its fraction on a `DateTime`).
struct ClickHouseRowEncoder {
    let keys: [[UInt8]]
    let kinds: [Kind]

    enum Kind { case plain, bool(asNumber: Bool), rawJSON, dateTimeWithoutFraction }

    init(_ definition: DataSourceDefinition, capabilities: ClickHouseCapabilities) throws {
        keys = definition.columns.enumerated().map { index, column in
            Array(((index == 0 ? "{" : ",") + JSONValue.string(column.name).jsonText() + ":").utf8)
        }
        kinds = try definition.columns.map { column in
            switch column.type.base {
            case .bool: return .bool(asNumber: !capabilities.bool)
            case .array: return .rawJSON
            case .dateTime64: return capabilities.dateTime64 ? .plain : .dateTimeWithoutFraction
            case .aggregateState:
                throw DomainError.invalidQuery("\(column.name) \(column.type): AggregateFunction columns are written by materialized views on ClickHouse, not by appends")
            default: return .plain
            }
        }
    }

    func lines(_ rows: ArraySlice<[SQLiteData]>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows.count * keys.count * 16)
        for row in rows { write(row, to: &out) }
        return out
    }

    func line(_ row: [SQLiteData]) -> String {
        var out: [UInt8] = []
        write(row, to: &out)
        return String(decoding: out.dropLast(), as: UTF8.self)
    }

    private func write(_ row: [SQLiteData], to out: inout [UInt8]) {
        for index in keys.indices {
            out.append(contentsOf: keys[index])
            switch (row[index], kinds[index]) {
            case (.null, _): out.append(contentsOf: "null".utf8)
            case (.integer(let n), .bool(let asNumber)): out.append(contentsOf: (asNumber ? "\(n)" : (n != 0 ? "true" : "false")).utf8)
            case (.integer(let n), _): out.append(contentsOf: String(n).utf8)
            case (.float(let x), _): out.append(contentsOf: (x.isFinite ? JSONValue.number(x).jsonText() : "null").utf8)
            case (.text(let text), .rawJSON): out.append(contentsOf: text.utf8)
            case (.text(let text), .dateTimeWithoutFraction):
                out.append(contentsOf: JSONValue.string(String(text.prefix { $0 != "." })).jsonText().utf8)
            case (.text(let text), _): out.append(contentsOf: JSONValue.string(text).jsonText().utf8)
            case (.blob(let buffer), _): out.append(contentsOf: JSONValue.string(String(buffer: buffer)).jsonText().utf8)
            }
        }
        out.append(contentsOf: "}\n".utf8)
    }
}
