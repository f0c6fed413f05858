import Foundation
import TesseraCore

/// A pipe's result as a chart reads it: column names and rows of JSON values.
public struct ChartData: Sendable {
    public let columns: [String]
    public let rows: [[JSONValue]]

    public init(columns: [String], rows: [[JSONValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// Server-side SVG for the six chart types: a responsive viewBox, axes with round ticks, labels thinned so they never
/// overlap, a legend, native hover tooltips (`<title>`), colours from CSS variables for a dark variant, and every
/// label escaped. No script, no third-party code.
public enum ChartRenderer {
    public struct MissingColumn: Error, Equatable, Sendable {
        public let name: String
    }

    /// The layouts a page carries, by viewBox width; CSS picks one by the frame's aspect ratio, so a short, wide
    /// iframe (seed 002's is 100% × 200px) gets a wide chart at a readable size instead of a small one in the middle.
    public static let layouts: [(name: String, width: Double)] = [("narrow", 480), ("normal", 800), ("wide", 1400)]

    /// The labels (index column) and one series of numbers per category column.
    struct Series {
        let labels: [String]
        let series: [(name: String, values: [Double?])]
    }

    static func series(_ spec: ChartSpec, _ data: ChartData) throws(MissingColumn) -> Series {
        guard let indexColumn = data.columns.firstIndex(of: spec.index) else { throw MissingColumn(name: spec.index) }
        var series: [(String, [Double?])] = []
        for category in spec.categories {
            guard let column = data.columns.firstIndex(of: category) else { throw MissingColumn(name: category) }
            series.append((category, data.rows.map { row in
                guard column < row.count else { return nil }
                let value: Double?
                switch row[column] {
                case .number(let number): value = number
                case .string(let text): value = Double(text)
                case .bool(let flag): value = flag ? 1 : 0
                default: value = nil
                }
                // Beyond ±1e15 a chart says nothing useful, and NaN or infinity would break the scale: leave them out.
                return value.flatMap { $0.isFinite && abs($0) < 1e15 ? $0 : nil }
            }))
        }
        return Series(labels: data.rows.map { row in indexColumn < row.count ? text(row[indexColumn]) : "" }, series: series)
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .null: "—"
        case .number(let n): format(n)
        default: value.jsonText()
        }
    }

    public static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    /// 46553.3 → "46,553.3"; at most two decimals.
    public static func format(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        guard abs(value) < 1e15 else { return String(format: "%.3g", value) }
        let rounded = (value * 100).rounded() / 100
        let negative = rounded < 0
        let integer = Int64(abs(rounded).rounded(.down))
        let fraction = Int((abs(rounded) - Double(integer)) * 100 + 0.5)
        var digits = String(integer)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits.removeLast(3)
        }
        grouped = digits + grouped
        let decimals = fraction == 0 ? "" : fraction % 10 == 0 ? ".\(fraction / 10)" : "." + String(format: "%02d", fraction)
        return (negative ? "-" : "") + grouped + decimals
    }

    /// 46553.3 → "46.6k", for axis ticks.
    static func compact(_ value: Double) -> String {
        let magnitude = abs(value)
        guard value.isFinite, magnitude < 1e12 else { return String(format: "%.2g", value) }
        for (limit, suffix) in [(1e9, "B"), (1e6, "M"), (1e3, "k")] where magnitude >= limit {
            let scaled = value / limit
            return (scaled.rounded() == scaled ? String(Int(scaled)) : String(format: "%.1f", scaled)) + suffix
        }
        return value.rounded() == value ? String(Int(value)) : String(format: "%.2g", value)
    }

    /// Round tick values covering `low...high`.
    static func ticks(low: Double, high: Double, count: Int = 5) -> [Double] {
        var low = low, high = high
        if low == high { high = low == 0 ? 1 : low + abs(low) }
        let raw = (high - low) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let normalized = raw / magnitude
        let step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude
        // Denormal or enormous ranges give no usable step: fall back to the two ends.
        guard step.isFinite, step > 0, low.isFinite, high.isFinite, (high - low) / step < 50 else { return [low, high] }
        low = floor(low / step) * step
        high = ceil(high / step) * step
        return stride(from: low, through: high + step / 2, by: step).map { $0 }
    }

    static func truncated(_ label: String, _ limit: Int = 16) -> String {
        label.count <= limit ? label : String(label.prefix(limit - 1)) + "…"
    }

    /// `height` is the drawing's own height; the page passes what is left of the frame under the title.
    public static func svg(_ spec: ChartSpec, _ data: ChartData, width: Double = 800, height drawingHeight: Double? = nil,
                           layout: String = "normal") throws(MissingColumn) -> String {
        let values = try series(spec, data)
        let height = drawingHeight ?? Double(spec.height)
        var body = ""
        if data.rows.isEmpty || values.series.allSatisfy({ $0.values.allSatisfy { $0 == nil } }) {
            body = #"<text class="empty" x="\#(width / 2)" y="\#(height / 2)" text-anchor="middle">No data for these parameters</text>"#
        } else {
            switch spec.type {
            case .bar, .line, .area: body = cartesian(spec, values, width: width, height: height)
            case .barList: body = barList(spec, values, width: width, height: height)
            case .donut: body = donut(spec, values, width: width, height: height)
            case .table: return ""
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" preserveAspectRatio="xMidYMid meet" \
            role="img" aria-labelledby="chart-title-\(layout)" class="chart-\(spec.type.rawValue)" data-type="\(spec.type.rawValue)" \
            data-layout="\(layout)"><title id="chart-title-\(layout)">\(escape(spec.title))</title>\(body)</svg>
            """
    }

    static func legend(_ spec: ChartSpec, _ names: [String], width: Double, y: Double) -> String {
        var x = width - 16
        var items: [String] = []
        for (index, name) in names.enumerated().reversed() {
            let label = truncated(name, 24)
            let itemWidth = Double(label.count) * 7 + 22
            x -= itemWidth
            items.append(#"<g class="legend-item"><rect x="\#(x)" y="\#(y - 9)" width="10" height="10" rx="2" fill="\#(spec.color(index))"/><text x="\#(x + 14)" y="\#(y)">\#(escape(label))</text></g>"#)
        }
        return #"<g class="legend">"# + items.reversed().joined() + "</g>"
    }

    static func cartesian(_ spec: ChartSpec, _ values: Series, width: Double, height: Double) -> String {
        let left = 56.0, right = 16.0, top = 28.0, bottom = 28.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let all = values.series.flatMap { $0.values.compactMap { $0 } }
        // About one tick per 30 units of height, so tick labels never crowd a short chart.
        let tickCount = max(2, min(5, Int(plotHeight / 30)))
        let ticks = ticks(low: min(0, all.min() ?? 0), high: max(0, all.max() ?? 1), count: tickCount)
        let low = ticks.first ?? 0, high = ticks.last ?? 1
        func y(_ value: Double) -> Double { top + plotHeight * (1 - (value - low) / (high - low)) }
        var out = legend(spec, values.series.map(\.name), width: width, y: 14)
        out += #"<g class="grid axis y-axis">"#
        for tick in ticks {
            out += #"<line x1="\#(left)" x2="\#(width - right)" y1="\#(y(tick))" y2="\#(y(tick))"/><text x="\#(left - 8)" y="\#(y(tick) + 4)" text-anchor="end">\#(compact(tick))</text>"#
        }
        out += "</g>"
        let count = values.labels.count
        let slot = plotWidth / Double(max(count, 1))
        let longest = Double(values.labels.map { truncated($0).count }.max() ?? 1) * 7 + 8
        let strideLength = max(1, Int((longest / slot).rounded(.up)))
        out += #"<g class="axis x-axis">"#
        for (index, label) in values.labels.enumerated() where index % strideLength == 0 {
            let x = left + slot * (Double(index) + 0.5)
            out += #"<text x="\#(x)" y="\#(height - bottom + 17)" text-anchor="middle">\#(escape(truncated(label)))<title>\#(escape(label))</title></text>"#
        }
        out += "</g>"
        if spec.type == .bar {
            let groupWidth = slot * 0.8
            let barWidth = groupWidth / Double(values.series.count)
            out += #"<g class="bars">"#
            for (seriesIndex, series) in values.series.enumerated() {
                for (index, value) in series.values.enumerated() {
                    guard let value else { continue }
                    let x = left + slot * Double(index) + slot * 0.1 + barWidth * Double(seriesIndex)
                    let top = y(max(value, 0)), base = y(min(value, 0))
                    let label = values.labels[index]
                    out += #"<rect class="bar" x="\#(x)" y="\#(top)" width="\#(max(1, barWidth - 2))" height="\#(max(0.5, base - top))" rx="2" fill="\#(spec.color(seriesIndex))" data-label="\#(escape(label))" data-series="\#(escape(series.name))" data-value="\#(value)"><title>\#(escape(label)) · \#(escape(series.name)): \#(format(value))</title></rect>"#
                }
            }
            return out + "</g>"
        }
        for (seriesIndex, series) in values.series.enumerated() {
            let points = series.values.enumerated().compactMap { index, value in
                value.map { (index: index, x: left + slot * (Double(index) + 0.5), y: y($0), value: $0) }
            }
            guard let first = points.first, let last = points.last else { continue }
            let line = points.map { "\($0.x),\($0.y)" }.joined(separator: " L")
            out += #"<g class="series" data-series="\#(escape(series.name))">"#
            if spec.type == .area {
                out += #"<path class="area" d="M\#(first.x),\#(y(max(low, 0))) L\#(line) L\#(last.x),\#(y(max(low, 0))) Z" fill="\#(spec.color(seriesIndex))" fill-opacity="0.18"/>"#
            }
            out += #"<path class="line" d="M\#(line)" fill="none" stroke="\#(spec.color(seriesIndex))" stroke-width="2"/>"#
            for point in points {
                let label = values.labels[point.index]
                out += #"<circle class="point" cx="\#(point.x)" cy="\#(point.y)" r="\#(points.count > 60 ? 2 : 3.5)" fill="\#(spec.color(seriesIndex))" data-label="\#(escape(label))" data-value="\#(point.value)"><title>\#(escape(label)) · \#(escape(series.name)): \#(format(point.value))</title></circle>"#
            }
            out += "</g>"
        }
        return out
    }

    static func barList(_ spec: ChartSpec, _ values: Series, width: Double, height: Double) -> String {
        guard let series = values.series.first else { return "" }
        let count = max(1, values.labels.count)
        let rowHeight = min(32, (height - 8) / Double(count))
        let maximum = series.values.compactMap { $0 }.map(abs).max() ?? 1
        let valueWidth = 90.0, left = 8.0
        let track = width - left - valueWidth - 8
        var out = #"<g class="bars">"#
        for (index, label) in values.labels.enumerated() {
            guard let value = series.values[index] else { continue }
            let y = 4 + rowHeight * Double(index)
            let length = max(2, track * abs(value) / (maximum == 0 ? 1 : maximum))
            out += #"<rect class="bar" x="\#(left)" y="\#(y + 2)" width="\#(length)" height="\#(max(2, rowHeight - 4))" rx="3" fill="\#(spec.color(0))" fill-opacity="0.25" data-label="\#(escape(label))" data-series="\#(escape(series.name))" data-value="\#(value)"><title>\#(escape(label)) · \#(escape(series.name)): \#(format(value))</title></rect>"#
            if rowHeight >= 12 {
                out += #"<text class="bar-label" x="\#(left + 8)" y="\#(y + rowHeight / 2 + 4)">\#(escape(truncated(label, 40)))</text>"#
                out += #"<text class="bar-value" x="\#(width - 8)" y="\#(y + rowHeight / 2 + 4)" text-anchor="end">\#(format(value))</text>"#
            }
        }
        return out + "</g>"
    }

    static func donut(_ spec: ChartSpec, _ values: Series, width: Double, height: Double) -> String {
        guard let series = values.series.first else { return "" }
        let slices = values.labels.enumerated().compactMap { index, label in
            series.values[index].flatMap { $0 > 0 ? (index: index, label: label, value: $0) : nil }
        }
        let total = slices.reduce(0) { $0 + $1.value }
        guard total > 0 else { return #"<text class="empty" x="\#(width / 2)" y="\#(height / 2)" text-anchor="middle">Nothing to draw: no positive values</text>"# }
        let radius = min(height / 2 - 12, 140), inner = radius * 0.6
        let cx = 24 + radius, cy = height / 2
        var angle = -Double.pi / 2
        var out = #"<g class="slices">"#
        for slice in slices {
            let sweep = 2 * Double.pi * slice.value / total
            let end = angle + min(sweep, 2 * Double.pi - 0.0001)
            let large = sweep > Double.pi ? 1 : 0
            func point(_ r: Double, _ a: Double) -> String { "\(cx + r * cos(a)),\(cy + r * sin(a))" }
            let path = "M\(point(radius, angle)) A\(radius),\(radius) 0 \(large) 1 \(point(radius, end)) L\(point(inner, end)) A\(inner),\(inner) 0 \(large) 0 \(point(inner, angle)) Z"
            let share = slice.value / total * 100
            out += #"<path class="slice" d="\#(path)" fill="\#(spec.color(slice.index))" data-label="\#(escape(slice.label))" data-value="\#(slice.value)"><title>\#(escape(slice.label)): \#(format(slice.value)) (\#(String(format: "%.1f", share))%)</title></path>"#
            angle += sweep
        }
        out += "</g>"
        let rowHeight = min(22, (height - 16) / Double(max(1, slices.count)))
        out += #"<g class="legend">"#
        for (position, slice) in slices.enumerated() {
            let y = 12 + rowHeight * (Double(position) + 0.5)
            let share = slice.value / total * 100
            out += #"<g class="legend-item"><rect x="\#(cx + radius + 32)" y="\#(y - 9)" width="10" height="10" rx="2" fill="\#(spec.color(slice.index))"/><text x="\#(cx + radius + 48)" y="\#(y)">\#(escape(truncated(slice.label, 28))) · \#(format(slice.value)) (\#(String(format: "%.1f", share))%)</text></g>"#
        }
        return out + "</g>"
    }

    /// The data as an HTML table: the `table` chart type, and the screen-reader fallback of the others.
    public static func table(_ spec: ChartSpec, _ data: ChartData, visuallyHidden: Bool) -> String {
        let columns = [spec.index] + spec.categories
        let positions = columns.map { data.columns.firstIndex(of: $0) }
        var out = #"<table class="\#(visuallyHidden ? "sr-only" : "data")"><caption>\#(escape(spec.title))</caption><thead><tr>"#
        out += columns.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in data.rows {
            out += "<tr>" + positions.enumerated().map { offset, position in
                let cell = position.flatMap { $0 < row.count ? row[$0] : nil } ?? .null
                return offset == 0 ? "<th scope=\"row\">\(escape(text(cell)))</th>" : "<td>\(escape(text(cell)))</td>"
            }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }
}
