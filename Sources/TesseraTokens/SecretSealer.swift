import Foundation
import TesseraCore

/// Secrets Tessera must read back (action secrets, a workspace's admin token, which is also an HMAC key) are sealed
/// with the master key when one is set, so a copy of the database does not reveal them. Without a master key they
/// are stored as given, in a store that is 0600 (SQLite) or that needs the master key anyway (PostgreSQL).
public struct SecretSealer: Sendable {
    let key: MasterKey?

    public init(_ key: MasterKey?) {
        self.key = key
    }

    public static let plain = SecretSealer(nil)

    public func seal(_ text: String) throws -> String {
        guard let key else { return text }
        return try key.seal(text)
    }

    /// Opens a sealed value; a value stored before sealing was enabled is returned as it is.
    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix("aesgcm:v1:") else { return stored }
        guard let key else {
            throw DomainError(.unavailable, code: "master_key_required",
                              "a stored secret is sealed: start Tessera with the TESSERA_MASTER_KEY it was sealed with")
        }
        return try key.open(stored)
    }
}
