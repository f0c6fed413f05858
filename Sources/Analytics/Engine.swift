import Foundation
import Logging
import NIOCore
import SQLiteNIO
import TesseraCore
import TesseraStore

/// SQL text as the engine runs it.
enum SQLText {
    /// Without surrounding space and trailing semicolons.
    static func trimmed(_ sql: String) -> String {
        var text = sql.trimmingCharacters(in: .whitespacesAndNewlines)
        while text.hasSuffix(";") { text.removeLast() }
        return text
    }

    /// Whether it starts as one read does: `SELECT` or `WITH`.
    static func isSelect(_ sql: String) -> Bool {
        guard let first = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).first?.uppercased() else { return false }
        return first == "SELECT" || first == "WITH"
    }

    /// The names a query reads from (`FROM x`, `JOIN x`, `FROM db.x`), in order, each once: a listing for clients
    /// that order datafiles by their dependencies, not a parser (subqueries show their own sources).
    static func tableNames(_ sql: String) -> [String] {
        var names: [String] = []
        for match in sql.matches(of: /(?i)\b(?:FROM|JOIN)\s+`?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)`?/) {
            let name = String(match.1)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Whether a query reads one of Tinybird's service data sources (`tinybird.pipe_stats_rt`, …), which hold
    /// Tinybird's own usage logs; Tessera keeps none, so such a query reads no rows.
    static func readsServiceDataSources(_ sql: String) -> Bool {
        sql.contains(/(?i)\btinybird\.[a-z_]+/)
    }
}

/// What a query returned: column names in order and rows of values.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[SQLiteData]]
}

/// A row that did not fit its data source, kept with the reason in `<name>_quarantine`.
public struct QuarantinedRow: Sendable, Equatable {
    public let error: String
    public let column: String
    public let line: String
}

/// What an analytics engine does with a workspace's tables, whichever engine holds them. Errors a caller made come
/// back as `DomainError`s or engine errors the caller maps; an engine that cannot be reached is `.unavailable`.
public protocol WorkspaceTables: Sendable {
    func create(_ definition: DataSourceDefinition) async throws
    /// Adds the columns the table lacks, with their defaults for the rows it holds.
    func addColumns(_ columns: [ColumnSpec], to name: String) async throws
    func drop(_ name: String) async throws
    func truncate(_ name: String) async throws
    /// Appends checked rows and the quarantined ones; returns once every row is stored, so an acknowledged row is kept.
    /// Rows the engine itself refused were quarantined instead; they come back with their index in `rows`.
    @discardableResult
    func append(_ definition: DataSourceDefinition, rows: [[SQLiteData]], quarantined: [QuarantinedRow],
                replace: Bool, views: [MaterializedView]) async throws -> [(index: Int, row: QuarantinedRow)]
    /// Runs a view over its whole source (`truncate` empties the target first), as Tinybird's populate does.
    func populate(_ view: MaterializedView, truncate: Bool) async throws -> Int
    /// The names of the columns a query produces, without running it.
    func columns(of sql: String) async throws -> [String]
    func rowCount(_ name: String) async throws -> Int
}

/// Where a workspace's tables live: the embedded engine's file, or a ClickHouse server or cluster.
public enum WorkspaceStorage: Sendable {
    case embedded(WorkspaceDatabase)
    case clickHouse(ClickHouseWorkspace)

    public var tables: any WorkspaceTables {
        switch self {
        case .embedded(let database): database
        case .clickHouse(let workspace): workspace
        }
    }
}

/// The analytics engines, chosen per workspace (`engine` in its settings): the embedded one, one SQLite file per
/// workspace in WAL mode with ClickHouse's common functions installed (ingestion goes through one writer behind a
/// gate; pipes read on a `query_only` reader, so endpoint SQL can never change data), or ClickHouse.
public actor AnalyticsEngine {
    let directory: String
    let logger: Logger
    /// Where ClickHouse passwords are read from (`password_env` names the variable): never the catalog.
    let environment: [String: String]
    private var databases: [String: Task<WorkspaceDatabase, any Error>] = [:]
    private var clickHouse: [String: (settings: ClickHouseWorkspaceSettings, workspace: ClickHouseWorkspace)] = [:]

    public init(directory: String, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.directory = directory
        self.logger = logger
        self.environment = environment
    }

    /// The workspace's storage, by its engine setting. A ClickHouse workspace whose settings changed (another
    /// instance migrated it, say) is opened afresh.
    public func storage(for workspace: Workspace) async throws -> WorkspaceStorage {
        guard let settings = try ClickHouseWorkspaceSettings(workspace: workspace, environment: environment) else {
            return .embedded(try await database(workspace.id))
        }
        if let open = clickHouse[workspace.id], open.settings == settings { return .clickHouse(open.workspace) }
        let opened = ClickHouseWorkspace(settings: settings, logger: logger)
        clickHouse[workspace.id] = (settings, opened)
        return .clickHouse(opened)
    }

    public func tables(for workspace: Workspace) async throws -> any WorkspaceTables {
        try await storage(for: workspace).tables
    }

    /// The embedded engine's database for a workspace, whatever its engine setting (migration reads it).
    public func database(_ workspaceID: String) async throws -> WorkspaceDatabase {
        guard UUID(uuidString: workspaceID) != nil else { throw DomainError.invalidBody("workspace ids are UUIDs") }
        if let opening = databases[workspaceID] { return try await opening.value }
        let path = directory + "/" + workspaceID.lowercased() + ".sqlite"
        let directory = self.directory, logger = self.logger
        let task = Task { () throws -> WorkspaceDatabase in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            return try await WorkspaceDatabase.open(path: path, logger: logger)
        }
        databases[workspaceID] = task
        do { return try await task.value } catch {
            databases[workspaceID] = nil
            throw error
        }
    }

    public func shutdown() async {
        for task in databases.values {
            if let database = try? await task.value { await database.close() }
        }
        databases.removeAll()
    }
}

public actor WorkspaceDatabase: WorkspaceTables {
    let writer: SQLiteConnection
    /// Two readers, so queries use both cores; WAL lets them read while the writer writes.
    let readers: [SQLiteConnection]
    private var nextReader = 0
    private var writing = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var rowCounts: [String: Int] = [:]
    /// The columns each materialized view's SQL produces, by its text.
    private var producedColumns: [String: [String]] = [:]
    /// Endpoints answer at most this many rows; a pipe that needs more should aggregate or paginate.
    public static let maximumRows = 100_000

    init(writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.writer = writer
        self.readers = readers
    }

    private func pickReader() -> SQLiteConnection {
        nextReader = (nextReader + 1) % readers.count
        return readers[nextReader]
    }

    static func open(path: String, logger: Logger) async throws -> WorkspaceDatabase {
        let writer: SQLiteConnection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        // A 64 MiB page cache for the writer (SQLite's default is 2 MiB): appends to a data source with a sorting key
        // update its covering index all over, and a small cache re-reads those pages on every append.
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000", "PRAGMA cache_size=-65536"] {
            _ = try await writer.query(pragma, [])
        }
        var readers: [SQLiteConnection] = []
        for _ in 0..<2 {
            let reader: SQLiteConnection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            for pragma in ["PRAGMA busy_timeout=5000", "PRAGMA query_only=ON"] { _ = try await reader.query(pragma, []) }
            readers.append(reader)
        }
        for function in ClickHouseFunctions.all {
            for connection in [writer] + readers { try await connection.install(customFunction: function).get() }
        }
        return WorkspaceDatabase(writer: writer, readers: readers)
    }

    func close() async {
        for connection in [writer] + readers { try? await connection.close() }
    }

    /// Actor methods interleave at every `await`; a transaction's statements on the one writer must not.
    private func exclusively<Result>(_ body: () async throws -> Result) async throws -> Result {
        if writing { await withCheckedContinuation { waiting.append($0) } } else { writing = true }
        defer { if waiting.isEmpty { writing = false } else { waiting.removeFirst().resume() } }
        return try await body()
    }

    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func create(_ definition: DataSourceDefinition) async throws {
        try await exclusively {
            _ = try await writer.query("CREATE TABLE IF NOT EXISTS main.\(Self.quoted(definition.name)) (\(Self.columnDefinitions(definition)))", [])
            _ = try await writer.query("""
                CREATE TABLE IF NOT EXISTS \(Self.quoted(definition.name + "_quarantine"))
                (c__error TEXT, c__error_column TEXT, c__line TEXT, insertion_date TEXT)
                """, [])
            if let merging = RowMerging(definition) {
                // A merging engine keeps one row per sorting key here (see RowMerging): the key's unique index is what the
                // append's upsert meets.
                _ = try await writer.query("""
                    CREATE UNIQUE INDEX IF NOT EXISTS \(Self.quoted(definition.name + "_merge_key"))
                    ON \(Self.quoted(definition.name)) (\(merging.key.map(Self.quoted).joined(separator: ", ")))
                    """, [])
            } else if let key = definition.sortingKey {
                // ClickHouse keeps a table's rows ordered by its sorting key. Here that order is a covering index: the key's
                // columns, then every other column, so a filter or GROUP BY that leads with the key reads the index alone,
                // in order, without a lookup per row (a plain index on the key was slower than a scan for a GROUP BY:
                // see BENCHMARKS.md). It costs a second copy of the rows and slower appends, as ClickHouse's sort does.
                let rest = definition.columns.map(\.name).filter { !key.contains($0) }
                _ = try await writer.query("""
                    CREATE INDEX IF NOT EXISTS \(Self.quoted(definition.name + "_sorting_key"))
                    ON \(Self.quoted(definition.name)) (\((key + rest).map(Self.quoted).joined(separator: ", ")))
                    """, [])
            }
        }
    }

    static func columnDefinitions(_ definition: DataSourceDefinition) -> String {
        definition.columns.map { "\(quoted($0.name)) \($0.type.sqliteAffinity)" }.joined(separator: ", ")
    }

    /// Adds the columns the table lacks, with their defaults for the rows it holds.
    public func addColumns(_ columns: [ColumnSpec], to name: String) async throws {
        try await exclusively {
            let existing = Set(try await writer.query("PRAGMA main.table_info(\(Self.quoted(name)))", []).compactMap { $0.column("name")?.string })
            for column in columns where !existing.contains(column.name) {
                _ = try await writer.query("ALTER TABLE main.\(Self.quoted(name)) ADD COLUMN \(Self.quoted(column.name)) "
                                           + "\(column.type.sqliteAffinity) DEFAULT \(column.type.defaultLiteral)", [])
            }
        }
    }

    public func drop(_ name: String) async throws {
        try await exclusively {
            _ = try await writer.query("DROP TABLE IF EXISTS \(Self.quoted(name))", [])
            _ = try await writer.query("DROP TABLE IF EXISTS \(Self.quoted(name + "_quarantine"))", [])
        }
        rowCounts[name] = nil
    }

    public func truncate(_ name: String) async throws {
        try await exclusively {
            _ = try await writer.query("DELETE FROM \(Self.quoted(name))", [])
            _ = try await writer.query("DELETE FROM \(Self.quoted(name + "_quarantine"))", [])
        }
        rowCounts[name] = 0
    }

    /// Appends checked rows and quarantined ones in one transaction, with what the materialized views fed by the data
    /// source write from those rows: all of a request is kept, or none of it.
    @discardableResult
    public func append(_ definition: DataSourceDefinition, rows: [[SQLiteData]], quarantined: [QuarantinedRow],
                       replace: Bool = false, views: [MaterializedView] = []) async throws -> [(index: Int, row: QuarantinedRow)] {
        let table = Self.quoted(definition.name)
        let columnList = definition.columns.map { Self.quoted($0.name) }.joined(separator: ", ")
        let placeholders = "(" + Array(repeating: "?", count: definition.columns.count).joined(separator: ", ") + ")"
        let upsert = RowMerging(definition).map { " " + $0.upsertClause } ?? ""
        // With views, rows go first to a temporary table of the data source's name, which shadows the data source in
        // the views' SQL: each view reads only the appended rows, as a ClickHouse materialized view reads only the
        // inserted block.
        let staging = views.isEmpty ? "main." + table : "temp." + table
        // SQLite allows 32,766 bound values per statement; stay well under it.
        let rowsPerStatement = max(1, 8_000 / max(1, definition.columns.count))
        let now = CalendarText.dateTime(fromUnix: Date().timeIntervalSince1970) ?? ""
        try await exclusively {
            _ = try await writer.query("BEGIN IMMEDIATE", [])
            do {
                if replace { _ = try await writer.query("DELETE FROM main.\(table)", []) }
                if !views.isEmpty {
                    _ = try await writer.query("CREATE TEMP TABLE \(table) (\(Self.columnDefinitions(definition)))", [])
                }
                var start = 0
                while start < rows.count {
                    let chunk = rows[start..<min(rows.count, start + rowsPerStatement)]
                    _ = try await writer.query("INSERT INTO \(staging) (\(columnList)) VALUES "
                                               + Array(repeating: placeholders, count: chunk.count).joined(separator: ", ")
                                               + (views.isEmpty ? upsert : ""),
                                               chunk.flatMap { $0 })
                    start += rowsPerStatement
                }
                if !views.isEmpty {
                    _ = try await writer.query("INSERT INTO main.\(table) (\(columnList)) SELECT \(columnList) FROM temp.\(table) WHERE true\(upsert)", [])
                    for view in views { try await materialize(view) }
                    _ = try await writer.query("DROP TABLE temp.\(table)", [])
                }
                for row in quarantined {
                    _ = try await writer.query("INSERT INTO \(Self.quoted(definition.name + "_quarantine")) VALUES (?, ?, ?, ?)",
                                               [.text(row.error), .text(row.column), .text(row.line), .text(now)])
                }
                _ = try await writer.query("COMMIT", [])
            } catch {
                // The rollback also drops the temporary table: SQLite's schema changes are transactional.
                _ = try? await writer.query("ROLLBACK", [])
                throw error
            }
        }
        if !upsert.isEmpty { rowCounts[definition.name] = nil }
        else if replace { rowCounts[definition.name] = rows.count }
        else if let count = rowCounts[definition.name] { rowCounts[definition.name] = count + rows.count }
        if !quarantined.isEmpty { rowCounts[definition.name + "_quarantine"] = nil }
        for view in views { rowCounts[view.target.name] = nil }
        // SQLite's types are checked before the rows get here: it refuses none of them.
        return []
    }

    /// Runs a view over its whole source (`truncate` empties the target first), as Tinybird's populate does.
    public func populate(_ view: MaterializedView, truncate: Bool) async throws -> Int {
        try await exclusively {
            _ = try await writer.query("BEGIN IMMEDIATE", [])
            do {
                if truncate { _ = try await writer.query("DELETE FROM main.\(Self.quoted(view.target.name))", []) }
                try await materialize(view)
                _ = try await writer.query("COMMIT", [])
            } catch {
                _ = try? await writer.query("ROLLBACK", [])
                throw error
            }
        }
        rowCounts[view.target.name] = nil
        return try await rowCount(view.target.name)
    }

    /// Writes a view's rows into its target, merged with the stored ones when the target's engine merges. Columns
    /// match by name, as in ClickHouse; a target column the view does not produce is left NULL.
    private func materialize(_ view: MaterializedView) async throws {
        let produced = try await columnsUnlocked(of: view.sql)
        let names = view.target.columns.map(\.name).filter(produced.contains).map(Self.quoted).joined(separator: ", ")
        let upsert = RowMerging(view.target).map { " " + $0.upsertClause } ?? ""
        _ = try await writer.query("""
            INSERT INTO main.\(Self.quoted(view.target.name)) (\(names))
            SELECT \(names) FROM (
            \(view.sql)
            ) WHERE true\(upsert)
            """, [])
    }

    /// The names of the columns a query produces, without running it.
    public func columns(of sql: String) async throws -> [String] {
        try await exclusively { try await columnsUnlocked(of: sql) }
    }

    private func columnsUnlocked(of sql: String) async throws -> [String] {
        if let known = producedColumns[sql] { return known }
        // A temporary view is compiled, not run; its table_info lists what the query would produce.
        _ = try await writer.query("CREATE TEMP VIEW tessera_columns_probe AS \(sql)", [])
        let rows: [SQLiteRow]
        do { rows = try await writer.query("PRAGMA temp.table_info(tessera_columns_probe)", []) } catch {
            _ = try? await writer.query("DROP VIEW IF EXISTS temp.tessera_columns_probe", [])
            throw error
        }
        _ = try await writer.query("DROP VIEW temp.tessera_columns_probe", [])
        let names = rows.compactMap { $0.column("name")?.string }
        if producedColumns.count > 256 { producedColumns.removeAll() }
        producedColumns[sql] = names
        return names
    }

    /// Up to `limit` rows of a table after SQLite's `rowid` `after`, in rowid order, with the last rowid read: a copy
    /// that reads in pages and, since appends only add rowids, can come back later for what was appended meanwhile.
    public func rows(of name: String, columns: [String], after: Int, limit: Int) async throws -> (last: Int, rows: [[SQLiteData]]) {
        let list = columns.map(Self.quoted).joined(separator: ", ")
        let found = try await pickReader().query("SELECT rowid AS tessera_rowid, \(list) FROM main.\(Self.quoted(name)) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                                 [.integer(after), .integer(limit)])
        let rows = found.map { Array($0.columns.dropFirst().map(\.data)) }
        return (found.last?.column("tessera_rowid")?.integer ?? after, rows)
    }

    /// Rows of a table up to and including SQLite's `rowid` `last`: what a copy that read that far holds.
    public func rowCount(_ name: String, throughRowID last: Int) async throws -> Int {
        let rows = try await pickReader().query("SELECT count(*) AS n FROM main.\(Self.quoted(name)) WHERE rowid <= ?", [.integer(last)])
        return rows.first?.column("n")?.integer ?? 0
    }

    /// Rows in a table, counted once and then kept up to date by `append` and `truncate`.
    public func rowCount(_ name: String) async throws -> Int {
        if let count = rowCounts[name] { return count }
        let rows = try await pickReader().query("SELECT count(*) AS n FROM \(Self.quoted(name))", [])
        let count = rows.first?.column("n")?.integer ?? 0
        rowCounts[name] = count
        return count
    }

    /// Runs a read-only query, capped at `maximumRows + 1` rows so the caller can tell it was cut.
    public func query(_ rendered: RenderedSQL) async throws -> QueryResult {
        let sql = SQLText.trimmed(rendered.sql)
        let reader = pickReader()
        let found = try await reader.query("SELECT * FROM (\n\(sql)\n) LIMIT \(Self.maximumRows + 1)", rendered.binds)
        var columns = found.first?.columns.map(\.name) ?? []
        let rows = found.map { $0.columns.map(\.data) }
        if found.isEmpty {
            // No rows, so no names: an outer join against one row yields a row of NULLs that carries them.
            let probe = try await reader.query("SELECT q.* FROM (SELECT 1) AS one LEFT JOIN (\n\(sql)\n) AS q ON 1 LIMIT 1", rendered.binds)
            columns = probe.first?.columns.map(\.name) ?? []
        }
        return QueryResult(columns: columns, rows: rows)
    }
}
