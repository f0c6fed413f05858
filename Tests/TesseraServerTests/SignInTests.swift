import Crypto
import Foundation
import HTTPTypes
import IdentityManagement
import JWTKit
import Testing
import TesseraCore
import TesseraStore
@testable import Identity

/// A browser in miniature: keeps cookies between requests and follows the sign-in pages by hand.
final class Browser: @unchecked Sendable {
    let http: TestHTTP
    var cookies: [String: String] = [:]

    /// What it says it is, as every browser does.
    static let userAgent = "Mozilla/5.0 (X11; Linux x86_64) TesseraTests/1.0"

    init(_ http: TestHTTP) { self.http = http }

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ target: String, form: [String: String]? = nil) async throws -> TestResponse {
        // As a browser does, the fragment stays here.
        let uri = String(target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
        var headers: HTTPFields = [.userAgent: Self.userAgent]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let body = form.map { $0.map { "\($0.key)=\($0.value.pathEscaped)" }.joined(separator: "&") }
        let response = try await http.request(method, uri, body: body, contentType: form == nil ? nil : "application/x-www-form-urlencoded",
                                              headers: headers)
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies.removeValue(forKey: name) } else { cookies[name] = value }
        }
        return response
    }

    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

struct PKCEPair {
    let verifier = RandomToken.base64URL(bytes: 32)
    var challenge: String { Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded() }
}

extension URLComponents {
    func item(_ name: String) -> String? { queryItems?.first { $0.name == name }?.value }
}

@Suite struct SignInTests {
    static let callback = "https://app.test/callback"
    static let api = "https://api.signin.test/"
    static let password = "Correct-Horse-9"

    struct Setup {
        let spa: Client
        let user: User
    }

    static func setUp(_ harness: Harness, spaExtra: [String: JSONValue] = [:]) async throws -> Setup {
        let tenant = harness.tenant
        _ = try await tenant.resourceServers.create(.object([
            "identifier": .string(api), "allow_offline_access": .bool(true),
            "scopes": .array([.object(["value": .string("read:rows")])]),
        ]))
        var body: [String: JSONValue] = [
            "name": .string("Demo SPA"), "app_type": .string("spa"), "callbacks": .array([.string(callback)]),
            "web_origins": .array([.string("https://app.test")]),
            "allowed_logout_urls": .array([.string("https://app.test/bye")]),
        ]
        body.merge(spaExtra) { $1 }
        let spa = try await tenant.clients.create(.object(body))
        let user = try await tenant.users.create(newUserBody("ada@example.com", extra: [
            "password": .string(password), "name": .string("Ada"), "email_verified": .bool(true),
        ]))
        let role = try await tenant.roles.create(.object(["name": .string("reader")]))
        try await tenant.roles.addPermissions(role.id, .object(["permissions": .array([.object([
            "resource_server_identifier": .string(api), "permission_name": .string("read:rows"),
        ])])]))
        try await tenant.roles.assign(roleIDs: [role.id], toUser: user.userID)
        return Setup(spa: spa, user: user)
    }

    static func authorizeURL(_ clientID: String, pkce: PKCEPair?, extra: [String: String] = [:]) -> String {
        var parameters = [
            "response_type": "code", "client_id": clientID, "redirect_uri": callback,
            "scope": "openid profile email offline_access", "state": "st-1", "nonce": "n-0S6",
            "audience": api,
        ]
        if let pkce {
            parameters["code_challenge"] = pkce.challenge
            parameters["code_challenge_method"] = "S256"
        }
        parameters.merge(extra) { $1 }
        return "/authorize?" + parameters.compactMap { $0.value.isEmpty ? nil : "\($0.key)=\($0.value.pathEscaped)" }.joined(separator: "&")
    }

    /// Signs in through the hosted page and returns the redirect to the callback.
    static func signIn(_ browser: Browser, _ clientID: String, pkce: PKCEPair?, email: String = "ada@example.com",
                       password: String = password, extra: [String: String] = [:]) async throws -> TestResponse {
        let authorize = try await browser.request(.get, authorizeURL(clientID, pkce: pkce, extra: extra))
        guard authorize.status == .found, let login = authorize.headers[.location], login.hasPrefix("/u/") else { return authorize }
        let page = try await browser.request(.get, login)
        let state = try #require(Browser.hidden("state", in: page.text))
        let csrf = try #require(Browser.hidden("csrf", in: page.text))
        return try await browser.request(.post, login.hasPrefix("/u/signup") ? "/u/signup" : "/u/login",
                                         form: ["state": state, "csrf": csrf, "email": email, "password": password])
    }

    static func code(from response: TestResponse) throws -> String {
        let location = try #require(response.headers[.location], "\(response.status) \(response.text.prefix(300))")
        let components = try #require(URLComponents(string: location))
        #expect(location.hasPrefix(callback))
        #expect(components.item("state") == "st-1")
        return try #require(components.item("code"), "\(location)")
    }

    static func exchange(_ http: TestHTTP, clientID: String, code: String, verifier: String?) async throws -> TestResponse {
        var form = ["grant_type": "authorization_code", "client_id": clientID, "code": code, "redirect_uri": callback]
        if let verifier { form["code_verifier"] = verifier }
        return try await http.request(.post, "/oauth/token", body: form.map { "\($0.key)=\($0.value.pathEscaped)" }.joined(separator: "&"),
                                      contentType: "application/x-www-form-urlencoded")
    }

    @Test(arguments: StoreKind.available)
    func authorizationCodeWithPKCEEndToEnd(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        try await harness.test { http in
            let browser = Browser(http)
            let pkce = PKCEPair()
            let loginPage = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: pkce))
            #expect(loginPage.status == .found)
            let page = try await browser.request(.get, loginPage.headers[.location]!)
            #expect(page.status == .ok)
            #expect(page.text.contains("<label for=\"email\">") && page.text.contains("Demo SPA"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)

            let redirect = try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce)
            let code = try Self.code(from: redirect)
            let tokens = try await Self.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
            #expect(tokens.status == .ok, "\(tokens.text)")
            let idToken = try #require(tokens["id_token"]?.stringValue)
            let accessToken = try #require(tokens["access_token"]?.stringValue)
            let refreshToken = try #require(tokens["refresh_token"]?.stringValue)

            let jwks = try await http.request(.get, "/.well-known/jwks.json")
            let keys = try await JWTKeyCollection().add(jwksJSON: jwks.text)
            _ = try await keys.verify(idToken, as: ClaimSetForTests.self)
            let id = decodeJWTPart(idToken, 1)
            #expect(id["iss"] == .string(Harness.issuer))
            #expect(id["aud"] == .string(setup.spa.clientID))
            #expect(id["sub"] == .string(setup.user.userID))
            #expect(id["nonce"] == .string("n-0S6"))
            #expect(id["email"] == .string("ada@example.com") && id["email_verified"] == .bool(true))
            #expect(id["name"] == .string("Ada"))
            #expect(id["sid"]?.stringValue?.isEmpty == false && id["auth_time"] != nil)
            let fullHash = Data(SHA256.hash(data: Data(accessToken.utf8)))
            #expect(id["at_hash"] == .string(Data(fullHash.prefix(16)).base64URLEncoded()))

            let access = decodeJWTPart(accessToken, 1)
            #expect(access["aud"] == .array([.string(Self.api), .string(Harness.issuer + "userinfo")]))
            #expect(access["permissions"] == .array([.string("read:rows")]))
            #expect(access["scope"] == .string("openid profile email offline_access"))
            #expect(access["azp"] == .string(setup.spa.clientID))

            let userinfo = try await http.request(.get, "/userinfo", token: accessToken)
            #expect(userinfo["sub"] == .string(setup.user.userID))
            #expect(userinfo["email"] == .string("ada@example.com"))
            #expect(try await http.request(.post, "/userinfo", token: accessToken).status == .ok)
            #expect(try await http.request(.get, "/userinfo", token: "nope").status == .unauthorized)

            // Refresh rotates; the old token is refused once the grace period is over, and its family dies.
            func refresh(_ token: String) async throws -> TestResponse {
                try await http.request(.post, "/oauth/token", json: .object([
                    "grant_type": .string("refresh_token"), "client_id": .string(setup.spa.clientID),
                    "refresh_token": .string(token),
                ]))
            }
            let rotated = try await refresh(refreshToken)
            #expect(rotated.status == .ok)
            let next = try #require(rotated["refresh_token"]?.stringValue)
            #expect(next != refreshToken)
            #expect(try await refresh(refreshToken).status == .ok, "reuse within the grace period is tolerated")
            harness.clock.advance(seconds: 11)
            let reuse = try await refresh(refreshToken)
            #expect(reuse.status == .badRequest)
            #expect(reuse["error"] == .string("invalid_grant"))
            #expect(try await refresh(next).status == .badRequest, "the whole family is revoked")
        }
    }

    @Test(arguments: StoreKind.available)
    func codesAreSingleUseBoundAndShortLived(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        let other = try await harness.tenant.clients.create(.object([
            "name": .string("Other"), "app_type": .string("spa"), "callbacks": .array([.string(Self.callback)]),
        ]))
        try await harness.test { http in
            let pkce = PKCEPair()
            // Wrong verifier, then the right one: the code is spent by the first attempt.
            let code1 = try Self.code(from: try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            let wrong = try await Self.exchange(http, clientID: setup.spa.clientID, code: code1, verifier: PKCEPair().verifier)
            #expect(wrong["error"] == .string("invalid_grant"))
            #expect(try await Self.exchange(http, clientID: setup.spa.clientID, code: code1, verifier: pkce.verifier).status == .badRequest)

            let missing = try await Self.exchange(http, clientID: setup.spa.clientID,
                code: try Self.code(from: try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce)), verifier: nil)
            #expect(missing["error"] == .string("invalid_request"))

            // Replay: the second use fails and revokes the refresh token of the first.
            let code2 = try Self.code(from: try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            let first = try await Self.exchange(http, clientID: setup.spa.clientID, code: code2, verifier: pkce.verifier)
            let refresh = try #require(first["refresh_token"]?.stringValue)
            let replay = try await Self.exchange(http, clientID: setup.spa.clientID, code: code2, verifier: pkce.verifier)
            #expect(replay["error"] == .string("invalid_grant"))
            let afterReplay = try await http.request(.post, "/oauth/token", json: .object([
                "grant_type": .string("refresh_token"), "client_id": .string(setup.spa.clientID), "refresh_token": .string(refresh),
            ]))
            #expect(afterReplay["error"] == .string("invalid_grant"))

            // Another client cannot redeem it; an expired code is refused.
            let code3 = try Self.code(from: try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            #expect(try await Self.exchange(http, clientID: other.clientID, code: code3, verifier: pkce.verifier)["error"] == .string("invalid_grant"))
            let code4 = try Self.code(from: try await Self.signIn(Browser(http), setup.spa.clientID, pkce: pkce))
            harness.clock.advance(seconds: 601)
            #expect(try await Self.exchange(http, clientID: setup.spa.clientID, code: code4, verifier: pkce.verifier)["error"] == .string("invalid_grant"))
        }
    }

    @Test(arguments: StoreKind.available)
    func authorizeRefusesBadRequestsSafely(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        try await harness.test { http in
            // An unregistered redirect URI is never redirected to.
            let evil = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(),
                                                                      extra: ["redirect_uri": "https://evil.test/cb"]))
            #expect(evil.status == .badRequest)
            #expect(evil.headers[.location] == nil)
            #expect(evil.text.contains("Callback URL mismatch"))
            let unknown = try await http.request(.get, Self.authorizeURL("nobody", pkce: PKCEPair()))
            #expect(unknown.status == .badRequest && unknown.headers[.location] == nil)

            // Errors go back to a registered redirect URI in RFC 6749 form, with the state.
            let noPKCE = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: nil))
            let location = try #require(URLComponents(string: noPKCE.headers[.location] ?? ""))
            #expect(location.item("error") == "invalid_request")
            #expect(location.item("state") == "st-1")
            let plain = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: nil, extra: [
                "code_challenge": String(repeating: "a", count: 43), "code_challenge_method": "plain"]))
            #expect(URLComponents(string: plain.headers[.location] ?? "")?.item("error") == "invalid_request")
            let token = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["response_type": "token"]))
            #expect(URLComponents(string: token.headers[.location] ?? "")?.item("error") == "unsupported_response_type")
            let audience = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["audience": "https://nope/"]))
            #expect(URLComponents(string: audience.headers[.location] ?? "")?.item("error") == "access_denied")

            // prompt=none without a session: login_required. With one: a code, silently.
            let silent = try await http.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["prompt": "none"]))
            #expect(URLComponents(string: silent.headers[.location] ?? "")?.item("error") == "login_required")
            let browser = Browser(http)
            _ = try Self.code(from: try await Self.signIn(browser, setup.spa.clientID, pkce: PKCEPair()))
            let again = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["prompt": "none"]))
            _ = try Self.code(from: again)
            let forced = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["prompt": "login"]))
            #expect(forced.headers[.location]?.hasPrefix("/u/login") == true)

            // form_post answers with a self-submitting form instead of a redirect.
            let posted = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["response_mode": "form_post"]))
            #expect(posted.status == .ok)
            #expect(posted.text.contains("action=\"\(Self.callback)\"") && posted.text.contains("name=\"code\""))
        }
    }

    @Test(arguments: StoreKind.available)
    func loginFormDefendsItself(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        try await harness.test { http in
            let browser = Browser(http)
            let authorize = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair()))
            let login = try #require(authorize.headers[.location])
            let page = try await browser.request(.get, login)
            let state = try #require(Browser.hidden("state", in: page.text))
            let csrf = try #require(Browser.hidden("csrf", in: page.text))

            // No CSRF token, or a forged one: refused.
            let noCSRF = try await browser.request(.post, "/u/login", form: ["state": state, "email": "ada@example.com", "password": Self.password])
            #expect(noCSRF.status == .forbidden)
            let forged = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": (csrf.hasPrefix("x") ? "y" : "x") + csrf.dropFirst(), "email": "ada@example.com", "password": Self.password])
            #expect(forged.status == .forbidden)
            let stranger = Browser(http)
            #expect(try await stranger.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "ada@example.com", "password": Self.password]).status == .forbidden)

            // Wrong password: a clear message, the form again.
            let wrong = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "ada@example.com", "password": "nope"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("Wrong email or password.") && wrong.text.contains("role=\"alert\""))
            let nobody = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "who@example.com", "password": "nope"])
            #expect(nobody.text.contains("Wrong email or password."))

            // Ten failures from one IP throttle the account there, even for the right password.
            for _ in 0..<9 {
                _ = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "ada@example.com", "password": "nope"])
            }
            let locked = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "ada@example.com", "password": Self.password])
            #expect(locked.status == .forbidden)
            #expect(locked.text.contains("blocked after multiple consecutive login attempts"))
            harness.clock.advance(seconds: 15 * 60 + 1)
            let unlocked = try await browser.request(.post, "/u/login", form: ["state": state, "csrf": csrf, "email": "ada@example.com", "password": Self.password])
            _ = try Self.code(from: unlocked)
        }
    }

    @Test(arguments: StoreKind.available)
    func blockedUsersSignupAndLogout(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        try await harness.test { http in
            _ = try await harness.tenant.users.update(setup.user.userID, .object(["blocked": .bool(true)]))
            let blocked = try await Self.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair())
            #expect(blocked.status == .forbidden && blocked.text.contains("blocked"))
            _ = try await harness.tenant.users.update(setup.user.userID, .object(["blocked": .bool(false)]))

            let weak = try await Self.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair(), email: "new@example.com",
                                             password: "weak", extra: ["screen_hint": "signup"])
            #expect(weak.status == .badRequest && weak.text.contains("Password is too weak"))
            let taken = try await Self.signIn(Browser(http), setup.spa.clientID, pkce: PKCEPair(), email: "ada@example.com",
                                              password: "Another-Pass1", extra: ["screen_hint": "signup"])
            #expect(taken.text.contains("already exists"))
            let browser = Browser(http)
            let signedUp = try await Self.signIn(browser, setup.spa.clientID, pkce: PKCEPair(), email: "new@example.com",
                                                 password: "Fresh-Pass-42", extra: ["screen_hint": "signup"])
            _ = try Self.code(from: signedUp)
            #expect(try await harness.tenant.users.byEmail("new@example.com").first?.loginsCount == 1)

            let notAllowed = try await browser.request(.get, "/v2/logout?client_id=\(setup.spa.clientID)&returnTo=\("https://evil.test/".pathEscaped)")
            #expect(notAllowed.status == .badRequest && notAllowed.headers[.location] == nil)
            let logout = try await browser.request(.get, "/v2/logout?client_id=\(setup.spa.clientID)&returnTo=\("https://app.test/bye".pathEscaped)")
            #expect(logout.status == .found && logout.headers[.location] == "https://app.test/bye")
            let after = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["prompt": "none"]))
            #expect(URLComponents(string: after.headers[.location] ?? "")?.item("error") == "login_required")
        }
    }

    /// A user cannot ask their way into the Management API: a user's token for it carries only the scopes their roles
    /// grant there, whatever the request says, and the API refuses it otherwise. Other APIs keep the scopes asked for.
    @Test(arguments: StoreKind.available)
    func usersGetNoManagementScopesTheirRolesDoNotGrant(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        let tenant = harness.tenant
        let web = try await tenant.clients.create(.object([
            "name": .string("Web"), "app_type": .string("regular_web"), "callbacks": .array([.string(Self.callback)]),
            "grant_types": .array([.string("password")]),
        ]))
        try await harness.test { http in
            func accessToken(audience: String, scope: String) async throws -> String {
                let response = try await http.request(.post, "/oauth/token", json: .object([
                    "grant_type": "password", "client_id": .string(web.clientID), "client_secret": .string(web.clientSecret!),
                    "username": "ada@example.com", "password": .string(Self.password), "audience": .string(audience),
                    "scope": .string(scope),
                ]))
                #expect(response.status == .ok, "\(response.text)")
                return try #require(response["access_token"]?.stringValue)
            }
            func token(audience: String, scope: String) async throws -> [String: JSONValue] {
                decodeJWTPart(try await accessToken(audience: audience, scope: scope), 1)
            }
            let management = tenant.managementAudience
            let asked = try await token(audience: management, scope: "openid read:users delete:users")
            #expect(asked["scope"] == .string("openid"))
            let refused = try await http.request(.get, "/api/v2/users", token: try await accessToken(audience: management, scope: "read:users"))
            #expect(refused.status == .forbidden)

            // A role that holds read:users on the Management API lets its users have it, and nothing more.
            let admin = try await tenant.roles.create(.object(["name": .string("directory reader")]))
            try await tenant.roles.addPermissions(admin.id, .object(["permissions": .array([.object([
                "resource_server_identifier": .string(management), "permission_name": .string("read:users"),
            ])])]))
            try await tenant.roles.assign(roleIDs: [admin.id], toUser: setup.user.userID)
            let granted = try await token(audience: management, scope: "openid read:users delete:users")
            #expect(granted["scope"] == .string("openid read:users"))
            #expect(granted["permissions"] == .array([.string("read:users")]))

            // Another API: the scopes asked for, as before.
            #expect(try await token(audience: Self.api, scope: "openid read:rows write:rows")["scope"] == .string("openid read:rows write:rows"))
        }
    }

    /// Ten wrong passwords from one address throttle it for that user; a success before that clears the count in the
    /// same commit that records the login (logins_count, last_ip).
    @Test(arguments: StoreKind.available)
    func wrongPasswordsThrottleAndASuccessClearsThem(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let services = harness.services
        let signIn = SignInService(tenant: services.tenant, tokens: services.tokens, store: services.store, clock: services.clock)
        let user = try await harness.tenant.users.create(newUserBody("throttle@example.com"))
        func attempt(_ password: String, from ip: String = "192.0.2.1") async throws -> SignInError? {
            let batch = WriteBatch()
            do {
                _ = try await signIn.authenticate(email: "throttle@example.com", password: password, ip: ip, batch: batch)
                try await services.store.commit(batch)
                return nil
            } catch let error as SignInError { return error }
        }
        for _ in 0..<9 { #expect(try await attempt("wrong") == .wrongCredentials) }
        #expect(try await attempt("Correct-Horse-9") == nil)
        for _ in 0..<9 { #expect(try await attempt("wrong") == .wrongCredentials) }
        #expect(try await attempt("Correct-Horse-9") == nil)
        let counted = try await harness.tenant.users.get(user.userID)
        #expect(counted.loginsCount == 2 && counted.lastIP == "192.0.2.1")

        for _ in 0..<10 { _ = try await attempt("wrong") }
        #expect(try await attempt("Correct-Horse-9") == .throttled)
        #expect(try await attempt("Correct-Horse-9", from: "198.51.100.7") == nil)
        harness.clock.advance(seconds: Int(LoginThrottle.window) + 1)
        #expect(try await attempt("Correct-Horse-9") == nil)
        #expect(try await harness.tenant.users.get(user.userID).loginsCount == 4)
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func passwordGrantRevocationAndCORS(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        let web = try await harness.tenant.clients.create(.object([
            "name": .string("Web"), "app_type": .string("regular_web"), "callbacks": .array([.string(Self.callback)]),
            "grant_types": .array([.string("password"), .string("refresh_token")]),
        ]))
        try await harness.test { http in
            func password(_ clientID: String, secret: String?, password: String = Self.password) async throws -> TestResponse {
                var body: [String: JSONValue] = [
                    "grant_type": .string("password"), "client_id": .string(clientID), "username": .string("ada@example.com"),
                    "password": .string(password), "scope": .string("openid offline_access"), "audience": .string(Self.api),
                ]
                if let secret { body["client_secret"] = .string(secret) }
                return try await http.request(.post, "/oauth/token", json: .object(body))
            }
            #expect(try await password(setup.spa.clientID, secret: nil)["error"] == .string("unauthorized_client"))
            #expect(try await password(web.clientID, secret: "wrong")["error"] == .string("invalid_client"))
            #expect(try await password(web.clientID, secret: web.clientSecret, password: "nope")["error"] == .string("invalid_grant"))
            let granted = try await password(web.clientID, secret: web.clientSecret)
            #expect(granted.status == .ok)
            let refresh = try #require(granted["refresh_token"]?.stringValue)

            let revoke = try await http.request(.post, "/oauth/revoke", json: .object([
                "client_id": .string(web.clientID), "client_secret": .string(web.clientSecret!), "token": .string(refresh),
            ]))
            #expect(revoke.status == .ok)
            let reuse = try await http.request(.post, "/oauth/token", json: .object([
                "grant_type": .string("refresh_token"), "client_id": .string(web.clientID),
                "client_secret": .string(web.clientSecret!), "refresh_token": .string(refresh),
            ]))
            #expect(reuse["error"] == .string("invalid_grant"))

            let preflight = try await http.request(.options, "/oauth/token", headers: [.origin: "https://app.test"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.test")
            let denied = try await http.request(.options, "/oauth/token", headers: [.origin: "https://evil.test"])
            #expect(denied.headers[.accessControlAllowOrigin] == nil)
            for path in ["/oauth/revoke", "/userinfo"] {
                let allowed = try await http.request(.options, path, headers: [.origin: "https://app.test"])
                #expect(allowed.status == .noContent && allowed.headers[.accessControlAllowOrigin] == "https://app.test", "\(path)")
                #expect(allowed.headers[.accessControlAllowHeaders]?.contains("Authorization") == true, "\(path)")
                let refused = try await http.request(.options, path, headers: [.origin: "https://evil.test"])
                #expect(refused.status == .forbidden && refused.headers[.accessControlAllowOrigin] == nil, "\(path)")
            }

            let discovery = try await http.request(.get, "/.well-known/openid-configuration")
            #expect(discovery["authorization_endpoint"] == .string(Harness.issuer + "authorize"))
            #expect(discovery["code_challenge_methods_supported"] == .array([.string("S256")]))
        }
    }

    @Test(arguments: StoreKind.available)
    func oidcLogoutChecksTheIDTokenHint(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await Self.setUp(harness)
        try await harness.test { http in
            let browser = Browser(http)
            let pkce = PKCEPair()
            let code = try Self.code(from: try await Self.signIn(browser, setup.spa.clientID, pkce: pkce))
            let tokens = try await Self.exchange(http, clientID: setup.spa.clientID, code: code, verifier: pkce.verifier)
            let idToken = try #require(tokens["id_token"]?.stringValue)
            let back = "https://app.test/bye".pathEscaped

            let forged = try await browser.request(.get, "/oidc/logout?id_token_hint=\(idToken.dropLast(3))AAA&post_logout_redirect_uri=\(back)")
            #expect(forged.status == .badRequest && forged.headers[.location] == nil)
            let elsewhere = try await browser.request(.get, "/oidc/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=\("https://evil.test/".pathEscaped)")
            #expect(elsewhere.status == .badRequest)
            // An expired hint is still a valid hint (OIDC RP-Initiated Logout).
            harness.clock.advance(seconds: 36_001)
            let logout = try await browser.request(.get, "/oidc/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=\(back)&state=xyz")
            #expect(logout.status == .found)
            #expect(logout.headers[.location] == "https://app.test/bye?state=xyz")
            let silent = try await browser.request(.get, Self.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["prompt": "none"]))
            #expect(URLComponents(string: silent.headers[.location] ?? "")?.item("error") == "login_required")
        }
    }
}
