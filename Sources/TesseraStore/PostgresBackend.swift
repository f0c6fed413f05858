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
    private let logger: Logger

    public init(url: String, logger: Logger) throws {
        self.client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
        self.logger = logger
        let client = self.client
        self.runner = Task { await client.run() }
    }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw DomainError(.invalidInput, code: "invalid_database_url",
                              "the database URL must look like postgres://user:password@host:5432/database")
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
        configuration.options.maximumConnections = 10
        return configuration
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

    public func shutdown() async {
        runner.cancel()
        _ = await runner.value
    }
}
