import TesseraCore
import TesseraStore

/// The directory service: its users and API keys over the main store. It reaches identity providers (Tessera's own
/// or Auth0) only through their Management API over HTTP, never by importing Identity.
public struct Directory: Sendable {
    public let users: DirectoryStore
    public let keys: APIKeys

    public init(store: Store, clock: TesseraClock = .system) {
        users = DirectoryStore(store: store, clock: clock)
        keys = APIKeys(store: store, clock: clock)
    }
}
