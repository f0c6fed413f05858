import Analytics
import Charts
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// Charts of endpoints: CRUD under `/v0/pipes/<pipe>/charts` (Tinybird's error shape), and the embeddable page at
/// `/endpoints/<pipe>/charts/<id>?token=…`, which checks the token exactly as the endpoint does and renders SVG on
/// the server. The composition root joins the two services, which know nothing of each other.
struct ChartRoutes: Sendable {
    let analytics: Analytics
    let charts: ChartStore

    func addRoutes(to router: Router<TesseraRequestContext>) {
        let v0 = router.group("v0").add(middleware: ErrorEnvelopeMiddleware<TinybirdErrors, TesseraRequestContext>())
        v0.get("pipes/:name/charts") { request, context in
            let granted = try await analytics.authorize(pipe: try context.pathParameter("name"), token: try token(request))
            let list = try await charts.charts(workspace: granted.principal.workspace.id, pipe: granted.pipe.name)
            return JSONResponse.text(JSONValue.object(["charts": .array(list.map(\.wire))]).jsonText())
        }
        v0.post("pipes/:name/charts") { request, context in
            let pipe = try await adminPipe(request, context)
            let chart = try ChartSpec(pipe: pipe.1.name, body: try await BodyReader.json(request))
            guard try await charts.chart(chart.id, workspace: pipe.0.id, pipe: pipe.1.name) == nil else {
                throw DomainError.conflict("A chart with id \(chart.id) already exists")
            }
            try await charts.save(chart, workspace: pipe.0.id)
            return JSONResponse.text(chart.wire.jsonText(), status: .created)
        }
        v0.get("pipes/:name/charts/:id") { request, context in
            let granted = try await analytics.authorize(pipe: try context.pathParameter("name"), token: try token(request))
            guard let chart = try await charts.chart(try context.pathParameter("id"), workspace: granted.principal.workspace.id,
                                                     pipe: granted.pipe.name) else {
                throw ChartStore.notFound
            }
            return JSONResponse.text(chart.wire.jsonText())
        }
        v0.put("pipes/:name/charts/:id") { request, context in
            let pipe = try await adminPipe(request, context)
            guard let existing = try await charts.chart(try context.pathParameter("id"), workspace: pipe.0.id, pipe: pipe.1.name) else {
                throw ChartStore.notFound
            }
            var body = try await BodyReader.json(request).objectValue ?? [:]
            body["id"] = nil
            let chart = try ChartSpec(pipe: pipe.1.name, body: .object(body), existing: existing)
            try await charts.save(chart, workspace: pipe.0.id)
            return JSONResponse.text(chart.wire.jsonText())
        }
        // Tessera's addition: the page of a chart that is not saved, from its spec in the body, for a live preview while
        // it is edited (the console's). Admin token only; only this server's own pages may frame it.
        v0.post("pipes/:name/charts/preview") { request, context in
            let granted = try await analytics.authorize(pipe: try context.pathParameter("name"), token: try token(request))
            guard granted.principal.isAdmin else {
                throw DomainError(.forbidden, code: "forbidden", "Previewing charts needs the workspace admin token")
            }
            let chart = try ChartSpec(pipe: granted.pipe.name, body: try await BodyReader.json(request))
            return try await draw(chart, granted, parameters: [:], refresh: nil, frameAncestors: "'self'")
        }
        v0.delete("pipes/:name/charts/:id") { request, context in
            let pipe = try await adminPipe(request, context)
            try await charts.delete(try context.pathParameter("id"), workspace: pipe.0.id, pipe: pipe.1.name)
            return JSONResponse.empty()
        }
        let pages = router.group().add(middleware: ErrorEnvelopeMiddleware<ChartPageErrors, TesseraRequestContext>())
        pages.get("endpoints/:pipe/charts/:id") { request, context in
            try await page(request, pipe: try context.pathParameter("pipe"), id: try context.pathParameter("id"))
        }
        // Tinybird's chart URLs carry the cloud and region first (`/gcp/europe-west3/endpoints/…`); swapping only
        // the host of such a URL keeps working.
        pages.get(":cloud/:region/endpoints/:pipe/charts/:id") { request, context in
            try await page(request, pipe: try context.pathParameter("pipe"), id: try context.pathParameter("id"))
        }
    }

    func token(_ request: Request) throws -> String? {
        request.bearerOrQueryToken(try request.query)
    }

    func adminPipe(_ request: Request, _ context: TesseraRequestContext) async throws -> (Workspace, PipeRecord) {
        let granted = try await analytics.authorize(pipe: try context.pathParameter("name"), token: try token(request))
        guard granted.principal.isAdmin else {
            throw DomainError(.forbidden, code: "forbidden", "Changing charts needs the workspace admin token")
        }
        return (granted.principal.workspace, granted.pipe)
    }

    func page(_ request: Request, pipe: String, id: String) async throws -> Response {
        let query = try request.query
        let refresh = query["refresh"].flatMap(Int.init).map { min(max($0, 5), 86_400) }
        let granted = try await analytics.authorize(pipe: pipe, token: request.bearerOrQueryToken(query))
        let principal = granted.principal
        guard let chart = try await charts.chart(id, workspace: principal.workspace.id, pipe: granted.pipe.name) else {
            throw DomainError.notFound("This endpoint has no chart with id \(id).")
        }
        return try await draw(chart, granted, parameters: query.removing(["token", "refresh"]).firstValues, refresh: refresh,
                              frameAncestors: principal.workspace.frameAncestors)
    }

    /// The chart page for `chart` over what the pipe answers `parameters`.
    func draw(_ chart: ChartSpec, _ granted: PipeAccess, parameters: [String: String], refresh: Int?,
              frameAncestors: String) async throws -> Response {
        let read = try await analytics.read(granted, parameters: parameters, defaults: chart.parameters)
        let started = DispatchTime.now()
        let html: String
        do {
            html = try ChartPage.html(chart, data: ChartData(columns: read.result.meta.map(\.name), rows: read.result.data), refresh: refresh)
        } catch {
            throw DomainError.invalidQuery("The chart uses the column \(error.name), which the pipe's result does not have.")
        }
        let render = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e6
        var headers = read.rateLimitHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = ChartPage.contentSecurityPolicy(frameAncestors: frameAncestors)
        headers[HTTPField.Name("Server-Timing")!] = String(format: "query;dur=%.3f, render;dur=%.3f", read.result.elapsed * 1000, render)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The chart page's envelope: an HTML page that shows, inside the frame where the chart would have been, why it is
/// not there. Like the endpoint it draws, every token problem is 403. Error pages carry no data, so any page may
/// frame them.
enum ChartPageErrors: ErrorEnvelope {
    static let family = "chart page"

    static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        TinybirdErrors.status(for: kind)
    }

    static func response(status: HTTPResponse.Status, code: String?, message: String) -> Response {
        switch status {
        case .forbidden: page(status, "This chart cannot be shown", message)
        case .notFound: page(status, "Chart not found", message)
        case .badRequest, .uriTooLong: page(status, "This chart cannot be drawn", message)
        case .internalServerError: page(status, "This chart is unavailable", "Something went wrong on the server.")
        default: page(status, "This chart is unavailable", "Try again in a moment.")
        }
    }

    static func response(toFamilyError error: any Error) -> Response? {
        guard let limited = error as? RateLimited else { return nil }
        var response = page(.tooManyRequests, "Too many requests", limited.message + ". Try again in a second.")
        for field in RateLimited.headers(limited.decision) { response.headers[field.name] = field.value }
        return response
    }

    static func page(_ status: HTTPResponse.Status, _ heading: String, _ message: String) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: ChartPage.contentSecurityPolicy(frameAncestors: "*"),
        ], body: .init(byteBuffer: ByteBuffer(string: ChartPage.error(heading, message))))
    }
}
