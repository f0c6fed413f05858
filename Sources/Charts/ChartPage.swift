import Foundation
import TesseraCore

/// The embeddable page around a chart: title, description, the SVG (or the table), a screen-reader table, and an
/// optional `<meta http-equiv="refresh">` so `refresh=<seconds>` works without script. Errors get the same frame.
public enum ChartPage {
    static let style = """
        :root{--fg:#111827;--muted:#6b7280;--grid:#e5e7eb;--bg:#ffffff;--panel:#f9fafb}
        @media (prefers-color-scheme: dark){:root{--fg:#e5e7eb;--muted:#9ca3af;--grid:#374151;--bg:#0b1220;--panel:#111827}}
        html,body{margin:0;height:100%;overflow:hidden;background:var(--bg);color:var(--fg);font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        main{display:flex;flex-direction:column;height:100%;box-sizing:border-box;padding:8px 12px}
        h1{font-size:14px;font-weight:600;margin:0}
        p.description{margin:2px 0 0;color:var(--muted);font-size:12px}
        .figure{flex:1;min-height:0;display:flex;overflow:hidden}
        .layout{display:none;flex:1;min-width:0;min-height:0}
        .layout-normal{display:flex}
        @media (max-aspect-ratio: 2/1){.layout-normal{display:none}.layout-narrow{display:flex}}
        @media (min-aspect-ratio: 9/2){.layout-normal{display:none}.layout-wide{display:flex}}
        .figure.table{display:block;overflow:auto}
        svg{width:100%;height:100%;overflow:visible}
        svg text{fill:var(--muted);font-size:12px}
        svg .legend text,svg .bar-label{fill:var(--fg)}
        svg .bar-value{fill:var(--fg);font-variant-numeric:tabular-nums}
        svg .grid line{stroke:var(--grid);stroke-width:1}
        svg .empty{font-size:14px}
        .bar,.slice,.point{transition:opacity .15s}
        .bar:hover,.slice:hover,.point:hover{opacity:.7}
        table.data{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        table.data th,table.data td{padding:4px 8px;border-bottom:1px solid var(--grid);text-align:left}
        table.data td{text-align:right}
        table.data caption{display:none}
        .sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
        .error{margin:auto;max-width:32em;padding:16px 20px;border-radius:8px;background:var(--panel);border:1px solid var(--grid)}
        .error h1{color:#b91c1c}
        @media (prefers-color-scheme: dark){.error h1{color:#f87171}}
        """

    public static func html(_ spec: ChartSpec, data: ChartData, refresh: Int?) throws(ChartRenderer.MissingColumn) -> String {
        let figure: String, fallback: String
        if spec.type == .table {
            _ = try ChartRenderer.series(spec, data)
            figure = ChartRenderer.table(spec, data, visuallyHidden: false)
            fallback = ""
        } else {
            // The chart's height is the frame's; the drawing gets what the title (and description) leave of it, so a
            // frame of exactly that height shows the text at its natural size.
            let drawing = Double(max(100, spec.height - (spec.description.isEmpty ? 38 : 56)))
            var layouts = ""
            for layout in ChartRenderer.layouts {
                layouts += #"<div class="layout layout-\#(layout.name)">"#
                    + (try ChartRenderer.svg(spec, data, width: layout.width, height: drawing, layout: layout.name)) + "</div>"
            }
            figure = layouts
            fallback = ChartRenderer.table(spec, data, visuallyHidden: true)
        }
        let description = spec.description.isEmpty ? "" : #"<p class="description">\#(ChartRenderer.escape(spec.description))</p>"#
        return page(title: spec.title, refresh: refresh, body: """
            <main><h1>\(ChartRenderer.escape(spec.title))</h1>\(description)<div class="figure \(spec.type.rawValue)">\(figure)</div>\(fallback)</main>
            """)
    }

    /// A message inside the frame: a bad or expired token, a bad parameter, a missing chart.
    public static func error(_ heading: String, _ message: String) -> String {
        page(title: heading, refresh: nil, body: """
            <main><div class="error" role="alert"><h1>\(ChartRenderer.escape(heading))</h1><p>\(ChartRenderer.escape(message))</p></div></main>
            """)
    }

    static func page(title: String, refresh: Int?, body: String) -> String {
        let refreshTag = refresh.map { #"<meta http-equiv="refresh" content="\#($0)">"# } ?? ""
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\
            <meta name="color-scheme" content="light dark">\(refreshTag)<title>\(ChartRenderer.escape(title))</title>\
            <style>\(style)</style></head><body>\(body)</body></html>
            """
    }

    /// Who may frame the page, and nothing else: no script, no remote resources.
    public static func contentSecurityPolicy(frameAncestors: String) -> String {
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors \(frameAncestors)"
    }
}
