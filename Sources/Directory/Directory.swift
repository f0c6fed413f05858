import Logging
import TesseraCore
import TesseraStore
import TesseraTokens

/// The directory service: users, API keys and connections over the main store, and the importer that keeps users in
/// sync with each connection. It reaches identity providers (Tessera's own or Auth0) only through their Management
/// API over HTTP, never by importing Identity.
public struct Directory: Sendable {
    public let users: DirectoryStore
    public let keys: APIKeys
    public let connections: ConnectionStore
    public let importer: Importer
    public let sync: DirectorySync
    public let webhooks: WebhookStore
    public let delivery: WebhookDelivery

    public init(store: Store, clock: TesseraClock = .system, sealer: SecretSealer = .plain,
                transport: any OutboundTransport = URLSessionTransport(), logger: Logger,
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }) {
        users = DirectoryStore(store: store, clock: clock)
        keys = APIKeys(store: store, clock: clock)
        connections = ConnectionStore(store: store, clock: clock, sealer: sealer)
        importer = Importer(store: store, connections: connections, transport: transport, clock: clock, logger: logger, sleep: sleep)
        sync = DirectorySync(importer: importer, connections: connections, logger: logger, interval: .seconds(3600))
        webhooks = WebhookStore(store: store, clock: clock, sealer: sealer)
        delivery = WebhookDelivery(store: store, webhooks: webhooks, transport: transport, clock: clock, logger: logger)
    }
}
