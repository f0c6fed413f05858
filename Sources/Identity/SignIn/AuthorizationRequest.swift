import Foundation
import IdentityManagement
import TesseraCore
import TesseraHTTP

/// A validated `/authorize` request: what the user is signing in to, and where the answer goes.
public struct AuthorizationRequest: Codable, Sendable, Equatable {
    public var clientID: String
    public var redirectURI: String
    public var responseMode: String
    public var scopes: [String]
    public var state: String?
    public var nonce: String?
    public var audience: String?
    public var codeChallenge: String?
    public var codeChallengeMethod: String?
    public var prompt: String?
    public var maxAge: Int?
    public var loginHint: String?
    public var screenHint: String?

    public var wantsOpenID: Bool { scopes.contains(.openid) }
}

/// Where an `/authorize` error goes: on a page when the redirect URI cannot be trusted, otherwise back to it.
public enum AuthorizeOutcome: Sendable {
    case valid(AuthorizationRequest, Client)
    /// The client or redirect URI is unknown: never redirect, show a page.
    case errorPage(title: String, message: String)
    /// The redirect URI is registered: the error goes back to it (RFC 6749 §4.1.2.1).
    case redirect(to: String, mode: String, state: String?, error: OAuthError)
}

public struct AuthorizeValidator: Sendable {
    let tenant: Tenant

    public init(tenant: Tenant) {
        self.tenant = tenant
    }

    static let supportedPrompts: Set<String> = ["login", "none", "consent"]

    /// Exact match, except that a native app's loopback redirect (`http://127.0.0.1:PORT/…`, `http://[::1]:PORT/…`)
    /// matches its registration on any port, as RFC 8252 §7.3 asks: command-line tools listen on a free port.
    static func isRegistered(_ redirectURI: String, in callbacks: [String], native: Bool) -> Bool {
        if callbacks.contains(redirectURI) { return true }
        guard native, var requested = URLComponents(string: redirectURI), requested.scheme == "http",
              ["127.0.0.1", "[::1]", "::1"].contains(requested.host ?? "")
        else { return false }
        requested.port = nil
        return callbacks.contains { registered in
            guard var candidate = URLComponents(string: registered) else { return false }
            candidate.port = nil
            return candidate.string == requested.string
        }
    }

    public func validate(_ parameters: RequestParameters) async throws -> AuthorizeOutcome {
        guard let clientID = parameters["client_id"], !clientID.isEmpty else {
            return .errorPage(title: "Missing client", message: "The request has no client_id.")
        }
        guard let client = try? await tenant.clients.get(clientID) else {
            return .errorPage(title: "Unknown application", message: "No application has the client_id this link names.")
        }
        guard let redirectURI = parameters["redirect_uri"] ?? (client.callbacks.count == 1 ? client.callbacks[0] : nil) else {
            return .errorPage(title: "Missing redirect_uri", message: "The request does not say where to return after sign-in.")
        }
        guard Self.isRegistered(redirectURI, in: client.callbacks, native: client.appType == .native) else {
            return .errorPage(
                title: "Callback URL mismatch",
                message: "\(redirectURI) is not in the list of Allowed Callback URLs of \(client.name). Add it in the application's settings.")
        }
        let state = parameters["state"]
        let mode = parameters["response_mode"] ?? "query"
        guard mode == "query" || mode == "form_post" else {
            return .redirect(to: redirectURI, mode: "query", state: state,
                             error: .invalidRequest("Unsupported response_mode: \(mode)"))
        }
        func fail(_ error: OAuthError) -> AuthorizeOutcome { .redirect(to: redirectURI, mode: mode, state: state, error: error) }

        guard let responseType = parameters["response_type"] else {
            return fail(.invalidRequest("Missing required parameter: response_type"))
        }
        guard responseType == "code" else {
            return fail(OAuthError(.unsupportedResponseType, "Unsupported response type: \(responseType)"))
        }
        guard client.grantTypes.contains(.authorizationCode) else {
            return fail(.unauthorizedClient("The application is not allowed to use the authorization code grant"))
        }
        let challenge = parameters["code_challenge"]
        let method = parameters["code_challenge_method"] ?? (challenge == nil ? nil : "plain")
        if let challenge {
            guard method == "S256" else {
                return fail(.invalidRequest("code_challenge_method must be S256"))
            }
            guard (43...128).contains(challenge.count) else {
                return fail(.invalidRequest("code_challenge must be 43 to 128 characters"))
            }
        } else if client.appType == .spa || client.appType == .native {
            return fail(.invalidRequest("PKCE is required for this application: send code_challenge and code_challenge_method=S256"))
        }
        let prompt = parameters["prompt"]
        if let prompt, !Self.supportedPrompts.contains(prompt) {
            return fail(.invalidRequest("Unsupported prompt: \(prompt)"))
        }
        var maxAge: Int?
        if let text = parameters["max_age"] {
            guard let value = Int(text), value >= 0 else { return fail(.invalidRequest("max_age must be a whole number of seconds")) }
            maxAge = value
        }
        let scopes = (parameters["scope"] ?? OpenIDScope.openid.rawValue).split(separator: " ").map(String.init)
        let audience = parameters["audience"].flatMap { $0.isEmpty ? nil : $0 }
        if let audience {
            guard try await tenant.resourceServers.find(audience)?.identifier == audience else {
                return fail(.accessDenied("Service not found: \(audience)"))
            }
        }
        for (name, limit) in [("state", 2048), ("nonce", 512), ("login_hint", 320)] {
            if let value = parameters[name], value.count > limit {
                return fail(.invalidRequest("\(name) is longer than \(limit) characters"))
            }
        }
        let request = AuthorizationRequest(
            clientID: clientID, redirectURI: redirectURI, responseMode: mode, scopes: scopes, state: state,
            nonce: parameters["nonce"], audience: audience, codeChallenge: challenge, codeChallengeMethod: method,
            prompt: prompt, maxAge: maxAge, loginHint: parameters["login_hint"], screenHint: parameters["screen_hint"])
        return .valid(request, client)
    }
}
