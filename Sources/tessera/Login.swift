import ArgumentParser
import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import ServiceLifecycle
import TesseraCore
import TesseraHTTP

/// `tessera login`: the Authentication API Debugger as a command. Runs authorization code + PKCE against any
/// OIDC issuer with a loopback redirect, then prints the tokens with their decoded headers and claims.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in through a browser with authorization code + PKCE and print the tokens (any OIDC issuer).")

    @Option(help: "The issuer URL (its /.well-known/openid-configuration is read).") var issuer = "http://127.0.0.1:8080/"
    @Option(name: .customLong("client-id"), help: "A native or SPA application's client id.") var clientID: String
    @Option(help: "The API to get an access token for.") var audience: String?
    @Option(help: "Scopes to ask for.") var scope = "openid profile email"
    @Option(help: "Loopback port for the redirect (0 picks a free one).") var port = 0
    @Option(name: .customLong("redirect-path"), help: "Path of the loopback redirect URI.") var redirectPath = "/callback"
    @Flag(help: "Only print the URL; do not try to open a browser.") var noOpen = false
    @Option(help: "Seconds to wait for the browser.") var timeout = 300

    func run() async throws {
        let discovery = try await LoginClient.fetchJSON(URL(string: issuer.hasSuffix("/") ? issuer : issuer + "/")!
            .appendingPathComponent(".well-known/openid-configuration"))
        guard let authorizationEndpoint = discovery["authorization_endpoint"]?.stringValue,
              let tokenEndpoint = discovery["token_endpoint"]?.stringValue
        else { throw ValidationError("\(issuer) has no authorization_endpoint/token_endpoint in its discovery document") }

        let verifier = RandomToken.base64URL(bytes: 32)
        let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded()
        let state = RandomToken.base64URL(bytes: 16), nonce = RandomToken.base64URL(bytes: 16)
        let callback = CallbackInbox()
        var logger = Logger(label: "tessera.login")
        logger.logLevel = .critical

        let router = Router()
        router.get(RouterPath(stringLiteral: redirectPath)) { request, _ -> Response in
            await callback.deliver((try? request.query)?.firstValues ?? [:])
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string:
                "<!doctype html><title>Signed in</title><body style=\"font-family:system-ui;padding:3em\"><h1>Done.</h1><p>Return to your terminal; you can close this window.</p>")))
        }
        let (clientID, scope, audience, redirectPath, noOpen) = (self.clientID, self.scope, self.audience, self.redirectPath, self.noOpen)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { channel in
            let port = channel.localAddress?.port ?? 0
            var components = URLComponents(string: authorizationEndpoint)!
            var items = [
                ("response_type", "code"), ("client_id", clientID), ("redirect_uri", "http://127.0.0.1:\(port)\(redirectPath)"),
                ("scope", scope), ("state", state), ("nonce", nonce), ("code_challenge", challenge), ("code_challenge_method", "S256"),
            ]
            if let audience { items.append(("audience", audience)) }
            components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
            let url = components.string!
            await callback.setRedirect("http://127.0.0.1:\(port)\(redirectPath)")
            FileHandle.standardError.write(Data("Open this URL in a browser to sign in:\n\n  \(url)\n\nWaiting for the redirect to http://127.0.0.1:\(port)\(redirectPath) …\n".utf8))
            if !noOpen { LoginClient.openBrowser(url) }
        }, logger: logger)

        // The loopback server shuts down gracefully once the redirect has arrived, so the browser still gets its page.
        let services = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let server = Task { try await services.run() }
        let seconds = timeout
        let received = try? await withThrowingTaskGroup(of: [String: String]?.self) { group in
            group.addTask { await callback.next() }
            group.addTask { try await Task.sleep(for: .seconds(seconds)); return nil }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        await services.triggerGracefulShutdown()
        _ = await server.result
        guard let parameters = received ?? nil else {
            throw ValidationError("no redirect arrived within \(seconds) s")
        }
        if let error = parameters["error"] {
            throw ValidationError("the issuer answered \(error): \(parameters["error_description"] ?? "")")
        }
        guard parameters["state"] == state, let code = parameters["code"] else {
            throw ValidationError("the redirect carried no code or a different state")
        }
        let redirect = await callback.redirect ?? ""
        let tokens = try await LoginClient.postForm(URL(string: tokenEndpoint)!, [
            "grant_type": "authorization_code", "client_id": clientID, "code": code,
            "redirect_uri": redirect, "code_verifier": verifier,
        ])
        print(LoginClient.describe(tokens, nonce: nonce))
    }
}

/// Hands the redirect's query from the loopback route to the waiting command.
actor CallbackInbox {
    private var received: [String: String]?
    private var waiter: CheckedContinuation<[String: String]?, Never>?
    private(set) var redirect: String?

    func setRedirect(_ value: String) { redirect = value }

    func deliver(_ parameters: [String: String]) {
        guard received == nil else { return }
        received = parameters
        waiter?.resume(returning: parameters)
        waiter = nil
    }

    /// Waits for the redirect; returns nil if the waiting task is cancelled (the timeout fired).
    func next() async -> [String: String]? {
        if let received { return received }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { waiter = $0 }
        } onCancel: {
            Task { await self.cancel() }
        }
    }

    private func cancel() {
        waiter?.resume(returning: nil)
        waiter = nil
    }
}

enum LoginClient {
    static func fetchJSON(_ url: URL) async throws -> [String: JSONValue] {
        let (data, response) = try await URLSession.shared.data(from: url)
        guard (response as? HTTPURLResponse)?.statusCode == 200, let object = try JSONValue.parse(bytes: Array(data)).objectValue else {
            throw ValidationError("\(url) did not answer a JSON object")
        }
        return object
    }

    static func postForm(_ url: URL, _ fields: [String: String]) async throws -> [String: JSONValue] {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        request.httpBody = Data(fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&").utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let object = try? JSONValue.parse(bytes: Array(data)).objectValue else {
            throw ValidationError("the token endpoint did not answer JSON: \(String(decoding: data, as: UTF8.self))")
        }
        if let error = object["error"]?.stringValue {
            throw ValidationError("token endpoint: \(error): \(object["error_description"]?.stringValue ?? "")")
        }
        return object
    }

    static func openBrowser(_ url: String) {
        for opener in ["/usr/bin/xdg-open", "/usr/bin/open"] where FileManager.default.isExecutableFile(atPath: opener) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: opener)
            process.arguments = [url]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
            return
        }
    }

    /// The raw tokens, then each JWT's header and claims, pretty-printed.
    static func describe(_ tokens: [String: JSONValue], nonce: String) -> String {
        var lines: [String] = []
        for name in ["access_token", "id_token", "refresh_token"] {
            guard let token = tokens[name]?.stringValue else { continue }
            lines.append("\(name):\n\(token)\n")
            let parts = token.split(separator: ".")
            guard parts.count == 3 else { continue }
            for (label, part) in [("header", parts[0]), ("claims", parts[1])] {
                if let data = Data(base64URLEncoded: String(part)), let value = try? JSONValue.parse(bytes: Array(data)),
                   let pretty = try? JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(value.jsonText().utf8)),
                                                            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
                    lines.append("\(name) \(label):\n\(String(decoding: pretty, as: UTF8.self))\n")
                }
            }
        }
        for name in ["token_type", "expires_in", "scope"] {
            if let value = tokens[name] { lines.append("\(name): \(value.stringValue ?? value.jsonText())") }
        }
        if let id = tokens["id_token"]?.stringValue, let data = Data(base64URLEncoded: String(id.split(separator: ".")[1])),
           let claims = try? JSONValue.parse(bytes: Array(data)).objectValue {
            lines.append(claims["nonce"]?.stringValue == nonce ? "nonce: matches" : "nonce: DOES NOT MATCH (do not trust this ID token)")
        }
        return lines.joined(separator: "\n")
    }
}
