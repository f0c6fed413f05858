import SQLKit

/// Writes that belong to one user action (a sign-in) but are decided along the way: each step adds its own, and the
/// last one commits them all with its own, in one transaction. On PostgreSQL each commit is a round trip and a WAL
/// flush, so a sign-in that commits once instead of four times waits for one.
public actor WriteBatch {
    public typealias Step = @Sendable (any SQLDatabase) async throws -> Void
    private var steps: [Step] = []

    public init() {}

    /// Runs `step` when the batch is committed, after the steps added before it.
    public func add(_ step: @escaping Step) {
        steps.append(step)
    }

    /// The steps added so far, leaving the batch empty: a batch is committed once.
    func take() -> [Step] {
        defer { steps = [] }
        return steps
    }
}

extension Store {
    /// Runs `batch`'s writes, then `body`, in one transaction. Without a batch, `body` alone.
    public func transaction<Result: Sendable>(
        committing batch: WriteBatch?, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let steps = await batch?.take() ?? []
        return try await transaction { db in
            for step in steps { try await step(db) }
            return try await body(db)
        }
    }

    /// Commits what `batch` holds, if anything (a sign-in that ends without a write of its own: denied, say).
    public func commit(_ batch: WriteBatch) async throws {
        let steps = await batch.take()
        guard !steps.isEmpty else { return }
        try await transaction { db in
            for step in steps { try await step(db) }
        }
    }
}
