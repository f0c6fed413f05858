import Actions
import Analytics
import Foundation
import Identity
import IdentityManagement
import Testing
import TesseraCore
import TesseraServer
import TesseraStore
import TesseraTokens

/// The hot paths read clients, grants, APIs, flows and analytics tokens from memory. These tests change each of them
/// on one instance and check what the other instances sharing the PostgreSQL database answer.
@Suite struct CacheInvalidationTests {
    /// Two instances over one new database, on one test clock.
    static func twoInstances() async throws -> (TesseraServices, TesseraServices, TestClock, @Sendable () async -> Void) {
        let (url, drop) = try await Harness.makePostgresDatabase()
        let clock = TestClock()
        let configuration = Harness.sharedInstance(databaseURL: url)
        let first = try await TesseraServices.open(configuration, logger: Harness.logger, clock: clock.clock)
        let second = try await TesseraServices.open(configuration, logger: Harness.logger, clock: clock.clock)
        return (first, second, clock, {
            await first.shutdown()
            await second.shutdown()
            await drop()
        })
    }

    /// A machine client with a grant on a new API: what a client-credentials request needs.
    static func machineClient(on tenant: Tenant) async throws -> (client: Client, grant: ClientGrant, audience: String) {
        let audience = "https://api-\(RandomToken.hex(bytes: 4)).test/"
        _ = try await tenant.resourceServers.create(.object(["name": .string("API"), "identifier": .string(audience),
                                                             "scopes": .array([.object(["value": .string("read:rows")])])]))
        let client = try await tenant.clients.create(.object(["name": .string("m2m"), "app_type": .string("non_interactive")]))
        let grant = try await tenant.clientGrants.create(.object([
            "client_id": .string(client.clientID), "audience": .string(audience), "scope": .array([.string("read:rows")]),
        ]))
        return (client, grant, audience)
    }

    /// The OAuth error a client-credentials request gets on `services`, or nil when it gets a token.
    static func tokenError(_ services: TesseraServices, clientID: String, secret: String, audience: String) async throws -> String? {
        do {
            _ = try await ClientCredentialsGrant(tenant: services.tenant, tokens: services.tokens, clock: services.clock)
                .issue(clientID: clientID, clientSecret: secret, audience: audience, scope: nil)
            return nil
        } catch let error as OAuthError {
            return error.code.rawValue
        }
    }

    /// Waits for another instance to hear of a change, for at most the bound the cache promises. Notifications make
    /// it milliseconds; the bound is what a lost notification would cost.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(StoreChanges.staleness)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func aChangedSecretARevokedGrantAndARevokedTokenReachTheOtherInstance() async throws {
        let (first, second, _, cleanup) = try await Self.twoInstances()
        let (client, grant, audience) = try await Self.machineClient(on: first.tenant)
        let oldSecret = try #require(client.clientSecret)
        // The second instance has the client, the grant and the API in memory.
        #expect(try await Self.tokenError(second, clientID: client.clientID, secret: oldSecret, audience: audience) == nil)
        #expect(try await Self.tokenError(second, clientID: client.clientID, secret: oldSecret, audience: audience) == nil)

        let rotated = try await first.tenant.clients.rotateSecret(client.clientID)
        let newSecret = try #require(rotated.clientSecret)
        // The instance that changed it never answers from the old copy.
        #expect(try await Self.tokenError(first, clientID: client.clientID, secret: oldSecret, audience: audience) == "invalid_client")
        #expect(try await Self.eventually {
            try await Self.tokenError(second, clientID: client.clientID, secret: oldSecret, audience: audience) == "invalid_client"
        })
        #expect(try await Self.tokenError(second, clientID: client.clientID, secret: newSecret, audience: audience) == nil)

        try await first.tenant.clientGrants.delete(grant.id)
        #expect(try await Self.tokenError(first, clientID: client.clientID, secret: newSecret, audience: audience) == "access_denied")
        #expect(try await Self.eventually {
            try await Self.tokenError(second, clientID: client.clientID, secret: newSecret, audience: audience) == "access_denied"
        })

        // An analytics token deleted on one instance stops working on the other.
        let (workspace, _) = try await first.analytics.catalog.ensureWorkspace(name: "cached", id: nil, adminToken: nil, settings: [:])
        let (_, value) = try await first.analytics.catalog.ensureToken(name: "reader", scopes: [.pipesRead("*")], in: workspace)
        let tokenValue = try #require(value)
        #expect(try await second.analytics.access.principal(token: tokenValue).name == "reader")
        _ = try await first.analytics.catalog.deleteToken("reader", in: workspace)
        #expect(try await Self.eventually {
            (try? await second.analytics.access.principal(token: tokenValue)) == nil
        })
        await cleanup()
    }

    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func aReboundFlowReachesTheOtherInstance() async throws {
        let (first, second, _, cleanup) = try await Self.twoInstances()
        let runner = try ActionRunner(userHubBaseURL: "http://127.0.0.1:9")
        for name in ["stamp-a", "stamp-b"] {
            _ = try await first.actions.deploy(
                name: name, trigger: ActionStore.postLogin,
                code: "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/by', '\(name)'); };",
                secrets: [:], configuration: [:], runner: runner)
        }
        _ = try await first.actions.bind(trigger: ActionStore.postLogin, names: ["stamp-a"])
        #expect(try await second.actions.flow(ActionStore.postLogin).map(\.name) == ["stamp-a"])

        _ = try await first.actions.bind(trigger: ActionStore.postLogin, names: ["stamp-b"])
        #expect(try await first.actions.flow(ActionStore.postLogin).map(\.name) == ["stamp-b"])
        #expect(try await Self.eventually { try await second.actions.flow(ActionStore.postLogin).map(\.name) == ["stamp-b"] })

        // Redeploying the bound action's code reaches the other instance's flow too.
        _ = try await first.actions.deploy(
            name: "stamp-b", trigger: ActionStore.postLogin,
            code: "exports.onExecutePostLogin = async (event, api) => { api.accessToken.setCustomClaim('https://x/by', 'b2'); };",
            secrets: [:], configuration: [:], runner: runner)
        #expect(try await Self.eventually { try await second.actions.flow(ActionStore.postLogin).first?.code.contains("b2") == true })
        await cleanup()
    }

    /// Should an instance miss a notification (its listening connection lost), its copies still end with the bound:
    /// a store that does not listen serves the old secret until the clock passes it, and never after.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func withoutNotificationsACopyLastsAtMostTheBound() async throws {
        let (first, second, clock, cleanup) = try await Self.twoInstances()
        let (client, _, audience) = try await Self.machineClient(on: first.tenant)
        let oldSecret = try #require(client.clientSecret)
        let deaf = Store(backend: try PostgresBackend(url: try #require(Self.databaseURL(of: second)), logger: Harness.logger))
        let tenant = Tenant(issuer: Harness.issuer, store: deaf, keyRing: second.keyRing, clock: clock.clock)
        #expect(try await tenant.clients.machineAccess(clientID: client.clientID, audience: audience)?.authenticates(oldSecret) == true)

        _ = try await first.tenant.clients.rotateSecret(client.clientID)
        clock.advance(seconds: Int(StoreChanges.staleness) - 1)
        #expect(try await tenant.clients.machineAccess(clientID: client.clientID, audience: audience)?.authenticates(oldSecret) == true)
        clock.advance(seconds: 2)
        #expect(try await tenant.clients.machineAccess(clientID: client.clientID, audience: audience)?.authenticates(oldSecret) == false)
        await deaf.shutdown()
        await cleanup()
    }

    /// A listening connection that is lost comes back, and every copy read before it came back is dropped: a change
    /// made meanwhile is not missed, though its notification went nowhere.
    @Test(.enabled(if: StoreKind.postgresURL != nil))
    func aLostListeningConnectionComesBackAndMissesNothing() async throws {
        let (first, second, _, cleanup) = try await Self.twoInstances()
        let (client, _, audience) = try await Self.machineClient(on: first.tenant)
        let oldSecret = try #require(client.clientSecret)
        #expect(try await Self.tokenError(second, clientID: client.clientID, secret: oldSecret, audience: audience) == nil)

        let url = try #require(Self.databaseURL(of: second))
        let database = try #require(URLComponents(string: url)?.path.dropFirst())
        let adminURL = try #require(StoreKind.postgresURL)
        let admin = Store(backend: try PostgresBackend(url: adminURL, logger: Harness.logger))
        let terminated = try await admin.read { db in
            try await db.raw("""
                SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity
                WHERE datname = \(bind: String(database)) AND query LIKE 'LISTEN%'
                """).all().count
        }
        await admin.shutdown()
        #expect(terminated == 2)
        _ = try await first.tenant.clients.rotateSecret(client.clientID)
        #expect(try await Self.eventually {
            try await Self.tokenError(second, clientID: client.clientID, secret: oldSecret, audience: audience) == "invalid_client"
        })
        await cleanup()
    }

    static func databaseURL(of services: TesseraServices) -> String? { services.configuration.databaseURL }

    /// Another process on the same SQLite file (`tessera apply` while the server runs) has no NOTIFY to send: the
    /// server sees the file moved on its next cached read, reads `tessera_changes` and drops what changed.
    @Test func anotherProcessOnTheSameSQLiteFileIsNoticed() async throws {
        let harness = try await Harness.make(.sqlite)
        let (client, _, audience) = try await Self.machineClient(on: harness.tenant)
        let oldSecret = try #require(client.clientSecret)
        let other = try await Store.open(databaseURL: nil, dataDirectory: harness.services.configuration.dataDirectory,
                                         logger: Harness.logger)
        let otherTenant = Tenant(issuer: Harness.issuer, store: other, keyRing: harness.services.keyRing, clock: harness.clock.clock)
        #expect(try await harness.tenant.clients.machineAccess(clientID: client.clientID, audience: audience)?.authenticates(oldSecret) == true)

        _ = try await otherTenant.clients.rotateSecret(client.clientID)
        #expect(try await harness.tenant.clients.machineAccess(clientID: client.clientID, audience: audience)?.authenticates(oldSecret) == false)
        await other.shutdown()
        await harness.cleanup()
    }

    /// A read that raced a change is answered but not kept: the next read goes to the store.
    @Test func aCopyReadDuringAChangeIsNotKept() async throws {
        let store = Store(backend: try await SQLiteBackend.open(path: NSTemporaryDirectory() + "cache-\(UUID()).sqlite", logger: Harness.logger))
        let cache = RowCache<String, Int>(.identity, of: store, clock: .system)
        let loads = LoadCounter()
        #expect(try await cache.value("k") { await loads.next { store.changes.bump(.identity) } } == 1)
        #expect(try await cache.value("k") { await loads.next {} } == 2)
        #expect(try await cache.value("k") { await loads.next {} } == 2)
        store.changes.bump(.identity)
        #expect(try await cache.value("k") { await loads.next {} } == 3)
        // Another group's change leaves this one's copies alone; an absent row is never kept.
        store.changes.bump(.analytics)
        #expect(try await cache.value("k") { await loads.next {} } == 3)
        #expect(try await cache.value("absent") { nil } == nil)
        await store.shutdown()
    }
}

/// Counts loads, running `during` inside each (where a concurrent change would land).
actor LoadCounter {
    private var count = 0

    func next(during: @Sendable () -> Void) -> Int? {
        during()
        count += 1
        return count
    }
}
