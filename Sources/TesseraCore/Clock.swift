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
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
        )
    }
}
