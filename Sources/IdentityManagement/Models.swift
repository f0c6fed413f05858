import TesseraCore

/// Application types, with Auth0's wire names. `m2m` is accepted as a friendlier alias of `non_interactive`.
public enum AppType: String, Codable, Sendable, CaseIterable {
    case spa
    case native
    case regularWeb = "regular_web"
    case nonInteractive = "non_interactive"

    public init?(wire: String) {
        if wire == "m2m" { self = .nonInteractive } else { self.init(rawValue: wire) }
    }

    /// Public clients cannot keep a secret; they authenticate with PKCE instead.
    public var isConfidential: Bool { self == .regularWeb || self == .nonInteractive }

    public var defaultGrantTypes: [GrantType] {
        switch self {
        case .spa, .native: [.authorizationCode, .refreshToken]
        case .regularWeb: [.authorizationCode, .refreshToken, .clientCredentials]
        case .nonInteractive: [.clientCredentials]
        }
    }
}

/// The OAuth 2.0 grant types an application may be allowed, with their wire names (RFC 6749). `implicit` is accepted
/// in an application's list, as Auth0 accepts it, though `/authorize` issues only codes.
public enum GrantType: String, Codable, Sendable, CaseIterable {
    case authorizationCode = "authorization_code"
    case refreshToken = "refresh_token"
    case clientCredentials = "client_credentials"
    case password
    case implicit

    /// The grants `/oauth/token` serves.
    public static let served: [GrantType] = [.authorizationCode, .refreshToken, .clientCredentials, .password]
}

/// An application (Auth0 "client"). The secret itself is never stored, only its SHA-256 digest.
public struct Client: Codable, Sendable, Equatable {
    public var clientID: String
    public var name: String
    public var description: String
    public var appType: AppType
    public var tokenEndpointAuthMethod: String
    public var callbacks: [String]
    public var webOrigins: [String]
    public var allowedOrigins: [String]
    public var allowedLogoutURLs: [String]
    public var grantTypes: [GrantType]
    public var clientMetadata: [String: JSONValue]
    public var isFirstParty: Bool
    public var createdAt: String
    public var updatedAt: String
    /// Present only in the response that creates the client or rotates its secret.
    public var clientSecret: String?

    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", name, description, appType = "app_type"
        case tokenEndpointAuthMethod = "token_endpoint_auth_method", callbacks
        case webOrigins = "web_origins", allowedOrigins = "allowed_origins"
        case allowedLogoutURLs = "allowed_logout_urls", grantTypes = "grant_types"
        case clientMetadata = "client_metadata", isFirstParty = "is_first_party"
        case createdAt = "created_at", updatedAt = "updated_at", clientSecret = "client_secret"
    }
}

public struct ResourceServerScope: Codable, Sendable, Equatable {
    public var value: String
    public var description: String

    public init(value: String, description: String) {
        self.value = value
        self.description = description
    }
}

/// An API (Auth0 "resource server"): the audience tokens are minted for.
public struct ResourceServer: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var identifier: String
    public var signingAlg: String
    public var signingSecret: String?
    public var tokenLifetime: Int
    public var scopes: [ResourceServerScope]
    public var allowOfflineAccess: Bool
    public var isSystem: Bool

    enum CodingKeys: String, CodingKey {
        case id, name, identifier, signingAlg = "signing_alg", signingSecret = "signing_secret"
        case tokenLifetime = "token_lifetime", scopes, allowOfflineAccess = "allow_offline_access"
        case isSystem = "is_system"
    }
}

/// Permission for a client to get client-credentials tokens for an audience, with these scopes.
public struct ClientGrant: Codable, Sendable, Equatable {
    public var id: String
    public var clientID: String
    public var audience: String
    public var scope: [String]

    enum CodingKeys: String, CodingKey {
        case id, clientID = "client_id", audience, scope
    }
}

public struct Role: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
}

public struct RolePermission: Codable, Sendable, Equatable, Hashable {
    public var resourceServerIdentifier: String
    public var permissionName: String

    public init(resourceServerIdentifier: String, permissionName: String) {
        self.resourceServerIdentifier = resourceServerIdentifier
        self.permissionName = permissionName
    }

    enum CodingKeys: String, CodingKey {
        case resourceServerIdentifier = "resource_server_identifier", permissionName = "permission_name"
    }
}

/// A user of the database connection, with Auth0's profile fields.
public struct User: Sendable, Equatable {
    public static let databaseConnection = "Username-Password-Authentication"

    public var userID: String
    public var connection: String
    public var email: String?
    public var emailVerified: Bool
    public var username: String?
    public var name: String?
    public var givenName: String?
    public var familyName: String?
    public var nickname: String?
    public var picture: String?
    public var createdAt: String
    public var updatedAt: String
    public var lastLogin: String?
    public var lastIP: String?
    public var loginsCount: Int
    public var blocked: Bool
    public var appMetadata: [String: JSONValue]
    public var userMetadata: [String: JSONValue]

    /// The user as the Management API shows it: unset fields are left out, as Auth0 does.
    public var profile: [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "user_id": .string(userID),
            "email_verified": .bool(emailVerified),
            "created_at": .string(createdAt),
            "updated_at": .string(updatedAt),
            "logins_count": .number(Double(loginsCount)),
            "blocked": .bool(blocked),
            "app_metadata": .object(appMetadata),
            "user_metadata": .object(userMetadata),
            "identities": .array([.object([
                "connection": .string(connection),
                "provider": .string("auth0"),
                "user_id": .string(userID.split(separator: "|", maxSplits: 1).last.map(String.init) ?? userID),
                "isSocial": .bool(false),
            ])]),
        ]
        let optional: [(String, String?)] = [
            ("email", email), ("username", username), ("name", name), ("given_name", givenName),
            ("family_name", familyName), ("nickname", nickname), ("picture", picture),
            ("last_login", lastLogin), ("last_ip", lastIP),
        ]
        for (key, value) in optional {
            if let value { fields[key] = .string(value) }
        }
        return fields
    }
}
