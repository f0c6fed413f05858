import Foundation
import HTTPTypes
import Hummingbird
import TesseraCore

/// The reverse proxies whose forwarding headers name the client (`--trusted-proxies`, addresses or CIDRs). Behind
/// a proxy every request comes from the proxy's address, so sign-in throttling would count every user's failures
/// against one address; from a trusted peer, `Forwarded` (RFC 7239) or else `X-Forwarded-For` names the client
/// instead. From any other peer those headers are ignored: a client must not choose the address its failures count
/// against.
public struct TrustedProxies: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int

        func contains(_ address: IPAddress) -> Bool { address.hasPrefix(bytes, length: prefix) }
    }

    let networks: [Network]

    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) {
        self.networks = networks
    }

    /// `127.0.0.1, 10.0.0.0/8, ::1, fd00::/8`: addresses (one host each) and CIDRs, comma-separated.
    public init(_ list: String) throws {
        var networks: [Network] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = IPAddress(parts[0])?.bytes else {
                throw DomainError.invalidBody("--trusted-proxies: \(entry) is not an IP address or CIDR")
            }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else {
                throw DomainError.invalidBody("--trusted-proxies: \(entry) has a prefix length outside 0–\(bytes.count * 8)")
            }
            networks.append(Network(bytes: bytes, prefix: prefix))
        }
        self.networks = networks
    }

    public func trusts(_ address: String) -> Bool {
        guard let parsed = IPAddress(address) else { return false }
        return networks.contains { $0.contains(parsed) }
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the nearest address in the forwarding
    /// chain that is not a trusted proxy (the chain is read from the right, where the proxies appended their peers).
    /// An unreadable entry ends the walk at the last address known good.
    public func clientAddress(peer: String, headers: HTTPFields) -> String {
        guard !networks.isEmpty, trusts(peer) else { return peer }
        var chain: [String] = []
        if let forwarded = headers[.forwarded] {
            chain = Self.forwardedFor(forwarded)
        } else if let forwardedFor = headers[.xForwardedFor] {
            chain = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var client = peer
        for hop in chain.reversed() {
            guard let address = Self.normalized(hop) else { return client }
            client = address
            if !trusts(address) { return address }
        }
        return client
    }

    /// The `for=` values of a `Forwarded` header, in order (quotes, brackets and ports removed by `normalized`).
    static func forwardedFor(_ header: String) -> [String] {
        header.split(separator: ",").compactMap { element in
            element.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.lowercased().hasPrefix("for=") }
                .map { String($0.dropFirst(4)) }
        }
    }

    /// An address as text without quotes, IPv6 brackets or a port; nil when it is not an IP address
    /// (`unknown`, an obfuscated `_hidden` identifier, garbage).
    static func normalized(_ raw: String) -> String? {
        var text = raw.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            text = String(text[..<colon])  // IPv4 with a port
        }
        return IPAddress(text) == nil ? nil : text
    }
}

extension HTTPField.Name {
    static let forwarded = HTTPField.Name("Forwarded")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

/// A request context that knows its client's address, as ``ClientAddressMiddleware`` settles it.
public protocol ClientAddressRequestContext: RequestContext {
    var clientIP: String { get set }
}

/// Settles the client's address once, at the edge, for throttling, `last_ip` and the request log.
public struct ClientAddressMiddleware<Context: ClientAddressRequestContext>: RouterMiddleware {
    let proxies: TrustedProxies

    public init(proxies: TrustedProxies) {
        self.proxies = proxies
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientIP = proxies.clientAddress(peer: context.clientIP, headers: request.headers)
        return try await next(request, context)
    }
}
