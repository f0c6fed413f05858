import Foundation
import Synchronization

/// The groups of rarely-changing rows that instances keep in memory: each hot path reads them on every request,
/// and people change them by hand.
public enum CachedRows: String, CaseIterable, Sendable {
    /// Clients (and their secrets), client grants, resource servers.
    case identity
    /// Actions, their deployed code and secrets, the trigger bindings, the outbound policy.
    case actions
    /// Analytics workspaces, their tokens, data sources, pipes and charts.
    case analytics
    /// The RS256 signing keys.
    case signingKeys
}

/// A generation number per group of cached rows. A change to a group bumps its number, and every copy read under an
/// older number is stale: the instance that made the change bumps at once, after its commit; other instances bump when
/// PostgreSQL's `NOTIFY` reaches them (see ``PostgresBackend``). A copy never outlives ``staleness`` either, which
/// bounds how long an instance can miss a change, should a notification be lost with its connection.
public final class StoreChanges: Sendable {
    /// The longest any instance serves a cached copy, whether or not it heard of a change: the bound the signing
    /// keys have always reloaded within.
    public static let staleness: TimeInterval = 30
    /// The PostgreSQL channel changes are announced on; the payload is the group's ``CachedRows`` name.
    public static let channel = "tessera_changes"

    private let identity = Atomic<Int>(0)
    private let actions = Atomic<Int>(0)
    private let analytics = Atomic<Int>(0)
    private let signingKeys = Atomic<Int>(0)

    public init() {}

    public func generation(of rows: CachedRows) -> Int {
        switch rows {
        case .identity: identity.load(ordering: .acquiring)
        case .actions: actions.load(ordering: .acquiring)
        case .analytics: analytics.load(ordering: .acquiring)
        case .signingKeys: signingKeys.load(ordering: .acquiring)
        }
    }

    /// Marks every copy of `rows` read so far as stale.
    public func bump(_ rows: CachedRows) {
        switch rows {
        case .identity: identity.add(1, ordering: .releasing)
        case .actions: actions.add(1, ordering: .releasing)
        case .analytics: analytics.add(1, ordering: .releasing)
        case .signingKeys: signingKeys.add(1, ordering: .releasing)
        }
    }

    /// After a time without notifications (the listening connection was lost), anything may have changed.
    public func bumpAll() {
        for rows in CachedRows.allCases { bump(rows) }
    }
}
