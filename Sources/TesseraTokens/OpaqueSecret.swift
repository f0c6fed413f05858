import Crypto
import Foundation
import TesseraCore

/// Random bearer secrets (client secrets, session cookies, authorization codes, refresh tokens): shown once,
/// kept only as a SHA-256 digest and compared in constant time. A digest (not bcrypt) is enough because they
/// are 384-bit random strings, not passwords, and it keeps the token endpoint bounded by RSA signing.
public enum OpaqueSecret {
    public static func generate() -> String {
        RandomToken.base64URL(bytes: 48)
    }

    public static func digest(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }

    public static func matches(_ secret: String, digest expected: String) -> Bool {
        let actual = Array(digest(secret).utf8)
        let wanted = Array(expected.utf8)
        guard actual.count == wanted.count else { return false }
        var difference: UInt8 = 0
        for index in actual.indices {
            difference |= actual[index] ^ wanted[index]
        }
        return difference == 0
    }
}

extension OpaqueSecret {
    /// BASE64URL(SHA-256(text)): PKCE's S256 and the `at_hash` family of checks.
    public static func sha256Base64URL(_ text: String) -> String {
        Data(SHA256.hash(data: Data(text.utf8))).base64URLEncoded()
    }
}
