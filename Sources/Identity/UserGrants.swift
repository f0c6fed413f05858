import Foundation
import IdentityManagement
import TesseraCore
import TesseraStore
import TesseraTokens

extension TokenResponse {
    init(_ minted: TokenMinter.Minted, refreshToken: String?) {
        self.init(accessToken: minted.accessToken, expiresIn: minted.expiresIn, scope: minted.scope)
        self.idToken = minted.idToken
        self.refreshToken = refreshToken
    }
}

/// The token endpoint's user grants: `authorization_code`, `refresh_token` and `password`.
public struct UserGrants: Sendable {
    let signIn: SignInService

    public init(signIn: SignInService) {
        self.signIn = signIn
    }

    var tenant: Tenant { signIn.tenant }

    /// Public clients name themselves; confidential ones must prove it with their secret.
    func authenticateClient(id: String, secret: String?) async throws -> Client {
        guard let client = try? await tenant.clients.get(id) else {
            throw OAuthError.invalidClient("Unknown client or wrong client secret")
        }
        if client.tokenEndpointAuthMethod == "none" && secret == nil { return client }
        guard let secret, try await tenant.clients.authenticate(clientID: id, secret: secret) != nil else {
            throw OAuthError.invalidClient("Unknown client or wrong client secret")
        }
        return client
    }

    public func authorizationCode(clientID: String, clientSecret: String?, code: String?, redirectURI: String?,
                                  verifier: String?) async throws -> TokenResponse {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard let code, !code.isEmpty else { throw OAuthError.invalidRequest("Missing required parameter: code") }
        guard client.grantTypes.contains(.authorizationCode) else {
            throw OAuthError.unauthorizedClient("Grant type 'authorization_code' not allowed for the client.")
        }
        if client.tokenEndpointAuthMethod == "none" && verifier == nil {
            throw OAuthError.invalidRequest("Missing required parameter: code_verifier")
        }
        switch try await signIn.codes.redeem(code, clientID: clientID, redirectURI: redirectURI, verifier: verifier) {
        case .failure(.replayed(let familyID)):
            try await signIn.refreshTokens.revokeFamily(familyID)
            throw OAuthError.invalidGrant("Invalid authorization code (already used; tokens issued with it are revoked)")
        case .failure(.pkceMismatch):
            throw OAuthError.invalidGrant("Failed to verify code verifier")
        case .failure(.redirectMismatch):
            throw OAuthError.invalidGrant("redirect_uri does not match the one of the authorization request")
        case .failure(.expired):
            throw OAuthError.invalidGrant("Authorization code has expired")
        case .failure:
            throw OAuthError.invalidGrant("Invalid authorization code")
        case .success(let grant):
            return try await respond(grant, client: client)
        }
    }

    public func refresh(clientID: String, clientSecret: String?, token: String?, scope: String?) async throws -> TokenResponse {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard let token, !token.isEmpty else { throw OAuthError.invalidRequest("Missing required parameter: refresh_token") }
        guard client.grantTypes.contains(.refreshToken) else {
            throw OAuthError.unauthorizedClient("Grant type 'refresh_token' not allowed for the client.")
        }
        switch try await signIn.refreshTokens.rotate(token, clientID: clientID) {
        case .failure(.reused):
            throw OAuthError.invalidGrant("Unknown or invalid refresh token (reuse detected; the token family is revoked)")
        case .failure:
            throw OAuthError.invalidGrant("Unknown or invalid refresh token.")
        case .success(let (grant, successor)):
            var narrowed = grant
            if let scope {
                let asked = scope.split(separator: " ").map(String.init)
                guard asked.allSatisfy(grant.scopes.contains) else {
                    throw OAuthError.invalidScope("A refresh can only narrow the scopes of the original grant")
                }
                narrowed.scopes = asked
            }
            let user = try await tenant.users.get(grant.userID)
            guard !user.blocked else { throw OAuthError.invalidGrant("user is blocked") }
            let minted = try await signIn.minter.mint(for: narrowed, client: client)
            return TokenResponse(minted, refreshToken: successor)
        }
    }

    /// The resource owner password grant, only for applications that enable it.
    public func password(clientID: String, clientSecret: String?, username: String?, password: String?,
                         scope: String?, audience: String?, ip: String) async throws -> TokenResponse {
        let client = try await authenticateClient(id: clientID, secret: clientSecret)
        guard client.grantTypes.contains(.password) else {
            throw OAuthError.unauthorizedClient("Grant type 'password' not allowed for the client.")
        }
        guard let username, let password else { throw OAuthError.invalidRequest("username and password are required") }
        if let audience, try await tenant.resourceServers.find(audience)?.identifier != audience {
            throw OAuthError.accessDenied("Service not found: \(audience)")
        }
        // The login, the Actions' writes and the refresh token commit once.
        let batch = WriteBatch()
        let user: User
        do {
            user = try await signIn.authenticate(email: username, password: password, ip: ip, batch: batch)
        } catch let error as SignInError {
            throw OAuthError(error == .wrongCredentials ? .invalidGrant : .accessDenied, error.message)
        }
        let scopes = (scope ?? OpenIDScope.openid.rawValue).split(separator: " ").map(String.init)
        let custom: JSONValue
        do {
            let result = try await signIn.runPostLogin(user: user, clientID: clientID, request: nil, scopes: scopes,
                                                       audience: audience, ip: ip, protocolName: "oauth2-password", batch: batch)
            // The password grant has no page to ask for a code on: Auth0 answers `mfa_required`.
            if result.multifactor != nil {
                try await signIn.store.commit(batch)
                throw OAuthError(.mfaRequired, "Multifactor authentication required")
            }
            custom = result.stored
        } catch let denied as PostLoginDenied {
            try await signIn.store.commit(batch)
            throw OAuthError.accessDenied(denied.description)
        }
        let grant = GrantRecord(familyID: RandomToken.base64URL(bytes: 12), clientID: clientID, userID: user.userID,
                                scopes: scopes, audience: audience, sessionID: nil,
                                authTime: Int(signIn.clock.now().timeIntervalSince1970), nonce: nil, customClaims: custom)
        return try await respond(grant, client: client, committing: batch)
    }

    /// Tokens for a grant. A sign-in's `batch` is committed first (with the refresh token, if there is one), so the
    /// ID token is minted from the user as the sign-in left them.
    private func respond(_ grant: GrantRecord, client: Client, committing batch: WriteBatch? = nil) async throws -> TokenResponse {
        var refresh: String?
        if grant.scopes.contains(.offlineAccess) && client.grantTypes.contains(.refreshToken) {
            refresh = try await signIn.refreshTokens.issue(grant, committing: batch)
        } else if let batch {
            try await signIn.store.commit(batch)
        }
        let minted = try await signIn.minter.mint(for: grant, client: client)
        return TokenResponse(minted, refreshToken: refresh)
    }
}
