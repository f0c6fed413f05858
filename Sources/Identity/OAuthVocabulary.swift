import HTTPTypes

/// The error codes of OAuth 2.0 and OpenID Connect that Tessera answers, each spelled once.
public enum OAuthErrorCode: String, Sendable, Equatable, CaseIterable {
    // RFC 6749 §5.2 (token endpoint) and §4.1.2.1 (authorization endpoint)
    case invalidRequest = "invalid_request"
    case invalidClient = "invalid_client"
    case invalidGrant = "invalid_grant"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    case unsupportedResponseType = "unsupported_response_type"
    case invalidScope = "invalid_scope"
    case accessDenied = "access_denied"
    case serverError = "server_error"
    case temporarilyUnavailable = "temporarily_unavailable"
    // OpenID Connect Core §3.1.2.6
    case loginRequired = "login_required"
    case interactionRequired = "interaction_required"
    // Auth0's answer to a password grant whose flow asked for a second factor
    case mfaRequired = "mfa_required"
    // RFC 6750 §3.1 (bearer tokens at /userinfo)
    case invalidToken = "invalid_token"

    /// The token endpoint's status for each code (RFC 6749 §5.2): a client that fails to authenticate is 401, a
    /// client or user that is known but refused is 403 (Auth0 answers `unauthorized_client` and `access_denied` so),
    /// every other mistake in the request is 400.
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidClient, .invalidToken: .unauthorized
        case .accessDenied, .unauthorizedClient, .mfaRequired: .forbidden
        case .serverError: .internalServerError
        case .temporarilyUnavailable: .serviceUnavailable
        default: .badRequest
        }
    }
}

/// An OAuth 2.0 error (RFC 6749 §5.2): a registered code and a description for people.
public struct OAuthError: Error, Equatable, Sendable {
    public let code: OAuthErrorCode
    public let description: String

    public init(_ code: OAuthErrorCode, _ description: String) {
        self.code = code
        self.description = description
    }

    public static func invalidRequest(_ description: String) -> OAuthError { OAuthError(.invalidRequest, description) }
    public static func invalidClient(_ description: String) -> OAuthError { OAuthError(.invalidClient, description) }
    public static func invalidGrant(_ description: String) -> OAuthError { OAuthError(.invalidGrant, description) }
    public static func unauthorizedClient(_ description: String) -> OAuthError { OAuthError(.unauthorizedClient, description) }
    public static func accessDenied(_ description: String) -> OAuthError { OAuthError(.accessDenied, description) }
    public static func invalidScope(_ description: String) -> OAuthError { OAuthError(.invalidScope, description) }
    public static func unsupportedGrantType(_ description: String) -> OAuthError {
        OAuthError(.unsupportedGrantType, description)
    }
}

/// The OpenID Connect scopes a sign-in may ask for (OIDC Core §5.4 and §11), each spelled once.
public enum OpenIDScope: String, Sendable, CaseIterable {
    case openid
    case profile
    case email
    case offlineAccess = "offline_access"
}

extension Array where Element == String {
    /// Whether a scope list holds one of OpenID Connect's scopes.
    func contains(_ scope: OpenIDScope) -> Bool { contains(scope.rawValue) }
}
