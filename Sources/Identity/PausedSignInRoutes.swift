import Foundation
import HTTPTypes
import Hummingbird
import IdentityManagement
import TesseraCore
import TesseraHTTP
import TesseraTokens

/// The two places a paused sign-in resumes: `/continue`, where a redirect Action's site sends the browser back, and
/// the hosted second-factor page `/u/mfa` (enrol an authenticator app, or give a code, or a recovery code).
extension SignInRoutes {
    // MARK: /continue

    func continueSignIn(_ request: Request, ip: String) async throws -> Response {
        let query: RequestParameters
        var body = RequestParameters()
        do {
            query = try request.query
            if request.method == .post { body = try await BodyReader.form(request, limit: 16 * 1024) }
        } catch let error as DomainError {
            return pages.error("Invalid request", error.message, status: OAuthTokenErrors.status(for: error.kind))
        }
        guard let state = query["state"] ?? body["state"], !state.isEmpty else {
            return pages.error("Invalid request", "The state parameter is missing: send the browser back to /continue with the state it was given.")
        }
        guard let session = try await currentSession(request) else {
            // A site posting back across origins gets no SameSite=Lax session cookie: post the same fields again from
            // this origin, where the browser sends it. Once only, so a browser without a session gets the error page.
            if request.method == .post, body[Self.resubmitted] == nil {
                let fields = (query.pairs + body.pairs).map { ["name": $0.name, "value": $0.value] } + [["name": Self.resubmitted, "value": "1"]]
                return pages.render("form_post", ["action": "/continue", "fields": fields], allowInlineScript: true)
            }
            return Self.expired(pages)
        }
        let continuation = PostLoginContinuation(state: state, method: request.method == .post ? "POST" : "GET",
                                                 query: query.firstValues, body: body.removing([Self.resubmitted]).firstValues)
        guard let (authorization, outcome) = try await signIn.resume(continuation, session: session, ip: ip,
                                                                     userAgent: request.headers[.userAgent],
                                                                     rememberedBrowser: request.cookie(Self.rememberCookie))
        else { return Self.expired(pages) }
        return try await finish(authorization, session: session, viaForm: request.method == .post) { outcome }
    }

    static let resubmitted = "tessera_resubmitted"

    static func expired(_ pages: Pages) -> Response {
        pages.error("This sign-in link has expired",
                    "The sign-in it belongs to was already completed, is more than ten minutes old, or was started in another browser. Go back to the application and sign in again.")
    }

    // MARK: /u/mfa

    func showMultifactor(_ request: Request) async throws -> Response {
        guard let state = (try? request.query)?["state"], let found = try await pausedMultifactor(state: state, request: request, csrf: nil)
        else { return Self.expired(pages) }
        return try await multifactorPage(found.paused, state: state, csrf: found.csrf, session: found.session, error: nil)
    }

    func submitMultifactor(_ request: Request, ip: String) async throws -> Response {
        let fields: RequestParameters
        do {
            fields = try await BodyReader.form(request, limit: 16 * 1024)
        } catch let error as DomainError {
            return pages.error("Invalid form", error.message, status: error.kind == .payloadTooLarge ? .contentTooLarge : .badRequest)
        }
        guard let state = fields["state"], let csrf = fields["csrf"], !csrf.isEmpty,
              let found = try await pausedMultifactor(state: state, request: request, csrf: csrf)
        else {
            return pages.error("This form has expired",
                               "The form was not sent by this browser or is too old. Go back to the application and sign in again.",
                               status: .forbidden)
        }
        let (paused, session) = (found.paused, found.session)
        if fields["step"] == "done" {
            guard paused.resume == PausedSignIns.verified else {
                return try await multifactorPage(paused, state: state, csrf: csrf, session: session, error: "Enter a code first.", status: .badRequest)
            }
            return try await completeMultifactor(state: state, session: session)
        }
        switch try await signIn.verifySecondFactor(userID: session.userID, code: fields["code"], recoveryCode: fields["recovery_code"]) {
        case .accepted:
            return try await completeMultifactor(state: state, session: session)
        case .acceptedWithNewRecoveryCode(let recoveryCode):
            return try await showRecoveryCode(recoveryCode, paused: paused, state: state, csrf: csrf)
        case .wrong:
            return try await multifactorPage(paused, state: state, csrf: csrf, session: session, error: "Wrong code. Try again.",
                                             status: .unauthorized)
        case .throttled:
            return try await multifactorPage(paused, state: state, csrf: csrf, session: session,
                                             error: "Too many attempts. Try again in 15 minutes.", status: .tooManyRequests)
        }
    }

    private func pausedMultifactor(state: String, request: Request, csrf: String?) async throws
        -> (paused: PausedSignIn, session: Session, csrf: String)?
    {
        guard let cookie = request.cookie(Self.multifactorCookie), csrf == nil || csrf == cookie,
              let session = try await currentSession(request),
              let paused = try await signIn.pausedSignIns.find(state, kind: .multifactor, session: session, csrf: cookie)
        else { return nil }
        return (paused, session, cookie)
    }

    private func multifactorPage(_ paused: PausedSignIn, state: String, csrf: String, session: Session, error: String?,
                                 status: HTTPResponse.Status = .ok) async throws -> Response {
        var values: [String: Any] = ["applicationName": await applicationName(paused), "state": state, "csrf": csrf]
        if let error { values["error"] = error }
        if let secret = try await signIn.tenant.authenticationMethods.pendingTOTPSecret(userID: session.userID) {
            let user = try await signIn.tenant.users.get(session.userID)
            // Shown in groups of four, as authenticator apps accept it typed; the otpauth link carries it whole.
            let key = Base32.encode(secret)
            let grouped = stride(from: 0, to: key.count, by: 4).map { offset in
                String(key.dropFirst(offset).prefix(4))
            }.joined(separator: " ")
            values["enroll"] = ["secret": grouped, "uri": Self.otpauthURI(secret: secret, issuer: tokens.issuer, account: user.email ?? user.userID)]
        } else {
            values["challenge"] = true
        }
        return pages.render("mfa", values, status: status, formTargets: [Self.origin(of: paused.request.redirectURI)])
    }

    private func showRecoveryCode(_ code: String, paused: PausedSignIn, state: String, csrf: String) async throws -> Response {
        try await signIn.pausedSignIns.markVerified(state)
        return pages.render("mfa", ["applicationName": await applicationName(paused), "state": state, "csrf": csrf, "recoveryCode": code],
                            formTargets: [Self.origin(of: paused.request.redirectURI)])
    }

    private func applicationName(_ paused: PausedSignIn) async -> String {
        (try? await signIn.tenant.clients.get(paused.request.clientID))?.name ?? "your application"
    }

    private func completeMultifactor(state: String, session: Session) async throws -> Response {
        guard let paused = try await signIn.pausedSignIns.take(state, kind: .multifactor, session: session) else { return Self.expired(pages) }
        let code = try await signIn.completeMultifactor(paused, session: session)
        var response = try await finish(paused.request, session: session, viaForm: true) { .success(.code(code)) }
        if paused.result.multifactor?.allowRememberBrowser == true {
            let secret = try await signIn.browsers.remember(userID: session.userID)
            response.setCookie(Cookie(name: Self.rememberCookie, value: secret, maxAge: Int(RememberedBrowsers.lifetime), path: "/",
                                      secure: secureCookies, httpOnly: true, sameSite: .lax))
        }
        response.setCookie(Cookie(name: Self.multifactorCookie, value: "", maxAge: 0, path: "/u/", secure: secureCookies,
                                  httpOnly: true, sameSite: .lax))
        return response
    }

    /// The key as authenticator apps scan it (Google's Key Uri Format), labelled with the issuer's host and the account.
    static func otpauthURI(secret: [UInt8], issuer: String, account: String) -> String {
        let label = URL(string: issuer)?.host ?? "Tessera"
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        components.path = "/\(label):\(account)"
        components.queryItems = [URLQueryItem(name: "secret", value: Base32.encode(secret)), URLQueryItem(name: "issuer", value: label),
                                 URLQueryItem(name: "algorithm", value: "SHA1"), URLQueryItem(name: "digits", value: "6"),
                                 URLQueryItem(name: "period", value: "30")]
        return components.string ?? "otpauth://totp/\(label)?secret=\(Base32.encode(secret))"
    }
}
