import Foundation
import IdentityManagement
import SQLKit
import Testing
import TesseraCore
import TesseraServer
import TesseraStore
import TesseraTokens

@Suite struct StoreTests {
    @Test(arguments: StoreKind.available)
    func migrationsAreIdempotent(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        #expect(try await Migrator.migrate(harness.services.store).isEmpty)
        let versions = try await harness.services.store.read { db in
            try await db.select().column("version").from("tessera_migrations").all().map { try $0.integer("version") }
        }
        #expect(versions == Schema.migrations.map(\.version))
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func failedTransactionsLeaveNothingBehind(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let store = harness.services.store
        await #expect(throws: DomainError.self) {
            try await store.transaction { db in
                try await db.insert(into: "roles").columns("id", "name", "description")
                    .values(SQLBind("rol_x"), SQLBind("x"), SQLBind("")).run()
                throw DomainError.invalidBody("stop")
            }
        }
        #expect(try await harness.tenant.roles.list().isEmpty)
        await harness.cleanup()
    }

    @Test(arguments: StoreKind.available)
    func concurrentWritesAllLand(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        let roles = harness.tenant.roles
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { _ = try await roles.create(.object(["name": .string("role-\(index)")])) }
            }
            try await group.waitForAll()
        }
        #expect(try await roles.list().count == 40)
        await harness.cleanup()
    }

    @Test func privateKeysAreFilesWithOwnerOnlyAccessOrSealed() async throws {
        let plain = try await Harness.make()
        let keyDirectory = plain.services.configuration.dataDirectory + "/keys"
        let files = try FileManager.default.contentsOfDirectory(atPath: keyDirectory)
        #expect(files.count == 2)
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: keyDirectory + "/" + file)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
        await plain.cleanup()

        let sealed = try await Harness.make(masterKey: String(repeating: "m", count: 40))
        #expect(!FileManager.default.fileExists(atPath: sealed.services.configuration.dataDirectory + "/keys"))
        let stored = try await sealed.services.store.read { db in
            try await db.select().column("private_key").from("signing_keys").all().map { try $0.string("private_key") }
        }
        #expect(stored.count == 2 && stored.allSatisfy { $0.hasPrefix("aesgcm:v1:") && !$0.contains("PRIVATE KEY") })

        // Reopening with another master key fails clearly instead of signing with garbage.
        let other = KeyRing(store: sealed.services.store,
                            vault: PrivateKeyVault(masterKey: try MasterKey(passphrase: String(repeating: "x", count: 40)), dataDirectory: "/nonexistent"),
                            logger: Harness.logger)
        await #expect(throws: DomainError(.forbidden, code: "wrong_master_key",
                                          "a stored key cannot be decrypted: TESSERA_MASTER_KEY differs from the one it was sealed with")) {
            try await other.current()
        }
        await sealed.cleanup()
        #expect(throws: DomainError.self) { try MasterKey(passphrase: "short") }
    }
}

@Suite struct SharedPostgreSQLTests {
    /// Three instances start at once on one empty database: one set of migrations, one pair of keys,
    /// one bootstrap client; tokens from one verify on the others, and a rotation reaches them all.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func instancesSharingADatabaseAgree() async throws {
        let (url, drop) = try await Harness.makePostgresDatabase()
        let clock = TestClock()
        let configuration = Harness.sharedInstance(databaseURL: url)
        let instances = try await withThrowingTaskGroup(of: TesseraServices.self) { group in
            for _ in 0..<3 {
                group.addTask { try await TesseraServices.open(configuration, logger: Harness.logger, clock: clock.clock) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let admins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for instance in instances { group.addTask { try await AdminClient.ensure(instance) != nil } }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(admins == 1)
        let keys = try await instances[0].keyRing.current().keys
        #expect(keys.filter { $0.state == .current }.count == 1)
        #expect(keys.count == 2)
        for instance in instances.dropFirst() {
            #expect(try await instance.keyRing.current().currentKid == keys.first { $0.state == .current }?.kid)
        }

        let claims = ClaimSet(["iss": .string(Harness.issuer), "aud": .string("x"),
                               "exp": .seconds(clock.clock.now().addingTimeInterval(60))])
        let token = try await instances[0].tokens.signRS256(claims)
        #expect(try await instances[2].tokens.verify(token, audience: "x").string("iss") == Harness.issuer)

        let rotated = try await instances[1].keyRing.rotate()
        clock.advance(seconds: 31)
        #expect(try await instances[0].keyRing.current().currentKid == rotated.kid)
        #expect(try await instances[2].tokens.verify(try await instances[0].tokens.signRS256(claims), audience: "x")["aud"] == .string("x"))
        for instance in instances { await instance.shutdown() }
        await drop()
    }
}
