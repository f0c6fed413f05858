import TesseraCore

/// What `/oauth/token` answers on success.
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: String
    public var tokenType = "Bearer"
    public var expiresIn: Int
    public var scope: String?
    public var idToken: String?
    public var refreshToken: String?

    public init(accessToken: String, expiresIn: Int, scope: String?) {
        self.accessToken = accessToken
        self.expiresIn = expiresIn
        self.scope = scope
    }

    /// RFC 6749 §5.1's JSON, written by hand rather than with a Foundation encoder: this is the token endpoint's hot
    /// path (Benchmarks/run.sh measured the encoder's cost), and these are the only place its keys are spelled.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "access_token": .string(accessToken), "token_type": .string(tokenType),
            "expires_in": .number(Double(expiresIn)),
        ]
        if let scope { fields["scope"] = .string(scope) }
        if let idToken { fields["id_token"] = .string(idToken) }
        if let refreshToken { fields["refresh_token"] = .string(refreshToken) }
        return .object(fields)
    }
}
