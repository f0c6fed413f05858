#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded store: one SQLite file in WAL mode, one writer connection behind a gate,
/// and reader connections that read concurrently with the writer (WAL allows it).
public final class SQLiteBackend: StoreBackend {
    public let dialect = StoreDialect.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeGate = AsyncGate()
    private let readerCursor = Atomic<UInt>(0)
    private let logger: Logger
    private let path: String

    private init(writer: SQLiteConnection, readers: [SQLiteConnection], path: String, logger: Logger) {
        self.writer = writer
        self.readers = readers
        self.path = path
        self.logger = logger
    }

    /// The size and modification time of the write-ahead log (where every commit lands, from any process), or of
    /// the file while there is no log: one `stat`, no query.
    public func commitFingerprint() -> Int? {
        var status = stat()
        guard stat(path + "-wal", &status) == 0 || stat(path, &status) == 0 else { return nil }
        return Int(status.st_size) &* 1_000_003 &+ Int(status.st_mtim.tv_sec) &* 1_000_000_000 &+ Int(status.st_mtim.tv_nsec)
    }

    /// `pragmas` are set on every connection, after Tessera's own, and `functions` installed on each.
    public static func open(path: String, readerCount: Int = 2, pragmas: [String] = [], functions: [SQLiteCustomFunction] = [],
                            logger: Logger) async throws -> SQLiteBackend {
        let writer: SQLiteConnection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        for function in functions { try await writer.install(customFunction: function) }
        try await configure(writer, pragmas: [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
        ] + pragmas)
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            let reader: SQLiteConnection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            for function in functions { try await reader.install(customFunction: function) }
            try await configure(reader, pragmas: ["PRAGMA busy_timeout=5000", "PRAGMA query_only=ON"] + pragmas)
            readers.append(reader)
        }
        return SQLiteBackend(writer: writer, readers: readers, path: path, logger: logger)
    }

    private static func configure(_ connection: SQLiteConnection, pragmas: [String]) async throws {
        for pragma in pragmas {
            _ = try await connection.query(pragma, [])
        }
    }

    public func read<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        // Round-robin over readers; an atomic counter, since an actor hop per read costs more than the pick.
        let index = Int(readerCursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(readers.count))
        return try await body(readers[index].sql(queryLogLevel: .trace))
    }

    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let database = writer.sql(queryLogLevel: .trace)
        return try await writeGate.withGate {
            try await database.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(database)
                try await database.raw("COMMIT").run()
                return result
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func script(_ statements: [String]) async throws -> TextResult {
        try await writeGate.withGate {
            _ = try await writer.query("BEGIN IMMEDIATE", [])
            do {
                var last = TextResult(columns: [], rows: [])
                for statement in statements {
                    let rows = try await writer.query(statement, [])
                    last = TextResult(
                        columns: rows.first?.columns.map(\.name) ?? [],
                        rows: rows.map { row in row.columns.map { Self.text($0.data) } })
                }
                _ = try await writer.query("COMMIT", [])
                return last
            } catch {
                _ = try? await writer.query("ROLLBACK", [])
                throw error
            }
        }
    }

    private static func text(_ data: SQLiteData) -> String? {
        switch data {
        case .null: nil
        case .integer(let value): String(value)
        case .float(let value): String(value)
        case .text(let value): value
        case .blob(let buffer): "\\x" + buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
        }
    }

    public func shutdown() async {
        for connection in readers + [writer] {
            try? await connection.close()
        }
    }
}

