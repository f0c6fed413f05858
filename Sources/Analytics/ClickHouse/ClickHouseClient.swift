import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TesseraCore

/// Where a ClickHouse server (or a cluster's node) is, and who Tessera is to it.
public struct ClickHouseSettings: Sendable, Equatable {
    /// The HTTP interface, `http://127.0.0.1:8123`.
    public var url: String
    public var database: String
    public var user: String
    public var password: String
    /// The `remote_servers` cluster a workspace's tables spread over, if any.
    public var cluster: String?
    /// A query or insert that takes longer is abandoned, and the caller answers 503.
    public var timeout: TimeAmount

    public init(url: String, database: String = "default", user: String = "default", password: String = "",
                cluster: String? = nil, timeout: TimeAmount = .seconds(10)) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.database = database
        self.user = user
        self.password = password
        self.cluster = cluster
        self.timeout = timeout
    }
}

/// ClickHouse's answer to a `SELECT` in `FORMAT JSONCompact`: the columns with their ClickHouse types, the rows, and
/// what the server says it read.
public struct ClickHouseResult: Sendable, Equatable {
    public struct Column: Sendable, Equatable {
        public let name: String
        public let type: String
    }

    public let columns: [Column]
    public let rows: [[JSONValue]]
    public let elapsed: Double
    public let rowsRead: Int
    public let bytesRead: Int
}

/// What went wrong talking to ClickHouse, split the way callers answer: the server refused the statement (a
/// mistake in it, mapped to 400), or the server could not be reached or did not answer in time (503).
public enum ClickHouseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// ClickHouse's own exception: its numeric code and message (`Code: 60, e.displayText() = DB::Exception: …`).
    case server(code: Int, message: String)
    /// Not reached or no answer in time; `refused` when the connection itself was refused, so nothing was sent.
    case unavailable(String, refused: Bool = false)

    public var description: String {
        switch self {
        case .server(let code, let message): "ClickHouse error \(code): \(message)"
        case .unavailable(let reason, _): "ClickHouse is unavailable: \(reason)"
        }
    }

    /// A refused connection sent nothing: retrying it cannot write a block twice.
    public var isRefusedConnection: Bool {
        if case .unavailable(_, true) = self { return true }
        return false
    }

    /// Reads ClickHouse's error body. 18.16 writes `Code: N, e.displayText() = DB::Exception: message, e.what() = …`.
    static func parse(_ body: String, status: Int) -> ClickHouseError {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let codeMatch = text.firstMatch(of: /^Code: (\d+)/), let code = Int(codeMatch.1) else {
            return .server(code: 0, message: text.isEmpty ? "HTTP \(status)" : String(text.prefix(2000)))
        }
        var message = text
        if let display = text.range(of: "DB::Exception: ") { message = String(text[display.upperBound...]) }
        if let what = message.range(of: ", e.what() = ") { message = String(message[..<what.lowerBound]) }
        return .server(code: code, message: String(message.prefix(2000)))
    }
}

/// ClickHouse over its HTTP interface, with a pooled client: statements in the body, results as JSON, inserts as
/// `JSONEachRow`. Works with Debian's 18.16 (no query parameters, no `X-ClickHouse-*` auth headers: credentials go
/// as HTTP basic auth, settings as URL parameters).
public struct ClickHouseClient: Sendable {
    public let settings: ClickHouseSettings
    let http: HTTPClient
    /// ClickHouse answers 64-bit integers as JSON strings unless told otherwise; Tinybird answers numbers.
    static let outputSettings = ["output_format_json_quote_64bit_integers": "0", "output_format_json_quote_denormals": "0"]

    public init(settings: ClickHouseSettings, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
    }

    /// Runs a statement that returns no rows (DDL, `INSERT … SELECT`).
    /// `inDatabase` names another database to run in (`CREATE DATABASE` runs in `default`, before its own exists).
    public func execute(_ sql: String, settings extra: [String: String] = [:], inDatabase: String? = nil) async throws {
        _ = try await send(sql, parameters: extra, database: inDatabase)
    }

    /// Runs a `SELECT` and reads its result. `sql` must not name a format: the client asks for `JSONCompact`.
    public func query(_ sql: String, settings extra: [String: String] = [:]) async throws -> ClickHouseResult {
        let body = try await send(sql + "\nFORMAT JSONCompact", parameters: Self.outputSettings.merging(extra) { $1 })
        guard let object = try? JSONValue.parse(body).objectValue else {
            throw ClickHouseError.server(code: 0, message: "ClickHouse answered something that is not JSON: \(body.prefix(200))")
        }
        let columns = (object["meta"]?.arrayValue ?? []).compactMap { item -> ClickHouseResult.Column? in
            guard let name = item.objectValue?["name"]?.stringValue, let type = item.objectValue?["type"]?.stringValue else { return nil }
            return ClickHouseResult.Column(name: name, type: type)
        }
        let rows = (object["data"]?.arrayValue ?? []).map { $0.arrayValue ?? [] }
        let statistics = object["statistics"]?.objectValue ?? [:]
        return ClickHouseResult(columns: columns, rows: rows, elapsed: statistics["elapsed"]?.numberValue ?? 0,
                                rowsRead: Int(statistics["rows_read"]?.numberValue ?? 0),
                                bytesRead: Int(statistics["bytes_read"]?.numberValue ?? 0))
    }

    /// Inserts rows given as JSON objects, one `JSONEachRow` line each. One request is one block: ClickHouse writes
    /// all of it or none.
    public func insert(into table: String, rows: [JSONValue], settings extra: [String: String] = [:]) async throws {
        guard !rows.isEmpty else { return }
        var body: [UInt8] = []
        body.reserveCapacity(rows.count * 64)
        for row in rows {
            body.append(contentsOf: row.jsonText().utf8)
            body.append(UInt8(ascii: "\n"))
        }
        try await insert(into: table, lines: body, settings: extra)
    }

    /// Inserts rows already written as `JSONEachRow` lines.
    public func insert(into table: String, lines: [UInt8], settings extra: [String: String] = [:]) async throws {
        guard !lines.isEmpty else { return }
        _ = try await send(nil, body: ByteBuffer(bytes: lines),
                           parameters: extra.merging(["query": "INSERT INTO \(ClickHouseSQL.identifier(table)) FORMAT JSONEachRow"]) { $1 })
    }

    /// Whether the server answers `/ping`.
    public func ping() async -> Bool {
        var request = HTTPClientRequest(url: settings.url + "/ping")
        request.method = .GET
        guard let response = try? await http.execute(request, timeout: settings.timeout) else { return false }
        return response.status == .ok
    }

    /// POSTs `sql` (or `body`, with the statement in `parameters["query"]`) and returns the answer's text.
    private func send(_ sql: String?, body: ByteBuffer? = nil, parameters: [String: String], database: String? = nil) async throws -> String {
        guard var components = URLComponents(string: settings.url + "/") else {
            throw ClickHouseError.unavailable("\(settings.url) is not a URL")
        }
        var items = [URLQueryItem(name: "database", value: database ?? settings.database)]
        items += parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        components.queryItems = items
        // `+` is literal in URLComponents' encoding but a space to ClickHouse's query-string decoder: encode it.
        let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components.percentEncodedQuery = query
        guard let url = components.string else { throw ClickHouseError.unavailable("\(settings.url) is not a URL") }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        let credentials = Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.body = .bytes(sql.map { ByteBuffer(string: $0) } ?? body ?? ByteBuffer())
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: settings.timeout)
        } catch {
            throw ClickHouseError.unavailable("\(error)", refused: Self.isRefused(error))
        }
        let text: String
        do {
            text = String(buffer: try await response.body.collect(upTo: Self.maximumResponseBytes))
        } catch {
            throw ClickHouseError.unavailable("the answer was cut off or larger than \(Self.maximumResponseBytes) bytes (\(error))")
        }
        guard response.status == .ok else { throw ClickHouseError.parse(text, status: Int(response.status.code)) }
        return text
    }

    static func isRefused(_ error: any Error) -> Bool {
        let text = "\(error)".lowercased()
        return text.contains("connection refused") || text.contains("connectionrefused") || text.contains("econnrefused")
    }

    /// An endpoint's answer is capped well below this; a larger one is a mistake, not data to hold in memory.
    static let maximumResponseBytes = 256 * 1024 * 1024
}

/// ClickHouse SQL spelling: identifiers in backquotes, strings in single quotes with backslash escapes (the
/// escaping Tinybird's templates apply to parameter values).
public enum ClickHouseSQL {
    public static func identifier(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "`", with: "\\`") + "`"
    }

    public static func string(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }
}
