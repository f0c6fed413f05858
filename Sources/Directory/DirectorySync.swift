import Foundation
import Logging
import TesseraCore

/// The directory's background work: a full pass over every connection when the server starts (resuming one that was
/// interrupted) and again every `interval`; and the sign-in path's single-user pulls (`:event`), queued so a
/// sign-in never waits for them, one at a time per user.
public actor DirectorySync {
    let importer: Importer
    let connections: ConnectionStore
    let logger: Logger
    private(set) var interval: Duration
    private var loop: Task<Void, Never>?
    private var pulls: [String: Task<Void, Never>] = [:]
    /// Queued pulls beyond this are dropped (and logged): the next full pass picks those users up.
    static let maxPendingPulls = 1_000

    init(importer: Importer, connections: ConnectionStore, logger: Logger, interval: Duration) {
        self.importer = importer
        self.connections = connections
        self.logger = logger
        self.interval = interval
    }

    /// How often full passes run; zero runs one pass at start only.
    public func configure(interval: Duration) {
        self.interval = interval
    }

    public func start() {
        guard loop == nil else { return }
        loop = Task { await self.run() }
    }

    public func stop() async {
        loop?.cancel()
        for pull in pulls.values { pull.cancel() }
        await loop?.value
        loop = nil
    }

    private func run() async {
        repeat {
            await passOverEveryConnection()
            guard interval > .zero else { return }
            try? await Task.sleep(for: interval)
        } while !Task.isCancelled
    }

    /// Tests connections not yet active, then syncs the active ones.
    public func passOverEveryConnection() async {
        let all: [Connection]
        do { all = try await connections.list() } catch {
            logger.error("directory: cannot list connections", metadata: ["error": "\(error)"])
            return
        }
        for connection in all where !Task.isCancelled {
            do {
                var current = connection
                if current.state != .active {
                    current = try await importer.test(connection.id)
                    guard current.state == .active else {
                        logger.warning("directory connection is not active", metadata: ["connection": "\(connection.id)", "reason": "\(current.stateReason ?? "")"])
                        continue
                    }
                }
                let state = try await importer.sync(connection.id)
                logger.info("directory pass finished", metadata: ["connection": "\(connection.id)", "users": "\(state.lastPassUsers ?? 0)"])
            } catch {
                logger.error("directory pass failed", metadata: ["connection": "\(connection.id)", "error": "\(error)"])
            }
        }
    }

    /// Queues a pull of one user (the `:event` path without `wait`); a pull already queued for the user covers it.
    public func enqueuePull(externalId: String, connectionId: String) {
        let key = externalId + "@" + connectionId
        guard pulls[key] == nil else { return }
        guard pulls.count < Self.maxPendingPulls else {
            logger.warning("directory: too many queued pulls, dropping one (the next pass syncs the user)", metadata: ["connection": "\(connectionId)"])
            return
        }
        let importer = self.importer
        let logger = self.logger
        pulls[key] = Task {
            do {
                _ = try await importer.pull(externalId: externalId, connectionId: connectionId)
            } catch {
                logger.warning("directory: pulling a user failed", metadata: ["connection": "\(connectionId)", "error": "\(error)"])
            }
            self.finished(key)
        }
    }

    private func finished(_ key: String) {
        pulls[key] = nil
    }

    /// Waits for queued pulls (tests and shutdown).
    public func drain() async {
        while let pull = pulls.values.first { await pull.value }
    }
}
