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
/// PostgreSQL's `NOTIFY` reaches them (see ``PostgresBackend``), and other processes on one SQLite file (a
/// `tessera apply` while the server runs) on the next cached read after their commit, which sees the file moved and
/// reads `tessera_changes` (``Store/noticeChanges()``). A copy never outlives ``staleness`` either, which bounds how
/// long an instance can miss a change, should a notification be lost with its connection.
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
    /// The store's commit fingerprint when `tessera_changes` was last read, and what it said.
    private let polledAt = Atomic<Int>(0)
    private let seen = SeenGenerations()

    public init() {}

    /// Whether `tessera_changes` must be read again: something was committed since it last was. True for one
    /// caller per commit seen.
    func claimPoll(_ fingerprint: Int) -> Bool {
        let last = polledAt.load(ordering: .acquiring)
        guard fingerprint != last else { return false }
        return polledAt.compareExchange(expected: last, desired: fingerprint, ordering: .acquiringAndReleasing).exchanged
    }

    /// The read did not happen: the next look reads again.
    func pollFailed() {
        polledAt.store(0, ordering: .releasing)
    }

    /// Bumps the groups whose generation in `tessera_changes` moved since the last read.
    func noticed(_ generations: [String: Int]) async {
        for name in await seen.changed(generations) {
            if let rows = CachedRows(rawValue: name) { bump(rows) }
        }
    }

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

/// The generations last read from `tessera_changes`.
private actor SeenGenerations {
    private var generations: [String: Int] = [:]

    func changed(_ read: [String: Int]) -> [String] {
        let changed = read.filter { generations[$0.key] != $0.value }.map(\.key)
        generations = read
        return changed
    }
}
