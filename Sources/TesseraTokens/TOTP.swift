import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA1, 30-second steps,
/// six digits. Secrets travel as RFC 4648 base32, the form `otpauth://` URIs and apps take.
public enum TOTP {
    public static let period: TimeInterval = 30
    public static let digits = 6
    /// Steps either side of now that still match, for clocks a little apart (RFC 6238 §5.2 suggests one).
    public static let window = 1

    public static func step(at date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / period).rounded(.down)) }

    /// The code of one step (RFC 4226's dynamic truncation).
    public static func code(secret: [UInt8], step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let text = String(value % 1_000_000)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step `code` belongs to within the window around `date`, or nil. Every candidate is compared, in constant
    /// time, so the answer's timing does not say which step matched.
    public static func matchingStep(_ code: String, secret: [UInt8], at date: Date) -> Int64? {
        let given = Array(code.filter { !$0.isWhitespace }.utf8)
        guard given.count == digits else { return nil }
        let now = step(at: date)
        var found: Int64?
        for candidate in (now - Int64(window))...(now + Int64(window)) {
            let expected = Array(Self.code(secret: secret, step: candidate).utf8)
            if zip(expected, given).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 { found = candidate }
        }
        return found
    }
}

/// RFC 4648 base32 without padding, upper case: the alphabet authenticator apps accept for TOTP secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[(buffer >> bits) & 31])
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes, ignoring case, spaces and padding; nil for any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer = 0, bits = 0
        for character in text.uppercased().utf8 where character != UInt8(ascii: " ") && character != UInt8(ascii: "=") {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = ((buffer << 5) | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> bits) & 0xFF))
            }
        }
        return output
    }
}
