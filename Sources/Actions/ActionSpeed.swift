import Foundation
import TesseraCore

/// `tessera speed action FILE`: runs one action over and over on every core, for its latency, its throughput,
/// and whether memory stays flat (each execution makes and frees a JavaScriptCore context).
public enum ActionSpeed {
    public struct Report: Sendable {
        public let executions: Int
        public let perSecond: Double
        public let p50Milliseconds: Double
        public let p99Milliseconds: Double
        public let residentKiBBefore: Int
        public let residentKiBAfter: Int
    }

    public static func measure(code: String, event: JSONValue, executions: Int, tasks: Int,
                               outbound: OutboundPolicy = OutboundPolicy(), userHubBaseURL: String? = nil) async throws -> Report {
        let runner = try ActionRunner(userHubBaseURL: userHubBaseURL)
        _ = try await runner.run(code: code, event: event, outbound: outbound)  // warm up: first context creation loads JavaScriptCore
        let before = residentKiB()
        let clock = ContinuousClock()
        let start = clock.now
        let perTask = max(1, executions / tasks)
        let timings = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    var timings: [Double] = []
                    timings.reserveCapacity(perTask)
                    for _ in 0..<perTask {
                        let began = clock.now
                        _ = try await runner.run(code: code, event: event, outbound: outbound)
                        let elapsed = began.duration(to: clock.now)
                        timings.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                    }
                    return timings
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted()
        }
        let elapsed = start.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Report(executions: timings.count, perSecond: Double(timings.count) / seconds,
                      p50Milliseconds: timings[timings.count / 2],
                      p99Milliseconds: timings[max(0, Int(Double(timings.count) * 0.99) - 1)],
                      residentKiBBefore: before, residentKiBAfter: residentKiB())
    }

    /// Resident set size of this process, from /proc (0 where there is none).
    static func residentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
}
