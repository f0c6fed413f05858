import Hummingbird
import NIOCore

/// The request context of every Tessera route: Hummingbird's basics plus the peer's address and the client's
/// (which differ behind a trusted proxy: see ``TrustedProxies``), which sign-in needs for brute-force protection and
/// `last_ip`.
public struct TesseraRequestContext: RequestContext, RemoteAddressRequestContext, ClientAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientIP = remoteAddress?.ipAddress ?? "unknown"
    }

    /// The client's IP as text: the peer's, or the one a trusted proxy forwarded (`unknown` when the transport has none,
    /// as in in-process tests).
    public var clientIP: String
}
