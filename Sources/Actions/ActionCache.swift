import TesseraCore

/// `api.cache`: short-lived strings an action keeps between executions, per action, in memory. Like Auth0's,
/// it is a cache, not storage: entries expire, a restart empties it, and a full cache drops its soonest-expiring
/// entry to make room.
public actor ActionCache {
    public struct Entry: Sendable, Equatable {
        public let value: String
        /// Milliseconds since the Unix epoch, as `api.cache` reports it.
        public let expiresAt: Int64

        public init(value: String, expiresAt: Int64) {
            self.value = value
            self.expiresAt = expiresAt
        }
    }

    public static let maximumEntriesPerAction = 64
    private let clock: TesseraClock
    private var entries: [String: [String: Entry]] = [:]

    public init(clock: TesseraClock = .system) {
        self.clock = clock
    }

    private var nowMilliseconds: Int64 { Int64(clock.now().timeIntervalSince1970 * 1000) }

    /// What one execution of the action starts with: its entries that have not expired.
    public func snapshot(_ actionID: String) -> [String: Entry] {
        let now = nowMilliseconds
        let live = (entries[actionID] ?? [:]).filter { $0.value.expiresAt > now }
        entries[actionID] = live.isEmpty ? nil : live
        return live
    }

    /// Keeps an execution's `set`s and `delete`s (a nil entry).
    public func apply(_ actionID: String, writes: [String: Entry?]) {
        guard !writes.isEmpty else { return }
        var current = entries[actionID] ?? [:]
        for (key, entry) in writes { current[key] = entry }
        let now = nowMilliseconds
        current = current.filter { $0.value.expiresAt > now }
        while current.count > Self.maximumEntriesPerAction, let soonest = current.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
            current[soonest.key] = nil
        }
        entries[actionID] = current.isEmpty ? nil : current
    }
}
