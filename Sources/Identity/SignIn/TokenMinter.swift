import Foundation
import IdentityManagement
import TesseraCore
import TesseraTokens

/// Builds and signs the ID token and access token of a user sign-in, with Auth0's claims.
public struct TokenMinter: Sendable {
    let tenant: Tenant
    let tokens: TokenService
    let clock: TesseraClock
    static let idTokenLifetime = 36_000
    static let userinfoOnlyLifetime = 86_400

    public init(tenant: Tenant, tokens: TokenService, clock: TesseraClock) {
        self.tenant = tenant
        self.tokens = tokens
        self.clock = clock
    }

    public struct Minted: Sendable {
        public let accessToken: String
        public let idToken: String?
        public let expiresIn: Int
        public let scope: String
    }

    /// The scopes a user's token gets of those asked for. On the Management API asking is not enough: only the
    /// scopes the user's roles grant there pass (Auth0 gives users none of its Management API but their own
    /// profile's), besides OpenID Connect's. Other APIs get what was asked, as Auth0 does without RBAC.
    static func userScopes(_ asked: [String], on server: ResourceServer?, permissions: [String]) -> [String] {
        guard let server, server.isSystem else { return asked }
        let held = Set(permissions)
        return asked.filter { OpenIDScope(rawValue: $0) != nil || held.contains($0) }
    }

    public func mint(for grant: GrantRecord, client: Client) async throws -> Minted {
        let user = try await tenant.users.get(grant.userID)
        let now = clock.now()
        let issuer = tokens.issuer
        var server: ResourceServer?
        if let audience = grant.audience { server = try await tenant.resourceServers.find(audience) }
        let lifetime = server?.tokenLifetime ?? Self.userinfoOnlyLifetime
        let custom = PostLoginResult(stored: grant.customClaims)
        var permissions: [String] = []
        if let server { permissions = try await tenant.roles.permissions(ofUser: user.userID, audience: server.identifier) }
        let requested = Self.userScopes(grant.scopes, on: server, permissions: permissions)
        let scopes = (requested + custom.addedScopes.filter { !requested.contains($0) })
            .filter { !custom.removedScopes.contains($0) }
        let scope = scopes.joined(separator: " ")

        var access = ClaimSet([
            "iss": .string(issuer), "sub": .string(user.userID),
            "iat": .seconds(now), "exp": .seconds(now.addingTimeInterval(TimeInterval(lifetime))),
            "azp": .string(client.clientID), "scope": .string(scope), "jti": .string(RandomToken.base64URL(bytes: 16)),
        ])
        if let server {
            access["aud"] = grant.scopes.contains(.openid)
                ? .array([.string(server.identifier), .string(issuer + "userinfo")]) : .string(server.identifier)
            access["permissions"] = .array(permissions.map(JSONValue.string))
        } else {
            access["aud"] = .string(issuer + "userinfo")
        }
        if let sid = grant.sessionID { access["sid"] = .string(sid) }

        var id = ClaimSet()
        if grant.scopes.contains(.openid) {
            id = ClaimSet([
                "iss": .string(issuer), "sub": .string(user.userID), "aud": .string(client.clientID),
                "iat": .seconds(now), "exp": .seconds(now.addingTimeInterval(TimeInterval(Self.idTokenLifetime))),
                "auth_time": .number(Double(grant.authTime)),
            ])
            if let nonce = grant.nonce { id["nonce"] = .string(nonce) }
            // Auth0 names a second factor given during this sign-in so: `amr: ["mfa"]`.
            if !custom.authenticationMethods.isEmpty { id["amr"] = .array(custom.authenticationMethods.map(JSONValue.string)) }
            if let sid = grant.sessionID { id["sid"] = .string(sid) }
            for (key, value) in Self.profileClaims(user, scopes: grant.scopes) { id[key] = value }
        }

        // Claims from post-login Actions, never overriding the reserved ones.
        for (name, value) in custom.accessTokenClaims where !ReservedClaims.names.contains(name) { access[name] = value }
        for (name, value) in custom.idTokenClaims where !ReservedClaims.names.contains(name) { id[name] = value }
        let accessToken: String
        if let server, server.signingAlg == "HS256", let secret = server.signingSecret {
            accessToken = try tokens.signHS256(access, secret: secret)
        } else {
            accessToken = try await tokens.signRS256(access)
        }
        var idToken: String?
        if grant.scopes.contains(.openid) {
            var idClaims = id
            idClaims["at_hash"] = .string(Self.leftHalfHash(accessToken))
            idToken = try await tokens.signRS256(idClaims)
        }
        return Minted(accessToken: accessToken, idToken: idToken, expiresIn: lifetime, scope: scope)
    }

    /// OIDC's standard claims for the `profile` and `email` scopes.
    public static func profileClaims(_ user: User, scopes: [String]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [:]
        if scopes.contains(.profile) {
            let fields: [(String, String?)] = [
                ("name", user.name), ("nickname", user.nickname), ("picture", user.picture),
                ("given_name", user.givenName), ("family_name", user.familyName), ("updated_at", user.updatedAt),
            ]
            for (key, value) in fields { if let value { claims[key] = .string(value) } }
        }
        if scopes.contains(.email), let email = user.email {
            claims["email"] = .string(email)
            claims["email_verified"] = .bool(user.emailVerified)
        }
        return claims
    }

    /// OIDC `at_hash`: base64url of the left half of SHA-256 of the access token.
    static func leftHalfHash(_ token: String) -> String {
        let full = Data(base64URLEncoded: OpaqueSecret.sha256Base64URL(token)) ?? Data()
        return Data(full.prefix(16)).base64URLEncoded()
    }
}
