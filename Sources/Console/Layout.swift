import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// The console's sections, in the order of the navigation.
enum Section: String, CaseIterable, Sendable {
    case home, applications, apis, roles, users, keys, actions, analytics, graphql, directory

    var title: String {
        switch self {
        case .home: "Home"
        case .applications: "Applications"
        case .apis: "APIs"
        case .roles: "Roles"
        case .users: "Users"
        case .keys: "Signing keys"
        case .actions: "Actions"
        case .analytics: "Analytics"
        case .graphql: "GraphQL"
        case .directory: "Directory"
        }
    }

    var path: String { self == .home ? "/console/" : "/console/\(rawValue)" }
}

/// One rendered console page.
struct Page: Sendable {
    var title: String
    var section: Section
    var body: HTML
    var status: HTTPResponse.Status = .ok
    /// Set on the page that shows a secret once: nothing may keep a copy.
    var showsSecret = false
}

/// What a change leads to: back to a page (with a fixed notice), or a page of its own (a secret shown once).
enum Outcome: Sendable {
    case redirect(String, notice: Notice? = nil)
    case page(Page)
}

/// The notices a redirect may carry, by code, so a link cannot put words of its own on a console page.
enum Notice: String, Sendable {
    case saved, created, deleted, deployed, rotated, revoked, synced, appended, blocked, unblocked, sessionsRevoked = "sessions_revoked"

    var text: String {
        switch self {
        case .saved: "Saved."
        case .created: "Created."
        case .deleted: "Deleted."
        case .deployed: "Deployed."
        case .rotated: "Rotated."
        case .revoked: "Revoked."
        case .synced: "Sync started."
        case .appended: "Appended."
        case .blocked: "Blocked."
        case .unblocked: "Unblocked."
        case .sessionsRevoked: "Every session of this user is revoked."
        }
    }
}

enum Layout {
    /// Only this server's own script, styles, frames and form targets; no page of the console may be framed.
    static let policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static func response(_ page: Page, session: ConsoleSession?, notice: Notice? = nil) -> Response {
        let html = document(page, session: session, notice: notice)
        return Response(status: page.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.markup)))
    }

    static var headers: HTTPFields {
        [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentSecurityPolicy: policy, .xFrameOptions: "DENY"]
    }

    static func document(_ page: Page, session: ConsoleSession?, notice: Notice?) -> HTML {
        // Someone not signed in (a refusal, a failed sign-in) sees no sections they cannot open.
        let navigation = session == nil ? [] : Section.allCases.map { section -> HTML in
            let current: HTML = section == page.section ? #" aria-current="page""# : ""
            return "<li><a href=\"\(section.path)\"\(current)>\(section.title)</a></li>"
        }
        let menu: HTML = navigation.isEmpty ? "" : "<nav aria-label=\"Sections\"><ul>\(navigation)</ul></nav>"
        let signOut: HTML = session.map { session in
            "<form method=\"post\" action=\"/console/logout\" class=\"signout\">\(csrfField(session))<button type=\"submit\">Sign out</button></form>"
        } ?? ""
        let message: HTML = notice.map { "<p class=\"notice\" role=\"status\">\($0.text)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(page.title) · Tessera Console</title><link rel="icon" href="data:,">
            <link rel="stylesheet" href="/console/assets/console.css"><script src="/console/assets/console.js" defer></script></head>
            <body><a class="skip" href="#main">Skip to content</a>
            <header><a class="brand" href="/console/">Tessera Console</a>\(menu)\(signOut)</header>
            <main id="main" tabindex="-1"><h1>\(page.title)</h1>\(message)\(page.body)</main></body></html>
            """
    }

    static func csrfField(_ session: ConsoleSession) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrfToken)\">"
    }
}

/// Small builders the pages share.
enum Widgets {
    /// A table of rows; each cell is already HTML (escaped where it came from data).
    static func table(_ caption: String, headers: [String], rows: [[HTML]], empty: String = "None yet.") -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        let head = headers.map { header -> HTML in "<th scope=\"col\">\(header)</th>" }
        let body = rows.map { row -> HTML in "<tr>\(row.map { cell -> HTML in "<td>\(cell)</td>" })</tr>" }
        return "<div class=\"scroll\"><table><caption>\(caption)</caption><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>"
    }

    /// A result set as the APIs return it: `meta` (names) and `data` (objects).
    static func resultTable(_ caption: String, _ result: JSONValue?, limit: Int = 200) -> HTML {
        let names = result?["meta"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            ?? result?["data"]?.arrayValue?.first?.objectValue?.keys.sorted() ?? []
        let rows = (result?["data"]?.arrayValue ?? []).prefix(limit).map { row -> [HTML] in
            names.map { name -> HTML in "\(row[name])" }
        }
        return table(caption, headers: names, rows: Array(rows), empty: "No rows.")
    }

    /// A form that posts to the console, with the CSRF token and the page to return to should the session expire.
    static func form(_ action: String, session: ConsoleSession, back: String, label: String? = nil, fields: HTML,
                     submit: String, style: String = "", multipart: Bool = false) -> HTML {
        let legend: HTML = label.map { "<h2>\($0)</h2>" } ?? ""
        let encoding: HTML = multipart ? #" enctype="multipart/form-data""# : ""
        let buttonClass: HTML = style.isEmpty ? "" : " class=\"\(style)\""
        return """
            <form method="post" action="\(action)"\(encoding)>\(legend)\(Layout.csrfField(session))<input type="hidden" name="back" value="\(back)">\
            \(fields)<button type="submit"\(buttonClass)>\(submit)</button></form>
            """
    }

    /// A one-button form (delete, rotate, deploy).
    static func button(_ action: String, session: ConsoleSession, back: String, submit: String, style: String = "",
                       hidden: [(String, String)] = []) -> HTML {
        let extra = hidden.map { pair -> HTML in "<input type=\"hidden\" name=\"\(pair.0)\" value=\"\(pair.1)\">" }
        return form(action, session: session, back: back, fields: "\(extra)", submit: submit, style: style)
    }

    static func field(_ name: String, _ label: String, value: String = "", type: String = "text", required: Bool = false,
                      hint: String? = nil, placeholder: String? = nil, id given: String? = nil) -> HTML {
        let id = given ?? "f-" + name
        let need: HTML = required ? " required" : ""
        let help: HTML = hint.map { "<small id=\"\(id)-hint\">\($0)</small>" } ?? ""
        let described: HTML = hint == nil ? "" : " aria-describedby=\"\(id)-hint\""
        let holder: HTML = placeholder.map { " placeholder=\"\($0)\"" } ?? ""
        return "<p><label for=\"\(id)\">\(label)</label><input id=\"\(id)\" name=\"\(name)\" type=\"\(type)\" value=\"\(value)\"\(need)\(described)\(holder)>\(help)</p>"
    }

    static func area(_ name: String, _ label: String, value: String = "", rows: Int = 6, code: String? = nil, hint: String? = nil,
                     id given: String? = nil) -> HTML {
        let id = given ?? "f-" + name
        let mode: HTML = code.map { " data-code=\"\($0)\" spellcheck=\"false\"" } ?? ""
        let help: HTML = hint.map { "<small id=\"\(id)-hint\">\($0)</small>" } ?? ""
        let described: HTML = hint == nil ? "" : " aria-describedby=\"\(id)-hint\""
        return "<p><label for=\"\(id)\">\(label)</label><textarea id=\"\(id)\" name=\"\(name)\" rows=\"\(rows)\"\(mode)\(described)>\(value)</textarea>\(help)</p>"
    }

    static func select(_ name: String, _ label: String, options: [(value: String, label: String)], selected: String? = nil,
                       id given: String? = nil, multiple: Bool = false) -> HTML {
        let id = given ?? "f-" + name
        let many: HTML = multiple ? " multiple size=\"\(min(max(options.count, 2), 8))\"" : ""
        let choices = options.map { option -> HTML in
            let mark: HTML = option.value == selected ? " selected" : ""
            return "<option value=\"\(option.value)\"\(mark)>\(option.label)</option>"
        }
        return "<p><label for=\"\(id)\">\(label)</label><select id=\"\(id)\" name=\"\(name)\"\(many)>\(choices)</select></p>"
    }

    static func checkbox(_ name: String, _ label: String, checked: Bool) -> HTML {
        let mark: HTML = checked ? " checked" : ""
        return "<p class=\"check\"><input type=\"checkbox\" id=\"f-\(name)\" name=\"\(name)\" value=\"on\"\(mark)><label for=\"f-\(name)\">\(label)</label></p>"
    }

    /// A secret shown once, with a warning that it will not be shown again.
    static func secretOnce(_ label: String, _ value: String) -> HTML {
        """
        <div class="secret" role="alert"><p><strong>\(label)</strong>: shown once. Copy it now; the console will not show it again.</p>\
        <p><code class="copy">\(value)</code></p></div>
        """
    }

    /// Preformatted text; focusable, since a long line makes it scroll and a keyboard must reach that too.
    static func code(_ text: String) -> HTML { "<pre tabindex=\"0\"><code>\(text)</code></pre>" }

    static func link(_ path: String, _ text: String) -> HTML { "<a href=\"\(path)\">\(text)</a>" }

    static func lines(_ values: [JSONValue]?) -> String {
        (values ?? []).compactMap(\.stringValue).joined(separator: "\n")
    }

    /// One value per line (URLs may hold commas).
    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Values one per line or separated by commas (names, scopes, columns).
    static func list(_ text: String?) -> [String] {
        // `\r\n`, what browsers send for a text area's line breaks, is one Character: `isNewline` catches it.
        (text ?? "").split(whereSeparator: { $0.isNewline || $0 == "," })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
