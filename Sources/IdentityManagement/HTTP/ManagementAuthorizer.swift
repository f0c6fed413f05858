import Hummingbird
import TesseraCore
import TesseraHTTP
import TesseraTokens

/// Checks a Management API call's bearer token: ours, for the Management API audience, with a scope the call needs.
public struct ManagementAuthorizer: Sendable {
    let tokens: TokenService
    let audience: String

    public init(tokens: TokenService) {
        self.tokens = tokens
        self.audience = ManagementScopes.audience(issuer: tokens.issuer)
    }

    @discardableResult
    public func authorize(_ request: Request, anyOf scopes: [ManagementScope]) async throws -> ClaimSet {
        guard let token = request.bearerToken else {
            throw DomainError(.unauthenticated, code: "missing_authentication", "Missing authentication")
        }
        let claims = try await tokens.verify(token, audience: audience)
        let granted = Set(claims.scopes)
        guard scopes.contains(where: { granted.contains($0.rawValue) }) else {
            throw DomainError(.forbidden, code: "insufficient_scope",
                              "Insufficient scope, expected any of: \(scopes.map(\.rawValue).joined(separator: ","))")
        }
        return claims
    }
}
