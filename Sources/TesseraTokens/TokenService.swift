import Foundation
import _CryptoExtras
import JWTKit
import TesseraCore

/// Signs tokens with the tenant's current key and verifies tokens the tenant issued.
public struct TokenService: Sendable {
    public let issuer: String
    public let keyRing: KeyRing
    public let clock: TesseraClock
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public let leeway: TimeInterval

    public init(issuer: String, keyRing: KeyRing, clock: TesseraClock = .system, leeway: TimeInterval = 30) {
        self.issuer = issuer
        self.keyRing = keyRing
        self.clock = clock
        self.leeway = leeway
    }

    public func signRS256(_ claims: ClaimSet) async throws -> String {
        let snapshot = try await keyRing.current()
        return try JWS.rs256(claims, kid: snapshot.currentKid, key: snapshot.signingKey)
    }

    /// HS256 with a shared secret (APIs whose signing algorithm is HS256).
    public func signHS256(_ claims: ClaimSet, secret: String) throws -> String {
        try JWS.hs256(claims, secret: secret)
    }

    /// Verifies an RS256 token this tenant issued for `audience`, and returns its claims.
    public func verify(_ token: String, audience: String) async throws -> ClaimSet {
        let claims = try await verifySignatureAndIssuer(token)
        try checkTimes(claims)
        guard claims.audiences.contains(audience) else {
            throw Self.invalid("Invalid token: audience is not \(audience)")
        }
        return claims
    }

    /// An ID token this tenant issued, expired or not (OIDC allows an expired `id_token_hint` at logout).
    public func verifyIDToken(_ token: String) async throws -> ClaimSet {
        try await verifySignatureAndIssuer(token)
    }

    private func verifySignatureAndIssuer(_ token: String) async throws -> ClaimSet {
        let header = try Self.header(of: token)
        guard header.alg == "RS256" else {
            throw Self.invalid("Invalid token: algorithm \(header.alg ?? "none") is not accepted (expected RS256)")
        }
        let snapshot = try await keyRing.current()
        guard let kid = header.kid, snapshot.keys.contains(where: { $0.kid == kid && $0.state.isPublished }) else {
            throw Self.invalid("Invalid token: unknown signing key (kid)")
        }
        let claims: ClaimSet
        do {
            claims = try await snapshot.collection.verify(token, as: ClaimSet.self)
        } catch {
            throw Self.invalid("Invalid token: signature verification failed")
        }
        guard claims.string("iss") == issuer else {
            throw Self.invalid("Invalid token: issuer is not \(issuer)")
        }
        return claims
    }

    private func checkTimes(_ claims: ClaimSet) throws {
        let now = clock.now().timeIntervalSince1970
        guard let exp = claims.seconds("exp") else { throw Self.invalid("Invalid token: exp is missing") }
        guard Double(exp) + leeway > now else { throw Self.invalid("Invalid token: the token has expired") }
        if let nbf = claims.seconds("nbf"), Double(nbf) - leeway > now {
            throw Self.invalid("Invalid token: the token is not valid yet (nbf)")
        }
    }

    private struct Header: Decodable {
        let alg: String?
        let kid: String?
    }

    private static func header(of token: String) throws -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[0])),
              let header = try? JSONDecoder().decode(Header.self, from: data)
        else {
            throw invalid("Invalid token: not a JWT (expected three base64url parts)")
        }
        return header
    }

    static func invalid(_ message: String) -> DomainError {
        DomainError(.unauthenticated, code: "invalid_token", message)
    }
}

/// `tessera speed rs256`: how many RS256 tokens this machine signs per second on all cores through
/// Tessera's own signing path, the ceiling for token endpoints (compare with `openssl speed rsa2048`).
public enum SigningSpeed {
    public static func measure(seconds: Double, tasks: Int) async throws -> Double {
        let key = try RSASigningKey(pem: try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
        let claims = ClaimSet(["iss": .string("https://speed.test/"), "sub": .string("client@clients"),
                               "aud": .string("https://api.test/"), "iat": .number(1), "exp": .number(2)])
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        let start = clock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var count = 0
                    while clock.now < deadline {
                        _ = try JWS.rs256(claims, kid: "speed", key: key)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = start.duration(to: clock.now)
        return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
