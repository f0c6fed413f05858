import Foundation
import IdentityManagement
import TesseraCore
import TesseraTokens

/// The client-credentials grant: a confidential client gets an access token for an API
/// it holds a client grant for, with the granted scopes it asked for (all of them when it asked for none).
public struct ClientCredentialsGrant: Sendable {
    let tenant: Tenant
    let tokens: TokenService
    let clock: TesseraClock

    public init(tenant: Tenant, tokens: TokenService, clock: TesseraClock = .system) {
        self.tenant = tenant
        self.tokens = tokens
        self.clock = clock
    }

    public func issue(clientID: String, clientSecret: String, audience: String?, scope: String?) async throws -> TokenResponse {
        let requested = audience ?? ""
        guard let access = try await tenant.clients.machineAccess(clientID: clientID, audience: requested),
              access.authenticates(clientSecret)
        else {
            throw OAuthError.invalidClient("Unauthorized: unknown client or wrong client secret")
        }
        guard access.grantTypes.contains(.clientCredentials) else {
            throw OAuthError.unauthorizedClient("Grant type 'client_credentials' not allowed for the client.")
        }
        guard let audience, !audience.isEmpty else {
            throw OAuthError.accessDenied("No audience parameter was provided, and no default audience has been configured")
        }
        guard let server = access.api else {
            throw OAuthError.accessDenied("Service not found: \(audience)")
        }
        guard let grantedScopes = access.grantedScopes else {
            throw OAuthError.accessDenied(
                "Client is not authorized to access \"\(audience)\". You need to create a \"client-grant\" associated to this API.")
        }
        let granted = try Self.scopes(requested: scope, granted: grantedScopes)
        let now = clock.now()
        var claims = ClaimSet([
            "iss": .string(tokens.issuer),
            "sub": .string("\(clientID)@clients"),
            "aud": .string(audience),
            "iat": .seconds(now),
            "exp": .seconds(now.addingTimeInterval(TimeInterval(server.tokenLifetime))),
            "gty": .string("client-credentials"),
            "azp": .string(clientID),
            "jti": .string(RandomToken.base64URL(bytes: 16)),
        ])
        if !granted.isEmpty { claims["scope"] = .string(granted.joined(separator: " ")) }
        let token: String
        if server.signingAlg == "HS256", let secret = server.signingSecret {
            token = try tokens.signHS256(claims, secret: secret)
        } else {
            token = try await tokens.signRS256(claims)
        }
        return TokenResponse(accessToken: token, expiresIn: server.tokenLifetime,
                             scope: granted.isEmpty ? nil : granted.joined(separator: " "))
    }

    /// The requested scopes the grant allows; any requested scope beyond the grant is an error, as Auth0 answers.
    static func scopes(requested: String?, granted: [String]) throws -> [String] {
        let asked = (requested ?? "").split(separator: " ").map(String.init)
        guard !asked.isEmpty else { return granted }
        let allowed = Set(granted)
        if let extra = asked.first(where: { !allowed.contains($0) }) {
            throw OAuthError.accessDenied("Client has not been granted scopes: \(extra)")
        }
        return asked
    }
}
