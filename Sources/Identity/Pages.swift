import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The hosted pages (login, signup, errors, form_post), rendered on the server from the Mustache templates
/// in `Resources/templates`. No third-party script or stylesheet; one inline style block.
public struct Pages: Sendable {
    let library: MustacheLibrary

    public static func load() async throws -> Pages {
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("templates").path else {
            throw CocoaError(.fileNoSuchFile)
        }
        return Pages(library: try await MustacheLibrary(directory: directory))
    }

    /// Pages forbid framing and everything but their own inline style; forms may post only here and to `formTargets`.
    func render(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok,
                formTargets: [String] = [], allowInlineScript: Bool = false) -> Response {
        let html = library.render(values, withTemplate: template) ?? "<!doctype html><title>Error</title><p>Page unavailable.</p>"
        var policy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
        policy += "; form-action 'self'" + formTargets.map { " " + $0 }.joined()
        if allowInlineScript { policy += "; script-src 'unsafe-inline'" }
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                      .contentSecurityPolicy: policy, .xFrameOptions: "DENY"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func error(_ title: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        render("error", ["title": title, "message": message], status: status)
    }
}
