import Foundation
import Testing
import TesseraCore
import TesseraServer

/// The OpenAPI descriptions Tessera serves (`/api/v2/openapi.json`, `/v0/openapi.json`) name exactly the routes the
/// router serves under their prefixes, with Hummingbird's `:name` written as OpenAPI's `{name}`.
@Suite struct OpenAPITests {
    static let documents: [(path: String, prefixes: [String])] = [
        ("/api/v2/openapi.json", ["/api/v2/"]),
        // Tinybird's one /v1 route (`tb pull`); the rest of /v1 is Hasura's GraphQL API.
        ("/v0/openapi.json", ["/v0/", "/v1/pipes/"]),
    ]

    @Test(arguments: StoreKind.available)
    func descriptionsMatchTheRoutes(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind, graphql: true)
        let router = try await TesseraApplication.router(services: harness.services, metrics: nil)
        let routes = router.routes.map { (method: "\($0.method)".lowercased(), path: "\($0.path)") }
        try await harness.test { http in
            for document in Self.documents {
                let response = try await http.request(.get, document.path)
                #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("application/json") == true, "\(document.path)")
                let spec = try #require(response.json.objectValue, "\(document.path): \(response.text)")
                #expect(spec["openapi"]?.stringValue?.hasPrefix("3.1") == true)
                var described: Set<String> = []
                for (path, item) in spec["paths"]?.objectValue ?? [:] {
                    for method in (item.objectValue ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                        described.insert("\(method) \(path)")
                    }
                }
                let served = Set(routes.filter { route in
                    document.prefixes.contains { route.path.hasPrefix($0) } && !route.path.hasSuffix("**")
                }.map { route in
                    "\(route.method) " + route.path.split(separator: "/", omittingEmptySubsequences: false).map { part in
                        part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                    }.joined(separator: "/")
                })
                #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
                #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
            }
        }
    }
}
