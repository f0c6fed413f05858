import Foundation
import JWTKit
import Logging
import TesseraCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A JWT's claims as they are: the engine reads its own paths into them.
struct RawClaims: JWTPayload {
    let claims: JSONValue

    init(from decoder: any Decoder) throws {
        claims = try JSONValue(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    // Times, audience and issuer are checked by the verifier, in Hasura's words.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Verifies tokens as Hasura's JWT mode does. A `jwk_url` is fetched on first use (requests wait for it rather than
/// fail), refreshed when `Cache-Control`/`Expires` say, and fetched again, at most every few seconds, when a token
/// names a key it does not hold: a signing key rotated at the issuer never fails a request.
actor JWTVerifier {
    let settings: JWTSettings
    private var keys = JWTKeyCollection()
    /// The `kid`s of the fetched JWKS: jwt-kit falls back to a default key for an unknown one, so the verifier keeps
    /// its own list to know when a token names a key it does not hold.
    private var kids: Set<String> = []
    private var expires: Date?
    private var lastFetch: Date?
    private var inFlight: Task<Void, any Error>?
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// Refetches for unknown keys: at most `refetchBudget` in any `refetchWindow`, so tokens with made-up `kid`s
    /// cannot flood the issuer, while a rotation (however soon after the last fetch) is followed at once.
    static let refetchWindow: TimeInterval = 10
    static let refetchBudget = 3
    private var refetches: [Date] = []

    init(settings: JWTSettings, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) async throws {
        self.settings = settings
        self.logger = logger
        self.now = now
        if case .key(let algorithm, let material) = settings.source {
            try await Self.add(algorithm: algorithm, material: material, to: keys)
        }
    }

    private static func add(algorithm: String, material: String, to keys: JWTKeyCollection) async throws {
        let certificate = material.contains("BEGIN CERTIFICATE")
        switch algorithm {
        case "HS256": await keys.add(hmac: HMACKey(from: material), digestAlgorithm: .sha256)
        case "HS384": await keys.add(hmac: HMACKey(from: material), digestAlgorithm: .sha384)
        case "HS512": await keys.add(hmac: HMACKey(from: material), digestAlgorithm: .sha512)
        case "RS256", "RS384", "RS512":
            let key = certificate ? try Insecure.RSA.PublicKey(certificatePEM: material) : try Insecure.RSA.PublicKey(pem: material)
            let digest: DigestAlgorithm = algorithm == "RS256" ? .sha256 : algorithm == "RS384" ? .sha384 : .sha512
            await keys.add(rsa: key, digestAlgorithm: digest)
        case "ES256": await keys.add(ecdsa: certificate ? try ES256PublicKey(certificate: material) : try ES256PublicKey(pem: material))
        case "ES384": await keys.add(ecdsa: certificate ? try ES384PublicKey(certificate: material) : try ES384PublicKey(pem: material))
        case "ES512": await keys.add(ecdsa: certificate ? try ES512PublicKey(certificate: material) : try ES512PublicKey(pem: material))
        default: await keys.add(eddsa: try EdDSA.PublicKey(pem: material))
        }
    }

    static func failure(_ reason: String) -> HasuraError {
        HasuraError("invalid-jwt", "Could not verify JWT: \(reason)", status: 400)
    }

    /// Tokens verified lately and their claims: a client sends the same token many times, and verifying it again
    /// (RSA, JSON decoding) would cost more than the query. Times, audience and issuer are checked again on every use;
    /// an entry lives a minute at most, and all go when the keys are fetched again.
    private var verified: [String: (claims: JSONValue, until: Date)] = [:]
    static let verifiedLifetime: TimeInterval = 60
    static let verifiedCapacity = 10_000

    /// The verified token's claims.
    func claims(of token: String) async throws(HasuraError) -> JSONValue {
        if let hit = verified[token] {
            if hit.until > now() {
                try check(hit.claims)
                return hit.claims
            }
            verified[token] = nil
        }
        let claims = try await verify(token)
        if verified.count >= Self.verifiedCapacity { verified.removeAll(keepingCapacity: true) }
        var until = now().addingTimeInterval(Self.verifiedLifetime)
        if let expiry = claims.objectValue?["exp"]?.numberValue { until = min(until, Date(timeIntervalSince1970: expiry + Double(settings.allowedSkew))) }
        verified[token] = (claims, until)
        return claims
    }

    private func verify(_ token: String) async throws(HasuraError) -> JSONValue {
        let header = try Self.header(of: token)
        let algorithm = header["alg"]?.stringValue ?? "none"
        // As Hasura does, a token from another issuer is refused as such before any key is looked for: it also
        // cannot spend the JWKS refetch budget with an unknown kid.
        if let issuer = settings.issuer, let claimed = Self.unverifiedIssuer(of: token), claimed != issuer {
            throw Self.failure("JWTNotInIssuer")
        }
        switch settings.source {
        case .key(let configured, _):
            // The configured key decides the algorithm: an HMAC token never meets an RSA key, nor `none` any key.
            let expected = configured == "Ed25519" ? "EdDSA" : configured
            guard algorithm == expected else { throw Self.failure("JWSError JWSInvalidSignature") }
        case .jwkURL:
            guard algorithm != "none", !algorithm.hasPrefix("HS") else { throw Self.failure("JWSError JWSInvalidSignature") }
            let kid = header["kid"]?.stringValue
            try await ensureKeys(kid: kid)
            if let kid, !kids.contains(kid) { throw Self.failure("JWSError NoUsableKeys") }
        }
        let verified: RawClaims
        do {
            verified = try await keys.verify(token, as: RawClaims.self)
        } catch let error as JWTError where error.errorType == .unknownKID || error.errorType == .missingKIDHeader {
            throw Self.failure("JWSError NoUsableKeys")
        } catch {
            throw Self.failure("JWSError JWSInvalidSignature")
        }
        try check(verified.claims)
        return verified.claims
    }

    private func check(_ claims: JSONValue) throws(HasuraError) {
        let fields = claims.objectValue ?? [:]
        let time = now().timeIntervalSince1970
        let skew = Double(settings.allowedSkew)
        if let expiry = fields["exp"]?.numberValue, time > expiry + skew { throw Self.failure("JWTExpired") }
        if let notBefore = fields["nbf"]?.numberValue, time + skew < notBefore { throw Self.failure("JWTNotYetValid") }
        if let audiences = settings.audiences {
            let presented: [String] = switch fields["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
            guard presented.contains(where: audiences.contains) else { throw Self.failure("JWTNotInAudience") }
        }
        if let issuer = settings.issuer, fields["iss"]?.stringValue != issuer { throw Self.failure("JWTNotInIssuer") }
    }

    /// The `iss` a token claims, read before its signature is checked (only to refuse it early).
    private static func unverifiedIssuer(of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncodedJWT: String(parts[1])),
              case .object(let claims)? = try? JSONValue.parse(bytes: Array(data)) else { return nil }
        return claims["iss"]?.stringValue
    }

    private static func header(of token: String) throws(HasuraError) -> [String: JSONValue] {
        let dots = token.utf8.indices.filter { token.utf8[$0] == UInt8(ascii: ".") }
        guard dots.count == 2 else {
            throw failure("JWSError (CompactDecodeError Invalid number of parts: Expected 3 parts; got \(dots.count + 1))")
        }
        let first = String(token[token.startIndex..<dots[0]])
        guard let data = Data(base64URLEncodedJWT: first), case .object(let header)? = try? JSONValue.parse(bytes: Array(data)) else {
            throw failure("JWSError JWSInvalidSignature")
        }
        return header
    }

    // MARK: - JWKS

    private func ensureKeys(kid: String?) async throws(HasuraError) {
        let current = now()
        let stale = lastFetch == nil || (expires.map { current >= $0 } ?? false)
        var missing = false
        if let kid, !stale { missing = !kids.contains(kid) }
        refetches.removeAll { current.timeIntervalSince($0) >= Self.refetchWindow }
        let mayRefetch = refetches.count < Self.refetchBudget
        guard stale || (missing && mayRefetch) else { return }
        if !stale { refetches.append(current) }
        do {
            try await fetch()
        } catch {
            logger.warning("could not fetch the JWKS", metadata: ["url": "\(jwkURL?.absoluteString ?? "")", "error": "\(error)"])
            if lastFetch == nil { throw Self.failure("JWSError NoUsableKeys") }
        }
    }

    private var jwkURL: URL? {
        if case .jwkURL(let url) = settings.source { return url }
        return nil
    }

    /// One fetch at a time: requests that arrive meanwhile wait for it.
    private func fetch() async throws {
        if let inFlight { return try await inFlight.value }
        guard let url = jwkURL else { return }
        let task = Task { try await self.download(url) }
        inFlight = task
        defer { inFlight = nil }
        try await task.value
    }

    private func download(_ url: URL) async throws {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 10)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data, response: URLResponse
        do {
            (data, response) = try await BoundedDownload.run(request, limit: 1 << 20, timeout: 10)
        } catch let error as DomainError where error.kind == .invalidInput {
            throw DomainError(.unavailable, code: "jwks", "Error parsing JWK from url: \(url)")
        }
        let http = response as? HTTPURLResponse
        guard let status = http?.statusCode, (200..<300).contains(status) else {
            throw DomainError(.unavailable, code: "jwks", "Non-2xx response on fetching JWK from: \(url)")
        }
        guard let json = String(data: data, encoding: .utf8) else {
            throw DomainError(.unavailable, code: "jwks", "Error parsing JWK from url: \(url)")
        }
        let fresh = JWTKeyCollection()
        try await fresh.add(jwksJSON: json)
        keys = fresh
        verified.removeAll()
        kids = Set((try? JSONValue.parse(json))?.objectValue?["keys"]?.arrayValue?.compactMap { $0.objectValue?["kid"]?.stringValue } ?? [])
        lastFetch = now()
        expires = Self.expiry(cacheControl: http?.value(forHTTPHeaderField: "Cache-Control"),
                              expires: http?.value(forHTTPHeaderField: "Expires"), now: now())
    }

    /// When the JWKS should be fetched again, as Hasura reads the response: `no-cache`/`no-store` (or
    /// `must-revalidate` without `max-age`) mean at once, `max-age`/`s-maxage` that many seconds (at least 1), else
    /// `Expires`; without any of them, never (a rotation is still caught by an unknown `kid`).
    static func expiry(cacheControl: String?, expires: String?, now: Date) -> Date? {
        if let cacheControl {
            let directives = cacheControl.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let maxAge = directives.compactMap { directive -> Double? in
                for prefix in ["s-maxage=", "max-age="] where directive.hasPrefix(prefix) { return Double(directive.dropFirst(prefix.count)) }
                return nil
            }.first
            if let maxAge { return now.addingTimeInterval(max(1, maxAge)) }
            if directives.contains(where: { ["no-cache", "no-store", "must-revalidate"].contains($0) }) { return now.addingTimeInterval(1) }
        }
        if let expires {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: expires) { return max(date, now.addingTimeInterval(1)) }
        }
        return nil
    }
}

extension Data {
    init?(base64URLEncodedJWT text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
