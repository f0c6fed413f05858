import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TesseraCore
import TesseraHTTP

/// Where the console reaches Tessera's public APIs: this server's own listening address, over loopback, so that every
/// page goes through exactly the authorization, validation and limits any other client meets. Set once the port is open.
public actor LoopbackAddress {
    private var base: String?

    public init(base: String? = nil) { self.base = base }

    public func listening(host: String, port: Int) {
        let loopback = ["0.0.0.0", "::", "", "localhost"].contains(host) ? "127.0.0.1" : host
        base = "http://" + (loopback.contains(":") ? "[\(loopback)]" : loopback) + ":\(port)"
    }

    func url() throws -> String {
        guard let base else { throw DomainError(.unavailable, code: "console_not_ready", "The server is still starting") }
        return base
    }
}

/// One answer from a public API.
struct APIResponse: Sendable {
    let status: Int
    let body: [UInt8]
    let contentType: String?

    var ok: Bool { (200..<300).contains(status) }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue? { try? JSONValue.parse(bytes: body) }

    /// What the API said went wrong, in whichever family's envelope it used.
    var problem: String {
        let json = self.json
        for key in ["message", "error_description", "error"] {
            if let text = json?[key]?.stringValue, !text.isEmpty { return "\(text) (HTTP \(status))" }
        }
        if let first = json?["errors"]?.arrayValue?.first, let text = first["message"]?.stringValue { return "\(text) (HTTP \(status))" }
        if let text = json?["error"]?["message"]?.stringValue { return "\(text) (HTTP \(status))" }
        return "HTTP \(status): \(text.prefix(300))"
    }
}

/// The API answered with an error; pages show its message beside the form that caused it.
struct APIFailure: Error, Sendable {
    let response: APIResponse
    /// Whether the refused credential was the person's own token (then a 401 means signing in again) rather than one
    /// of the server's (then it is the server's problem, and signing in again would loop).
    var bySession = false
    var message: String { response.problem }
    var expiredSession: Bool { response.status == 401 && bySession }
}

/// An HTTP client for the public APIs with one caller's credentials.
struct PublicAPI: Sendable {
    static let maximumBody = 32 << 20
    let address: LoopbackAddress
    /// Headers that authenticate the caller: a bearer token, or `x-hasura-admin-secret`.
    let credentials: [(String, String)]
    /// Whether `credentials` are the signed-in person's own.
    var isSession = false

    func send(_ method: HTTPMethod, _ path: String, query: RequestParameters = .init(), json: JSONValue? = nil,
              body: [UInt8]? = nil, contentType: String? = nil, headers extra: [(String, String)] = []) async throws -> APIResponse {
        let base = try await address.url()
        var url = base + path
        if !query.pairs.isEmpty { url += (path.contains("?") ? "&" : "?") + query.urlEncoded }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in credentials + extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json.jsonText()))
        } else if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: Self.maximumBody)
        return APIResponse(status: Int(response.status.code), body: Array(buffer: collected),
                           contentType: response.headers.first(name: "Content-Type"))
    }

    /// The JSON answer of a call that must succeed; an error answer throws ``APIFailure``.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, query: RequestParameters = .init(), json: JSONValue? = nil,
              body: [UInt8]? = nil, contentType: String? = nil, headers: [(String, String)] = []) async throws -> JSONValue {
        let response = try await send(method, path, query: query, json: json, body: body, contentType: contentType, headers: headers)
        guard response.ok else { throw APIFailure(response: response, bySession: isSession) }
        if response.body.isEmpty { return .null }
        return response.json ?? .string(response.text)
    }

    func get(_ path: String, query: [(String, String)] = []) async throws -> JSONValue {
        try await call(.GET, path, query: RequestParameters(query.map { (name: $0.0, value: $0.1) }))
    }
}

/// A path segment as the APIs expect it: `auth0|123` becomes `auth0%7C123`.
func segment(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
}
