import Foundation
import HTTPTypes
import Hummingbird
import IdentityManagement
import TesseraCore
import TesseraStore
import TesseraHTTP
import TesseraTokens

/// `/authorize`, the hosted login and signup pages, `/userinfo`, logout and revocation.
public struct SignInRoutes: Sendable {
    let signIn: SignInService
    let validator: AuthorizeValidator
    let pages: Pages
    let tokens: TokenService
    let secureCookies: Bool

    static let sessionCookie = "tessera_session"
    /// The second-factor form's CSRF token, for the one paused sign-in this browser is at.
    static let multifactorCookie = "tessera_mfa"
    /// A browser the user let skip the second factor (`allowRememberBrowser`).
    static let rememberCookie = "tessera_mfa_remember"

    public init(signIn: SignInService, tokens: TokenService, pages: Pages) {
        self.signIn = signIn
        self.validator = AuthorizeValidator(tenant: signIn.tenant)
        self.pages = pages
        self.tokens = tokens
        self.secureCookies = tokens.issuer.hasPrefix("https://")
    }

    public func addRoutes<Context: ClientAddressRequestContext>(to router: Router<Context>) {
        let routes = self
        router.get("authorize") { request, context in try await routes.authorize(request, ip: Self.ip(context)) }
        router.get("u/login") { request, _ in try await routes.showForm(request, signup: false) }
        router.get("u/signup") { request, _ in try await routes.showForm(request, signup: true) }
        router.post("u/login") { request, context in try await routes.submitForm(request, ip: Self.ip(context), signup: false) }
        router.post("u/signup") { request, context in try await routes.submitForm(request, ip: Self.ip(context), signup: true) }
        router.get("continue") { request, context in try await routes.continueSignIn(request, ip: Self.ip(context)) }
        router.post("continue") { request, context in try await routes.continueSignIn(request, ip: Self.ip(context)) }
        router.get("u/mfa") { request, _ in try await routes.showMultifactor(request) }
        router.post("u/mfa") { request, context in try await routes.submitMultifactor(request, ip: Self.ip(context)) }
        router.get("v2/logout") { request, _ in try await routes.logout(request, openID: false) }
        router.get("oidc/logout") { request, _ in try await routes.logout(request, openID: true) }
        let userinfo = router.group("userinfo").add(middleware: ErrorEnvelopeMiddleware<BearerTokenErrors, Context>())
            .add(middleware: WebOriginCORSMiddleware<Context>(clients: signIn.tenant.clients))
        userinfo.on("", method: .options) { _, _ in Response(status: .noContent) }
        userinfo.get { request, _ in try await routes.userinfo(request) }
        userinfo.post { request, _ in try await routes.userinfo(request) }
    }

    static func ip(_ context: some ClientAddressRequestContext) -> String {
        context.clientIP
    }

    // MARK: /authorize

    func authorize(_ request: Request, ip: String) async throws -> Response {
        let query: RequestParameters
        do throws(DomainError) { query = try request.query } catch {
            return pages.error("Invalid request", error.message, status: OAuthTokenErrors.status(for: error.kind))
        }
        switch try await validator.validate(query) {
        case .errorPage(let title, let message):
            return pages.error(title, message)
        case .redirect(let target, let mode, let state, let error):
            return respond(to: target, mode: mode, fields: Self.errorFields(error, state: state))
        case .valid(let authorization, _):
            let session = try await currentSession(request)
            let fresh = session.map { session in
                authorization.maxAge.map { Int(signIn.clock.now().timeIntervalSince1970) - session.authTime <= $0 } ?? true
            } ?? false
            if let session, fresh, authorization.prompt != "login" {
                return try await complete(authorization, session: session, ip: ip, request: request)
            }
            if authorization.prompt == "none" {
                return respond(to: authorization.redirectURI, mode: authorization.responseMode, fields: Self.errorFields(
                    OAuthError(.loginRequired, "Login required"), state: authorization.state))
            }
            let (id, csrf) = try await signIn.transactions.create(authorization)
            let page = authorization.screenHint == "signup" ? "/u/signup" : "/u/login"
            var response = Response(status: .found, headers: [.location: "\(page)?state=\(id)", .cacheControl: "no-store"])
            response.setCookie(Cookie(name: Self.transactionCookie(id), value: csrf, maxAge: 3600, path: "/u/",
                                      secure: secureCookies, httpOnly: true, sameSite: .lax))
            return response
        }
    }

    static func transactionCookie(_ id: String) -> String { "tessera_tx_\(id)" }

    func currentSession(_ request: Request) async throws -> Session? {
        guard let cookie = request.cookie(Self.sessionCookie) else { return nil }
        guard let session = try await signIn.sessions.find(cookie: cookie) else { return nil }
        guard let user = try? await signIn.tenant.users.get(session.userID), !user.blocked else { return nil }
        return session
    }

    /// Ends a successful authorization: a code back to the application, the browser sent where an Action asked or to
    /// the second-factor page, or `access_denied` if an Action said no.
    func complete(_ authorization: AuthorizationRequest, session: Session, ip: String, request: Request) async throws -> Response {
        try await finish(authorization, session: session, viaForm: request.method == .post) {
            .success(try await signIn.proceed(with: authorization, session: session, ip: ip, userAgent: request.headers[.userAgent],
                                              rememberedBrowser: request.cookie(Self.rememberCookie)))
        }
    }

    /// Turns where a sign-in goes next into the response that sends the browser there.
    /// After a form was posted, a browser sent to another site goes by a page that moves on at once rather than by a
    /// 302: the form page's CSP `form-action` (which browsers apply to redirects too) names only this server and the
    /// application, not a site an Action picks at sign-in.
    /// A sign-in that batches its writes (`batch`) has them committed by the step that ends it; a denial commits them
    /// here, before the session it may revoke is touched.
    func finish(_ authorization: AuthorizationRequest, session: Session, viaForm: Bool, batch: WriteBatch? = nil,
                _ step: () async throws -> Result<SignInStep, PostLoginDenied>) async throws -> Response {
        let outcome: Result<SignInStep, PostLoginDenied>
        do { outcome = try await step() } catch let denied as PostLoginDenied { outcome = .failure(denied) }
        if let batch { try await signIn.store.commit(batch) }
        switch outcome {
        case .failure(let denied):
            if denied.revokesSession {
                try await signIn.sessions.revoke(id: session.id)
                try await signIn.refreshTokens.revokeSession(session.id)
            }
            return respond(to: authorization.redirectURI, mode: authorization.responseMode,
                           fields: Self.errorFields(.accessDenied(denied.description), state: authorization.state))
        case .success(.code(let code)):
            var fields = [("code", code)]
            if let state = authorization.state { fields.append(("state", state)) }
            return respond(to: authorization.redirectURI, mode: authorization.responseMode, fields: fields)
        case .success(.redirect(let location)):
            guard viaForm else { return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"]) }
            return pages.render("redirect", ["location": location, "host": URL(string: location)?.host ?? location])
        case .success(.multifactor(let state, let csrf)):
            if authorization.prompt == "none" {
                return respond(to: authorization.redirectURI, mode: authorization.responseMode, fields: Self.errorFields(
                    OAuthError(.interactionRequired, "Multifactor authentication required"), state: authorization.state))
            }
            var response = Response(status: .found, headers: [.location: "/u/mfa?state=\(state)", .cacheControl: "no-store"])
            response.setCookie(Cookie(name: Self.multifactorCookie, value: csrf, maxAge: 600, path: "/u/",
                                      secure: secureCookies, httpOnly: true, sameSite: .lax))
            return response
        }
    }

    static func errorFields(_ error: OAuthError, state: String?) -> [(String, String)] {
        var fields = [("error", error.code.rawValue), ("error_description", error.description)]
        if let state { fields.append(("state", state)) }
        return fields
    }

    /// Sends fields to a registered redirect URI, in the query (302) or as an auto-submitting form (`form_post`).
    func respond(to target: String, mode: String, fields: [(String, String)]) -> Response {
        if mode == "form_post" {
            return pages.render("form_post", [
                "action": target, "fields": fields.map { ["name": $0.0, "value": $0.1] },
            ], formTargets: [Self.origin(of: target)], allowInlineScript: true)
        }
        var components = URLComponents(string: target) ?? URLComponents()
        components.queryItems = (components.queryItems ?? []) + fields.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` is literal in URLComponents' encoding but a space to form decoders: encode it.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return Response(status: .found, headers: [.location: components.string ?? target, .cacheControl: "no-store"])
    }

    static func origin(of url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return "'self'" }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }

    // MARK: hosted pages

    func showForm(_ request: Request, signup: Bool) async throws -> Response {
        guard let id = (try? request.query)?["state"],
              let csrf = request.cookie(Self.transactionCookie(id)),
              let authorization = try await signIn.transactions.find(id, csrf: csrf)
        else {
            return pages.error("This sign-in link has expired",
                               "Go back to the application and sign in again. (Cookies must be enabled for this site.)")
        }
        return try await form(authorization, id: id, csrf: csrf, signup: signup, email: authorization.loginHint, error: nil)
    }

    func form(_ authorization: AuthorizationRequest, id: String, csrf: String, signup: Bool, email: String?, error: String?,
              status: HTTPResponse.Status = .ok) async throws -> Response {
        let client = try? await signIn.tenant.clients.get(authorization.clientID)
        var values: [String: Any] = [
            "applicationName": client?.name ?? "your application", "state": id, "csrf": csrf, "email": email ?? "",
            "action": signup ? "/u/signup" : "/u/login",
            "loginURL": "/u/login?state=\(id)", "signupURL": "/u/signup?state=\(id)",
        ]
        if signup { values["signup"] = true }
        if let error { values["error"] = error }
        return pages.render("login", values, status: status, formTargets: [Self.origin(of: authorization.redirectURI)])
    }

    func submitForm(_ request: Request, ip: String, signup: Bool) async throws -> Response {
        let fields: RequestParameters
        do {
            fields = try await BodyReader.form(request, limit: 16 * 1024)
        } catch let error as DomainError where error.kind != .payloadTooLarge {
            return pages.error("Invalid form", error.message, status: .badRequest)
        } catch {
            return pages.error("Request too large", "The form was larger than this page accepts.", status: .contentTooLarge)
        }
        guard let id = fields["state"], let csrf = fields["csrf"], !csrf.isEmpty,
              request.cookie(Self.transactionCookie(id)) == csrf,
              let authorization = try await signIn.transactions.find(id, csrf: csrf)
        else {
            return pages.error("This form has expired",
                               "The sign-in form was not sent by this browser or is too old. Go back to the application and sign in again.",
                               status: .forbidden)
        }
        let email = (fields["email"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = fields["password"] ?? ""
        guard !email.isEmpty, !password.isEmpty else {
            return try await form(authorization, id: id, csrf: csrf, signup: signup, email: email,
                                  error: "Enter your email address and password.", status: .badRequest)
        }
        // The login, the session, the form's clean-up, the Actions' writes and the code (or the pause) commit once.
        let batch = WriteBatch()
        let user: User
        do {
            user = signup ? try await signIn.signUp(email: email, password: password, ip: ip, batch: batch)
                : try await signIn.authenticate(email: email, password: password, ip: ip, batch: batch)
        } catch let error as SignInError {
            let status: HTTPResponse.Status = switch error {
            case .wrongCredentials: .unauthorized
            case .blocked, .throttled: .forbidden
            case .signupFailed: .badRequest
            }
            return try await form(authorization, id: id, csrf: csrf, signup: signup, email: email, error: error.message, status: status)
        }
        let (session, secret) = await signIn.sessions.create(userID: user.userID, in: batch)
        await batch.add { db in try await LoginTransactions.delete(id, in: db) }
        var response = try await finish(authorization, session: session, viaForm: true, batch: batch) {
            .success(try await signIn.proceed(with: authorization, session: session, ip: ip, userAgent: request.headers[.userAgent],
                                              rememberedBrowser: request.cookie(Self.rememberCookie), user: user, batch: batch))
        }
        response.setCookie(Cookie(name: Self.sessionCookie, value: secret, maxAge: Int(Sessions.lifetime), path: "/",
                                  secure: secureCookies, httpOnly: true, sameSite: .lax))
        response.setCookie(Cookie(name: Self.transactionCookie(id), value: "", maxAge: 0, path: "/u/",
                                  secure: secureCookies, httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: logout

    func logout(_ request: Request, openID: Bool) async throws -> Response {
        let parameters: RequestParameters
        do throws(DomainError) { parameters = try request.query } catch {
            return pages.error("Invalid logout request", error.message, status: OAuthTokenErrors.status(for: error.kind))
        }
        var clientID = parameters["client_id"]
        if openID, let hint = parameters["id_token_hint"] {
            guard let claims = try? await tokens.verifyIDToken(hint) else {
                return pages.error("Invalid logout request", "id_token_hint is not an ID token this server issued.")
            }
            clientID = claims.audiences.first
        }
        let returnTo = openID ? parameters["post_logout_redirect_uri"] : parameters["returnTo"]
        var allowed: [String] = []
        if let clientID, let client = try? await signIn.tenant.clients.get(clientID) {
            allowed = client.allowedLogoutURLs
        }
        if let returnTo, !allowed.contains(returnTo) {
            return pages.error("Logout URL not allowed",
                               "\(returnTo) is not in the Allowed Logout URLs of this application.")
        }
        if let session = try await currentSession(request) {
            try await signIn.sessions.revoke(id: session.id)
            try await signIn.refreshTokens.revokeSession(session.id)
        }
        var response: Response
        if let returnTo {
            var target = returnTo
            if openID, let state = parameters["state"], var components = URLComponents(string: returnTo) {
                let items = components.queryItems ?? []
                components.queryItems = items + [URLQueryItem(name: "state", value: state)]
                target = components.string ?? returnTo
            }
            response = Response(status: .found, headers: [.location: target, .cacheControl: "no-store"])
        } else {
            response = pages.render("error", ["title": "You are signed out", "message": "You can close this window."])
        }
        response.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies,
                                  httpOnly: true, sameSite: .lax))
        return response
    }

    // MARK: userinfo

    func userinfo(_ request: Request) async throws -> Response {
        guard let token = request.bearerToken else {
            // RFC 6750 §3.1: a request without credentials is challenged, with invalid_request as the body's code.
            return BearerTokenErrors.response(.invalidRequest("Missing access token"), status: .unauthorized)
        }
        let claims: ClaimSet
        do {
            claims = try await tokens.verify(token, audience: tokens.issuer + "userinfo")
        } catch {
            throw OAuthError(.invalidToken, "The access token is invalid or expired")
        }
        guard let userID = claims.string("sub"), let user = try? await signIn.tenant.users.get(userID) else {
            throw OAuthError(.invalidToken, "The user no longer exists")
        }
        var body: [String: JSONValue] = ["sub": .string(user.userID)]
        for (key, value) in TokenMinter.profileClaims(user, scopes: claims.scopes) { body[key] = value }
        return JSONResponse.text(JSONValue.object(body).jsonText())
    }
}
