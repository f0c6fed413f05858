import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraCore
import TesseraHTTP

/// Everything one console request needs: who is signed in, their form, and clients for each public API.
struct ConsoleCall: Sendable {
    let session: ConsoleSession
    /// The Management API (and Actions) with the person's own token.
    let management: PublicAPI
    let console: Console
    let query: RequestParameters
    let form: RequestParameters
    let files: [MultipartPart]
    /// This page (GET) or the page the form came from (POST): where a fresh sign-in returns.
    let back: String
    let context: TesseraRequestContext

    func parameter(_ name: String) throws -> String { try context.pathParameter(name) }

    /// A form's field, refused with a clear message when it is missing or blank.
    func required(_ name: String, _ label: String) throws -> String {
        guard let value = form[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw DomainError(.invalidInput, code: "missing_field", "\(label) is required")
        }
        return value
    }
}

/// `/console/`: server-rendered pages over Tessera's public APIs, signed in through Tessera's own hosted login.
public struct Console: Sendable {
    let settings: ConsoleSettings
    let backend: any ConsoleBackend
    let address: LoopbackAddress
    let admins = AdminCheck()
    let assets: ConsoleAssets
    let clock: @Sendable () -> Date

    public init(settings: ConsoleSettings, backend: any ConsoleBackend, address: LoopbackAddress,
                clock: @escaping @Sendable () -> Date = Date.init) throws {
        self.settings = settings
        self.backend = backend
        self.address = address
        self.assets = try ConsoleAssets(codeMirror: settings.codeMirrorDirectory)
        self.clock = clock
    }

    public func addRoutes(to router: Router<TesseraRequestContext>) {
        router.get("console") { request, context in try await home(request, context) }
        router.get("console/assets/:file") { _, context in assets.serve(try context.pathParameter("file")) }
        router.get("console/login") { request, _ in try await login(request) }
        router.get("console/callback") { request, _ in try await callback(request) }
        router.post("console/logout") { request, context in try await logout(request, context) }
        IdentityPages(console: self).addRoutes(to: router)
        ActionPages(console: self).addRoutes(to: router)
        AnalyticsPages(console: self).addRoutes(to: router)
        GraphQLPages(console: self).addRoutes(to: router)
        DirectoryPages(console: self).addRoutes(to: router)
    }

    func home(_ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        // `/console` and `/console/` reach here alike.
        guard let session = session(request) else { return redirectToLogin(from: "/console/") }
        return try await respond(request, session: session, context: context) { call in .page(try await HomePage.render(call)) }
    }

    // MARK: Signing in

    func login(_ request: Request) async throws -> Response {
        guard let clientID = try await backend.consoleClientID() else {
            return refusal("The console is not set up", "The application named “\(ConsoleSettings.applicationName)” is missing. Restart Tessera to create it again.", status: .serviceUnavailable)
        }
        let attempt = LoginAttempt.start(returnTo: (try? request.query["return_to"]) ?? "/console/")
        let query = RequestParameters([
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", settings.redirectURI),
            ("scope", (["openid", "profile", "email"] + settings.scopes).joined(separator: " ")),
            ("audience", settings.managementAudience), ("state", attempt.state),
            ("code_challenge", attempt.challenge), ("code_challenge_method", "S256"),
        ])
        var response = Response(status: .seeOther, headers: [.location: "/authorize?" + query.urlEncoded, .cacheControl: "no-store"])
        response.setCookie(cookie(LoginAttempt.cookie, attempt.cookieValue, maxAge: 600, sameSite: .lax))
        return response
    }

    func callback(_ request: Request) async throws -> Response {
        let query = (try? request.query) ?? RequestParameters()
        guard let attempt = request.cookie(LoginAttempt.cookie).flatMap(LoginAttempt.init(cookie:)),
              let state = query["state"], state == attempt.state
        else {
            return refusal("Sign-in expired", "This sign-in did not start here or took too long. Open the console again.", status: .badRequest)
        }
        if let error = query["error"] {
            return refusal("Sign-in refused", query["error_description"] ?? error, status: .forbidden)
        }
        guard let code = query["code"], let clientID = try await backend.consoleClientID() else {
            return refusal("Sign-in failed", "The hosted login returned no authorization code.", status: .badRequest)
        }
        let tokenEndpoint = PublicAPI(address: address, credentials: [])
        let answer = try await tokenEndpoint.send(.POST, "/oauth/token", body: Array(RequestParameters([
            ("grant_type", "authorization_code"), ("client_id", clientID), ("code", code),
            ("redirect_uri", settings.redirectURI), ("code_verifier", attempt.verifier),
        ]).urlEncoded.utf8), contentType: "application/x-www-form-urlencoded")
        guard answer.ok, let token = answer.json?["access_token"]?.stringValue,
              let session = ConsoleSession(token: token, now: clock())
        else {
            return refusal("Sign-in failed", "The token endpoint refused the code: \(answer.problem)", status: .badGateway)
        }
        // Browsers drop a cookie over 4 KB without a word, which would send the person round the sign-in for ever.
        guard token.utf8.count <= ConsoleSession.maximumCookieBytes else {
            return refusal("Sign-in failed", """
                The console's access token is \(token.utf8.count) bytes, more than a browser keeps in a cookie. \
                A post-login Action adds large claims to Management API tokens: have it skip them for the \(ConsoleSettings.applicationName) application.
                """, status: .badRequest)
        }
        guard (try? await isAdmin(session)) == true else {
            var response = notAdmin()
            response.setCookie(expired(LoginAttempt.cookie))
            return response
        }
        var response = Response(status: .seeOther, headers: [.location: attempt.returnTo, .cacheControl: "no-store"])
        response.setCookie(expired(LoginAttempt.cookie))
        response.setCookie(cookie(ConsoleSession.cookie, token, maxAge: Int(session.expires.timeIntervalSince(clock())), sameSite: .strict))
        return response
    }

    func logout(_ request: Request, _ context: TesseraRequestContext) async throws -> Response {
        let form = (try? await BodyReader.form(request)) ?? RequestParameters()
        if let session = session(request), !session.acceptsCSRF(form["csrf"]) { return forbiddenChange() }
        var query: [(String, String)] = [("returnTo", settings.issuer + "console/")]
        if let clientID = try await backend.consoleClientID() { query.append(("client_id", clientID)) }
        var response = Response(status: .seeOther, headers: [
            .location: "/v2/logout?" + RequestParameters(query.map { (name: $0.0, value: $0.1) }).urlEncoded, .cacheControl: "no-store",
        ])
        response.setCookie(expired(ConsoleSession.cookie))
        return response
    }

    // MARK: Serving pages

    func session(_ request: Request) -> ConsoleSession? {
        request.cookie(ConsoleSession.cookie).flatMap { ConsoleSession(token: $0, now: clock()) }
    }

    /// The Management API (and Actions) as the signed-in person.
    func management(_ session: ConsoleSession) -> PublicAPI {
        PublicAPI(address: address, credentials: [("Authorization", "Bearer " + session.accessToken)], isSession: true)
    }

    /// Holds the admin role and is not blocked, asked with the person's own token.
    func isAdmin(_ session: ConsoleSession) async throws -> Bool {
        let api = management(session)
        let user = "/api/v2/users/\(segment(session.subject))"
        return try await admins.isAdmin(session, now: clock()) {
            async let roles = api.get(user + "/roles")
            async let profile = api.get(user)
            let (held, user) = try await (roles, profile)
            let admin = held.arrayValue?.contains { $0["name"]?.stringValue == ConsoleSettings.adminRole } ?? false
            return admin && user["blocked"]?.boolValue != true
        }
    }

    /// For the frames and the progress poll, which answer without a page: any doubt is a no.
    func isSignedInAdmin(_ request: Request) async -> Bool {
        guard let session = session(request) else { return false }
        return (try? await isAdmin(session)) ?? false
    }

    /// A GET page: signed in and admin, or sent to sign in (returning here) or refused.
    func page(_ router: Router<TesseraRequestContext>, _ path: RouterPath,
              _ render: @escaping @Sendable (ConsoleCall) async throws -> Page) {
        router.get(path) { request, context in
            guard let session = session(request) else { return redirectToLogin(from: request.uri.description) }
            return try await respond(request, session: session, context: context) { call in .page(try await render(call)) }
        }
    }

    /// A change: signed in, admin, same-origin, carrying the session's CSRF token.
    func change(_ router: Router<TesseraRequestContext>, _ path: RouterPath, bodyLimit: Int = 1 << 20,
                _ handle: @escaping @Sendable (ConsoleCall) async throws -> Outcome) {
        router.post(path) { request, context in
            if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
                return forbiddenChange()
            }
            // Without a session only a small form is read, for the page to return to after signing in again.
            let session = session(request)
            var files: [MultipartPart] = []
            var form = RequestParameters()
            do {
                if let parts = try await BodyReader.multipart(request, limit: session == nil ? BodyReader.defaultLimit : bodyLimit) {
                    form = RequestParameters(parts.filter { $0.filename == nil }.map { (name: $0.name, value: $0.text) })
                    files = parts.filter { $0.filename != nil }
                } else {
                    form = try await BodyReader.form(request, limit: session == nil ? BodyReader.defaultLimit : bodyLimit)
                }
            } catch let error as DomainError {
                guard let session else { return redirectToLogin(from: "/console/") }
                return problem("That was not sent whole", error.message, back: "/console/", session: session,
                               status: error.kind == .payloadTooLarge ? .contentTooLarge : .badRequest)
            }
            // Browsers send a text area's line breaks as CR LF; the APIs read code, SQL and lists line by line.
            form = RequestParameters(form.pairs.map { (name: $0.name, value: $0.value.replacingOccurrences(of: "\r\n", with: "\n")) })
            let back = LoginAttempt.safeReturn(form["back"] ?? "/console/")
            guard let session else { return redirectToLogin(from: back) }
            guard session.acceptsCSRF(form["csrf"]) else { return forbiddenChange() }
            return try await respond(request, session: session, context: context, form: form, files: files, back: back, handle)
        }
    }

    /// A "Delete" button's route: the Management API's DELETE on the path's id, then back to the section's list.
    func deletion(_ router: Router<TesseraRequestContext>, _ path: RouterPath, list: String,
                  api: @escaping @Sendable (String) -> String) {
        change(router, path) { call in
            try await call.management.call(.DELETE, api(segment(try call.parameter("id"))))
            return .redirect(list, notice: .deleted)
        }
    }

    private func respond(_ request: Request, session: ConsoleSession, context: TesseraRequestContext,
                         form: RequestParameters = .init(), files: [MultipartPart] = [], back: String? = nil,
                         _ handle: @Sendable (ConsoleCall) async throws -> Outcome) async throws -> Response {
        let here = back ?? request.uri.description
        do {
            guard try await isAdmin(session) else { return notAdmin() }
            let call = ConsoleCall(
                session: session, management: management(session),
                console: self, query: try request.query, form: form, files: files, back: here,
                context: context)
            switch try await handle(call) {
            case .page(let page):
                return Layout.response(page, session: session, notice: (try? request.query["notice"]).flatMap(Notice.init(rawValue:)))
            case .redirect(let path, let notice):
                let target = notice.map { Self.adding($0, to: path) } ?? path
                return Response(status: .seeOther, headers: [.location: target, .cacheControl: "no-store"])
            }
        } catch let failure as APIFailure where failure.expiredSession {
            return redirectToLogin(from: here)
        } catch let failure as APIFailure {
            // A client mistake keeps its status; a refused server credential (a directory key deleted elsewhere) is the
            // server's problem, not a sign-in to do again.
            let code = failure.response.status
            let serverCredential = !failure.bySession && (code == 401 || code == 403)
            let status: HTTPResponse.Status = (400..<500).contains(code) && !serverCredential ? .init(code: code) : .badGateway
            return problem("The API refused", failure.message, back: here, session: session, status: status)
        } catch let error as DomainError {
            return problem("That did not work", error.message, back: here, session: session, status: StandardErrorStatus.status(for: error.kind))
        }
    }

    /// `path?notice=saved`, kept before a `#fragment`.
    static func adding(_ notice: Notice, to path: String) -> String {
        let parts = path.split(separator: "#", maxSplits: 1)
        let base = String(parts[0])
        return base + (base.contains("?") ? "&" : "?") + "notice=" + notice.rawValue + (parts.count > 1 ? "#" + parts[1] : "")
    }

    // MARK: Answers

    func redirectToLogin(from path: String) -> Response {
        let query = RequestParameters([("return_to", LoginAttempt.safeReturn(path))])
        return Response(status: .seeOther, headers: [.location: "/console/login?" + query.urlEncoded, .cacheControl: "no-store"])
    }

    func notAdmin() -> Response {
        refusal("Not a console administrator", """
            This account does not hold the \(ConsoleSettings.adminRole) role, which the console requires. \
            An administrator can grant it with: tessera console grant <email>
            """, status: .forbidden)
    }

    func forbiddenChange() -> Response {
        refusal("Change refused", "This change did not come from a console page (its form token is missing or wrong). Reload the page and try again.",
                status: .forbidden)
    }

    func refusal(_ title: String, _ message: String, status: HTTPResponse.Status) -> Response {
        let body: HTML = "<p class=\"error\" role=\"alert\">\(message)</p><p><a href=\"/console/\">Open the console</a></p>"
        return Layout.response(Page(title: title, section: .home, body: body, status: status), session: nil)
    }

    func problem(_ title: String, _ message: String, back: String, session: ConsoleSession, status: HTTPResponse.Status) -> Response {
        let body: HTML = "<p class=\"error\" role=\"alert\">\(message)</p><p><a href=\"\(back)\">Back</a></p>"
        return Layout.response(Page(title: title, section: .home, body: body, status: status), session: session)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, sameSite: Cookie.SameSite) -> Cookie {
        Cookie(name: name, value: value, maxAge: max(0, maxAge), path: "/console", secure: settings.secureCookies, httpOnly: true, sameSite: sameSite)
    }

    func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/console", secure: settings.secureCookies, httpOnly: true, sameSite: .lax)
    }
}
