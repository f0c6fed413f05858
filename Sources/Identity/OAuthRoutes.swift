import Foundation
import HTTPTypes
import Hummingbird
import IdentityManagement
import TesseraCore
import TesseraHTTP
import TesseraTokens

/// `/oauth/token` and the `/.well-known` documents.
public struct OAuthRoutes: Sendable {
    let tenant: Tenant
    let tokens: TokenService
    let clientCredentials: ClientCredentialsGrant

    public init(tenant: Tenant, tokens: TokenService) {
        self.tenant = tenant
        self.tokens = tokens
        self.clientCredentials = ClientCredentialsGrant(tenant: tenant, tokens: tokens)
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let keyRing = tenant.keyRing, issuer = tenant.issuer, grant = clientCredentials
        router.get(".well-known/jwks.json") { _, _ in
            JSONResponse.text(try await keyRing.current().jwksJSON,
                              headers: [.cacheControl: "public, max-age=300"])
        }
        router.get(".well-known/openid-configuration") { _, _ in
            try JSONResponse.make(Self.discovery(issuer: issuer), headers: [.cacheControl: "public, max-age=300"])
        }
        router.group("oauth").add(middleware: OAuthErrorMiddleware<Context>())
            .post("token") { request, _ in
                let parameters = try await Self.parameters(request)
                let credentials = try Self.clientCredentials(request, parameters)
                switch parameters["grant_type"] {
                case "client_credentials"?:
                    let response = try await grant.issue(
                        clientID: credentials.id, clientSecret: credentials.secret ?? "",
                        audience: parameters["audience"], scope: parameters["scope"])
                    return JSONResponse.text(response.json.jsonText(), headers: [.pragma: "no-cache"])
                case nil:
                    throw OAuthError.invalidRequest("Missing required parameter: grant_type")
                case let other?:
                    throw OAuthError.unsupportedGrantType("Unsupported grant type: \(other)")
                }
            }
    }

    /// The discovery document lists only what this server implements.
    static func discovery(issuer: String) -> JSONValue {
        .object([
            "issuer": .string(issuer),
            "jwks_uri": .string(issuer + ".well-known/jwks.json"),
            "token_endpoint": .string(issuer + "oauth/token"),
            "grant_types_supported": .array([.string("client_credentials")]),
            "token_endpoint_auth_methods_supported": .array([.string("client_secret_basic"), .string("client_secret_post")]),
            "id_token_signing_alg_values_supported": .array([.string("RS256")]),
            "subject_types_supported": .array([.string("public")]),
            "response_types_supported": .array([]),
            "claims_supported": .array(["aud", "exp", "iat", "iss", "sub", "azp", "scope", "gty", "jti"].map(JSONValue.string)),
        ])
    }

    /// Token requests come as a form (RFC 6749) or, as Auth0 also accepts, as JSON.
    static func parameters(_ request: Request) async throws -> [String: String] {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if contentType.hasPrefix("application/x-www-form-urlencoded") {
            return try await BodyReader.form(request)
        }
        if contentType.hasPrefix("application/json") {
            guard case .object(let object) = try await BodyReader.json(request) else {
                throw OAuthError.invalidRequest("The request body must be a JSON object")
            }
            var parameters: [String: String] = [:]
            for (key, value) in object {
                switch value {
                case .string(let text): parameters[key] = text
                case .null: continue
                default: throw OAuthError.invalidRequest("Parameter \(key) must be a string")
                }
            }
            return parameters
        }
        throw OAuthError.invalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json")
    }

    /// `client_secret_basic` or `client_secret_post`, never both.
    static func clientCredentials(_ request: Request, _ parameters: [String: String]) throws -> (id: String, secret: String?) {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic ") {
            guard parameters["client_secret"] == nil else {
                throw OAuthError.invalidRequest("Use one client authentication method, not both")
            }
            guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else {
                throw OAuthError.invalidClient("Malformed Basic authorization header")
            }
            let id = String(text[..<colon]).removingPercentEncoding ?? String(text[..<colon])
            let secret = String(text[text.index(after: colon)...])
            return (id, secret.removingPercentEncoding ?? secret)
        }
        guard let id = parameters["client_id"], !id.isEmpty else {
            throw OAuthError.invalidRequest("Missing required parameter: client_id")
        }
        return (id, parameters["client_secret"])
    }
}

/// OAuth errors in RFC 6749 shape: `{"error": "...", "error_description": "..."}`.
struct OAuthErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OAuthError {
            return Self.response(error, status: Self.status(for: error.error))
        } catch let error as DomainError {
            let status: HTTPResponse.Status = error.kind == .payloadTooLarge ? .contentTooLarge : .badRequest
            return Self.response(.invalidRequest(error.message), status: status)
        } catch {
            context.logger.error("token endpoint failure", metadata: ["error": "\(String(reflecting: error))"])
            return Self.response(OAuthError("server_error", "Internal error"), status: .internalServerError)
        }
    }

    static func status(for code: String) -> HTTPResponse.Status {
        switch code {
        case "invalid_client": .unauthorized
        case "access_denied", "unauthorized_client": .forbidden
        default: .badRequest
        }
    }

    static func response(_ error: OAuthError, status: HTTPResponse.Status) -> Response {
        let body = JSONValue.object(["error": .string(error.error), "error_description": .string(error.description)])
        var headers: HTTPFields = [.pragma: "no-cache"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"tessera\"" }
        return JSONResponse.text(body.jsonText(), status: status, headers: headers)
    }
}
