import Foundation
import TesseraCore

/// Where private key material is kept. With a master key it is sealed (AES-GCM) and stored in the
/// database, so every instance sharing a PostgreSQL store can sign. Without one, the PEM is written
/// to `<data-dir>/keys/<kid>.pem` with mode 0600 and the database keeps only a reference.
public struct PrivateKeyVault: Sendable {
    public let masterKey: MasterKey?
    public let keyDirectory: String

    public init(masterKey: MasterKey?, dataDirectory: String) {
        self.masterKey = masterKey
        self.keyDirectory = dataDirectory + "/keys"
    }

    /// Returns what the database stores for this key.
    public func store(pem: String, kid: String) throws -> String {
        if let masterKey { return try masterKey.seal(pem) }
        let manager = FileManager.default
        try manager.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true,
                                    attributes: [.posixPermissions: 0o700])
        let path = keyDirectory + "/\(kid).pem"
        guard manager.createFile(atPath: path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DomainError(.unavailable, code: "key_write_failed", "cannot write the private key to \(path)")
        }
        return "file:\(kid).pem"
    }

    public func load(stored: String) throws -> String {
        if stored.hasPrefix("file:") {
            let name = String(stored.dropFirst(5))
            guard !name.contains("/"), let data = FileManager.default.contents(atPath: keyDirectory + "/" + name) else {
                throw DomainError(.unavailable, code: "key_missing",
                                  "private key file \(keyDirectory)/\(name) is missing (was the data folder moved?)")
            }
            return String(decoding: data, as: UTF8.self)
        }
        guard let masterKey else {
            throw DomainError(.unavailable, code: "master_key_required",
                              "the signing keys are sealed with a master key: set TESSERA_MASTER_KEY")
        }
        return try masterKey.open(stored)
    }
}
