import Foundation
import Testing
import TesseraCore
@testable import Charts

/// Structure, not pixels: what each chart type draws for empty, single-row and many-row data.
@Suite struct ChartRendererTests {
    static func spec(_ type: ChartType, categories: [String] = ["revenue"]) throws -> ChartSpec {
        try ChartSpec(pipe: "sales_by_city", body: .object([
            "type": .string(type.rawValue), "index": .string("city"), "categories": .array(categories.map(JSONValue.string)),
            "title": .string("Revenue <by> city"), "height": .number(240),
        ]))
    }

    static func data(_ count: Int) -> ChartData {
        var rows: [[JSONValue]] = []
        for index in 0..<count {
            let city: String = index == 0 ? "<script>alert(1)</script>" : "City \(index) & Co"
            let revenue = Double(1000 - index * 7) + 0.5
            rows.append([.string(city), .number(revenue), .number(Double(index + 1))])
        }
        return ChartData(columns: ["city", "revenue", "orders"], rows: rows)
    }

    static func count(_ text: String, _ needle: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test(arguments: [ChartType.bar, .line, .area, .barList, .donut])
    func everyTypeDrawsEmptySingleAndManyRows(_ type: ChartType) throws {
        let spec = try Self.spec(type)
        let empty = try ChartRenderer.svg(spec, Self.data(0))
        #expect(empty.contains("No data for these parameters") && empty.hasPrefix("<svg") && empty.hasSuffix("</svg>"))
        #expect(empty.contains(#"viewBox="0 0 800 240""#))

        let marks = ["bar": "class=\"bar\"", "line": "class=\"point\"", "area": "class=\"point\"", "bar_list": "class=\"bar\"",
                     "donut": "class=\"slice\""][type.rawValue]!
        let one = try ChartRenderer.svg(spec, Self.data(1))
        #expect(Self.count(one, marks) == 1, "\(one)")
        let many = try ChartRenderer.svg(spec, Self.data(60))
        #expect(Self.count(many, marks) == 60)
        #expect(Self.count(many, "</title></\(marks.contains("bar") ? "rect" : marks.contains("slice") ? "path" : "circle")>") == 60,
                "a tooltip on every mark")
        #expect(Self.count(many, #"<title id="chart-title-normal">"#) == 1)
        if type == .area { #expect(many.contains(#"class="area""#)) }
        if [.bar, .line, .area].contains(type) {
            let labels = Self.count(many, #"text-anchor="middle">"#)
            #expect(labels > 0 && labels < 60, "x labels are thinned so they do not overlap (\(labels) of 60)")
            #expect(many.contains(#"class="grid axis y-axis""#) && many.contains(#"class="legend""#))
        }
    }

    @Test func labelsAreEscapedEverywhere() throws {
        for type in ChartType.allCases where type != .table {
            let svg = try ChartRenderer.svg(try Self.spec(type), Self.data(3))
            #expect(!svg.contains("<script>"), "\(type)")
            #expect(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || svg.contains("&lt;script&gt;alert(1)&lt;/s…"), "\(type)")
            #expect(svg.contains("Revenue &lt;by&gt; city") && svg.contains("&amp; Co"))
        }
        let page = try ChartPage.html(try Self.spec(.table), data: Self.data(3), refresh: nil)
        #expect(!page.contains("<script>") && page.contains("<th scope=\"row\">&lt;script&gt;alert(1)&lt;/script&gt;</th>"))
    }

    @Test func barsScaleToTheirValuesAndSeriesGroup() throws {
        let spec = try Self.spec(.bar, categories: ["revenue", "orders"])
        let svg = try ChartRenderer.svg(spec, Self.data(4))
        #expect(Self.count(svg, #"class="bar""#) == 8)
        #expect(svg.contains(#"data-series="orders""#) && svg.contains(#"data-value="1000.5""#))
        #expect(svg.contains("fill=\"\(ChartSpec.defaultColors[1])\""), "the second series has the second colour")
        #expect(Self.count(svg, #"class="legend-item""#) == 2)
        #expect(ChartRenderer.ticks(low: 0, high: 46_553.3) == [0, 10_000, 20_000, 30_000, 40_000, 50_000])
        #expect(ChartRenderer.format(46_553.3) == "46,553.3" && ChartRenderer.format(-1_234_567) == "-1,234,567")
        #expect(ChartRenderer.compact(46_000) == "46k" && ChartRenderer.compact(1_500_000) == "1.5M")
    }

    @Test func everyLayoutFitsItsWidth() throws {
        let spec = try Self.spec(.bar)
        for layout in ChartRenderer.layouts {
            let svg = try ChartRenderer.svg(spec, Self.data(8), width: layout.width, layout: layout.name)
            #expect(svg.contains("viewBox=\"0 0 \(Int(layout.width)) 240\"") && svg.contains("data-layout=\"\(layout.name)\""))
            let xs = svg.matches(of: /class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/).map { Double($0.1)! + Double($0.2)! }
            #expect(xs.count == 8 && xs.allSatisfy { $0 <= layout.width }, "bars stay inside \(layout.name)")
        }
        let page = try ChartPage.html(spec, data: Self.data(8), refresh: nil)
        #expect(page.contains("min-aspect-ratio: 9/2") && Self.count(page, "<svg") == ChartRenderer.layouts.count)
    }

    @Test func pagesHaveAFallbackTableDarkModeAndRefresh() throws {
        let page = try ChartPage.html(try Self.spec(.donut), data: Self.data(5), refresh: 30)
        #expect(page.contains(#"<table class="sr-only">"#) && page.contains("prefers-color-scheme: dark"))
        #expect(page.contains(#"<meta http-equiv="refresh" content="30">"#) && !page.contains("<script"))
        #expect(Self.count(page, "<tr>") == 6)
        #expect(throws: ChartRenderer.MissingColumn(name: "profit")) {
            try ChartPage.html(try ChartSpec(pipe: "p", body: .object(["index": .string("city"), "categories": .array([.string("profit")])])),
                               data: Self.data(2), refresh: nil)
        }
        let error = ChartPage.error("This chart cannot be shown", "JWT <expired>")
        #expect(error.contains(#"role="alert""#) && error.contains("JWT &lt;expired&gt;"))
        #expect(ChartPage.contentSecurityPolicy(frameAncestors: "'self'").contains("default-src 'none'"))
    }

    @Test func extremeValuesNeitherCrashNorDistort() throws {
        let data = ChartData(columns: ["city", "revenue"], rows: [
            [.string("huge"), .number(1e19)], [.string("inf"), .string("inf")], [.string("nan"), .string("nan")],
            [.string("tiny"), .number(5e-324)], [.string("fine"), .number(12)],
        ])
        for type in ChartType.allCases {
            _ = try ChartPage.html(try Self.spec(type), data: data, refresh: nil)
        }
        let svg = try ChartRenderer.svg(try Self.spec(.bar), data)
        #expect(!svg.contains(#"data-label="huge""#) && !svg.contains(#"data-label="inf""#) && svg.contains(#"data-label="fine""#))
        #expect(ChartRenderer.format(1e19) == "1e+19" && ChartRenderer.compact(1e30) == "1e+30")
        #expect(ChartRenderer.ticks(low: 0, high: 5e-324).count >= 2)
        #expect(ChartRenderer.ticks(low: -1e300, high: 1e300).count >= 2)
    }

    @Test func specsAreValidated() throws {
        for body: JSONValue in [
            .object(["categories": .array([.string("a")])]),
            .object(["index": .string("c")]),
            .object(["index": .string("c"), "categories": .array([.string("a")]), "type": .string("pie")]),
            .object(["index": .string("c"), "categories": .array([.string("a")]), "colors": .array([.string("red")])]),
            .object(["index": .string("c"), "categories": .array([.string("a")]), "height": .number(5000)]),
            .object(["index": .string("c"), "categories": .array([.string("a")]), "id": .string("not-a-uuid")]),
            .object(["index": .string("c"), "categories": .array([.string("a")]), "surprise": .bool(true)]),
        ] {
            #expect(throws: DomainError.self, "\(body.jsonText())") { try ChartSpec(pipe: "p", body: body) }
        }
        let spec = try ChartSpec(pipe: "p", body: .object(["index": .string("c"), "categories": .array([.string("a")]),
                                                           "params": .object(["limit": .number(5)])]))
        #expect(spec.type == .bar && spec.height == 300 && spec.parameters == ["limit": "5"])
        let edited = try ChartSpec(pipe: "p", body: .object(["type": .string("line")]), existing: spec)
        #expect(edited.id == spec.id && edited.type == .line && edited.index == "c")
    }
}
