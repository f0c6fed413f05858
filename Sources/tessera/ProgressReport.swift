import Directory
import Foundation
import TesseraCore

/// What `tessera directory sync` shows while a pass runs: a bar redrawn in place on a terminal (at most ten times a
/// second), else one JSON line a second for whatever reads the output.
actor ProgressReport {
    let connection: String
    let terminal: Bool
    let clock: TesseraClock
    /// Users a resumed pass had done before this run: the rate counts only this run's.
    let resumedAt: Int
    private let started: Date
    private var lastShown = Date.distantPast

    init(connection: String, terminal: Bool, clock: TesseraClock, resumedAt: Int) {
        self.connection = connection
        self.terminal = terminal
        self.clock = clock
        self.resumedAt = resumedAt
        started = clock.now()
    }

    func update(_ state: SyncState) {
        let now = clock.now()
        guard now.timeIntervalSince(lastShown) >= (terminal ? 0.1 : 1) else { return }
        lastShown = now
        show(state, finished: false)
    }

    func finish(_ state: SyncState) {
        var final = state
        final.done = state.lastPassUsers ?? state.done
        show(final, finished: true)
    }

    func fail(_ message: String) {
        if terminal {
            FileHandle.standardError.write(Data("\nerror: \(message) (run again to resume)\n".utf8))
        } else {
            say(JSONValue.object(["connection": .string(connection), "finished": false, "error": .string(message)]).jsonText())
        }
    }

    private func show(_ state: SyncState, finished: Bool) {
        let elapsed = max(clock.now().timeIntervalSince(started), 0.001)
        let rate = Double(max(state.done - resumedAt, 0)) / elapsed
        let total = max(state.total ?? state.done, state.done)
        let eta = rate > 0 ? Double(total - state.done) / rate : nil
        if terminal {
            let width = 30
            let filled = total > 0 ? min(width, width * state.done / total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let text = "\r\(connection) [\(bar)] \(state.done) / \(total) users  \(Int(rate))/s  " +
                (finished ? "done in \(Self.duration(elapsed))\n" : "ETA \(eta.map(Self.duration) ?? "?")   ")
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            var line: [String: JSONValue] = [
                "connection": .string(connection), "done": .number(Double(state.done)), "total": .number(Double(total)),
                "rate": .number((rate * 10).rounded() / 10), "elapsed_s": .number((elapsed * 10).rounded() / 10),
            ]
            if let eta, !finished { line["eta_s"] = .number((eta * 10).rounded() / 10) }
            if finished { line["finished"] = true }
            say(JSONValue.object(line).jsonText())
        }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 3600 ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60) : String(format: "%d:%02d", whole / 60, whole % 60)
    }
}
