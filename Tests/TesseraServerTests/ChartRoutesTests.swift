import Foundation
import HTTPTypes
import Testing
import TesseraCore
@testable import TesseraServer

@Suite struct ChartRoutesTests {
    static let admin = AnalyticsAPITests.adminToken

    /// The page's default layout (it also carries a narrow and a wide one, picked by the frame's aspect ratio).
    static func normalLayout(_ html: String) -> String {
        guard let start = html.range(of: #"data-layout="normal""#), let end = html[start.upperBound...].range(of: "</svg>") else { return "" }
        return String(html[start.lowerBound..<end.lowerBound])
    }

    static func marks(_ html: String, _ mark: String = #"class="point""#) -> Int {
        normalLayout(html).components(separatedBy: mark).count - 1
    }

    @Test(arguments: AnalyticsBackend.available)
    func chartsCRUDAndTheEmbeddablePage(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let created = try await http.request(.post, "/v0/pipes/sales_by_city/charts", token: Self.admin, json: .object([
                "type": .string("bar"), "index": .string("city"), "categories": .array([.string("revenue"), .string("orders")]),
                "title": .string("Revenue & orders"), "params": .object(["limit": .string("5")]),
            ]))
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            let reader = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness))
            let listed = try await http.request(.get, "/v0/pipes/sales_by_city/charts", token: reader)
            #expect(listed.status == .ok && listed.text.contains(id), "readers can list the charts of a pipe they may read")
            let single = try await http.request(.get, "/v0/pipes/sales_by_city/charts/\(id)", token: reader)
            #expect(single["id"] == .string(id) && single["title"] == .string("Revenue & orders") && single["type"] == .string("bar"), "\(single.text)")
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city/charts/nope", token: reader).status == .notFound)
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city/charts/\(id)").status == .forbidden)
            #expect(try await http.request(.post, "/v0/pipes/sales_by_city/charts", token: reader,
                                           json: .object(["index": .string("city"), "categories": .array([.string("orders")])])).status == .forbidden)
            let updated = try await http.request(.put, "/v0/pipes/sales_by_city/charts/\(id)", token: Self.admin,
                                                 json: .object(["type": .string("line"), "height": .number(200)]))
            #expect(updated["type"] == .string("line") && updated["index"] == .string("city") && updated["id"] == .string(id))
            #expect(try await http.request(.put, "/v0/pipes/sales_by_city/charts/\(id)", token: Self.admin,
                                           json: .object(["type": .string("pie")])).status == .badRequest)

            // The page: defaults from the chart (limit 5), query parameters over them, fixed params over both.
            let page = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(reader)")
            #expect(page.status == .ok && page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(Self.marks(page.text) == 10, "5 cities × 2 series")
            #expect(page.text.contains(#"data-layout="narrow""#) && page.text.contains(#"data-layout="wide""#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'self'") == true)
            #expect(page.headers[.xFrameOptions] == nil && page.headers[HTTPField.Name("Server-Timing")!]?.contains("render;dur=") == true)
            let more = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(reader)&limit=8")
            #expect(Self.marks(more.text) == 16)
            let pinned = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness, scope: ["fixed_params": .object(["cities": .string("Bilbao")])]))
            let one = try await http.request(.get, "/gcp/europe-west3/endpoints/sales_by_city/charts/\(id)?token=\(pinned)&cities=Madrid")
            #expect(one.status == .ok && one.text.contains(#"data-label="Bilbao""#) && !one.text.contains(#"data-label="Madrid""#))

            // A preview draws a spec that is not saved, for the admin only, framed only by this server's pages.
            let draft: JSONValue = .object(["type": .string("bar"), "index": .string("city"), "categories": .array([.string("orders")]),
                                            "title": .string("<b>Draft</b>"), "params": .object(["limit": .string("3")])])
            let preview = try await http.request(.post, "/v0/pipes/sales_by_city/charts/preview", token: Self.admin, json: draft)
            #expect(preview.status == .ok && Self.marks(preview.text, #"class="bar""#) == 3 && preview.text.contains("&lt;b&gt;Draft&lt;/b&gt;"),
                    "\(preview.status) \(preview.text.suffix(600))")
            #expect(preview.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'self'") == true)
            #expect(try await http.request(.get, "/v0/pipes/sales_by_city/charts", token: Self.admin).text.contains("Draft") == false, "nothing saved")
            #expect(try await http.request(.post, "/v0/pipes/sales_by_city/charts/preview", token: reader, json: draft).status == .forbidden)
            let wrongColumn = try await http.request(.post, "/v0/pipes/sales_by_city/charts/preview", token: Self.admin,
                                                     json: .object(["index": .string("city"), "categories": .array([.string("nope")])]))
            #expect(wrongColumn.status == .badRequest && wrongColumn.text.contains("nope"), "\(wrongColumn.text)")
            #expect(try await http.request(.post, "/v0/pipes/sales_by_city/charts/preview", token: Self.admin,
                                           json: .object(["index": .string("city")])).status == .badRequest)

            #expect(try await http.request(.delete, "/v0/pipes/sales_by_city/charts/\(id)", token: reader).status == .forbidden)
            #expect(try await http.request(.delete, "/v0/pipes/sales_by_city/charts/\(id)", token: Self.admin).status == .noContent)
            let gone = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(reader)")
            #expect(gone.status == .notFound && gone.text.contains("Chart not found"))
        }
    }

    @Test(arguments: AnalyticsBackend.available)
    func badTokensAndBadChartsShowAMessageInTheFrame(_ kind: AnalyticsBackend) async throws {
        let harness = try await AnalyticsAPITests.demo(kind)
        try await harness.test { http in
            let created = try await http.request(.post, "/v0/pipes/sales_by_city/charts", token: Self.admin, json: .object([
                "type": .string("donut"), "index": .string("city"), "categories": .array([.string("revenue")]),
            ]))
            let id = try #require(created["id"]?.stringValue)
            let broken = try await http.request(.post, "/v0/pipes/sales_by_city/charts", token: Self.admin, json: .object([
                "index": .string("city"), "categories": .array([.string("profit")]),
            ]))
            let brokenID = try #require(broken["id"]?.stringValue)
            var expired = AnalyticsAPITests.claims(harness)
            expired["exp"] = .number(harness.services.clock.now().timeIntervalSince1970 - 10)
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/endpoints/sales_by_city/charts/\(id)", .forbidden, "Missing token"),
                ("/endpoints/sales_by_city/charts/\(id)?token=\(AnalyticsAPITests.jwt(expired))", .forbidden, "JWT expired"),
                ("/endpoints/sales_by_city/charts/\(id)?token=\(AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness, pipe: "other")))",
                 .forbidden, "no PIPES:READ scope for the pipe sales_by_city"),
                ("/endpoints/sales_by_city/charts/\(id)?token=\(AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness)))&limit=lots",
                 .badRequest, "parameter &#39;limit&#39;"),
                ("/endpoints/sales_by_city/charts/\(brokenID)?token=\(AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness)))",
                 .badRequest, "the column profit"),
                ("/endpoints/sales_by_city/charts/\(UUID())?token=\(AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness)))",
                 .notFound, "no chart with id"),
            ]
            for (uri, status, message) in cases {
                let response = try await http.request(.get, uri)
                #expect(response.status == status, "\(uri): \(response.text)")
                #expect(response.text.contains(message) && response.text.contains(#"role="alert""#), "\(uri): \(response.text)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors *") == true, "errors may be framed anywhere")
                #expect(!response.text.contains("Madrid"), "no data leaks into an error")
            }
            let limited = AnalyticsAPITests.jwt(AnalyticsAPITests.claims(harness, name: "page-limit", extra: ["limits": .object(["rps": .number(1)])]))
            #expect(try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(limited)").status == .ok)
            let second = try await http.request(.get, "/endpoints/sales_by_city/charts/\(id)?token=\(limited)")
            #expect(second.status == .tooManyRequests && second.headers[.retryAfter] == "1" && second.text.contains("Too many requests"))
        }
    }
}
