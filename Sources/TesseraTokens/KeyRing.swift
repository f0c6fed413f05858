import Crypto
import _CryptoExtras
import Foundation
import JWTKit
import Logging
import SQLKit
import TesseraCore
import TesseraStore

/// One signing key as the Management API shows it (`GET /api/v2/keys/signing`).
public struct SigningKeyInfo: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case next, current, previous, retired, revoked
    }

    public let kid: String
    public let state: State
    public let publicKeyPEM: String
    public let createdAt: String
    public let currentSince: String?
    public let currentUntil: String?
    public let revokedAt: String?
}

/// The key set at one moment: what signs, what verifies, and the JWKS document that publishes them.
public struct KeySnapshot: Sendable {
    public let currentKid: String
    /// The current key's private half: what signs.
    let signingKey: RSASigningKey
    public let keys: [SigningKeyInfo]
    /// Public current, next and previous keys: verifiers that cache the JWKS keep working across a rotation.
    public let collection: JWTKeyCollection
    public let jwksJSON: String
}

/// Owns the tenant's RS256 signing keys: creates them on first start, rotates and revokes them,
/// and reloads them from the store so that instances sharing a database agree.
public actor KeyRing {
    private let store: Store
    private let vault: PrivateKeyVault
    private let clock: TesseraClock
    private let logger: Logger
    private let refreshInterval: TimeInterval
    private var snapshot: KeySnapshot?
    private var loadedAt = Date.distantPast
    private var loadedGeneration = -1

    public init(store: Store, vault: PrivateKeyVault, clock: TesseraClock = .system, logger: Logger,
                refreshInterval: TimeInterval = StoreChanges.staleness) {
        self.store = store
        self.vault = vault
        self.clock = clock
        self.logger = logger
        self.refreshInterval = refreshInterval
    }

    /// The keys in force, reloaded from the store when another instance rotated or revoked them (as soon as its
    /// notification arrives, and within `refreshInterval` in any case).
    public func current() async throws -> KeySnapshot {
        await store.noticeChanges()
        if let snapshot, loadedGeneration == store.changes.generation(of: .signingKeys),
           clock.now().timeIntervalSince(loadedAt) < refreshInterval {
            return snapshot
        }
        return try await reload()
    }

    /// Makes sure a current and a next key exist (the first start of a tenant).
    @discardableResult
    public func bootstrap() async throws -> KeySnapshot {
        let now = Timestamp.string(clock.now())
        let vault = self.vault
        let store = self.store
        let created = try await store.transaction { db in
            try await store.serialize(.bootstrap, in: db)
            let states = try await Self.loadRecords(db).map(\.state)
            var created: [String] = []
            if !states.contains(.current) {
                created.append(try await Self.insertNewKey(db, state: .current, now: now, vault: vault))
            }
            if !states.contains(.next) {
                created.append(try await Self.insertNewKey(db, state: .next, now: now, vault: vault))
            }
            return created
        }
        if !created.isEmpty {
            logger.info("generated RS256 signing keys", metadata: ["kids": .string(created.joined(separator: ","))])
        }
        return try await reload()
    }

    /// Auth0's rotation: next becomes current, current becomes previous, a new next is made.
    /// The old previous key leaves the JWKS; tokens it signed stop verifying.
    public func rotate() async throws -> SigningKeyInfo {
        let now = Timestamp.string(clock.now())
        let vault = self.vault
        let store = self.store
        try await store.transaction(changing: .signingKeys) { db in
            try await store.serialize(.bootstrap, in: db)
            try await db.update("signing_keys").set("state", to: SigningKeyInfo.State.retired.rawValue)
                .where("state", .equal, SigningKeyInfo.State.previous.rawValue).run()
            try await db.update("signing_keys")
                .set("state", to: SigningKeyInfo.State.previous.rawValue).set("current_until", to: now)
                .where("state", .equal, SigningKeyInfo.State.current.rawValue).run()
            let promoted = try await db.update("signing_keys")
                .set("state", to: SigningKeyInfo.State.current.rawValue).set("current_since", to: now)
                .where("state", .equal, SigningKeyInfo.State.next.rawValue).returning("kid").all()
            if promoted.isEmpty {
                _ = try await Self.insertNewKey(db, state: .current, now: now, vault: vault)
            }
            _ = try await Self.insertNewKey(db, state: .next, now: now, vault: vault)
        }
        let snapshot = try await reload()
        logger.info("rotated signing keys", metadata: ["current": .string(snapshot.currentKid)])
        guard let info = snapshot.keys.first(where: { $0.kid == snapshot.currentKid }) else {
            throw DomainError(.unavailable, code: "no_current_key", "rotation left no current key")
        }
        return info
    }

    /// Revokes a previous (or retired) key so nothing it signed verifies any more.
    public func revoke(kid: String) async throws -> SigningKeyInfo {
        let now = Timestamp.string(clock.now())
        let snapshot = try await current()
        guard let key = snapshot.keys.first(where: { $0.kid == kid }) else {
            throw DomainError.notFound("The key does not exist.", code: "inexistent_key")
        }
        guard key.state == .previous || key.state == .retired || key.state == .revoked else {
            throw DomainError.invalidBody("Only a previous key can be revoked; rotate first to revoke the current key.")
        }
        try await store.transaction(changing: .signingKeys) { db in
            try await db.update("signing_keys")
                .set("state", to: SigningKeyInfo.State.revoked.rawValue).set("revoked_at", to: now)
                .where("kid", .equal, kid).run()
        }
        return try await reload().keys.first { $0.kid == kid } ?? key
    }

    private func reload() async throws -> KeySnapshot {
        let generation = store.changes.generation(of: .signingKeys)
        let records = try await store.read { db in try await Self.loadRecords(db) }
        guard let current = records.first(where: { $0.state == .current }) else {
            throw DomainError(.unavailable, code: "no_signing_key", "no current signing key: the store was not bootstrapped")
        }
        let collection = JWTKeyCollection()
        var jwks: [JSONValue] = []
        for record in records.sorted(by: { $0.state.order < $1.state.order }) where record.state.isPublished {
            let publicKey = try JWTKit.Insecure.RSA.PublicKey(pem: record.info.publicKeyPEM)
            await collection.add(rsa: publicKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: record.info.kid))
            jwks.append(try Self.publicJWK(publicKey, kid: record.info.kid))
        }
        let snapshot = KeySnapshot(
            currentKid: current.info.kid,
            signingKey: try RSASigningKey(pem: try vault.load(stored: current.privateKey)),
            keys: records.map(\.info),
            collection: collection,
            jwksJSON: JSONValue.object(["keys": .array(jwks)]).jsonText()
        )
        self.snapshot = snapshot
        loadedAt = clock.now()
        loadedGeneration = generation
        return snapshot
    }

    private struct Record: Sendable {
        let info: SigningKeyInfo
        let privateKey: String
        var state: SigningKeyInfo.State { info.state }
    }

    private static func loadRecords(_ db: any SQLDatabase) async throws -> [Record] {
        try await db.select().columns("*").from("signing_keys").orderBy("created_at").all().map { row in
            let state = SigningKeyInfo.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .retired
            return Record(
                info: SigningKeyInfo(
                    kid: try row.decode(column: "kid", as: String.self),
                    state: state,
                    publicKeyPEM: try row.decode(column: "public_key_pem", as: String.self),
                    createdAt: try row.decode(column: "created_at", as: String.self),
                    currentSince: try row.decode(column: "current_since", as: String?.self),
                    currentUntil: try row.decode(column: "current_until", as: String?.self),
                    revokedAt: try row.decode(column: "revoked_at", as: String?.self)
                ),
                privateKey: try row.decode(column: "private_key", as: String.self)
            )
        }
    }

    private static func insertNewKey(
        _ db: any SQLDatabase, state: SigningKeyInfo.State, now: String, vault: PrivateKeyVault
    ) async throws -> String {
        let backing = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let publicKey = try JWTKit.Insecure.RSA.PublicKey(backing: backing.publicKey)
        let kid = try thumbprint(publicKey)
        let stored = try vault.store(pem: backing.pemRepresentation, kid: kid)
        try await db.insert(into: "signing_keys")
            .columns("kid", "state", "public_key_pem", "private_key", "created_at", "current_since")
            .values(SQLBind(kid), SQLBind(state.rawValue), SQLBind(publicKey.pemRepresentation), SQLBind(stored),
                    SQLBind(now), SQLBind(state == .current ? now : nil))
            .run()
        return kid
    }

    private static func primitives(_ key: JWTKit.Insecure.RSA.PublicKey) throws -> (n: String, e: String) {
        let (modulus, exponent) = try key.getKeyPrimitives()
        return (modulus.base64URLEncoded(), exponent.base64URLEncoded())
    }

    /// RFC 7638 JWK thumbprint: a kid that anyone can recompute from the public key.
    static func thumbprint(_ key: JWTKit.Insecure.RSA.PublicKey) throws -> String {
        let (n, e) = try primitives(key)
        let canonical = #"{"e":"\#(e)","kty":"RSA","n":"\#(n)"}"#
        return Data(SHA256.hash(data: Data(canonical.utf8))).base64URLEncoded()
    }

    private static func publicJWK(_ key: JWTKit.Insecure.RSA.PublicKey, kid: String) throws -> JSONValue {
        let (n, e) = try primitives(key)
        return .object([
            "kty": .string("RSA"), "use": .string("sig"), "alg": .string("RS256"),
            "kid": .string(kid), "n": .string(n), "e": .string(e),
        ])
    }
}

extension SigningKeyInfo.State {
    var isPublished: Bool { self == .current || self == .next || self == .previous }
    var order: Int {
        switch self {
        case .current: 0
        case .next: 1
        case .previous: 2
        case .retired: 3
        case .revoked: 4
        }
    }
}
