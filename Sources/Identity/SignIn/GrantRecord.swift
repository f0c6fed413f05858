import TesseraCore

/// What an authorization code or refresh token stands for.
public struct GrantRecord: Sendable, Equatable {
    public var familyID: String
    public var clientID: String
    public var userID: String
    public var scopes: [String]
    public var audience: String?
    public var sessionID: String?
    public var authTime: Int
    public var nonce: String?
    /// What post-login Actions added, as ``PostLoginResult`` stores it.
    public var customClaims: JSONValue?
}
