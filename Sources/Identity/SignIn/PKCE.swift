import Foundation
import TesseraTokens

/// Proof Key for Code Exchange, as public clients (SPAs, native apps) must use it here.
public enum PKCE {
    /// RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge, with the verifier's own format checked.
    public static func matches(verifier: String, challenge: String) -> Bool {
        guard (43...128).contains(verifier.count),
              verifier.unicodeScalars.allSatisfy({ CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~").contains($0) })
        else { return false }
        return OpaqueSecret.sha256Base64URL(verifier) == challenge
    }
}
