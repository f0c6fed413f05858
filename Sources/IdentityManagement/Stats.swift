import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// Sign-ins and sign-ups over time: Auth0's `GET /api/v2/stats/daily`, and Tessera's hourly view of the same counts
/// that the console draws. A sign-in is a session the hosted login opened (credentials checked), as Auth0 counts a
/// successful login; a sign-up is a user created.
public struct Stats: Sendable {
    let store: Store
    let clock: TesseraClock
    public static let maximumHours = 24 * 14
    public static let maximumDays = 366

    public struct Bucket: Sendable, Equatable {
        public let start: Date
        public var logins = 0
        public var signups = 0
    }

    /// The last `hours` whole hours up to now, oldest first, every hour present.
    public func hourly(hours: Int) async throws -> [Bucket] {
        let count = max(1, min(hours, Self.maximumHours))
        let now = Int(clock.now().timeIntervalSince1970)
        let first = (now / 3600 - count + 1) * 3600
        return try await buckets(from: first, count: count, width: 3600)
    }

    /// Whole UTC days from `from` to `to` inclusive (`YYYYMMDD`, as Auth0 takes them), oldest first.
    public func daily(from: Date, to: Date) async throws -> [Bucket] {
        let first = Int(from.timeIntervalSince1970) / 86_400 * 86_400
        let last = Int(to.timeIntervalSince1970) / 86_400 * 86_400
        guard last >= first else { throw DomainError.invalidQuery("from must not be after to") }
        let count = (last - first) / 86_400 + 1
        guard count <= Self.maximumDays else { throw DomainError.invalidQuery("At most \(Self.maximumDays) days at a time") }
        return try await buckets(from: first, count: count, width: 86_400)
    }

    static func iso(_ seconds: Int) -> String { Timestamp.string(Date(timeIntervalSince1970: TimeInterval(seconds))) }

    private func buckets(from first: Int, count: Int, width: Int) async throws -> [Bucket] {
        var buckets = (0..<count).map { Bucket(start: Date(timeIntervalSince1970: TimeInterval(first + $0 * width))) }
        let end = first + count * width
        let prefix = width == 3600 ? 13 : 10
        let (logins, signups) = try await store.read { db in
            // Integer division groups in the database on both SQLite and PostgreSQL; only one row per bucket comes back.
            let logins = try await db.raw("""
                SELECT auth_time / \(literal: width) AS bucket, COUNT(*) AS n FROM sessions \
                WHERE auth_time >= \(bind: first) AND auth_time < \(bind: end) GROUP BY auth_time / \(literal: width)
                """).all()
            // Timestamps are ISO 8601 text: the first 13 (hour) or 10 (day) characters name the bucket.
            let created = try await db.raw("""
                SELECT substr(created_at, 1, \(literal: prefix)) AS k, COUNT(*) AS n FROM users \
                WHERE created_at >= \(bind: Self.iso(first)) AND created_at < \(bind: Self.iso(end)) \
                GROUP BY substr(created_at, 1, \(literal: prefix))
                """).all()
            return (try logins.map { (try $0.decode(column: "bucket", as: Int.self), try $0.decode(column: "n", as: Int.self)) },
                    try created.map { (try $0.decode(column: "k", as: String.self), try $0.decode(column: "n", as: Int.self)) })
        }
        for (bucket, n) in logins {
            let index = bucket - first / width
            if buckets.indices.contains(index) { buckets[index].logins += n }
        }
        let index = Dictionary(buckets.indices.map { (String(Self.iso(first + $0 * width).prefix(prefix)), $0) }) { first, _ in first }
        for (key, n) in signups { if let at = index[key] { buckets[at].signups += n } }
        return buckets
    }
}
