import Crypto
import _CryptoExtras
import Foundation
import TesseraCore

/// JWS compact serialization for the tokens Tessera mints, signed here rather than through jwt-kit:
/// it keeps minting off any shared actor (so every core signs), writes whole-second times and unescaped
/// slashes by construction, and refuses short HMAC keys before a library can trap on them.
/// Verification stays with jwt-kit.
public enum JWS {
    static func rs256(_ claims: ClaimSet, kid: String, key: RSASigningKey) throws -> String {
        let input = signingInput(alg: "RS256", kid: kid, claims: claims)
        return input + "." + Data(try key.signRS256(Array(input.utf8))).base64URLEncoded()
    }

    public static func hs256(_ claims: ClaimSet, secret: String) throws -> String {
        guard secret.utf8.count >= 32 else {
            throw DomainError(.invalidInput, code: "weak_signing_secret", "an HS256 signing secret must be at least 32 bytes")
        }
        let input = signingInput(alg: "HS256", kid: nil, claims: claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return input + "." + Data(mac).base64URLEncoded()
    }

    private static func signingInput(alg: String, kid: String?, claims: ClaimSet) -> String {
        var header: [String: JSONValue] = ["alg": .string(alg), "typ": .string("JWT")]
        if let kid { header["kid"] = .string(kid) }
        return Data(JSONValue.object(header).jsonText().utf8).base64URLEncoded() + "."
            + Data(JSONValue.object(claims.claims).jsonText().utf8).base64URLEncoded()
    }
}
