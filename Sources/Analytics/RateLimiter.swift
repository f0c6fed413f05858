import Crypto
import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// `limits.rps` per token name: a one-second window per name, as Tinybird counts it. On a store several instances share
/// (PostgreSQL) the windows are counted there, in one atomic statement per request, so a limit holds across instances;
/// on the embedded store there is one instance and the count stays in memory.
public actor RateLimiter {
    public struct Decision: Sendable {
        public let allowed: Bool
        public let limit: Int
        public let remaining: Int
        public let resetSeconds: Int
    }

    private var windows: [String: (second: Int, count: Int)] = [:]
    private let clock: TesseraClock
    private let shared: Store?

    public init(clock: TesseraClock = .system, store: Store? = nil) {
        self.clock = clock
        shared = store?.dialect == .postgres ? store : nil
    }

    public func check(_ key: String, limit: Int) async throws -> Decision {
        let second = Int(clock.now().timeIntervalSince1970)
        let count: Int
        if let shared { count = try await Self.sharedCount(key, second: second, in: shared) } else { count = localCount(key, second: second) }
        return Decision(allowed: count <= limit, limit: limit, remaining: max(0, limit - count), resetSeconds: 1)
    }

    private func localCount(_ key: String, second: Int) -> Int {
        var window = windows[key] ?? (second, 0)
        if window.second != second { window = (second, 0) }
        window.count += 1
        windows[key] = window
        if windows.count > 10_000 { windows = windows.filter { $0.value.second == second } }
        return window.count
    }

    /// This request's place in the key's current second, counted by the store: one row per key, restarted at 1 when the
    /// second changes.
    static func sharedCount(_ key: String, second: Int, in store: Store) async throws -> Int {
        try await store.transaction { db in
            let row = try await db.raw("""
                INSERT INTO analytics_rate_windows (window_key, window_second, hits) VALUES (\(bind: key), \(bind: second), 1)
                ON CONFLICT (window_key) DO UPDATE SET
                    hits = CASE WHEN analytics_rate_windows.window_second = EXCLUDED.window_second
                                THEN analytics_rate_windows.hits + 1 ELSE 1 END,
                    window_second = EXCLUDED.window_second
                RETURNING hits
                """).first()
            return try row?.decode(column: "hits", as: Int.self) ?? 1
        }
    }
}
