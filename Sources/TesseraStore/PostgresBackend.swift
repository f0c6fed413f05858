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
                    // The simple query protocol answers in text, the form `run_sql` returns, whatever the column types.
                    let rows = try await connection.simpleQuery(statement).get()
                    last = TextResult(
                        columns: rows.first.map { row in row.map(\.columnName) } ?? [],
                        rows: rows.map { row in row.map { cell in cell.bytes.map { String(buffer: $0) } } })
                }
                return last
            }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }

    public func shutdown() async {
        runner.cancel()
        _ = await runner.value
    }
}
