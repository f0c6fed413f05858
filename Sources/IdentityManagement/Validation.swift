import Foundation
import TesseraCore

enum Validate {
    /// Absolute URLs, as Auth0 requires for callbacks, origins and logout URLs.
    static func urls(_ values: [String]?, property: String) throws -> [String]? {
        guard let values else { return nil }
        for value in values {
            guard let url = URL(string: value), let scheme = url.scheme, !scheme.isEmpty,
                  value.count <= 2048, !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
            else {
                throw DomainError.invalidBody("Payload validation error: 'Object didn't pass validation for format absolute-uri-or-empty: \(value)' on property \(property).")
            }
        }
        return values
    }

    static func email(_ value: String) throws -> String {
        let email = value.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(" "), email.count <= 320 else {
            throw DomainError.invalidBody("Payload validation error: 'Object didn't pass validation for format email: \(value)' on property email.")
        }
        return email
    }

    static func name(_ value: String, property: String = "name") throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw DomainError.invalidBody("Payload validation error: 'String is too short (0 chars), minimum 1' on property \(property).")
        }
        return trimmed
    }
}
