/// An OAuth 2.0 error (RFC 6749 §5.2): a registered code and a description for people.
public struct OAuthError: Error, Equatable, Sendable {
    public let error: String
    public let description: String

    public init(_ error: String, _ description: String) {
        self.error = error
        self.description = description
    }

    public static func invalidRequest(_ description: String) -> OAuthError { OAuthError("invalid_request", description) }
    public static func invalidClient(_ description: String) -> OAuthError { OAuthError("invalid_client", description) }
    public static func unauthorizedClient(_ description: String) -> OAuthError { OAuthError("unauthorized_client", description) }
    public static func accessDenied(_ description: String) -> OAuthError { OAuthError("access_denied", description) }
    public static func invalidScope(_ description: String) -> OAuthError { OAuthError("invalid_scope", description) }
    public static func unsupportedGrantType(_ description: String) -> OAuthError {
        OAuthError("unsupported_grant_type", description)
    }
}
