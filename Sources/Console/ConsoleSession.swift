import Crypto
import Foundation
import TesseraCore

/// A signed-in console user: the Management API access token Tessera's own hosted login issued them, kept in an
/// `HttpOnly`, `SameSite=Strict` cookie scoped to `/console`. Every API call carries it, so the API, not the console,
/// decides what the person may do; the console keeps no session table and any instance serves any page.
struct ConsoleSession: Sendable {
    static let cookie = "tessera_console"
    /// What every browser keeps of one cookie, name and attributes included, with room to spare.
    static let maximumCookieBytes = 3900
    let accessToken: String
    let subject: String
    let expires: Date

    /// The token's own claims, read without checking the signature: only to know whose it is and when it ends. The
    /// API checks the signature on every call, so a forged cookie gets no further than a refusal.
    init?(token: String, now: Date) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Data(base64URLEncoded: String(parts[1])),
              let claims = try? JSONValue.parse(bytes: Array(payload)),
              let subject = claims["sub"]?.stringValue, let exp = claims["exp"]?.numberValue
        else { return nil }
        let expires = Date(timeIntervalSince1970: exp)
        guard expires > now else { return nil }
        self.accessToken = token
        self.subject = subject
        self.expires = expires
    }

    /// The form token every change must carry: derived from the session's token, which another site cannot read, so a
    /// forged cross-site form cannot know it (synchronizer token without server state).
    var csrfToken: String {
        let digest = SHA256.hash(data: Data(("tessera-console-csrf\u{0}" + accessToken).utf8))
        return Data(digest).base64URLEncoded()
    }

    func acceptsCSRF(_ offered: String?) -> Bool {
        guard let offered else { return false }
        let expected = Array(csrfToken.utf8), given = Array(offered.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// What the console remembers between sending a person to the hosted login and their return: the `state` it sent,
/// the PKCE verifier, and the console page to go back to. Kept in a short-lived cookie, never in the URL.
struct LoginAttempt: Sendable {
    static let cookie = "tessera_console_login"
    let state: String
    let verifier: String
    let returnTo: String

    static func start(returnTo: String) -> LoginAttempt {
        LoginAttempt(state: RandomToken.base64URL(bytes: 16), verifier: RandomToken.base64URL(bytes: 32),
                     returnTo: safeReturn(returnTo))
    }

    var challenge: String { Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded() }

    var cookieValue: String { [state, verifier, Data(returnTo.utf8).base64URLEncoded()].joined(separator: ".") }

    init?(cookie: String) {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let path = Data(base64URLEncoded: parts[2]) else { return nil }
        self.init(state: parts[0], verifier: parts[1], returnTo: Self.safeReturn(String(decoding: path, as: UTF8.self)))
    }

    private init(state: String, verifier: String, returnTo: String) {
        self.state = state
        self.verifier = verifier
        self.returnTo = returnTo
    }

    /// Only a console page: anything else (another origin, `//host`, a backslash trick) returns to the console's home.
    static func safeReturn(_ path: String) -> String {
        guard path.hasPrefix("/console/"), !path.hasPrefix("//"), !path.contains("\\"), !path.contains("\r"), !path.contains("\n")
        else { return "/console/" }
        return path
    }
}

/// Who holds the admin role (and is not blocked), asked of the Management API with the person's own token and
/// remembered briefly, so that a role taken away or a block stops the console within `freshness`.
actor AdminCheck {
    static let freshness: TimeInterval = 30
    private var answers: [String: (admin: Bool, checked: Date)] = [:]

    func isAdmin(_ session: ConsoleSession, now: Date, ask: @Sendable () async throws -> Bool) async throws -> Bool {
        let key = session.csrfToken
        if let answer = answers[key], now.timeIntervalSince(answer.checked) < Self.freshness { return answer.admin }
        let admin: Bool
        do {
            admin = try await ask()
        } catch let failure as APIFailure where failure.response.status == 403 {
            admin = false  // a token without read:users cannot be an admin's
        }
        if answers.count > 10_000 { answers.removeAll() }
        answers[key] = (admin, now)
        return admin
    }
}
