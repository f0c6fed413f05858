import Foundation

/// Random identifiers and secrets, all from the system's CSPRNG.
public enum RandomToken {
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func hex(bytes count: Int) -> String {
        bytes(count).map { String(format: "%02x", $0) }.joined()
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
    public func base64URLEncoded() -> String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        self.init(base64Encoded: base64)
    }
}
