import Foundation

/// Random identifiers and secrets, all from the system's CSPRNG.
public enum RandomToken {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func hex(bytes count: Int) -> String {
        Hex.encode(bytes(count))
    }

    /// URL-safe base64 without padding: the alphabet Auth0 uses for client ids and secrets.
    public static func base64URL(bytes count: Int) -> String {
        Data(bytes(count)).base64URLEncoded()
    }

    /// A prefixed identifier such as `rol_3fa85f64a1b2c3d4`, the form Auth0 gives roles and grants.
    public static func identifier(prefix: String, bytes count: Int = 8) -> String {
        "\(prefix)_\(base64URL(bytes: count))"
    }
}

extension Data {
    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648 §5 base64url without padding, written byte by byte (it is on every token's path).
    public func base64URLEncoded() -> String {
        let alphabet = Self.base64URLAlphabet
        var output: [UInt8] = []
        output.reserveCapacity((count * 4 + 2) / 3)
        var index = startIndex
        while index < endIndex {
            let remaining = distance(from: index, to: endIndex)
            let b0 = UInt32(self[index])
            let b1 = remaining > 1 ? UInt32(self[self.index(index, offsetBy: 1)]) : 0
            let b2 = remaining > 2 ? UInt32(self[self.index(index, offsetBy: 2)]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            output.append(alphabet[Int(triple >> 18 & 63)])
            output.append(alphabet[Int(triple >> 12 & 63)])
            if remaining > 1 { output.append(alphabet[Int(triple >> 6 & 63)]) }
            if remaining > 2 { output.append(alphabet[Int(triple & 63)]) }
            index = self.index(index, offsetBy: Swift.min(3, remaining))
        }
        return String(decoding: output, as: UTF8.self)
    }

    public init?(base64URLEncoded text: String) {
        var base64 = String(String.UnicodeScalarView(text.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar {
            case "-": "+"
            case "_": "/"
            default: scalar
            }
        }))
        guard !base64.contains("=") else { return nil }
        while base64.utf8.count % 4 != 0 { base64.append("=") }
        self.init(base64Encoded: base64)
    }
}

/// Lower-case hexadecimal, without going through `String(format:)` (digests are on the token path).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
