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
