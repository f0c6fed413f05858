import TesseraCore

/// Named values from a query string or an `application/x-www-form-urlencoded` body, decoded the one way every
/// Tessera route reads them: `+` is a space and `%XX` a byte (what browsers, `requests`, authlib, `curl
/// --data-urlencode` and Tinybird's `tb` send), a repeated name keeps every value in order, and the same limits
/// hold on every API family.
public struct RequestParameters: Sendable, Equatable, Sequence {
    public struct Pair: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    /// The most names one request may carry, and the longest encoded query string or form body read as parameters.
    /// Sign-in requests, Management API searches and pipe parameters stay far below both.
    public static let maximumCount = 1000
    public static let maximumQueryLength = 32 * 1024

    public private(set) var pairs: [Pair]

    public init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs.map { Pair(name: $0.name, value: $0.value) }
    }

    init(pairs: [Pair]) {
        self.pairs = pairs
    }

    /// Decodes `name=value&…`. A malformed escape (`%zz`, a cut `%4`) or bytes that are not UTF-8 are a client
    /// mistake answered with an error, never silently dropped: the request would otherwise run without a value
    /// its sender thinks it gave.
    public init(urlEncoded text: Substring, maximumLength: Int = maximumQueryLength) throws(DomainError) {
        guard text.utf8.count <= maximumLength else {
            throw DomainError(.uriTooLong, code: "query_too_long",
                              "The query string is longer than \(maximumLength) bytes")
        }
        var pairs: [Pair] = []
        for field in text.split(separator: "&") {
            guard pairs.count < Self.maximumCount else {
                throw DomainError.invalidQuery("A request carries at most \(Self.maximumCount) parameters")
            }
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.unescape(parts[0]), let value = parts.count > 1 ? Self.unescape(parts[1]) : "" else {
                throw DomainError.invalidQuery("Malformed percent-encoding in the parameter \(Self.printable(parts[0]))")
            }
            guard !name.isEmpty else { continue }
            pairs.append(Pair(name: name, value: value))
        }
        self.pairs = pairs
    }

    /// The first value of a name (OAuth 2.0 and Auth0 read the first when a name repeats).
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value of a name, in order (Tinybird's repeated `scope=`, `Array` pipe parameters).
    public func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value)
    }

    /// Each name with its first value.
    public var firstValues: [String: String] {
        var values: [String: String] = [:]
        for pair in pairs where values[pair.name] == nil { values[pair.name] = pair.value }
        return values
    }

    /// The same parameters without some names (credentials, page options) before they reach a pipe.
    public func removing(_ names: Set<String>) -> RequestParameters {
        RequestParameters(pairs: pairs.filter { !names.contains($0.name) })
    }

    public func makeIterator() -> IndexingIterator<[Pair]> {
        pairs.makeIterator()
    }

    /// Encodes the pairs back (`application/x-www-form-urlencoded`, spaces as `%20`).
    public var urlEncoded: String {
        pairs.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }

    /// `+` is a space and `%XX` a byte; nil when an escape is malformed or the bytes are not UTF-8.
    static func unescape(_ part: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(part.utf8.count)
        var iterator = part.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A parameter name for an error message: short, and only printable ASCII.
    private static func printable(_ name: Substring) -> String {
        String(name.prefix(40).unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" }.map(Character.init))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
