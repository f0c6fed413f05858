import Foundation
import Logging
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
@testable import TesseraServer

/// Keeps every log line, for tests that check what is (not) logged.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String,
                 function: String, line: UInt) {
            sink.append("\(message) \(metadata.merging(extra ?? [:]) { $1 })")
        }
    }
}

@Suite struct OperationsTests {
    @Test(arguments: StoreKind.available)
    func requestLogsNeverCarryTheQueryString(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let captured = CapturedLogs()
        var logger = Logger(label: "capture") { _ in CapturedLogs.Handler(sink: captured) }
        logger.logLevel = .trace
        let app = Application(responder: RouteRecordingResponder(inner: try await TesseraApplication.router(services: harness.services, metrics: nil).buildResponder()), logger: logger)
        try await app.test(.router) { client in
            _ = try await client.execute(uri: "/v0/pipes/sales.json?token=eyJsecret-token-value&city=x", method: .get)
            _ = try await client.execute(uri: "/demo/?code=secret-authorization-code&state=s", method: .get)
        }
        let lines = captured.all
        #expect(lines.contains { $0.contains("/v0/pipes/sales.json") && $0.contains("403") }, "\(lines)")
        #expect(!lines.contains { $0.contains("secret-token-value") || $0.contains("secret-authorization-code") }, "\(lines)")
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func bootstrapClientGainsScopesANewerVersionAdds(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let tenant = harness.services.tenant
        let created = try #require(try await AdminClient.ensure(harness.services))
        let grant = try #require(try await tenant.clientGrants.find(clientID: created.clientID, audience: tenant.managementAudience))
        // As a tenant made before the Actions scopes existed would have it.
        let older = grant.scope.filter { !$0.hasSuffix(":actions") }
        _ = try await tenant.clientGrants.update(grant.id, .object(["scope": .array(older.map { .string($0) })]))
        #expect(try await AdminClient.ensure(harness.services) == nil, "a second start shows no secret")
        let upgraded = try #require(try await tenant.clientGrants.find(clientID: created.clientID, audience: tenant.managementAudience))
        #expect(Set(upgraded.scope) == Set(grant.scope) && upgraded.scope.contains("read:actions"))
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func metricsExposeTheRegistryInPrometheusText(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "tessera_probe_total").increment(by: Int64(3))
        let app = Application(responder: RouteRecordingResponder(inner: try await TesseraApplication.router(services: harness.services, metrics: registry).buildResponder()),
                              logger: Harness.logger)
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(String(buffer: response.body).contains("tessera_probe_total 3"))
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.headers[.xContentTypeOptions] == "nosniff")
        }
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func readinessFailsWhenTheStoreIsGone(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let app = Application(responder: RouteRecordingResponder(inner: try await TesseraApplication.router(services: harness.services, metrics: nil).buildResponder()),
                              logger: Harness.logger)
        await harness.services.store.shutdown()
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/readyz", method: .get)
            #expect(response.status == .serviceUnavailable)
        }
        try? FileManager.default.removeItem(atPath: harness.services.configuration.dataDirectory)
    }

    /// The demo page's files, its config (only once the example tenant's application exists) and nothing else.
    @Test(arguments: StoreKind.available)
    func demoServesItsFilesOnly(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { http in
            for (path, type) in [("/demo/", "text/html"), ("/demo/demo.js", "text/javascript"), ("/demo/demo.css", "text/css")] {
                let response = try await http.request(.get, path)
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(path)")
            }
            #expect(try await http.request(.get, "/demo/config.json").status == .notFound, "no demo application yet")
            _ = try await harness.tenant.clients.create(.object(["name": .string("Demo SPA"), "app_type": .string("spa")]))
            let config = try await http.request(.get, "/demo/config.json")
            #expect(config["issuer"] == .string(Harness.issuer) && config["client_id"]?.stringValue != nil, "\(config.text)")
            for missing in ["/demo/secrets.txt", "/demo/..%2FPackage.swift", "/demo/index.html%00"] {
                #expect(try await http.request(.get, missing).status == .notFound, "\(missing)")
            }
        }
    }
}
