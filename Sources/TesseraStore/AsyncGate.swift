/// A first-come, first-served async mutex: one holder at a time, waiters suspended (no thread blocked).
/// SQLite has one writer; the gate keeps a transaction's statements from interleaving with another's.
public actor AsyncGate {
    public init() {}
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public func acquire() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    public nonisolated func withGate<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
