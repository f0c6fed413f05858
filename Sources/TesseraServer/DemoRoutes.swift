import Foundation
import HTTPTypes
import Hummingbird
import IdentityManagement
import NIOCore
import TesseraCore
import TesseraHTTP

/// `/demo/`: a small page (plain JS, no third-party code) that signs a person up or in with PKCE through the
/// application named "Demo SPA", then shows the seeds' Tinybird path end to end with the JWT from their ID token, and
/// seed 004's: the person's own row from `/v1/graphql` with their access token, and the error without it.
public struct DemoRoutes: Sendable {
    public static let applicationName = "Demo SPA"
    /// The example tenant's API for seed 004 (examples/tessera.yaml).
    static let graphQLAudience = "https://graphql.example/"
    static let files: [String: String] = ["": "index.html", "demo.js": "demo.js", "demo.css": "demo.css"]
    static let contentTypes = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
    static let policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    let tenant: Tenant
    let assets: [String: ByteBuffer]

    init(tenant: Tenant) throws {
        self.tenant = tenant
        var assets: [String: ByteBuffer] = [:]
        for (path, file) in Self.files { assets[path] = try BundledFile.load(file, subdirectory: "demo", from: .module) }
        self.assets = assets
    }

    func addRoutes(to router: Router<TesseraRequestContext>) {
        // The router treats `/demo` and `/demo/` alike; the page's own links are absolute.
        router.get("demo") { _, _ in serve("") }
        router.get("demo/:file") { _, context in
            let file = try context.pathParameter("file")
            if file == "config.json" { return try await config() }
            return serve(file)
        }
    }

    func serve(_ path: String) -> Response {
        guard let body = assets[path], let file = Self.files[path] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "Not found")))
        }
        let type = Self.contentTypes[URL(fileURLWithPath: file).pathExtension] ?? "application/octet-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache", .contentSecurityPolicy: Self.policy],
                        body: .init(byteBuffer: body))
    }

    /// The demo application's public client id and where it returns to.
    func config() async throws -> Response {
        guard let client = try await tenant.clients.list().first(where: { $0.name == Self.applicationName }) else {
            throw HTTPError(.notFound, message: "No application is named \(Self.applicationName): apply examples/tessera.yaml (make run does)")
        }
        var config: [String: JSONValue] = [
            "client_id": .string(client.clientID), "redirect_uri": .string(tenant.issuer + "demo/"), "issuer": .string(tenant.issuer),
        ]
        // Seed 004's API: with it, the access token is a JWT the GraphQL engine verifies.
        if try await tenant.resourceServers.find(Self.graphQLAudience) != nil { config["audience"] = .string(Self.graphQLAudience) }
        return JSONResponse.text(JSONValue.object(config).jsonText())
    }
}
