import Actions
import Analytics
import Charts
import Directory
import Foundation
import GraphQLEngine
import IdentityManagement
import Logging
import TenantFile
import TesseraCore
import TesseraStore
import TesseraTokens

/// The opened store and the domain services over it: what both `serve` and the one-shot commands
/// (`apply`, `keys rotate`) need.
public struct TesseraServices: Sendable {
    public let configuration: ServerConfiguration
    public let store: Store
    public let keyRing: KeyRing
    public let tokens: TokenService
    public let tenant: Tenant
    public let clock: TesseraClock
    public let analytics: Analytics
    /// Seals secrets Tessera reads back (action secrets, workspace admin tokens) with the master key, if set.
    public let sealer: SecretSealer
    /// The Hasura-compatible engine over its own database, when configured.
    public let graphql: GraphQLService?
    /// The user directory; its background sync starts with `serve` (``DirectorySync/start()``).
    public let directory: Directory
    /// Actions as data, with secrets sealed as this server seals them.
    public let actions: ActionStore
    public let charts: ChartStore
    /// Offline country lookups for Actions' `event.request.geoip`, when Debian's GeoIP database is installed.
    public let geo = GeoLocation()

    /// Opens the store, applies migrations, makes sure signing keys and the Management API exist.
    public static func open(_ configuration: ServerConfiguration, logger: Logger,
                            clock: TesseraClock = .system) async throws -> TesseraServices {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let masterKey = try configuration.masterKeyPassphrase.map(MasterKey.init(passphrase:))
        if configuration.databaseURL != nil && masterKey == nil {
            throw DomainError(.invalidInput, code: "master_key_required",
                              "TESSERA_MASTER_KEY is required with PostgreSQL, so that every instance can read the signing keys from the database")
        }
        let store = try await Store.open(databaseURL: configuration.databaseURL,
                                         dataDirectory: configuration.dataDirectory, logger: logger)
        do {
            let applied = try await Migrator.migrate(store)
            if !applied.isEmpty {
                logger.info("applied migrations", metadata: ["versions": "\(applied)", "store": "\(store.dialect)"])
            }
            let keyRing = KeyRing(store: store, vault: PrivateKeyVault(masterKey: masterKey, dataDirectory: configuration.dataDirectory),
                                  clock: clock, logger: logger)
            try await keyRing.bootstrap()
            let tokens = TokenService(issuer: configuration.issuer, keyRing: keyRing, clock: clock)
            let sealer = SecretSealer(masterKey)
            let tenant = Tenant(issuer: configuration.issuer, store: store, keyRing: keyRing, clock: clock,
                                hasher: PasswordHasher(cost: configuration.bcryptCost), sealer: sealer)
            try await tenant.ensureManagementAPI()
            // Analytics data lives in one SQLite file per workspace under the data folder, whatever the main store.
            let engine = AnalyticsEngine(directory: configuration.dataDirectory + "/analytics", logger: logger)
            let analytics = Analytics(catalog: Catalog(store: store, clock: clock, sealer: sealer), engine: engine, clock: clock)
            var graphql: GraphQLService?
            if let settings = configuration.graphql { graphql = try await GraphQLService.open(settings, logger: logger) }
            let directory = Directory(store: store, clock: clock, sealer: sealer, logger: logger)
            return TesseraServices(configuration: configuration, store: store, keyRing: keyRing, tokens: tokens,
                                   tenant: tenant, clock: clock, analytics: analytics, sealer: sealer, graphql: graphql,
                                   directory: directory, actions: ActionStore(store: store, clock: clock, sealer: sealer),
                                   charts: ChartStore(store: store, clock: clock))
        } catch {
            await store.shutdown()
            throw error
        }
    }

    public func shutdown() async {
        await directory.sync.stop()
        await directory.delivery.stop()
        await graphql?.shutdown()
        try? await analytics.ingestion.flush()
        await analytics.engine.shutdown()
        await store.shutdown()
    }
}

extension TesseraServices {
    /// Where Actions' `@userhub/auth0-actions` reports sign-ins: `USERHUB_API_URL`, else this server's directory.
    public var userHubBaseURL: String {
        if let given = ProcessInfo.processInfo.environment["USERHUB_API_URL"], !given.isEmpty { return given }
        return configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
    }

    /// The services a tenant file configures.
    public var configurable: TenantServices {
        TenantServices(tenant: tenant, actions: actions, analytics: analytics, charts: charts, directory: directory)
    }
}

extension TenantFile {
    /// Applies the file to an opened server's services.
    public func apply(to services: TesseraServices) async throws -> ApplyReport {
        try await apply(to: services.configurable)
    }
}
