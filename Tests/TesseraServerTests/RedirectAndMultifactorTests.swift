import Actions
import Crypto
import Foundation
import IdentityManagement
import TenantFile
import TesseraCore
import TesseraTokens
@testable import Identity
import Testing
@testable import TesseraServer

/// Redirect Actions (`api.redirect.*`, `/continue`, `onContinuePostLogin`) and the second factor (`api.multifactor`,
/// the hosted `/u/mfa` page, the Management API's authentication methods), in sign-ins through the hosted pages.
@Suite struct RedirectAndMultifactorTests {
    static let consentPage = "https://consent.test/ask"
    static let tokenSecret = "a-shared-secret-for-session-tokens"

    /// Writes the actions to files and binds them, in order, to post-login.
    static func bind(_ harness: Harness, _ actions: [(name: String, code: String)]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("actions-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [String] = []
        for (index, action) in actions.enumerated() {
            try action.code.write(toFile: "\(directory)/a\(index).js", atomically: true, encoding: .utf8)
            entries.append("  - { name: \(action.name), code: a\(index).js }")
        }
        try await TenantFile.parse(ActionsFlowTests.tenantFile(actions: entries.joined(separator: "\n"), flow: actions.map(\.name)),
                                   file: "t.yaml", environment: [:], directory: directory).apply(to: harness.services)
    }

    /// The state an Action's redirect carries, and the page it goes to.
    static func redirectTarget(_ response: TestResponse) throws -> URLComponents {
        let location: String
        if response.status == .found {
            location = try #require(response.headers[.location])
        } else {
            // After a form post the browser goes on through a page (the login form's CSP names only this server).
            #expect(response.status == .ok, "\(response.status) \(response.text.prefix(300))")
            let marker = try #require(response.text.range(of: "id=\"continue-link\" href=\""))
            location = String(response.text[marker.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
        }
        return try #require(URLComponents(string: location))
    }

    static func tokens(_ http: TestHTTP, _ setup: SignInTests.Setup, _ response: TestResponse, _ pkce: PKCEPair) async throws -> [String: JSONValue] {
        let exchanged = try await SignInTests.exchange(http, clientID: setup.spa.clientID, code: try SignInTests.code(from: response),
                                                        verifier: pkce.verifier)
        #expect(exchanged.status == .ok, "\(exchanged.text)")
        return decodeJWTPart(try #require(exchanged["id_token"]?.stringValue), 1)
    }

    static func deniedDescription(_ response: TestResponse) throws -> String? {
        let location = try #require(response.headers[.location], "\(response.status) \(response.text.prefix(300))")
        let components = try #require(URLComponents(string: location))
        #expect(components.item("error") == "access_denied")
        return components.item("error_description")
    }

    static func hs256(_ claims: JSONValue, secret: String) -> String {
        let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URLEncoded()
        let payload = Data(claims.jsonText().utf8).base64URLEncoded()
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(header).\(payload).\(Data(mac).base64URLEncoded())"
    }

    // MARK: redirects

    @Test(arguments: StoreKind.available)
    func aRedirectPausesTheFlowAndContinueResumesIt(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        try await Self.bind(harness, [
            (name: "Consent", code: """
                exports.onExecutePostLogin = async (event, api) => {
                  if (event.user.app_metadata.consent === true) return;
                  api.idToken.setCustomClaim('https://t/before', api.redirect.canRedirect());
                  api.redirect.sendUserTo('\(Self.consentPage)', { query: { lang: 'en', user: event.user.email } });
                };
                exports.onContinuePostLogin = async (event, api) => {
                  if (event.request.query.accepted !== 'yes') return api.access.deny('Consent was not given');
                  api.user.setAppMetadata('consent', true);
                  api.idToken.setCustomClaim('https://t/continued', event.request.query.accepted);
                };
                """),
            (name: "After", code: """
                exports.onExecutePostLogin = async (event, api) => {
                  api.idToken.setCustomClaim('https://t/after', event.user.app_metadata.consent === true);
                };
                """),
        ])
        try await harness.test { http in
            let browser = Browser(http)
            let pkce = PKCEPair()
            let target = try Self.redirectTarget(try await SignInTests.signIn(browser, setup.spa.clientID, pkce: pkce))
            #expect(target.scheme == "https" && target.host == "consent.test" && target.path == "/ask")
            #expect(target.item("lang") == "en" && target.item("user") == "ada@example.com")
            let state = try #require(target.item("state"))

            // Another browser (no session) and a forged state are refused; nothing is spent by them.
            #expect(try await Browser(http).request(.get, "/continue?state=\(state)&accepted=yes").status == .badRequest)
            #expect(try await browser.request(.get, "/continue?state=forged-\(state)&accepted=yes").status == .badRequest)
            #expect(try await browser.request(.get, "/continue").status == .badRequest)

            let resumed = try await browser.request(.get, "/continue?state=\(state)&accepted=yes")
            let claims = try await Self.tokens(http, setup, resumed, pkce)
            #expect(claims["https://t/before"] == .bool(true))
            #expect(claims["https://t/continued"] == "yes")
            #expect(claims["https://t/after"] == .bool(true))
            #expect(try await harness.tenant.users.get(setup.user.userID).appMetadata["consent"] == .bool(true))

            // The state is good once.
            #expect(try await browser.request(.get, "/continue?state=\(state)&accepted=yes").status == .badRequest)

            // Consent given: the next sign-in in this session goes straight back with a code.
            let again = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: pkce))
            #expect(try SignInTests.code(from: again).isEmpty == false)
        }
    }

    @Test func continuingCanDenyAPostCarriesTheFormAndASessionCanBeRevoked() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness)
        try await Self.bind(harness, [(name: "Consent", code: """
            exports.onExecutePostLogin = async (event, api) => { api.redirect.sendUserTo('\(Self.consentPage)'); };
            exports.onContinuePostLogin = async (event, api) => {
              if (event.request.body.password || event.request.query.client_secret) return api.access.deny('Credentials reached the Action');
              if (event.request.method !== 'POST' || event.request.body.accepted !== 'yes') return api.access.deny('Consent was not given');
              api.session.revoke('One sign-in only');
            };
            """)])
        try await harness.test { http in
            let browser = Browser(http)
            var state = try #require(try Self.redirectTarget(try await SignInTests.signIn(browser, setup.spa.clientID, pkce: PKCEPair())).item("state"))
            let refused = try await browser.request(.post, "/continue", form: ["state": state, "accepted": "no"])
            #expect(try Self.deniedDescription(refused) == "Consent was not given")

            let pkce = PKCEPair()
            let page = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: pkce))
            state = try #require(try Self.redirectTarget(page).item("state"))
            // Posted back from another site, the browser sends no SameSite=Lax cookie: the page posts it again from here.
            var crossSite = browser.cookies
            browser.cookies = [:]
            let relay = try await browser.request(.post, "/continue", form: ["state": state, "accepted": "yes"])
            #expect(relay.status == .ok && relay.text.contains("name=\"tessera_resubmitted\" value=\"1\"") && relay.text.contains("value=\"yes\""))
            #expect(try await browser.request(.post, "/continue", form: ["state": state, "accepted": "yes", "tessera_resubmitted": "1"]).status == .badRequest)
            swap(&crossSite, &browser.cookies)
            let accepted = try await browser.request(.post, "/continue?client_secret=s3cret",
                                                     form: ["state": state, "accepted": "yes", "tessera_resubmitted": "1", "password": "hunter2"])
            // api.session.revoke: the sign-in is denied and the session is over, so the next /authorize asks for a password.
            #expect(try Self.deniedDescription(accepted) == "One sign-in only")
            let next = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: PKCEPair()))
            #expect(next.headers[.location]?.hasPrefix("/u/login") == true)
        }
    }

    @Test func sessionTokensGoOutAndComeBackSigned() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness)
        try await Self.bind(harness, [(name: "Verify", code: """
            exports.onExecutePostLogin = async (event, api) => {
              const token = api.redirect.encodeToken({ secret: event.secrets.SECRET || '\(Self.tokenSecret)', expiresInSeconds: 60,
                                                       payload: { email: event.user.email } });
              api.redirect.sendUserTo('https://verify.test/start', { query: { session_token: token } });
            };
            exports.onContinuePostLogin = async (event, api) => {
              const payload = api.redirect.validateToken({ secret: '\(Self.tokenSecret)', tokenParameterName: 'result' });
              api.idToken.setCustomClaim('https://t/verified', payload.verified);
            };
            """)])
        try await harness.test { http in
            let browser = Browser(http)
            let pkce = PKCEPair()
            let target = try Self.redirectTarget(try await SignInTests.signIn(browser, setup.spa.clientID, pkce: pkce))
            let state = try #require(target.item("state"))
            let outgoing = try #require(target.item("session_token"))
            let parts = outgoing.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Data(Self.tokenSecret.utf8)))
            #expect(Data(mac).base64URLEncoded() == parts[2])
            let claims = decodeJWTPart(outgoing, 1)
            #expect(claims["sub"] == .string(setup.user.userID) && claims["email"] == "ada@example.com")
            #expect(claims["iss"] == "localhost:8080" || claims["iss"]?.stringValue?.isEmpty == false)
            let issued = try #require(claims["iat"]?.numberValue), expires = try #require(claims["exp"]?.numberValue)
            #expect(expires - issued == 60)

            // A token signed with another secret, or naming another state, ends the sign-in.
            let now = Date().timeIntervalSince1970
            let forged = Self.hs256(["state": .string(state), "verified": true, "exp": .number(now + 60)], secret: "not-the-secret-not-the-secret")
            let denied = try await browser.request(.get, "/continue?state=\(state)&result=\(forged)")
            #expect(try Self.deniedDescription(denied)?.contains("invalid signature") == true)

            let pkce2 = PKCEPair()
            let state2 = try #require(try Self.redirectTarget(
                try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: pkce2))).item("state"))
            let otherState = Self.hs256(["state": .string(state), "verified": true, "exp": .number(now + 60)], secret: Self.tokenSecret)
            let mismatched = try await browser.request(.get, "/continue?state=\(state2)&result=\(otherState)")
            #expect(try Self.deniedDescription(mismatched)?.contains("state") == true)

            let pkce3 = PKCEPair()
            let state3 = try #require(try Self.redirectTarget(
                try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: pkce3))).item("state"))
            let good = Self.hs256(["state": .string(state3), "verified": true, "sub": .string(setup.user.userID), "exp": .number(now + 60)],
                                  secret: Self.tokenSecret)
            let resumed = try await browser.request(.get, "/continue?state=\(state3)&result=\(good)")
            #expect(try await Self.tokens(http, setup, resumed, pkce3)["https://t/verified"] == .bool(true))
        }
    }

    @Test func redirectsGoOnlyToWebAddressesAndOnlyWithABrowser() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness, spaExtra: ["grant_types": ["authorization_code", "refresh_token", "password"]])
        try await Self.bind(harness, [(name: "Bad", code: """
            exports.onExecutePostLogin = async (event, api) => { api.redirect.sendUserTo(event.request.query.login_hint || 'javascript:alert(1)'); };
            """)])
        try await harness.test { http in
            let browser = Browser(http)
            let response = try await SignInTests.signIn(browser, setup.spa.clientID, pkce: PKCEPair())
            #expect(try Self.deniedDescription(response)?.contains("sendUserTo needs an absolute http(s) URL") == true)
            let relative = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: PKCEPair(), extra: ["login_hint": "/elsewhere"]))
            #expect(try Self.deniedDescription(relative)?.contains("sendUserTo") == true)
            // prompt=none has no page to show: the Action cannot redirect.
            let silent = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: PKCEPair(),
                                                                                   extra: ["prompt": "none", "login_hint": "https://x.test/"]))
            #expect(try Self.deniedDescription(silent)?.contains("no browser to redirect") == true)
        }
    }

    // MARK: multifactor

    static let multifactorOncePerSession = """
        exports.onExecutePostLogin = async (event, api) => {
          api.idToken.setCustomClaim('https://t/methods', event.authentication.methods.map((m) => m.name))
            .idToken.setCustomClaim('https://t/factors', event.user.multifactor);
          if (!event.authentication.methods.some((m) => m.name === 'mfa')) api.multifactor.enable('any', { allowRememberBrowser: false });
        };
        """

    static func code(_ secret: String, at date: Date) throws -> String {
        TOTP.code(secret: try #require(Base32.decode(secret)), step: TOTP.step(at: date))
    }

    /// Signs in with the password and opens the second-factor page it leads to.
    static func multifactorPage(_ browser: Browser, _ setup: SignInTests.Setup) async throws -> (page: TestResponse, state: String, csrf: String) {
        let login = try await SignInTests.signIn(browser, setup.spa.clientID, pkce: PKCEPair())
        let page = try await browser.request(.get, try #require(login.headers[.location]))
        return (page, try #require(Browser.hidden("state", in: page.text)), try #require(Browser.hidden("csrf", in: page.text)))
    }

    static func element(_ id: String, in html: String) -> String? {
        guard let range = html.range(of: "id=\"\(id)\"") else { return nil }
        let rest = html[range.upperBound...]
        guard let open = rest.firstIndex(of: ">") else { return nil }
        return String(rest[rest.index(after: open)...].prefix { $0 != "<" })
    }

    @Test(arguments: StoreKind.available)
    func enrolAChallengeAndTheManagementAPI(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let setup = try await SignInTests.setUp(harness)
        try await Self.bind(harness, [(name: "MFA", code: Self.multifactorOncePerSession)])
        try await harness.test { http in
            let browser = Browser(http)
            let pkce = PKCEPair()
            let login = try await SignInTests.signIn(browser, setup.spa.clientID, pkce: pkce)
            #expect(login.status == .found)
            let mfaURL = try #require(login.headers[.location])
            #expect(mfaURL.hasPrefix("/u/mfa?state="))
            let page = try await browser.request(.get, mfaURL)
            let secret = try #require(Self.element("totp-secret", in: page.text))
            #expect(page.text.contains("otpauth://totp/") && page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            let state = try #require(Browser.hidden("state", in: page.text)), csrf = try #require(Browser.hidden("csrf", in: page.text))

            // A forged CSRF token, then a wrong code.
            #expect(try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": "x" + csrf, "code": "000000"]).status == .forbidden)
            let wrong = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "code": "12345"])
            #expect(wrong.status == .unauthorized && wrong.text.contains("Wrong code"))
            // Going on before any code was accepted is refused.
            #expect(try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "step": "done"]).status == .badRequest)

            let now = harness.clock.clock.now()
            let enrolled = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "code": try Self.code(secret, at: now)])
            #expect(enrolled.status == .ok, "\(enrolled.text.prefix(300))")
            let recovery = try #require(Self.element("recovery-code", in: enrolled.text))
            #expect(recovery.count == 24)
            let done = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "step": "done"])
            let claims = try await Self.tokens(http, setup, done, pkce)
            #expect(claims["amr"] == ["mfa"])
            #expect(claims["https://t/methods"] == ["pwd"] && claims["https://t/factors"] == [])

            // The factor is listed by the Management API, and the session remembers it: no second challenge.
            let token = try await http.managementToken()
            let user = setup.user.userID.pathEscaped
            let listed = try await http.request(.get, "/api/v2/users/\(user)/authentication-methods", token: token)
            let types = (listed.json.arrayValue ?? []).compactMap { $0.objectValue?["type"]?.stringValue }.sorted()
            #expect(listed.status == .ok && types == ["recovery-code", "totp"])
            #expect(!listed.text.contains(secret) && !listed.text.contains(recovery))
            // Paged with totals, as auth0-python asks for it.
            let paged = try await http.request(.get, "/api/v2/users/\(user)/authentication-methods?page=1&per_page=1&include_totals=true", token: token)
            #expect(paged["start"] == 1 && paged["limit"] == 1 && paged["total"] == 2 && paged["authenticators"]?.arrayValue?.count == 1)
            #expect(try await http.request(.get, "/api/v2/users/\(user)/authentication-methods?page=5", token: token).json == [])
            #expect(try await http.request(.get, "/api/v2/users/\(user)/authentication-methods?per_page=0", token: token).status == .badRequest)
            let pkce2 = PKCEPair()
            let sso = try await browser.request(.get, SignInTests.authorizeURL(setup.spa.clientID, pkce: pkce2))
            let ssoClaims = try await Self.tokens(http, setup, sso, pkce2)
            #expect(ssoClaims["https://t/methods"] == ["pwd", "mfa"] && ssoClaims["https://t/factors"] == ["guardian"])

            // A new browser: the challenge page; the code just used is spent, the next step's code passes.
            let other = Browser(http)
            let pkce3 = PKCEPair()
            let challengeURL = try #require(try await SignInTests.signIn(other, setup.spa.clientID, pkce: pkce3).headers[.location])
            let challenge = try await other.request(.get, challengeURL)
            #expect(Self.element("totp-secret", in: challenge.text) == nil && challenge.text.contains("recovery_code"))
            let state3 = try #require(Browser.hidden("state", in: challenge.text)), csrf3 = try #require(Browser.hidden("csrf", in: challenge.text))
            let replayed = try await other.request(.post, "/u/mfa", form: ["state": state3, "csrf": csrf3, "code": try Self.code(secret, at: now)])
            #expect(replayed.status == .unauthorized)
            harness.clock.advance(seconds: 30)
            let passed = try await other.request(.post, "/u/mfa", form: ["state": state3, "csrf": csrf3,
                                                                         "code": try Self.code(secret, at: harness.clock.clock.now())])
            #expect(try await Self.tokens(http, setup, passed, pkce3)["amr"] == ["mfa"])

            // One method by id, then all of them: the user is reset and the next sign-in enrolls again.
            let methods = listed.json.arrayValue ?? []
            let recoveryID = try #require(methods.first { $0.objectValue?["type"] == "recovery-code" }?.objectValue?["id"]?.stringValue)
            let totpID = try #require(methods.first { $0.objectValue?["type"] == "totp" }?.objectValue?["id"]?.stringValue)
            let one = try await http.request(.get, "/api/v2/users/\(user)/authentication-methods/\(totpID.pathEscaped)", token: token)
            #expect(one["type"] == "totp" && one["confirmed"] == .bool(true) && one["last_auth_at"] != nil)
            #expect(try await http.request(.delete, "/api/v2/users/\(user)/authentication-methods/\(recoveryID.pathEscaped)", token: token).status == .noContent)
            #expect(try await http.request(.get, "/api/v2/users/\(user)/authentication-methods/\(recoveryID.pathEscaped)", token: token).status == .notFound)
            #expect(try await http.request(.delete, "/api/v2/users/\(user)/authentication-methods", token: token).status == .noContent)
            #expect(try await http.request(.get, "/api/v2/users/\(user)/authentication-methods", token: token).json == [])
            let third = Browser(http)
            let enrolAgain = try await third.request(.get, try #require(
                try await SignInTests.signIn(third, setup.spa.clientID, pkce: PKCEPair()).headers[.location]))
            #expect(Self.element("totp-secret", in: enrolAgain.text) != nil)
            let missing = try await http.request(.get, "/api/v2/users/\(user)/authentication-methods/totp%7Cdev_nope", token: token)
            #expect(missing.status == .notFound)
            let narrow = try await http.managementToken(scopes: ["read:users"])
            #expect(try await http.request(.get, "/api/v2/users/\(user)/authentication-methods", token: narrow).status == .forbidden)
        }
    }

    @Test func wrongCodesAreThrottledAndRecoveryCodesWorkOnce() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness)
        try await Self.bind(harness, [(name: "MFA", code: Self.multifactorOncePerSession)])
        try await harness.test { http in
            // Enrol first.
            let browser = Browser(http)
            let (page, state, csrf) = try await Self.multifactorPage(browser, setup)
            let secret = try #require(Self.element("totp-secret", in: page.text))
            let enrolled = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf,
                                                                             "code": try Self.code(secret, at: harness.clock.clock.now())])
            let recovery = try #require(Self.element("recovery-code", in: enrolled.text))

            // A recovery code works once, and a new one is shown.
            let second = Browser(http)
            let challenge = try await second.request(.get, try #require(
                try await SignInTests.signIn(second, setup.spa.clientID, pkce: PKCEPair()).headers[.location]))
            let s2 = try #require(Browser.hidden("state", in: challenge.text)), c2 = try #require(Browser.hidden("csrf", in: challenge.text))
            let used = try await second.request(.post, "/u/mfa", form: ["state": s2, "csrf": c2, "recovery_code": recovery.lowercased()])
            let fresh = try #require(Self.element("recovery-code", in: used.text))
            #expect(fresh != recovery)
            #expect(try await second.request(.post, "/u/mfa", form: ["state": s2, "csrf": c2, "step": "done"]).status == .found)

            // Five wrong codes, and even the right one waits.
            let third = Browser(http)
            let page3 = try await third.request(.get, try #require(
                try await SignInTests.signIn(third, setup.spa.clientID, pkce: PKCEPair()).headers[.location]))
            let s3 = try #require(Browser.hidden("state", in: page3.text)), c3 = try #require(Browser.hidden("csrf", in: page3.text))
            let spent = try await third.request(.post, "/u/mfa", form: ["state": s3, "csrf": c3, "recovery_code": recovery])
            #expect(spent.status == .unauthorized)
            for _ in 0..<4 { _ = try await third.request(.post, "/u/mfa", form: ["state": s3, "csrf": c3, "code": "000000"]) }
            harness.clock.advance(seconds: 30)
            let right = try Self.code(secret, at: harness.clock.clock.now())
            let throttled = try await third.request(.post, "/u/mfa", form: ["state": s3, "csrf": c3, "code": right])
            #expect(throttled.status == .tooManyRequests && throttled.text.contains("Too many attempts"))
            harness.clock.advance(seconds: 15 * 60)
            let after = try await third.request(.post, "/u/mfa", form: ["state": s3, "csrf": c3,
                                                                        "code": try Self.code(secret, at: harness.clock.clock.now())])
            // The paused sign-in itself lasts ten minutes: the user starts over, and is not throttled any more.
            #expect(after.status == .forbidden)
        }
    }

    @Test func aRememberedBrowserSkipsTheChallengeAndThePasswordGrantAnswersMFARequired() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness, spaExtra: ["grant_types": ["authorization_code", "password"]])
        try await Self.bind(harness, [(name: "MFA", code: """
            exports.onExecutePostLogin = async (event, api) => { api.multifactor.enable('otp', { allowRememberBrowser: true }); };
            """)])
        try await harness.test { http in
            let browser = Browser(http)
            let (page, state, csrf) = try await Self.multifactorPage(browser, setup)
            let secret = try #require(Self.element("totp-secret", in: page.text))
            _ = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "code": try Self.code(secret, at: harness.clock.clock.now())])
            let done = try await browser.request(.post, "/u/mfa", form: ["state": state, "csrf": csrf, "step": "done"])
            #expect(done.headers[values: .setCookie].contains { $0.hasPrefix("tessera_mfa_remember=") })
            // Signed out, then in again with the password: this browser is remembered.
            _ = try await browser.request(.get, "/v2/logout")
            let pkce = PKCEPair()
            _ = try await Self.tokens(http, setup, try await SignInTests.signIn(browser, setup.spa.clientID, pkce: pkce), pkce)

            let grant = try await http.request(.post, "/oauth/token", body: [
                "grant_type=password", "client_id=\(setup.spa.clientID)", "username=ada%40example.com", "password=\(SignInTests.password)",
            ].joined(separator: "&"), contentType: "application/x-www-form-urlencoded")
            #expect(grant.status == .forbidden && grant["error"] == "mfa_required")
        }
    }

    /// The dashboard's "Test" shows what a redirect or MFA Action asks for; the Management API refuses what Tessera lacks.
    @Test func theTestEndpointShowsRedirectsAndFactors() async throws {
        let harness = try await Harness.make()
        try await harness.test { http in
            let token = try await http.managementToken()
            let created = try await http.request(.post, "/api/v2/actions/actions", token: token, json: [
                "name": "Consent and MFA",
                "code": .string("""
                    exports.onExecutePostLogin = async (event, api) => {
                      api.redirect.sendUserTo('https://consent.test/', { query: { u: event.user.user_id } });
                      api.multifactor.enable('any', { allowRememberBrowser: true }).session.revoke('testing');
                    };
                    """),
            ])
            let id = try #require(created["id"]?.stringValue, "\(created.text)")
            let tested = try await http.request(.post, "/api/v2/actions/actions/\(id)/test", token: token,
                                                json: ["payload": ["user": ["user_id": "auth0|t1"]]])
            let commands = try #require(tested["payload"]?.objectValue?["commands"]?.arrayValue, "\(tested.text)")
            #expect(commands.contains(["name": "redirect.sendUserTo", "url": "https://consent.test/", "query": ["u": "auth0|t1"]]))
            #expect(commands.contains(["name": "multifactor.enable", "provider": "any", "allowRememberBrowser": true]))
            #expect(commands.contains(["name": "session.revoke", "reason": "testing"]))
            let refused = try await http.request(.post, "/api/v2/actions/actions", token: token, json: [
                "name": "Forms", "code": "exports.onExecutePostLogin = async (event, api) => { api.prompt.render('ap_1'); };",
            ])
            #expect(refused.status == .badRequest && refused.text.contains("api.prompt.render is not available"))
        }
    }

    @Test func unsupportedPartsOfTheAPIFailAtDeploy() async throws {
        let harness = try await Harness.make()
        try await harness.test { _ in
            for (code, named) in [
                ("exports.onExecutePostLogin = async (e, api) => { api.authentication.challengeWith({ type: 'otp' }); };", "api.authentication.challengeWith"),
                ("exports.onExecutePostLogin = async (e, api) => { api.session.setExpiresAt(1); };", "api.session.setExpiresAt"),
                ("const { AuthenticationClient } = require('auth0'); exports.onExecutePostLogin = async () => {};", "AuthenticationClient"),
            ] {
                do {
                    try await Self.bind(harness, [(name: "Bad", code: code)])
                    Issue.record("\(named) was deployed")
                } catch {
                    #expect("\(error)".contains(named), "\(error)")
                }
            }
            // A factor Tessera lacks parses and deploys, and fails when it runs, naming what Tessera has instead.
            let runner = try ActionRunner()
            do {
                _ = try await runner.run(code: "exports.onExecutePostLogin = async (e, api) => { api.multifactor.enable('duo'); };",
                                         event: ["user": [:]])
                Issue.record("enable('duo') ran")
            } catch {
                #expect("\(error)".contains("authenticator apps"))
            }
        }
    }
}

@Suite struct TOTPTests {
    /// RFC 6238 appendix B, SHA-1, truncated to six digits.
    @Test func rfc6238Vectors() throws {
        let secret = Array("12345678901234567890".utf8)
        for (time, code) in [(59.0, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"),
                             (2_000_000_000, "279037"), (20_000_000_000, "353130")] {
            #expect(TOTP.code(secret: secret, step: TOTP.step(at: Date(timeIntervalSince1970: time))) == code)
        }
        let at = Date(timeIntervalSince1970: 1_111_111_109)
        #expect(TOTP.matchingStep("081804", secret: secret, at: at) == TOTP.step(at: at))
        #expect(TOTP.matchingStep("081 804", secret: secret, at: at.addingTimeInterval(30)) == TOTP.step(at: at))
        #expect(TOTP.matchingStep("081804", secret: secret, at: at.addingTimeInterval(90)) == nil)
        #expect(TOTP.matchingStep("08180", secret: secret, at: at) == nil && TOTP.matchingStep("abcdef", secret: secret, at: at) == nil)
    }

    @Test func base32RoundTrips() throws {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("mzxw6ytboi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW6YTB01") == nil)
        let bytes = RandomToken.bytes(20)
        #expect(Base32.decode(Base32.encode(bytes)) == bytes)
    }
}

@Suite struct GeoLocationTests {
    /// Debian's country databases place public addresses (`make test` installs them); nothing is made up for the rest.
    @Test func countriesComeFromTheOfflineDatabase() async throws {
        let geo = GeoLocation()
        guard await geo.isAvailable else {
            #expect(await geo.country(of: "8.8.8.8") == nil)
            return
        }
        let google = try #require(await geo.country(of: "8.8.8.8")?.objectValue)
        #expect(google["countryCode"] == "US" && google["countryCode3"] == "USA" && google["countryName"] == "United States")
        #expect(google["continentCode"] == "NA")
        #expect(await geo.country(of: "2001:4860:4860::8888")?.objectValue?["countryCode"] == "US")
        for unplaced in ["127.0.0.1", "10.1.2.3", "::1", "unknown", "1.2.3.4.5"] { #expect(await geo.country(of: unplaced) == nil) }
    }

    /// The post-login event carries it as `request.geoip`, where Auth0 puts it.
    @Test func thePostLoginEventCarriesIt() async throws {
        let harness = try await Harness.make()
        let setup = try await SignInTests.setUp(harness)
        try await RedirectAndMultifactorTests.bind(harness, [(name: "Geo", code: """
            exports.onExecutePostLogin = async (event, api) => {
              api.idToken.setCustomClaim('country', event.request.geoip ? event.request.geoip.countryCode : 'absent');
            };
            """)])
        try await harness.test { _ in
            let hook = ActionsPostLoginHook(services: harness.services)
            func country(_ ip: String) async throws -> JSONValue? {
                try await hook.run(PostLoginContext(user: setup.user, client: setup.spa, request: nil, scopes: ["openid"], audience: nil,
                                                    ip: ip, protocolName: "oidc-basic-profile")).idTokenClaims["country"]
            }
            let loopback = try await country("127.0.0.1"), google = try await country("8.8.8.8")
            let expected: JSONValue = await harness.services.geo.isAvailable ? "US" : "absent"
            #expect(loopback == "absent" && google == expected)
        }
    }
}
