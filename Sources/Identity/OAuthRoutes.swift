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
    let userGrants: UserGrants

    public init(tenant: Tenant, tokens: TokenService, signIn: SignInService) {
        self.tenant = tenant
        self.tokens = tokens
        self.clientCredentials = ClientCredentialsGrant(tenant: tenant, tokens: tokens, clock: signIn.clock)
        self.userGrants = UserGrants(signIn: signIn)
    }

    public func addRoutes<Context: ClientAddressRequestContext>(to router: Router<Context>) {
        let keyRing = tenant.keyRing, issuer = tenant.issuer, grant = clientCredentials, users = userGrants
        router.get(".well-known/jwks.json") { _, _ in
            JSONResponse.text(try await keyRing.current().jwksJSON,
                              headers: [.cacheControl: "public, max-age=300"])
        }
        router.get(".well-known/openid-configuration") { _, _ in
            try JSONResponse.make(Self.discovery(issuer: issuer), headers: [.cacheControl: "public, max-age=300"])
        }
        let oauth = router.group("oauth").add(middleware: ErrorEnvelopeMiddleware<OAuthTokenErrors, Context>())
            .add(middleware: WebOriginCORSMiddleware<Context>(clients: tenant.clients))
        for path in ["token", "revoke"] {
            oauth.on(RouterPath(stringLiteral: path), method: .options) { _, _ in Response(status: .noContent) }
        }
        oauth.post("revoke") { request, _ in
            let parameters = try await Self.parameters(request)
            let credentials = try Self.clientCredentials(request, parameters)
            let client = try await users.authenticateClient(id: credentials.id, secret: credentials.secret)
            guard let token = parameters["token"], !token.isEmpty else {
                throw OAuthError.invalidRequest("Missing required parameter: token")
            }
            try await users.signIn.refreshTokens.revoke(token, clientID: client.clientID)
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }
        oauth.post("token") { request, context in
                let parameters = try await Self.parameters(request)
                let credentials = try Self.clientCredentials(request, parameters)
                guard let name = parameters["grant_type"] else {
                    throw OAuthError.invalidRequest("Missing required parameter: grant_type")
                }
                guard let grantType = GrantType(rawValue: name), GrantType.served.contains(grantType) else {
                    throw OAuthError.unsupportedGrantType("Unsupported grant type: \(name)")
                }
                let response: TokenResponse
                switch grantType {
                case .clientCredentials:
                    response = try await grant.issue(
                        clientID: credentials.id, clientSecret: credentials.secret ?? "",
                        audience: parameters["audience"], scope: parameters["scope"])
                case .authorizationCode:
                    response = try await users.authorizationCode(
                        clientID: credentials.id, clientSecret: credentials.secret, code: parameters["code"],
                        redirectURI: parameters["redirect_uri"], verifier: parameters["code_verifier"])
                case .refreshToken:
                    response = try await users.refresh(
                        clientID: credentials.id, clientSecret: credentials.secret,
                        token: parameters["refresh_token"], scope: parameters["scope"])
                case .password:
                    response = try await users.password(
                        clientID: credentials.id, clientSecret: credentials.secret, username: parameters["username"],
                        password: parameters["password"], scope: parameters["scope"], audience: parameters["audience"],
                        ip: context.clientIP)
                case .implicit:
                    throw OAuthError.unsupportedGrantType("Unsupported grant type: \(name)")
                }
                return JSONResponse.text(response.json.jsonText(), headers: [.pragma: "no-cache"])
            }
    }

    /// The discovery document lists only what this server implements.
    static func discovery(issuer: String) -> JSONValue {
        func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
        return .object([
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "authorize"),
            "token_endpoint": .string(issuer + "oauth/token"),
            "userinfo_endpoint": .string(issuer + "userinfo"),
            "jwks_uri": .string(issuer + ".well-known/jwks.json"),
            "revocation_endpoint": .string(issuer + "oauth/revoke"),
            "end_session_endpoint": .string(issuer + "oidc/logout"),
            "scopes_supported": strings(OpenIDScope.allCases.map(\.rawValue)),
            "response_types_supported": strings(["code"]),
            "response_modes_supported": strings(["query", "form_post"]),
            "grant_types_supported": strings(GrantType.served.map(\.rawValue)),
            "code_challenge_methods_supported": strings(["S256"]),
            "token_endpoint_auth_methods_supported": strings(["client_secret_basic", "client_secret_post", "none"]),
            "revocation_endpoint_auth_methods_supported": strings(["client_secret_basic", "client_secret_post", "none"]),
            "id_token_signing_alg_values_supported": strings(["RS256"]),
            "subject_types_supported": strings(["public"]),
            "prompt_values_supported": strings(["none", "login"]),
            "claims_supported": strings([
                "aud", "auth_time", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name",
                "nickname", "nonce", "picture", "sid", "sub", "updated_at",
            ]),
            "request_uri_parameter_supported": .bool(false),
        ])
    }

    /// Token requests come as a form (RFC 6749) or, as Auth0 also accepts, as JSON.
    static func parameters(_ request: Request) async throws -> RequestParameters {
        if BodyReader.isForm(request) {
            return try await BodyReader.form(request)
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if contentType.hasPrefix("application/json") {
            guard case .object(let object) = try await BodyReader.json(request) else {
                throw OAuthError.invalidRequest("The request body must be a JSON object")
            }
            var pairs: [(name: String, value: String)] = []
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                switch value {
                case .string(let text): pairs.append((key, text))
                case .null: continue
                default: throw OAuthError.invalidRequest("Parameter \(key) must be a string")
                }
            }
            return RequestParameters(pairs)
        }
        throw OAuthError.invalidRequest("Content-Type must be application/x-www-form-urlencoded or application/json")
    }

    /// `client_secret_basic` or `client_secret_post`, never both.
    static func clientCredentials(_ request: Request, _ parameters: RequestParameters) throws -> (id: String, secret: String?) {
        if let basic = try request.basicCredentials {
            guard parameters["client_secret"] == nil else {
                throw OAuthError.invalidRequest("Use one client authentication method, not both")
            }
            return (basic.id, basic.secret)
        }
        guard let id = parameters["client_id"], !id.isEmpty else {
            throw OAuthError.invalidRequest("Missing required parameter: client_id")
        }
        return (id, parameters["client_secret"])
    }
}

/// CORS for browser calls to the token and revocation endpoints: an origin is allowed when an application
/// lists it in its Allowed Web Origins or Allowed Origins, as Auth0 does.
public struct WebOriginCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let clients: Clients

    public init(clients: Clients) {
        self.clients = clients
    }

    public func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let allowed = try await clients.list().contains { $0.webOrigins.contains(origin) || $0.allowedOrigins.contains(origin) }
        if request.method == .options {
            guard allowed else { return Response(status: .forbidden) }
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: origin, .accessControlAllowMethods: "GET, POST, OPTIONS",
                .accessControlAllowHeaders: "Content-Type, Authorization, Auth0-Client", .accessControlMaxAge: "600",
                .vary: "Origin",
            ])
        }
        var response = try await next(request, context)
        if allowed {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.vary] = "Origin"
        }
        return response
    }
}
