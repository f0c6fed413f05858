import Foundation
import TesseraCore

/// The profile fields a client may write, checked as UserHub documents them (lengths, E.164 phone numbers, ISO
/// codes, RFC 3339 times). Unknown fields are refused by name, so a typo never silently does nothing.
public enum UserFields {
    /// Every profile field, by its wire name.
    static let profileFields: Set<String> = [
        "displayName", "email", "emailVerified", "phoneNumber", "phoneNumberVerified", "imageUrl", "currencyCode",
        "languageCode", "regionCode", "timeZone", "address", "signupTime", "disabled",
    ]
    /// Fields the directory sets itself; a client may send them back (a read-modify-write) but they are ignored.
    static let readOnlyFields: Set<String> = [
        "id", "state", "stateReason", "accountConnections", "subscription", "memberships", "view", "createTime",
        "updateTime", "deleteTime",
    ]
    /// The profile fields an account connection shows.
    /// The fields an identity provider owns: refreshed from it on every pull.
    static let sourceFields: Set<String> = [
        "displayName", "email", "emailVerified", "phoneNumber", "phoneNumberVerified", "imageUrl", "signupTime", "disabled",
    ]
    static let accountFields: Set<String> = ["displayName", "email", "emailVerified", "phoneNumber", "phoneNumberVerified", "disabled"]
    static let addressFields: Set<String> = ["lines", "city", "state", "postalCode", "country"]

    /// A checked change: `uniqueId` when the body names it (`.some(nil)` clears it), and each profile field the body
    /// names, nil to clear.
    public struct Change: Sendable, Equatable {
        public var uniqueId: String??
        public var profile: [String: JSONValue?] = [:]
    }

    public static func change(_ body: JSONValue) throws(DirectoryError) -> Change {
        guard case .object(let fields) = body else {
            throw DirectoryError.invalid("body", "The request body must be a JSON object")
        }
        var change = Change()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if name == "uniqueId" {
                change.uniqueId = .some(value == .null ? nil : try uniqueId(value))
            } else if profileFields.contains(name) {
                change.profile[name] = value == .null ? .some(nil) : try checked(name, value)
            } else if !readOnlyFields.contains(name) {
                throw DirectoryError.invalid(name, "Unknown field: \(name)")
            }
        }
        return change
    }

    static func uniqueId(_ value: JSONValue) throws(DirectoryError) -> String {
        guard case .string(let text) = value else { throw DirectoryError.invalid("uniqueId", "uniqueId must be a string") }
        guard isUniqueId(text) else {
            throw DirectoryError.invalid("uniqueId", "uniqueId must be 1 to 255 letters, digits, underscores or hyphens, starting with a letter or digit, and not start with usr_ or conn_")
        }
        return text
    }

    static func isUniqueId(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...255).contains(bytes.count), !text.hasPrefix("usr_"), !text.hasPrefix("conn_") else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        return alphanumeric(bytes[0]) && bytes.allSatisfy { alphanumeric($0) || $0 == 0x5F || $0 == 0x2D }
    }

    private static func checked(_ name: String, _ value: JSONValue) throws(DirectoryError) -> JSONValue {
        switch name {
        case "emailVerified", "phoneNumberVerified", "disabled":
            guard case .bool = value else { throw DirectoryError.invalid(name, "\(name) must be a boolean") }
            return value
        case "address":
            guard case .object(let parts) = value else { throw DirectoryError.invalid(name, "address must be an object") }
            var kept: [String: JSONValue] = [:]
            for (key, part) in parts {
                guard addressFields.contains(key) else { throw DirectoryError.invalid("address.\(key)", "Unknown field: address.\(key)") }
                if key == "lines" {
                    guard case .array(let lines) = part, lines.count <= 5,
                          lines.allSatisfy({ $0.stringValue.map { $0.count <= 200 } ?? false }) else {
                        throw DirectoryError.invalid("address.lines", "address.lines must be at most 5 strings of at most 200 characters")
                    }
                    if !lines.isEmpty { kept[key] = part }
                    continue
                }
                guard case .string(let text) = part, text.count <= 200 else {
                    throw DirectoryError.invalid("address.\(key)", "address.\(key) must be a string of at most 200 characters")
                }
                if !text.isEmpty { kept[key] = part }
            }
            return .object(kept)
        default:
            break
        }
        guard case .string(let text) = value else { throw DirectoryError.invalid(name, "\(name) must be a string") }
        switch name {
        case "displayName": try limit(name, text, 200)
        case "email":
            try limit(name, text, 320)
            guard let at = text.lastIndex(of: "@"), at != text.startIndex, text.index(after: at) != text.endIndex,
                  !text.contains(where: \.isWhitespace) else {
                throw DirectoryError.invalid(name, "email is not an email address")
            }
        case "phoneNumber":
            guard text.hasPrefix("+"), (3...16).contains(text.utf8.count), text.dropFirst().allSatisfy(\.isASCIIDigit),
                  text.dropFirst().first != "0" else {
                throw DirectoryError.invalid(name, "phoneNumber must be an E.164 number such as +12125550123")
            }
        case "imageUrl":
            try limit(name, text, 2000)
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw DirectoryError.invalid(name, "imageUrl must be an http or https URL")
            }
        case "currencyCode":
            guard text.utf8.count == 3, text.allSatisfy(\.isASCIIUppercase) else {
                throw DirectoryError.invalid(name, "currencyCode must be an ISO 4217 code such as USD")
            }
        case "regionCode":
            guard text.utf8.count == 2, text.allSatisfy(\.isASCIIUppercase) else {
                throw DirectoryError.invalid(name, "regionCode must be an ISO 3166 code such as US")
            }
        case "languageCode":
            guard (2...35).contains(text.utf8.count), text.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" }) else {
                throw DirectoryError.invalid(name, "languageCode must be a BCP 47 language tag such as en")
            }
        case "timeZone":
            guard TimeZone(identifier: text) != nil, text.contains("/") || text == "UTC" else {
                throw DirectoryError.invalid(name, "timeZone must be an IANA time zone such as America/New_York")
            }
        case "signupTime":
            guard let date = RFC3339.date(text) else { throw DirectoryError.invalid(name, "signupTime must be an RFC 3339 time") }
            return .string(Timestamp.string(date))
        default: break
        }
        return value
    }

    private static func limit(_ name: String, _ text: String, _ maximum: Int) throws(DirectoryError) {
        guard text.count <= maximum else { throw DirectoryError.invalid(name, "\(name) must be at most \(maximum) characters") }
    }
}

/// RFC 3339 times as clients write them: with or without fractional seconds, `Z` or an offset.
enum RFC3339 {
    static func date(_ text: String) -> Date? {
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        return (try? withFraction.parse(text)) ?? (try? plain.parse(text))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIIUppercase: Bool { isASCII && isUppercase }
    var isASCIILetter: Bool { isASCII && isLetter }
}
