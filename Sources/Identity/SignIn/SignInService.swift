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

/// The sign-in flow's domain: passwords, sessions, codes, and the token grants that end it.
public struct SignInService: Sendable {
    public let tenant: Tenant
    public let transactions: LoginTransactions
    public let sessions: Sessions
    public let codes: AuthorizationCodes
    public let refreshTokens: RefreshTokens
    public let throttle: LoginThrottle
    public let minter: TokenMinter
    let hook: any PostLoginHook
    let clock: TesseraClock

    public init(tenant: Tenant, tokens: TokenService, store: Store, clock: TesseraClock,
                hook: any PostLoginHook = NoPostLoginHook()) {
        self.hook = hook
        self.tenant = tenant
        self.clock = clock
        transactions = LoginTransactions(store: store, clock: clock)
        sessions = Sessions(store: store, clock: clock)
        codes = AuthorizationCodes(store: store, clock: clock)
        refreshTokens = RefreshTokens(store: store, clock: clock)
        throttle = LoginThrottle(store: store, clock: clock)
        minter = TokenMinter(tenant: tenant, tokens: tokens, clock: clock)
    }

    /// Checks a password. Unknown emails cost a bcrypt verification too, so timing does not reveal accounts.
    public func authenticate(email: String, password: String, ip: String) async throws -> User {
        guard let found = try await tenant.users.credentials(email: email), let hash = found.passwordHash else {
            _ = try await tenant.users.verify(password: password, hash: Self.decoyHash)
            throw SignInError.wrongCredentials
        }
        if try await throttle.isThrottled(userID: found.user.userID, ip: ip) { throw SignInError.throttled }
        guard try await tenant.users.verify(password: password, hash: hash) else {
            try await throttle.recordFailure(userID: found.user.userID, ip: ip)
            throw SignInError.wrongCredentials
        }
        guard !found.user.blocked else { throw SignInError.blocked }
        try await throttle.reset(userID: found.user.userID, ip: ip)
        return try await tenant.users.recordLogin(found.user.userID, ip: ip)
    }

    public func signUp(email: String, password: String, ip: String) async throws -> User {
        do {
            let user = try await tenant.users.create(NewUser(email: email, password: password))
            return try await tenant.users.recordLogin(user.userID, ip: ip)
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
                             session: Session? = nil) async throws -> JSONValue {
        let client = try await tenant.clients.get(clientID)
        let result = try await hook.run(PostLoginContext(user: user, client: client, request: request, scopes: scopes,
                                                         audience: audience, ip: ip, protocolName: protocolName,
                                                         userAgent: userAgent, session: session))
        return result.stored
    }

    /// Ends an `/authorize` request for a signed-in user with an authorization code, after the post-login hook.
    /// Throws ``PostLoginDenied`` when an Action denies the sign-in.
    public func issueCode(for request: AuthorizationRequest, session: Session, ip: String, userAgent: String? = nil) async throws -> String {
        var scopes = request.scopes
        if scopes.contains(.offlineAccess), let audience = request.audience,
           let server = try await tenant.resourceServers.find(audience), !server.allowOfflineAccess {
            scopes.removeAll { $0 == OpenIDScope.offlineAccess.rawValue }
        }
        let user = try await tenant.users.get(session.userID)
        let custom = try await runPostLogin(user: user, clientID: request.clientID, request: request, scopes: scopes,
                                            audience: request.audience, ip: ip, protocolName: "oidc-basic-profile",
                                            userAgent: userAgent, session: session)
        let grant = GrantRecord(familyID: RandomToken.base64URL(bytes: 12), clientID: request.clientID, userID: session.userID,
                                scopes: scopes, audience: request.audience, sessionID: session.id,
                                authTime: session.authTime, nonce: request.nonce, customClaims: custom)
        return try await codes.issue(grant, request: request)
    }

    /// A bcrypt hash of a random password, verified against when the email is unknown.
    static let decoyHash = Bcrypt.hash(RandomToken.hex(bytes: 16), cost: 10)
}
