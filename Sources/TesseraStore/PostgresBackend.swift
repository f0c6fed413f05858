import Foundation
import Logging
import PostgresKit
import PostgresNIO
import SQLKit
import TesseraCore

/// PostgreSQL through postgres-nio's connection pool. Several Tessera instances may share one database.
public final class PostgresBackend: StoreBackend {
    public let dialect = StoreDialect.postgres
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let listener: Task<Void, Never>?
    private let logger: Logger

    /// With `changes`, one connection of the pool listens for the changes other instances commit
    /// (``Store/transaction(changing:_:)``) and bumps their generations here.
    public init(url: String, logger: Logger, announcingTo changes: StoreChanges? = nil) throws {
        self.client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
        self.logger = logger
        let client = self.client
        self.runner = Task { await client.run() }
        self.listener = changes.map { changes in Task { await Self.listen(client, changes: changes, logger: logger) } }
    }

    /// Connections per instance unless the URL says `?pool_size=N`: two per core, since PostgreSQL's backends and
    /// Tessera's threads share the cores and more connections only queue; at least four, and one more for the
    /// connection that listens for changes.
    public static var defaultPoolSize: Int { max(4, 2 * ProcessInfo.processInfo.activeProcessorCount) + 1 }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw DomainError(.invalidInput, code: "invalid_database_url",
                              "the database URL must look like postgres://user:password@host:5432/database")
        }
        var poolSize = defaultPoolSize
        for item in components.queryItems ?? [] {
            switch item.name {
            case "pool_size":
                guard let value = item.value.flatMap(Int.init), (2...500).contains(value) else {
                    throw DomainError(.invalidInput, code: "invalid_database_url",
                                      "pool_size in the database URL is a number of connections from 2 to 500")
                }
                poolSize = value
            case "sslmode" where ["require", "verify-ca", "verify-full"].contains(item.value ?? ""):
                // Connecting in the clear to a URL that demands TLS would be worse than refusing to start.
                throw DomainError(.invalidInput, code: "invalid_database_url",
                                  "sslmode=\(item.value ?? "") asks for TLS, which Tessera does not speak to PostgreSQL yet: use a loopback or private network and sslmode=disable")
            default:
                continue  // libpq's other parameters (sslmode=disable, application_name, …) change nothing here
            }
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: components.user.flatMap { $0.removingPercentEncoding } ?? "postgres",
            password: components.password.flatMap { $0.removingPercentEncoding },
            database: database.isEmpty ? nil : database,
            tls: .disable
        )
        configuration.options.maximumConnections = poolSize
        return configuration
    }

    /// Listens on ``StoreChanges/channel`` for as long as the store is open, coming back after a lost connection.
    /// Whatever was announced while no one listened is unknown, so every group goes stale when listening starts.
    /// Retries wait 1 s, then twice as long each time, up to 30 s, so a database that is down is not hammered.
    static func listen(_ client: PostgresClient, changes: StoreChanges, logger: Logger) async {
        var pause = 1
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: StoreChanges.channel) { notifications in
                        changes.bumpAll()
                        pause = 1
                        for try await notification in notifications {
                            if let rows = CachedRows(rawValue: notification.payload) { changes.bump(rows) } else { changes.bumpAll() }
                        }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("not hearing other instances' changes; cached rows reload within \(Int(StoreChanges.staleness)) s until this is back",
                               metadata: ["error": "\(String(reflecting: error))", "retry_in_seconds": "\(pause)"])
            }
            try? await Task.sleep(for: .seconds(pause))
            pause = min(pause * 2, Int(StoreChanges.staleness))
        }
    }

    public func read<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: .trace, logger: logger))
        }
    }

    public func transaction<Result: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let logger = self.logger
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection.sql(queryLogLevel: .trace, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            // Callers see their own error (a DomainError, say) when the rollback went through,
            // exactly as on SQLite; the wrapper matters only when the database itself failed.
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }

    public func script(_ statements: [String]) async throws -> TextResult {
        let logger = self.logger
        do {
            return try await client.withTransaction(logger: logger) { connection in
                var last = TextResult(columns: [], rows: [])
                for statement in statements {
                    let rows = try await connection.simpleQuery(statement).get()
                    last = TextResult(
                        columns: rows.first.map { row in row.map(\.columnName) } ?? [],
                        rows: rows.map { row in row.map(Self.text) })
                }
                return last
            }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }

    /// A value as `psql` prints it. PostgresNIO reads results in binary: the common types are turned back into
    /// PostgreSQL's text forms (booleans as `t`/`f`); anything else is read as the text it most likely is.
    static func text(_ cell: PostgresCell) -> String? {
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .bool: return (try? cell.decode(Bool.self)).map { $0 ? "t" : "f" }
        case .int2, .int4, .int8, .oid: return (try? cell.decode(Int64.self)).map { String($0) }
        case .float4, .float8: return (try? cell.decode(Double.self)).map { String($0) }
        case .numeric: return (try? cell.decode(Decimal.self)).map { "\($0)" }
        case .uuid: return (try? cell.decode(UUID.self)).map { $0.uuidString.lowercased() }
        case .timestamp, .timestamptz, .date:
            guard let date = try? cell.decode(Date.self) else { return nil }
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = cell.dataType == .date ? [.withFullDate] : [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        default: return try? cell.decode(String.self)
        }
    }

    /// Changes are announced (``listen(_:changes:logger:)``), not looked for.
    public func commitFingerprint() -> Int? { nil }

    /// The listener stops first, while the client still runs: a connection lease it is waiting for must be answered
    /// (a client whose `run()` has ended leaves leases waiting forever). Should it still not stop, shutdown goes on
    /// after 5 s without it.
    public func shutdown() async {
        if let listener {
            listener.cancel()
            await Self.wait(for: listener, atMost: .seconds(5))
        }
        runner.cancel()
        _ = await runner.value
    }

    /// Returns when `task` ends or `limit` has passed, whichever comes first.
    static func wait(for task: Task<Void, Never>, atMost limit: Duration) async {
        let (ended, signal) = AsyncStream<Void>.makeStream()
        let waiter = Task { await task.value; signal.yield() }
        let timer = Task { try? await Task.sleep(for: limit); signal.yield() }
        for await _ in ended { break }
        waiter.cancel()
        timer.cancel()
        signal.finish()
    }
}
