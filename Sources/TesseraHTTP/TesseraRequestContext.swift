import Hummingbird
import NIOCore

/// The request context of every Tessera route: Hummingbird's basics plus the peer's address,
/// which sign-in needs for brute-force protection and `last_ip`.
public struct TesseraRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP as text (`unknown` when the transport has none, as in in-process tests).
    public var clientIP: String { remoteAddress?.ipAddress ?? "unknown" }
}
