import Foundation
import TesseraCore

/// Copies of rows a hot path reads on every request (a client, a pipe), kept for at most ``StoreChanges/staleness``
/// and dropped as soon as their group changes (``Store/transaction(changing:_:)``). What is absent is not kept: a new
/// client works on every instance at once, and unknown keys sent by the thousand cost reads, not memory.
public actor RowCache<Key: Hashable & Sendable, Value: Sendable> {
    private struct Entry {
        let value: Value
        let loadedAt: Date
        let generation: Int
    }

    private let rows: CachedRows
    private let store: Store
    private let changes: StoreChanges
    private let clock: TesseraClock
    private let capacity: Int
    private var entries: [Key: Entry] = [:]

    public init(_ rows: CachedRows, of store: Store, clock: TesseraClock, capacity: Int = 10_000) {
        self.rows = rows
        self.store = store
        self.changes = store.changes
        self.clock = clock
        self.capacity = capacity
    }

    /// The cached copy of `key` if it is current, else what `load` reads (kept if it found something).
    public func value(_ key: Key, load: @Sendable () async throws -> Value?) async throws -> Value? {
        await store.noticeChanges()
        let generation = changes.generation(of: rows)
        let now = clock.now()
        if let entry = entries[key], entry.generation == generation,
           now.timeIntervalSince(entry.loadedAt) < StoreChanges.staleness, now >= entry.loadedAt {
            return entry.value
        }
        entries[key] = nil
        guard let value = try await load() else { return nil }
        // A change committed while `load` read may not be in what it read: keep the copy only if none was.
        guard changes.generation(of: rows) == generation else { return value }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = Entry(value: value, loadedAt: now, generation: generation)
        return value
    }
}
