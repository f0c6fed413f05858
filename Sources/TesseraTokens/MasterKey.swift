import Crypto
import Foundation
import TesseraCore

/// The key that encrypts private keys and signing secrets at rest, derived from `TESSERA_MASTER_KEY`.
/// Without it, private keys live in 0600 files in the data folder instead (see ``PrivateKeyVault``).
public struct MasterKey: Sendable {
    private let key: SymmetricKey

    public init(passphrase: String) throws {
        guard passphrase.utf8.count >= 32 else {
            throw DomainError(.invalidInput, code: "weak_master_key",
                              "TESSERA_MASTER_KEY must be at least 32 characters (try: openssl rand -base64 32)")
        }
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(passphrase.utf8)),
            salt: Data("tessera".utf8),
            info: Data("tessera at-rest v1".utf8),
            outputByteCount: 32
        )
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw DomainError(.unavailable, code: "seal_failed", "encryption failed") }
        return "aesgcm:v1:" + combined.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard sealed.hasPrefix("aesgcm:v1:"), let data = Data(base64Encoded: String(sealed.dropFirst(10))) else {
            throw DomainError(.invalidInput, code: "not_sealed", "value is not sealed with the master key")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw DomainError(.forbidden, code: "wrong_master_key",
                              "a stored key cannot be decrypted: TESSERA_MASTER_KEY differs from the one it was sealed with")
        }
    }
}
