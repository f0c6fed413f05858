import Foundation
import IdentityManagement
import SQLKit
import TesseraCore
import TesseraTokens
import TesseraStore

/// Auth0's brute-force protection: after 10 failed attempts for one user from one IP, that IP is
/// throttled for that user (here for 15 minutes) until a successful sign-in from elsewhere resets nothing
/// but time. A success from the same IP clears the count. Second-factor codes are counted the same way, per user
/// across every IP (the `ip` is then a fixed key) and with a lower limit, since six digits are fewer to guess.
public struct LoginThrottle: Sendable {
    let store: Store
    let clock: TesseraClock
    let limit: Int
    public static let window: TimeInterval = 15 * 60

    init(store: Store, clock: TesseraClock, limit: Int = 10) {
        self.store = store
        self.clock = clock
        self.limit = limit
    }

    /// The failures counted for a user from an address, and whether they are enough to refuse it for now.
    public struct Standing: Sendable, Equatable {
        public let failures: Int
        public let throttled: Bool
    }

    public func standing(userID: String, ip: String) async throws -> Standing {
        let now = Int(clock.now().timeIntervalSince1970)
        guard let row = try await store.read({ db in
            try await db.select().columns("failures", "last_failure_at").from("login_failures")
                .where("user_id", .equal, userID).where("ip", .equal, ip).first()
        }) else { return Standing(failures: 0, throttled: false) }
        let failures = try row.integer("failures"), lastFailure = try row.integer("last_failure_at")
        return Standing(failures: failures, throttled: failures >= limit && now - lastFailure < Int(Self.window))
    }

    public func isThrottled(userID: String, ip: String) async throws -> Bool {
        try await standing(userID: userID, ip: ip).throttled
    }

    public func recordFailure(userID: String, ip: String) async throws {
        let now = Int(clock.now().timeIntervalSince1970)
        let window = Int(Self.window)
        try await store.transaction { db in
            let row = try await db.select().columns("failures", "last_failure_at").from("login_failures")
                .where("user_id", .equal, userID).where("ip", .equal, ip).first()
            if let row {
                let stale = now - (try row.integer("last_failure_at")) >= window
                try await db.update("login_failures").set("failures", to: stale ? 1 : try row.integer("failures") + 1)
                    .set("last_failure_at", to: now).where("user_id", .equal, userID).where("ip", .equal, ip).run()
            } else {
                try await db.insert(into: "login_failures").columns("user_id", "ip", "failures", "last_failure_at")
                    .values(SQLBind(userID), SQLBind(ip), SQLBind(1), SQLBind(now)).run()
            }
        }
    }

    public func reset(userID: String, ip: String) async throws {
        try await store.transaction { db in try await Self.reset(userID: userID, ip: ip, in: db) }
    }

    /// The reset as one statement of a caller's transaction (a successful sign-in's).
    static func reset(userID: String, ip: String, in db: any SQLDatabase) async throws {
        try await db.delete(from: "login_failures").where("user_id", .equal, userID).where("ip", .equal, ip).run()
    }
}
