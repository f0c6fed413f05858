import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TesseraCore

/// Where Actions' `fetch` may go (`outbound: { allow: [...] }` in `tessera.yaml`). The check is made on the addresses
/// the host resolves to, not on its name, for every hop of a redirect chain: a name that resolves to a metadata
/// service, to loopback or to a private network is treated as that address.
///
/// - Link-local addresses (cloud metadata services live there), unspecified, multicast and reserved ones: never.
/// - Loopback and private networks (RFC 1918, CGNAT, unique-local IPv6): only for hosts the allow list names
///   (`127.0.0.1`, `localhost`, `*.internal.example`), never through `*`.
/// - Public addresses: any host while the list is empty; with a list, only the hosts it names (`*` names every host).
public struct OutboundPolicy: Sendable, Equatable {
    public var allow: [String]

    /// Tessera's own origin (`http://127.0.0.1:8080`): `require('auth0')`'s ManagementClient calls the Management API
    /// there. Reachable whatever the list says, but only at that scheme, host and port.
    public private(set) var ownOrigin: String?

    public init(allow: [String] = [], ownOrigin: String? = nil) {
        self.allow = allow.map { $0.lowercased().trimmingCharacters(in: .whitespaces) }
        self.ownOrigin = ownOrigin.flatMap { URL(string: $0) }.flatMap(Self.origin)
    }

    /// This policy, with `url`'s origin as Tessera's own.
    public func reaching(own url: String) -> OutboundPolicy {
        var policy = self
        policy.ownOrigin = URL(string: url).flatMap(Self.origin)
        return policy
    }

    /// The addresses a request to `url` may use: Tessera's own origin always, any other by the rules above.
    public func addresses(for url: URL, resolver: Resolver = OutboundPolicy.systemResolver) async throws -> [IPAddress] {
        guard let host = url.host else { throw DomainError.invalidBody("fetch needs a URL with a host") }
        if let ownOrigin, Self.origin(of: url) == ownOrigin {
            if let literal = IPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) { return [literal] }
            return try await resolver(host)
        }
        return try await addresses(for: host, resolver: resolver)
    }

    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        return "\(scheme)://\(host):\(url.port ?? (scheme == "https" ? 443 : 80))"
    }

    /// Resolves a host name to its addresses (`getaddrinfo`); tests put a fake in its place.
    public typealias Resolver = @Sendable (String) async throws -> [IPAddress]

    enum Reach {
        case `public`, privateNetwork, never
    }

    /// The addresses a request to `host` may use, or the reason it may not go.
    public func addresses(for rawHost: String, resolver: Resolver = OutboundPolicy.systemResolver) async throws -> [IPAddress] {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let named = allow.contains { Self.pattern($0, matches: host) }
        let everyHost = allow.contains("*")
        guard allow.isEmpty || named || everyHost else {
            throw DomainError.invalidBody("fetch may not reach \(host): it is not in the tenant's outbound allow list (outbound.allow in tessera.yaml)")
        }
        if ["metadata", "metadata.google.internal", "metadata.goog"].contains(host.trimmingCharacters(in: CharacterSet(charactersIn: "."))) {
            throw DomainError.invalidBody("fetch may not reach link-local addresses or cloud metadata services (\(host))")
        }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) { addresses = [literal] } else { addresses = try await resolver(host) }
        guard !addresses.isEmpty else { throw DomainError.invalidBody("fetch could not resolve \(host)") }
        for address in addresses {
            switch Self.reach(address) {
            case .public: continue
            case .privateNetwork where named: continue
            case .privateNetwork:
                throw DomainError.invalidBody("fetch may not reach \(host) (\(address)): loopback and private addresses are reachable only for hosts named in outbound.allow in tessera.yaml")
            case .never:
                throw DomainError.invalidBody("fetch may not reach \(host) (\(address)): link-local addresses, cloud metadata services and reserved addresses are never reachable")
            }
        }
        return addresses
    }

    /// `api.example.com` names itself; `*.example.com` names its subdomains; `*` is handled apart (public only).
    static func pattern(_ pattern: String, matches host: String) -> Bool {
        let pattern = pattern.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if pattern.hasPrefix("*."), pattern.count > 2 { return host.hasSuffix(String(pattern.dropFirst())) }
        return pattern != "*" && pattern == host
    }

    static func reach(_ address: IPAddress) -> Reach {
        let b = address.bytes
        if address.isIPv4 {
            switch b[0] {
            case 0, 224...255: return .never  // "this network", multicast, reserved, broadcast
            case 169 where b[1] == 254: return .never  // link-local: cloud metadata
            case 127, 10: return .privateNetwork
            case 172 where b[1] & 0xF0 == 16: return .privateNetwork
            case 192 where b[1] == 168: return .privateNetwork
            case 100 where b[1] & 0xC0 == 64: return .privateNetwork  // CGNAT 100.64/10
            default: return .public
            }
        }
        if b.allSatisfy({ $0 == 0 }) { return .never }  // ::
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .privateNetwork }  // ::1
        if b[0] == 0xFF { return .never }  // multicast
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return .never }  // fe80::/10 link-local
        // NAT64 (64:ff9b::/96) and IPv4-compatible (::a.b.c.d) forms carry an IPv4 address: judge that one.
        if b[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] || b[0..<12].allSatisfy({ $0 == 0 }) {
            return IPAddress(bytes: Array(b[12...])).map(reach) ?? .never
        }
        if b[0] & 0xFE == 0xFC {
            // AWS's IPv6 metadata service sits in unique-local space (fd00:ec2::254).
            if b[0..<4] == [0xFD, 0x00, 0x0E, 0xC2] { return .never }
            return .privateNetwork
        }
        return .public
    }

    /// The system resolver, off the cooperative pool (`getaddrinfo` blocks).
    public static let systemResolver: Resolver = { host in
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &list)
                guard status == 0, let first = list else {
                    continuation.resume(throwing: DomainError.invalidBody("fetch could not resolve \(host)"))
                    return
                }
                defer { freeaddrinfo(first) }
                var found: [IPAddress] = []
                var node: UnsafeMutablePointer<addrinfo>? = first
                while let entry = node {
                    if let address = entry.pointee.ai_addr {
                        if entry.pointee.ai_family == AF_INET {
                            let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                                withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                            }
                            if let ip = IPAddress(bytes: bytes), !found.contains(ip) { found.append(ip) }
                        } else if entry.pointee.ai_family == AF_INET6 {
                            let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                            }
                            if let ip = IPAddress(bytes: bytes), !found.contains(ip) { found.append(ip) }
                        }
                    }
                    node = entry.pointee.ai_next
                }
                continuation.resume(returning: found)
            }
        }
    }
}
