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
        return withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String in
            let count = bytes.count
            return String(unsafeUninitializedCapacity: (count * 4 + 2) / 3) { output in
                var out = 0, index = 0
                while index + 2 < count {
                    let triple = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                    output[out] = alphabet[Int(triple >> 18 & 63)]
                    output[out + 1] = alphabet[Int(triple >> 12 & 63)]
                    output[out + 2] = alphabet[Int(triple >> 6 & 63)]
                    output[out + 3] = alphabet[Int(triple & 63)]
                    out += 4
                    index += 3
                }
                let remaining = count - index
                if remaining > 0 {
                    let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
                    let triple = UInt32(bytes[index]) << 16 | b1 << 8
                    output[out] = alphabet[Int(triple >> 18 & 63)]
                    output[out + 1] = alphabet[Int(triple >> 12 & 63)]
                    out += 2
                    if remaining > 1 {
                        output[out] = alphabet[Int(triple >> 6 & 63)]
                        out += 1
                    }
                }
                return out
            }
        }
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
