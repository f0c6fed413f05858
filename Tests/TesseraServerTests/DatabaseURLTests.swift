import Testing
import TesseraCore
@testable import TesseraStore

/// What `--database` accepts: the pool's size, libpq's harmless parameters, and never a TLS demand met in the clear.
@Suite struct DatabaseURLTests {
    @Test func poolSizeIsTakenFromTheURLAndCheckedElseSizedToTheCores() throws {
        let sized = try PostgresBackend.configuration(url: "postgres://tessera@127.0.0.1:5432/db?pool_size=7&application_name=x")
        #expect(sized.options.maximumConnections == 7)
        let standard = try PostgresBackend.configuration(url: "postgres://tessera@127.0.0.1:5432/db?sslmode=disable")
        #expect(standard.options.maximumConnections == PostgresBackend.defaultPoolSize)
        #expect(PostgresBackend.defaultPoolSize >= 5)
        for bad in ["?pool_size=0", "?pool_size=many", "?pool_size=501", "?sslmode=require", "?sslmode=verify-full"] {
            #expect(throws: DomainError.self, "\(bad)") {
                try PostgresBackend.configuration(url: "postgres://tessera@127.0.0.1:5432/db" + bad)
            }
        }
    }
}
