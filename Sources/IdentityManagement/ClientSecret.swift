import Crypto
import Foundation
import TesseraCore

/// Client secrets: random, shown once, kept only as a SHA-256 digest and compared in constant time.
/// A digest (not bcrypt) is enough because the secrets are 384-bit random strings, not passwords,
/// and it keeps the token endpoint bounded by RSA signing instead of hashing.
public enum ClientSecret {
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
