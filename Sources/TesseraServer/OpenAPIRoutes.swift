import Foundation
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// The OpenAPI 3.1 descriptions of the two HTTP APIs clients program against: the Management API v2 subset at
/// `/api/v2/openapi.json` and the Tinybird-style API at `/v0/openapi.json`. They are documentation, so anyone may read
/// them; `OpenAPITests` keeps them equal to the routes, and `make test` fuzzes the server against them (schemathesis).
struct OpenAPIRoutes: Sendable {
    static let documents = ["api/v2/openapi.json": "management", "v0/openapi.json": "analytics"]
    let bodies: [String: ByteBuffer]

    init() throws {
        var bodies: [String: ByteBuffer] = [:]
        for (path, name) in Self.documents {
            guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "openapi"),
                  let data = FileManager.default.contents(atPath: url.path)
            else { throw DomainError(.unavailable, code: "openapi_missing", "the OpenAPI description \(name).json is missing from the resources") }
            bodies[path] = ByteBuffer(bytes: data)
        }
        self.bodies = bodies
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        for (path, body) in bodies {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                         body: .init(byteBuffer: body))
            }
        }
    }
}
