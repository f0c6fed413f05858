import Foundation
import TesseraCore

/// The first page: what the tenant holds, sign-ins per hour and Action latency drawn as SVG.
enum HomePage {
    static func render(_ call: ConsoleCall) async throws -> Page {
        async let users = call.management.get("/api/v2/users", query: [("per_page", "1"), ("include_totals", "true")])
        async let clients = call.management.get("/api/v2/clients")
        async let executions = call.management.get("/api/v2/actions/executions", query: [("per_page", "100")])
        let runs = try await executions["executions"]?.arrayValue ?? []
        let hours = SignInsPerHour(executions: runs, now: call.console.clock())
        let body: HTML = """
            <dl class="facts"><dt>Users</dt><dd>\(try await users["total"])</dd><dt>Applications</dt><dd>\(try await clients.arrayValue?.count ?? 0)</dd>\
            <dt>Workspaces</dt><dd>\(try await call.console.backend.analyticsWorkspaces().count)</dd></dl>\
            <h2>Sign-ins per hour (last 24 hours, from the post-login flow's executions)</h2>\(SVGBars.render(hours.counts, labels: hours.labels, title: "Sign-ins per hour"))\
            <h2>Recent Action executions</h2>\(ActionPages.executions(Array(runs.prefix(10))))
            """
        return Page(title: "Home", section: .home, body: body)
    }
}

/// Buckets the flow's executions by hour, newest hour last.
struct SignInsPerHour {
    let counts: [Int]
    let labels: [String]

    init(executions: [JSONValue], now: Date) {
        var counts = Array(repeating: 0, count: 24)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        for execution in executions {
            guard let text = execution["created_at"]?.stringValue, let date = formatter.date(from: text) ?? plain.date(from: text) else { continue }
            let hoursAgo = Int(now.timeIntervalSince(date) / 3600)
            if (0..<24).contains(hoursAgo) { counts[23 - hoursAgo] += 1 }
        }
        self.counts = counts
        let calendar = Calendar(identifier: .gregorian)
        labels = (0..<24).map { index in
            let hour = calendar.dateComponents(in: TimeZone(identifier: "UTC")!, from: now.addingTimeInterval(Double(index - 23) * 3600)).hour ?? 0
            return String(format: "%02d", hour)
        }
    }
}

/// A small bar chart as inline SVG with a text alternative: no script, nothing fetched.
enum SVGBars {
    static func render(_ values: [Int], labels: [String], title: String) -> HTML {
        let width = 720, height = 160, top = 10, bottom = 20
        let peak = max(1, values.max() ?? 1)
        let step = Double(width) / Double(max(1, values.count))
        let bars = values.enumerated().map { index, value -> HTML in
            let barHeight = Double(height - top - bottom) * Double(value) / Double(peak)
            let x = Double(index) * step + 2, y = Double(height - bottom) - barHeight
            let label: HTML = index % 3 == 0 ? "<text x=\"\(String(format: "%.1f", x + step / 2 - 2))\" y=\"\(height - 5)\" text-anchor=\"middle\">\(labels[index])</text>" : ""
            return "<rect x=\"\(String(format: "%.1f", x))\" y=\"\(String(format: "%.1f", y))\" width=\"\(String(format: "%.1f", step - 4))\" height=\"\(String(format: "%.1f", barHeight))\"><title>\(labels[index]):00 \(value)</title></rect>\(label)"
        }
        let summary = "\(title): \(values.reduce(0, +)) in total, at most \(values.max() ?? 0) in one hour"
        return "<figure class=\"chart\"><svg viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(summary)\">\(bars)</svg><figcaption>\(summary)</figcaption></figure>"
    }
}
