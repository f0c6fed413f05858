import Foundation
import HummingbirdBcrypt
import IdentityManagement
import TesseraCore
import TesseraStore
import TesseraTokens

/// Why a sign-in or sign-up did not go through, in words the login page can show.
public enum SignInError: Error, Equatable, Sendable {
    case wrongCredentials
    case blocked
    case throttled
    case signupFailed(String)

    public var message: String {
        switch self {
        case .wrongCredentials: "Wrong email or password."
        case .blocked: "This account is blocked. Contact the application's administrator."
        case .throttled: "Your account has been blocked after multiple consecutive login attempts. Try again in 15 minutes."
        case .signupFailed(let reason): reason
        }
    }
}

/// Where a browser sign-in goes next.
public enum SignInStep: Sendable, Equatable {
    /// Back to the application with an authorization code.
    case code(String)
    /// To the site a redirect Action named, with the state to return to `/continue` with.
    case redirect(String)
    /// To the hosted second-factor page.
    case multifactor(state: String, csrf: String)
}

/// The sign-in flow's domain: passwords, sessions, codes, and the token grants that end it.
public struct SignInService: Sendable {
    public let tenant: Tenant
    public let transactions: LoginTransactions
    public let sessions: Sessions
    public let codes: AuthorizationCodes
    public let refreshTokens: RefreshTokens
    public let throttle: LoginThrottle
    /// Wrong second-factor codes, counted per user: five in 15 minutes and the user waits.
    public let multifactorThrottle: LoginThrottle
    public let pausedSignIns: PausedSignIns
    public let browsers: RememberedBrowsers
    public let minter: TokenMinter
    /// Where a sign-in's batch of writes is committed.
    public let store: Store
    let hook: any PostLoginHook
    let clock: TesseraClock

    public init(tenant: Tenant, tokens: TokenService, store: Store, clock: TesseraClock,
                hook: any PostLoginHook = NoPostLoginHook()) {
        self.hook = hook
        self.store = store
        self.tenant = tenant
        self.clock = clock
        transactions = LoginTransactions(store: store, clock: clock)
        sessions = Sessions(store: store, clock: clock)
        codes = AuthorizationCodes(store: store, clock: clock)
        refreshTokens = RefreshTokens(store: store, clock: clock)
        throttle = LoginThrottle(store: store, clock: clock)
        multifactorThrottle = LoginThrottle(store: store, clock: clock, limit: 5)
        pausedSignIns = PausedSignIns(store: store, clock: clock)
        browsers = RememberedBrowsers(store: store, clock: clock)
        minter = TokenMinter(tenant: tenant, tokens: tokens, clock: clock)
    }

    /// Checks a password. Unknown emails cost a bcrypt verification too, so timing does not reveal accounts.
    /// The login is counted in `batch`, which the sign-in commits once it knows where it ends.
    public func authenticate(email: String, password: String, ip: String, batch: WriteBatch) async throws -> User {
        guard let found = try await tenant.users.credentials(email: email), let hash = found.passwordHash else {
            _ = try await tenant.users.verify(password: password, hash: Self.decoyHash)
            throw SignInError.wrongCredentials
        }
        let userID = found.user.userID
        let standing = try await throttle.standing(userID: userID, ip: ip)
        if standing.throttled { throw SignInError.throttled }
        guard try await tenant.users.verify(password: password, hash: hash) else {
            try await throttle.recordFailure(userID: userID, ip: ip)
            throw SignInError.wrongCredentials
        }
        guard !found.user.blocked else { throw SignInError.blocked }
        // The count of failures from this address is cleared with the login recorded, when there is one.
        let clearFailures: WriteBatch.Step? = standing.failures == 0 ? nil : { @Sendable db in
            try await LoginThrottle.reset(userID: userID, ip: ip, in: db)
        }
        return await tenant.users.recordLogin(found.user, ip: ip, in: batch, alongside: clearFailures)
    }

    public func signUp(email: String, password: String, ip: String, batch: WriteBatch) async throws -> User {
        do {
            let user = try await tenant.users.create(NewUser(email: email, password: password))
            return await tenant.users.recordLogin(user, ip: ip, in: batch)
        } catch let error as DomainError {
            switch error.kind {
            case .conflict: throw SignInError.signupFailed("An account with this email already exists. Sign in instead.")
            case .invalidInput where error.code == "password_strength_error" || error.code == "password_too_long":
                throw SignInError.signupFailed("Password is too weak: use at least 8 characters with lower case, upper case and digits.")
            case .invalidInput: throw SignInError.signupFailed("Enter a valid email address.")
            default: throw error
            }
        }
    }

    /// Runs the post-login hook (Actions) for a sign-in about to complete; it may add claims or deny.
    public func runPostLogin(user: User, clientID: String, request: AuthorizationRequest?, scopes: [String],
                             audience: String?, ip: String, protocolName: String, userAgent: String? = nil,
                             session: Session? = nil, batch: WriteBatch? = nil) async throws -> PostLoginResult {
        let client = try await tenant.clients.get(clientID)
        var context = PostLoginContext(user: user, client: client, request: request, scopes: scopes, audience: audience, ip: ip,
                                       protocolName: protocolName, userAgent: userAgent, session: session)
        context.batch = batch
        return try await hook.run(context)
    }

    /// Goes on with an `/authorize` request for a signed-in user: runs the post-login flow and ends with a code, or
    /// with the browser sent where an Action asked, or to the second-factor page.
    /// Throws ``PostLoginDenied`` when an Action denies the sign-in.
    /// A sign-in that just checked a password gives its `user` (counted, not yet written) and its `batch`; the step
    /// that ends the flow commits the batch with its own write.
    public func proceed(with request: AuthorizationRequest, session: Session, ip: String, userAgent: String? = nil,
                        rememberedBrowser: String? = nil, user signedIn: User? = nil, batch: WriteBatch? = nil) async throws -> SignInStep {
        let user: User
        if let signedIn { user = signedIn } else { user = try await tenant.users.get(session.userID) }
        let result = try await runPostLogin(user: user, clientID: request.clientID, request: request, scopes: try await grantedScopes(request),
                                            audience: request.audience, ip: ip, protocolName: "oidc-basic-profile",
                                            userAgent: userAgent, session: session, batch: batch)
        return try await next(after: result, request: request, session: session, rememberedBrowser: rememberedBrowser, batch: batch)
    }

    /// Resumes a flow paused by a redirect Action, at `/continue`: the same Action's `onContinuePostLogin` and then
    /// the rest of the flow run. Nil when `state` is unknown, used, expired, or another session's.
    public func resume(_ continuation: PostLoginContinuation, session: Session, ip: String, userAgent: String?,
                       rememberedBrowser: String? = nil) async throws -> (AuthorizationRequest, Result<SignInStep, PostLoginDenied>)? {
        guard let paused = try await pausedSignIns.take(continuation.state, kind: .redirect, session: session),
              let record = paused.resume else { return nil }
        let request = paused.request
        do {
            let user = try await tenant.users.get(session.userID)
            let client = try await tenant.clients.get(request.clientID)
            var context = PostLoginContext(user: user, client: client, request: request, scopes: try await grantedScopes(request),
                                           audience: request.audience, ip: ip, protocolName: "oidc-basic-profile",
                                           userAgent: userAgent, session: session)
            context.continuation = continuation
            let result = try await hook.resume(context, from: record)
            return (request, .success(try await next(after: result, request: request, session: session, rememberedBrowser: rememberedBrowser)))
        } catch let denied as PostLoginDenied {
            return (request, .failure(denied))
        }
    }

    /// What a code (or recovery code) given on the second-factor page amounts to.
    public enum SecondFactorOutcome: Sendable, Equatable {
        /// The enrolled authenticator's code: the sign-in may complete.
        case accepted
        /// The first code of an enrolment, or a recovery code: accepted, and this new recovery code is to be shown once.
        case acceptedWithNewRecoveryCode(String)
        case wrong
        /// Too many wrong codes lately: nothing is checked until the window passes.
        case throttled
    }

    /// Checks a second factor for `userID`: a code from the authenticator app (confirming an enrolment in progress)
    /// or a recovery code. Wrong ones are counted per user, from any address; five in 15 minutes throttle.
    public func verifySecondFactor(userID: String, code: String?, recoveryCode: String?) async throws -> SecondFactorOutcome {
        let methods = tenant.authenticationMethods
        if try await multifactorThrottle.isThrottled(userID: userID, ip: Self.multifactorThrottleKey) { return .throttled }
        var outcome = SecondFactorOutcome.wrong
        if let code, !code.isEmpty {
            let enrolling = try await methods.pendingTOTPSecret(userID: userID) != nil
            if try await methods.verifyTOTP(userID: userID, code: code) {
                outcome = enrolling ? .acceptedWithNewRecoveryCode(try await methods.issueRecoveryCode(userID: userID)) : .accepted
            }
        } else if let recoveryCode, !recoveryCode.isEmpty, try await methods.hasConfirmedTOTP(userID: userID),
                  try await methods.useRecoveryCode(userID: userID, code: recoveryCode) {
            outcome = .acceptedWithNewRecoveryCode(try await methods.issueRecoveryCode(userID: userID))
        }
        guard outcome == .wrong else {
            try await multifactorThrottle.reset(userID: userID, ip: Self.multifactorThrottleKey)
            return outcome
        }
        try await multifactorThrottle.recordFailure(userID: userID, ip: Self.multifactorThrottleKey)
        return try await multifactorThrottle.isThrottled(userID: userID, ip: Self.multifactorThrottleKey) ? .throttled : .wrong
    }

    /// Failed second-factor codes count per user, from any address: the throttle's address is this fixed key.
    static let multifactorThrottleKey = "mfa"

    /// Ends a sign-in whose second factor was given: the session records `mfa`, and the code carries `amr`.
    public func completeMultifactor(_ paused: PausedSignIn, session: Session) async throws -> String {
        let session = try await sessions.record("mfa", in: session)
        var result = paused.result
        result.multifactor = nil
        result.authenticationMethods = ["mfa"]
        return try await issueCode(paused.request, session: session, result: result)
    }

    /// Where a sign-in goes once the flow has run (or resumed): elsewhere if an Action paused it, to the second factor
    /// if one was asked for and this browser is not remembered, else back to the application with a code.
    func next(after result: PostLoginResult, request: AuthorizationRequest, session: Session,
              rememberedBrowser: String?, batch: WriteBatch? = nil) async throws -> SignInStep {
        var session = session
        var result = result
        for method in result.recordedMethods { session = try await sessions.record(method, in: session, batch: batch) }
        result.recordedMethods = []
        if let pause = result.pause {
            let (state, _) = try await pausedSignIns.create(.redirect, session: session, request: request, result: result,
                                                            resume: pause.resume, committing: batch)
            return .redirect(Self.location(pause.url, query: pause.query, state: state))
        }
        if let multifactor = result.multifactor {
            var remembered = false
            if multifactor.allowRememberBrowser { remembered = try await browsers.isRemembered(rememberedBrowser, userID: session.userID) }
            if !remembered {
                let (state, csrf) = try await pausedSignIns.create(.multifactor, session: session, request: request, result: result,
                                                                   resume: nil, committing: batch)
                return .multifactor(state: state, csrf: csrf)
            }
        }
        result.multifactor = nil
        // A session whose user gave a second factor was authenticated with it: single sign-on says so too.
        if session.methods.contains(where: { $0.name == "mfa" }) { result.authenticationMethods = ["mfa"] }
        return .code(try await issueCode(request, session: session, result: result, batch: batch))
    }

    func issueCode(_ request: AuthorizationRequest, session: Session, result: PostLoginResult,
                   batch: WriteBatch? = nil) async throws -> String {
        let grant = GrantRecord(familyID: RandomToken.base64URL(bytes: 12), clientID: request.clientID, userID: session.userID,
                                scopes: try await grantedScopes(request), audience: request.audience, sessionID: session.id,
                                authTime: session.authTime, nonce: request.nonce, customClaims: result.stored)
        return try await codes.issue(grant, request: request, committing: batch)
    }

    /// The scopes asked for, without `offline_access` when the API does not allow it.
    func grantedScopes(_ request: AuthorizationRequest) async throws -> [String] {
        var scopes = request.scopes
        if scopes.contains(.offlineAccess), let audience = request.audience,
           let server = try await tenant.resourceServers.find(audience), !server.allowOfflineAccess {
            scopes.removeAll { $0 == OpenIDScope.offlineAccess.rawValue }
        }
        return scopes
    }

    /// The Action's URL with its query and the state to come back with (Auth0 adds `state` last).
    static func location(_ url: String, query: [String: String], state: String) -> String {
        var components = URLComponents(string: url) ?? URLComponents()
        let added = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } + [URLQueryItem(name: "state", value: state)]
        components.queryItems = (components.queryItems ?? []) + added
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string ?? url
    }

    /// A bcrypt hash of a random password, verified against when the email is unknown.
    static let decoyHash = Bcrypt.hash(RandomToken.hex(bytes: 16), cost: 10)
}
