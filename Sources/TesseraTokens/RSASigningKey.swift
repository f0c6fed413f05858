import COpenSSLCrypto
import TesseraCore

/// An RSA private key held by the system's OpenSSL, for RS256 (PKCS #1 v1.5 with SHA-256) signatures.
///
/// Why OpenSSL and not swift-crypto here: on the machines we measured, OpenSSL 3 signs RSA-2048 about
/// twice as fast (it uses AVX-512 IFMA where present), and RSA signing is the whole cost of a token
/// endpoint. Keys are still generated, stored and published with swift-crypto; only the private-key
/// operation runs here. `@unchecked Sendable` is sound because the key is never mutated after loading and
/// OpenSSL allows a loaded key to sign from many threads at once, each with its own context.
final class RSASigningKey: @unchecked Sendable {
    private let key: OpaquePointer

    init(pem: String) throws {
        let bytes = Array(pem.utf8)
        let loaded: OpaquePointer? = bytes.withUnsafeBytes { buffer in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let loaded, EVP_PKEY_get_base_id(loaded) == EVP_PKEY_RSA else {
            if let loaded { EVP_PKEY_free(loaded) }
            ERR_clear_error()
            throw DomainError(.unavailable, code: "invalid_private_key", "the stored signing key is not an RSA private key")
        }
        key = loaded
    }

    deinit {
        EVP_PKEY_free(key)
    }

    func signRS256(_ message: [UInt8]) throws -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw Self.failure() }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else { throw Self.failure() }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else { throw Self.failure() }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else { throw Self.failure() }
        return Array(signature.prefix(length))
    }

    private static func failure() -> DomainError {
        ERR_clear_error()
        return DomainError(.unavailable, code: "signing_failed", "RSA signing failed")
    }
}
