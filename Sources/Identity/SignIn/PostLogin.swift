import Foundation
import IdentityManagement
import TesseraCore
import TesseraStore

/// What a post-login hook (the Actions flow) sees: the user, the application, and the request being completed.
public struct PostLoginContext: Sendable {
    public let user: User
    public let client: Client
    public let request: AuthorizationRequest?
    public let scopes: [String]
    public let audience: String?
    public let ip: String
    public let protocolName: String
    /// The browser's `User-Agent`, when the sign-in came through one.
    public var userAgent: String? = nil
    /// The session the sign-in belongs to (its id and when its user authenticated); nil for grants without one.
    public var session: Session? = nil
    /// Set when the sign-in resumes at `/continue` after an Action sent the browser elsewhere.
    public var continuation: PostLoginContinuation? = nil
    /// The sign-in's writes so far, when it commits them all at its end: the hook adds its own (metadata changes,
    /// the execution record) instead of committing them apart.
    public var batch: WriteBatch? = nil

    /// Only a sign-in a browser is taking part in can be sent to another site: not a token grant, not `prompt=none`.
    public var canRedirect: Bool { request.map { $0.prompt != "none" } ?? false }
}

/// What the browser brought back to `/continue`: the state it was given and the other parameters.
public struct PostLoginContinuation: Sendable, Equatable {
    public let state: String
    public let method: String
    public let query: [String: String]
    public let body: [String: String]

    public init(state: String, method: String, query: [String: String], body: [String: String]) {
        self.state = state
        self.method = method
        self.query = query
        self.body = body
    }
}

/// `api.multifactor.enable(provider, {allowRememberBrowser})`: a second factor before the sign-in completes.
public struct MultifactorRequirement: Sendable, Equatable {
    public var provider: String
    public var allowRememberBrowser: Bool

    public init(provider: String, allowRememberBrowser: Bool) {
        self.provider = provider
        self.allowRememberBrowser = allowRememberBrowser
    }
}

/// `api.redirect.sendUserTo(url, {query})`: the flow stops here; `resume` is the hook's own record of where it was,
/// handed back to ``PostLoginHook/resume(_:from:)`` when the browser returns.
public struct PostLoginPause: Sendable, Equatable {
    public var url: String
    public var query: [String: String]
    public var resume: JSONValue

    public init(url: String, query: [String: String], resume: JSONValue) {
        self.url = url
        self.query = query
        self.resume = resume
    }
}

/// What a post-login hook decided: claims to add to the tokens, scope changes, or a denial.
public struct PostLoginResult: Sendable, Equatable {
    public var idTokenClaims: [String: JSONValue] = [:]
    public var accessTokenClaims: [String: JSONValue] = [:]
    public var addedScopes: [String] = []
    public var removedScopes: [String] = []
    /// A second factor an Action asked for; the sign-in completes only after it.
    public var multifactor: MultifactorRequirement?
    /// How the user authenticated beyond the password (`mfa`), for the ID token's `amr`.
    public var authenticationMethods: [String] = []
    /// `api.authentication.recordMethod`: methods an Action vouches for, recorded in the session.
    public var recordedMethods: [String] = []
    /// An Action sent the browser elsewhere; never stored with a grant.
    public var pause: PostLoginPause?

    public init(idTokenClaims: [String: JSONValue] = [:], accessTokenClaims: [String: JSONValue] = [:],
                addedScopes: [String] = [], removedScopes: [String] = [], multifactor: MultifactorRequirement? = nil) {
        self.idTokenClaims = idTokenClaims
        self.accessTokenClaims = accessTokenClaims
        self.addedScopes = addedScopes
        self.removedScopes = removedScopes
        self.multifactor = multifactor
    }

    /// Stored with the authorization code and refresh tokens, so the tokens minted later carry it, and with a
    /// paused sign-in, so a flow that resumes goes on from what the earlier Actions decided.
    public var stored: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .object(idTokenClaims), "access": .object(accessTokenClaims),
            "add": .array(addedScopes.map(JSONValue.string)), "remove": .array(removedScopes.map(JSONValue.string)),
        ]
        if let multifactor {
            fields["mfa"] = .object(["provider": .string(multifactor.provider), "remember": .bool(multifactor.allowRememberBrowser)])
        }
        if !authenticationMethods.isEmpty { fields["amr"] = .array(authenticationMethods.map(JSONValue.string)) }
        if !recordedMethods.isEmpty { fields["recorded"] = .array(recordedMethods.map(JSONValue.string)) }
        return .object(fields)
    }

    public init(stored: JSONValue?) {
        guard let fields = stored?.objectValue else { return }
        idTokenClaims = fields["id"]?.objectValue ?? [:]
        accessTokenClaims = fields["access"]?.objectValue ?? [:]
        if case .array(let items)? = fields["add"] { addedScopes = items.compactMap(\.stringValue) }
        if case .array(let items)? = fields["remove"] { removedScopes = items.compactMap(\.stringValue) }
        if case .array(let items)? = fields["amr"] { authenticationMethods = items.compactMap(\.stringValue) }
        if case .array(let items)? = fields["recorded"] { recordedMethods = items.compactMap(\.stringValue) }
        if let mfa = fields["mfa"]?.objectValue, let provider = mfa["provider"]?.stringValue {
            multifactor = MultifactorRequirement(provider: provider, allowRememberBrowser: mfa["remember"] == .bool(true))
        }
    }
}

/// A hook denied the sign-in (`api.access.deny(reason)`): it ends with `access_denied` at the redirect URI.
public struct PostLoginDenied: Error, Equatable, Sendable {
    public let description: String
    /// `api.session.revoke(reason)`: the browser's session ends too.
    public let revokesSession: Bool

    public init(_ description: String, revokesSession: Bool = false) {
        self.description = description
        self.revokesSession = revokesSession
    }
}

/// Runs once per sign-in, after the user is known and before a code or token is issued.
/// This is where post-login Actions plug in.
public protocol PostLoginHook: Sendable {
    func run(_ context: PostLoginContext) async throws -> PostLoginResult
    /// Goes on with a flow an Action paused (``PostLoginResult/pause``), from the hook's own record of it.
    func resume(_ context: PostLoginContext, from pause: JSONValue) async throws -> PostLoginResult
}

public struct NoPostLoginHook: PostLoginHook {
    public init() {}
    public func run(_ context: PostLoginContext) async throws -> PostLoginResult { PostLoginResult() }
    public func resume(_ context: PostLoginContext, from pause: JSONValue) async throws -> PostLoginResult { PostLoginResult() }
}

/// Claims an Action may not set, as Auth0 lists them; they are dropped (and the drop is logged by the hook).
public enum ReservedClaims {
    public static let names: Set<String> = [
        "acr", "amr", "at_hash", "aud", "auth_time", "azp", "c_hash", "cnf", "dest", "events", "exp", "gty", "iat",
        "iss", "jti", "mky", "nbf", "nonce", "org_id", "org_name", "orig", "permissions", "rph", "scope", "sid",
        "sip_callid", "sip_cseq_num", "sip_date", "sip_from_tag", "sip_via_branch", "sub", "sub_jwk", "toe", "txn",
        "vot", "vtm",
    ]
}
