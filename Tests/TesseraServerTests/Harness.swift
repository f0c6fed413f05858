import Console
import Foundation
import GraphQLEngine
import Hummingbird
import HummingbirdTesting
import IdentityManagement
import Logging
import NIOCore
import Synchronization
import Testing
import TesseraCore
import TesseraServer
import TesseraStore
@testable import TesseraTokens

/// A clock tests can move forward without sleeping.
final class TestClock: Sendable {
    private let offset = Atomic<Int>(0)
    let start = Date()

    func advance(seconds: Int) { offset.add(seconds, ordering: .relaxed) }

    var clock: TesseraClock {
        TesseraClock { [self] in start.addingTimeInterval(TimeInterval(offset.load(ordering: .relaxed))) }
    }
}

/// Which store a test runs on. PostgreSQL runs when `TESSERA_TEST_POSTGRES_URL` names a server
/// (`make test` starts one); each test gets a database of its own.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["TESSERA_TEST_POSTGRES_URL"] }

    static var available: [StoreKind] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }
}

/// Which store and which analytics engine an analytics test runs on. ClickHouse runs when `make test` starts one
/// (`TESSERA_TEST_CLICKHOUSE_URL`) and the two-shard cluster (`TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS`); each test gets
/// a ClickHouse database of its own.
struct AnalyticsBackend: CustomTestStringConvertible, Sendable {
    enum Engine: String, Sendable { case embedded, clickhouse, cluster }

    let store: StoreKind
    let engine: Engine

    var testDescription: String { "\(store.rawValue)+\(engine.rawValue)" }

    static let embedded = AnalyticsBackend(store: .sqlite, engine: .embedded)
    static var clickHouseURL: String? { ProcessInfo.processInfo.environment["TESSERA_TEST_CLICKHOUSE_URL"] }
    static var clusterURLs: [String] {
        ProcessInfo.processInfo.environment["TESSERA_TEST_CLICKHOUSE_CLUSTER_URLS"]?.split(separator: " ").map(String.init) ?? []
    }

    /// Every store on the embedded engine; ClickHouse alone on SQLite, and the cluster behind PostgreSQL (as several
    /// instances would share it) or SQLite when there is no PostgreSQL.
    static var available: [AnalyticsBackend] {
        var backends = StoreKind.available.map { AnalyticsBackend(store: $0, engine: .embedded) }
        if clickHouseURL != nil { backends.append(AnalyticsBackend(store: .sqlite, engine: .clickhouse)) }
        if clusterURLs.count == 2 { backends.append(AnalyticsBackend(store: StoreKind.available.last ?? .sqlite, engine: .cluster)) }
        return backends
    }

    /// The workspace's `engine` and `clickhouse` lines of tessera.yaml, in flow style.
    func workspaceSettings() -> String {
        let database = "tessera_test_" + RandomToken.hex(bytes: 6)
        switch engine {
        case .embedded: return ""
        case .clickhouse: return ", engine: clickhouse, clickhouse: { url: \"\(Self.clickHouseURL ?? "")\", database: \(database) }"
        case .cluster:
            let urls = Self.clusterURLs
            return ", engine: clickhouse, clickhouse: { url: \"\(urls[0])\", database: \(database), cluster: tessera_cluster, nodes: [\"\(urls[1])\"] }"
        }
    }
}

/// A fresh tenant on a fresh store, and an HTTP client for it.
struct Harness: Sendable {
    static let issuer = "http://tessera.test/"
    let services: TesseraServices
    let clock: TestClock
    let cleanup: @Sendable () async -> Void

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    /// The GraphQL engine's admin secret when `make(graphql: true)` switches the engine on.
    static let graphQLAdminSecret = "graphql-test-admin-secret"

    /// `graphql` switches the GraphQL engine on, over a database of its own (a second PostgreSQL database on PostgreSQL).
    static func make(_ kind: StoreKind = .sqlite, masterKey: String? = nil, graphql: Bool = false,
                     graphQLProject: String? = nil, graphQLJWT: JWTSettings? = nil,
                     graphQLUnauthorizedRole: String? = nil) async throws -> Harness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-test-\(UUID().uuidString)").path
        let clock = TestClock()
        var databaseURL: String?
        var dropDatabase: (@Sendable () async -> Void)?
        if kind == .postgres {
            (databaseURL, dropDatabase) = try await makePostgresDatabase()
        }
        var graphQLDrop: (@Sendable () async -> Void)?
        var graphQLConfiguration: GraphQLConfiguration?
        if graphql {
            var graphQLURL: String?
            if kind == .postgres { (graphQLURL, graphQLDrop) = try await makePostgresDatabase() }
            graphQLConfiguration = GraphQLConfiguration(databaseURL: graphQLURL, dataDirectory: directory,
                                                        projectDirectory: graphQLProject, adminSecret: graphQLAdminSecret,
                                                        jwt: graphQLJWT, unauthorizedRole: graphQLUnauthorizedRole)
        }
        let configuration = ServerConfiguration(
            dataDirectory: directory, databaseURL: databaseURL, issuer: issuer,
            masterKeyPassphrase: masterKey ?? (kind == .postgres ? String(repeating: "k", count: 32) : nil),
            logLevel: .warning, bcryptCost: 4, graphql: graphQLConfiguration
        )
        let services = try await TesseraServices.open(configuration, logger: logger, clock: clock.clock)
        let drop = dropDatabase
        let dropGraphQL = graphQLDrop
        return Harness(services: services, clock: clock) {
            await services.shutdown()
            await drop?()
            await dropGraphQL?()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// A new, empty PostgreSQL database on the test server, and how to drop it.
    static func makePostgresDatabase() async throws -> (url: String, drop: @Sendable () async -> Void) {
        guard let adminURL = StoreKind.postgresURL else {
            throw DomainError(.unavailable, code: "test", "TESSERA_TEST_POSTGRES_URL is not set")
        }
        let name = "tessera_test_\(RandomToken.hex(bytes: 6))"
        let admin = Store(backend: try PostgresBackend(url: adminURL, logger: logger))
        try await admin.read { db in try await db.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
        await admin.shutdown()
        var components = URLComponents(string: adminURL)!
        components.path = "/" + name
        let drop: @Sendable () async -> Void = {
            guard let admin = try? PostgresBackend(url: adminURL, logger: logger) else { return }
            try? await admin.read { db in try await db.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run() }
            await admin.shutdown()
        }
        return (components.string!, drop)
    }

    var tenant: Tenant { services.tenant }

    /// What each of several instances sharing one PostgreSQL database is started with.
    static func sharedInstance(databaseURL: String) -> ServerConfiguration {
        ServerConfiguration(dataDirectory: NSTemporaryDirectory() + "tessera-shared-\(UUID())", databaseURL: databaseURL,
                            issuer: issuer, masterKeyPassphrase: String(repeating: "s", count: 32), logLevel: .warning, bcryptCost: 4)
    }

    /// Runs `body` against the full router, then tears the harness down.
    func test(_ body: @Sendable (TestHTTP) async throws -> Void) async throws {
        let router = try await TesseraApplication.router(services: services, metrics: nil)
        let app = Application(responder: RouteRecordingResponder(inner: router.buildResponder()), logger: Self.logger)
        do {
            try await app.test(.router) { client in try await body(TestHTTP(client: client, harness: self)) }
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }
}

extension Harness {
    /// Runs `body` against the full router served on a loopback port: what the console needs, since it reaches the
    /// public APIs over HTTP as any other client does.
    func testLive(_ body: @Sendable (TestHTTP) async throws -> Void) async throws {
        let loopback = LoopbackAddress()
        let router = try await TesseraApplication.router(services: services, metrics: nil, loopback: loopback)
        let app = Application(responder: RouteRecordingResponder(inner: router.buildResponder()),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Self.logger)
        do {
            try await app.test(.live) { client in
                await loopback.listening(host: "127.0.0.1", port: try #require(client.port))
                try await body(TestHTTP(client: client, harness: self))
            }
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }
}

struct TestResponse {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    /// The body as sent, for binary ones (gzip files).
    var bytes: [UInt8] = []

    /// The body as JSON. An empty body is `null`; any other body that is not JSON fails the test that reads it, so an
    /// assertion on a field can never pass by reading an HTML or text error as "absent".
    var json: JSONValue {
        guard !text.isEmpty else { return .null }
        do { return try JSONValue.parse(text) } catch {
            Issue.record("\(status.code): the body is not JSON: \(text.prefix(200))")
            return .null
        }
    }
    var object: [String: JSONValue] { json.objectValue ?? [:] }
    subscript(key: String) -> JSONValue? { object[key] }
}

struct TestHTTP: Sendable {
    let client: any TestClientProtocol
    let harness: Harness

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue? = nil,
                 body: String? = nil, contentType: String? = nil, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(string: json.jsonText())
            headers[.contentType] = contentType ?? "application/json"
        } else if let body {
            buffer = ByteBuffer(string: body)
            if let contentType { headers[.contentType] = contentType }
        }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: buffer)
        return TestResponse(status: response.status, headers: response.headers, text: String(buffer: response.body),
                            bytes: Array(buffer: response.body))
    }

    /// A machine-to-machine client granted `scopes` on the Management API, and a token for it.
    func managementToken(scopes: [String] = ManagementScopes.all) async throws -> String {
        let tenant = harness.tenant
        let client = try await tenant.clients.create(.object([
            "name": .string("m2m \(RandomToken.hex(bytes: 4))"), "app_type": .string("non_interactive"),
        ]))
        _ = try await tenant.clientGrants.create(.object([
            "client_id": .string(client.clientID), "audience": .string(tenant.managementAudience),
            "scope": .array(scopes.map(JSONValue.string)),
        ]))
        let response = try await request(.post, "/oauth/token", body: [
            "grant_type=client_credentials", "client_id=\(client.clientID)", "client_secret=\(client.clientSecret!)",
            "audience=\(tenant.managementAudience.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
        ].joined(separator: "&"), contentType: "application/x-www-form-urlencoded")
        guard let token = response["access_token"]?.stringValue else {
            throw DomainError(.unavailable, code: "test", "no token: \(response.text)")
        }
        return token
    }
}

func newUserBody(_ email: String = "user-\(RandomToken.hex(bytes: 4))@example.com",
                 extra: [String: JSONValue] = [:]) -> JSONValue {
    var body: [String: JSONValue] = [
        "connection": .string("Username-Password-Authentication"), "email": .string(email),
        "password": .string("Correct-Horse-9"),
    ]
    body.merge(extra) { $1 }
    return .object(body)
}

func decodeJWTPart(_ token: String, _ index: Int) -> [String: JSONValue] {
    let part = String(token.split(separator: ".")[index])
    return (try? JSONValue.parse(String(decoding: Data(base64URLEncoded: part)!, as: UTF8.self)))?.objectValue ?? [:]
}

extension String {
    var pathEscaped: String { addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? self }
}

extension Users {
    /// Tests create users from the Management API's JSON, decoded as the API decodes it.
    func create(_ body: JSONValue) async throws -> User {
        try await create(try NewUser(auth0JSON: body))
    }
}

extension Users {
    func update(_ userID: String, _ body: JSONValue) async throws -> User {
        try await update(userID, try UserPatch(auth0JSON: body))
    }
}
