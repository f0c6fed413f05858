import Crypto
import Foundation
import TesseraCore
import TesseraTokens

/// `limits.rps` per token name: a one-second window per name, as Tinybird counts it.
public actor RateLimiter {
    public struct Decision: Sendable {
        public let allowed: Bool
        public let limit: Int
        public let remaining: Int
        public let resetSeconds: Int
    }

    private var windows: [String: (second: Int, count: Int)] = [:]
    private let clock: TesseraClock

    public init(clock: TesseraClock = .system) {
        self.clock = clock
    }

    public func check(_ key: String, limit: Int) -> Decision {
        let now = clock.now().timeIntervalSince1970
        let second = Int(now)
        var window = windows[key] ?? (second, 0)
        if window.second != second { window = (second, 0) }
        window.count += 1
        windows[key] = window
        if windows.count > 10_000 { windows = windows.filter { $0.value.second == second } }
        return Decision(allowed: window.count <= limit, limit: limit, remaining: max(0, limit - window.count), resetSeconds: 1)
    }
}
