import Foundation
import IdentityManagement
import TesseraCore

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
}

/// What a post-login hook decided: claims to add to the tokens, scope changes, or a denial.
public struct PostLoginResult: Sendable, Equatable {
    public var idTokenClaims: [String: JSONValue] = [:]
    public var accessTokenClaims: [String: JSONValue] = [:]
    public var addedScopes: [String] = []
    public var removedScopes: [String] = []

    public init(idTokenClaims: [String: JSONValue] = [:], accessTokenClaims: [String: JSONValue] = [:],
                addedScopes: [String] = [], removedScopes: [String] = []) {
        self.idTokenClaims = idTokenClaims
        self.accessTokenClaims = accessTokenClaims
        self.addedScopes = addedScopes
        self.removedScopes = removedScopes
    }

    /// Stored with the authorization code and refresh tokens, so the tokens minted later carry it.
    var stored: JSONValue {
        .object(["id": .object(idTokenClaims), "access": .object(accessTokenClaims),
                 "add": .array(addedScopes.map(JSONValue.string)), "remove": .array(removedScopes.map(JSONValue.string))])
    }

    init(stored: JSONValue?) {
        guard let fields = stored?.objectValue else { return }
        idTokenClaims = fields["id"]?.objectValue ?? [:]
        accessTokenClaims = fields["access"]?.objectValue ?? [:]
        if case .array(let items)? = fields["add"] { addedScopes = items.compactMap(\.stringValue) }
        if case .array(let items)? = fields["remove"] { removedScopes = items.compactMap(\.stringValue) }
    }
}

/// A hook denied the sign-in (`api.access.deny(reason)`): it ends with `access_denied` at the redirect URI.
public struct PostLoginDenied: Error, Equatable, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Runs once per sign-in, after the user is known and before a code or token is issued.
/// This is where post-login Actions plug in.
public protocol PostLoginHook: Sendable {
    func run(_ context: PostLoginContext) async throws -> PostLoginResult
}

public struct NoPostLoginHook: PostLoginHook {
    public init() {}
    public func run(_ context: PostLoginContext) async throws -> PostLoginResult { PostLoginResult() }
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
