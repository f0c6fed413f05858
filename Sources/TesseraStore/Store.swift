import Logging
import SQLKit
import SQLiteNIO
import TesseraCore

/// The SQL dialects Tessera runs on. Domain code asks only where a statement must differ.
public enum StoreDialect: String, Sendable {
    case sqlite
    case postgres
}

/// The once-per-tenant jobs instances must not run at the same time.
public enum StoreLock: Int, Sendable {
    case migrations = 7_468_773
    case bootstrap = 7_468_774
}

/// What a store engine provides: reads outside transactions and writes inside one.
public protocol StoreBackend: Sendable {
    var dialect: StoreDialect { get }
    func read<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    func transaction<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs SQL statements as text, in one transaction, and answers the last one's rows as text: for scripts
    /// written by people (migrations, an admin's SQL), not for Tessera's own statements.
    func script(_ statements: [String]) async throws -> TextResult
    /// A value that moves whenever anyone, in any process, commits: for a store other processes may write (SQLite's
    /// file); nil where changes are announced instead (PostgreSQL's NOTIFY).
    func commitFingerprint() -> Int?
    func shutdown() async
}

/// Rows read as text, as `psql` shows them; `nil` is SQL NULL.
public struct TextResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// Tessera's database: one API over SQLite (embedded) and PostgreSQL (shared by several instances).
public struct Store: Sendable {
    public let backend: any StoreBackend
    /// What rows instances cache and when copies go stale (``RowCache``).
    public let changes: StoreChanges

    public init(backend: any StoreBackend, changes: StoreChanges = StoreChanges()) {
        self.backend = backend
        self.changes = changes
    }

    public var dialect: StoreDialect { backend.dialect }

    public func read<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await backend.read(body)
    }

    /// Runs `body` in one transaction: all of it is committed, or none of it.
    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        try await backend.transaction(body)
    }

    /// A transaction that changes rows instances cache: this instance drops its copies once it commits, and on
    /// PostgreSQL the commit also notifies every other instance listening (``PostgresBackend``), which drop theirs.
    public func transaction<Result: Sendable>(
        changing rows: CachedRows, _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let dialect = self.dialect
        defer { changes.bump(rows) }
        return try await backend.transaction { db in
            let result = try await body(db)
            switch dialect {
            case .postgres:
                // Delivered at commit, and only if it commits.
                try await db.raw("SELECT pg_notify(\(bind: StoreChanges.channel), \(bind: rows.rawValue))").run()
            case .sqlite:
                // Read by the other processes on this file (``noticeChanges()``).
                try await db.raw("""
                    INSERT INTO tessera_changes (name, generation) VALUES (\(bind: rows.rawValue), 1)
                    ON CONFLICT (name) DO UPDATE SET generation = tessera_changes.generation + 1
                    """).run()
            }
            return result
        }
    }

    /// On SQLite, notices what other processes on the same file changed: when anything was committed since the last
    /// look (a `stat` of the log), `tessera_changes` is read. PostgreSQL's notifications need nothing of the kind.
    public func noticeChanges() async {
        guard let fingerprint = backend.commitFingerprint(), changes.claimPoll(fingerprint) else { return }
        guard let rows = try? await read({ db in
            try await db.select().columns("name", "generation").from("tessera_changes").all()
        }) else {
            changes.pollFailed()
            return
        }
        var generations: [String: Int] = [:]
        for row in rows {
            if let name = try? row.decode(column: "name", as: String.self), let generation = try? row.decode(column: "generation", as: Int.self) {
                generations[name] = generation
            }
        }
        await changes.noticed(generations)
    }

    public func shutdown() async {
        await backend.shutdown()
    }

    public func script(_ statements: [String]) async throws -> TextResult {
        try await backend.script(statements)
    }

    /// Inside a transaction, waits until no other instance holds `lock`, and holds it until the transaction ends.
    /// Instances sharing a PostgreSQL database use it for once-per-tenant work (migrations, first keys);
    /// SQLite needs nothing more, since its writes already take turns.
    public func serialize(_ lock: StoreLock, in db: any SQLDatabase) async throws {
        guard dialect == .postgres else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(\(literal: lock.rawValue))").run()
    }

    /// Opens the store a location names: a `postgres://` URL, or a folder for the embedded SQLite file.
    public static func open(databaseURL: String?, dataDirectory: String, fileName: String = "tessera.sqlite",
                            sqlitePragmas: [String] = [], sqliteFunctions: [SQLiteCustomFunction] = [],
                            logger: Logger) async throws -> Store {
        if let databaseURL {
            guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
                throw DomainError(.invalidInput, code: "invalid_database_url",
                                  "--database must be a postgres:// URL; leave it out for the embedded SQLite store")
            }
            let changes = StoreChanges()
            return Store(backend: try PostgresBackend(url: databaseURL, logger: logger, announcingTo: changes), changes: changes)
        }
        let path = dataDirectory + "/" + fileName
        return Store(backend: try await SQLiteBackend.open(path: path, pragmas: sqlitePragmas, functions: sqliteFunctions, logger: logger))
    }
}
