import Foundation
import TesseraCore

/// What a long command (`tessera directory sync`, `tessera analytics migrate`) shows while it runs: a bar redrawn in
/// place on a terminal (at most ten times a second), else one JSON line a second for whatever reads the output.
actor ProgressReport {
    /// What is being done, as the JSON lines name it (`"connection": "conn_…"`, `"datasource": "sales"`).
    let subject: (key: String, value: String)
    /// What is counted: `users`, `rows`.
    let unit: String
    let terminal: Bool
    let clock: TesseraClock
    /// Items a resumed run had done before this one: the rate counts only this run's.
    let resumedAt: Int
    private let started: Date
    private var lastShown = Date.distantPast

    init(subject: (key: String, value: String), unit: String, terminal: Bool, clock: TesseraClock, resumedAt: Int = 0) {
        self.subject = subject
        self.unit = unit
        self.terminal = terminal
        self.clock = clock
        self.resumedAt = resumedAt
        started = clock.now()
    }

    func update(done: Int, total: Int?) {
        let now = clock.now()
        guard now.timeIntervalSince(lastShown) >= (terminal ? 0.1 : 1) else { return }
        lastShown = now
        show(done: done, total: total, finished: false)
    }

    func finish(done: Int, total: Int?) {
        show(done: done, total: total, finished: true)
    }

    func fail(_ message: String) {
        if terminal {
            FileHandle.standardError.write(Data("\nerror: \(message) (run again to resume)\n".utf8))
        } else {
            say(JSONValue.object([subject.key: .string(subject.value), "finished": false, "error": .string(message)]).jsonText())
        }
    }

    private func show(done: Int, total: Int?, finished: Bool) {
        let elapsed = max(clock.now().timeIntervalSince(started), 0.001)
        let rate = Double(max(done - resumedAt, 0)) / elapsed
        let total = max(total ?? done, done)
        let eta = rate > 0 ? Double(total - done) / rate : nil
        if terminal {
            let width = 30
            let filled = total > 0 ? min(width, width * done / total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let text = "\r\(subject.value) [\(bar)] \(done) / \(total) \(unit)  \(Int(rate))/s  " +
                (finished ? "done in \(Self.duration(elapsed))\n" : "ETA \(eta.map(Self.duration) ?? "?")   ")
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            var line: [String: JSONValue] = [
                subject.key: .string(subject.value), "done": .number(Double(done)), "total": .number(Double(total)),
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
