import Foundation
import Hummingbird
import Testing
import TesseraHTTP
import TesseraServer

/// Which routes the suite exercises. With `TESSERA_ROUTE_HITS` set (`make test` sets it), every request a harness
/// serves appends `METHOD path-pattern` to that file; ``RouteCoverageTests`` then compares the router's own list of
/// routes with it, in a second `swift test` run, after every other test has run.
struct RouteRecordingResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context: RequestContext {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        defer {
            if let path = context.endpointPath, path != "NotFound" { RouteHits.record("\(request.method) \(path)") }
        }
        return try await inner.respond(to: request, context: context)
    }
}

enum RouteHits {
    static var file: String? { ProcessInfo.processInfo.environment["TESSERA_ROUTE_HITS"] }

    /// One short line per write on an O_APPEND descriptor, so concurrent tests never interleave inside a line.
    static func record(_ line: String) {
        guard let file else { return }
        let descriptor = open(file, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    static func recorded() throws -> Set<String> {
        guard let file else { return [] }
        return Set(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init))
    }
}

@Suite struct RouteCoverageTests {
    /// Routes no test needs to reach: the `/v0/**` and `/admin/v1/**` catch-alls answer unknown paths (tested for
    /// GET; the other methods share their handler).
    static let exempt: Set<String> = ["POST /v0/**", "PUT /v0/**", "PATCH /v0/**", "DELETE /v0/**",
                                      "POST /admin/v1/**", "PUT /admin/v1/**", "PATCH /admin/v1/**", "DELETE /admin/v1/**"]

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TESSERA_ROUTE_COVERAGE"] == "1",
                   "runs after the suite, on the routes it recorded"))
    func everyRouteIsExercised() async throws {
        let harness = try await Harness.make(graphql: true)
        let router = try await TesseraApplication.router(services: harness.services, metrics: nil)
        await harness.cleanup()
        let routes = Set(router.routes.map { "\($0.method) \($0.path)" })
        #expect(routes.count > 50, "the router lists its routes")
        let hits = try RouteHits.recorded()
        let missed = routes.subtracting(hits).subtracting(Self.exempt).sorted()
        #expect(missed.isEmpty, "routes no test exercised:\n\(missed.joined(separator: "\n"))")
    }
}
