import Foundation

/// The source of "now" for domain code, so tests can move time (expiry, rotation) without sleeping.
public struct TesseraClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    public static let system = TesseraClock { Date() }

    public func now() -> Date { read() }
}

/// Timestamps as Auth0 writes them: ISO 8601, UTC, milliseconds (`2026-11-21T10:25:29.123Z`).
/// The fixed width makes the text sort in time order, which the store relies on.
/// Rounded to the nearest millisecond: a time read from `…00.188Z` is a binary fraction just below .188, which
/// the formatter would truncate to `.187`.
public enum Timestamp {
    private static let seconds = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: TimeZone(identifier: "UTC")!)

    public static func string(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        let whole = (milliseconds / 1000).rounded(.down)
        let fraction = Int(milliseconds - whole * 1000)
        let text = Date(timeIntervalSince1970: whole).formatted(seconds)
        let digits = String(fraction)
        return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
