import Foundation
import SQLiteNIO
import TesseraCore

/// A pipe's answer: typed columns and rows, with what reading them cost. Tinybird's wire formats for it are in
/// `HTTP/EndpointResult+Formats.swift`.
public struct EndpointResult: Sendable {
    public let meta: [(name: String, type: String)]
    public let data: [[JSONValue]]
    public let rowsBeforeLimit: Int
    public let elapsed: Double
    public let rowsRead: Int
    public let bytesRead: Int
}

/// Runs pipes as endpoints: renders each node's template with the request's parameters (fixed parameters from
/// the token win), chains the nodes as common table expressions, applies the token's row filters, and reads.
public struct Endpoints: Sendable {
    let catalog: Catalog
    let engine: AnalyticsEngine
    let templates = TemplateCache()

    public init(catalog: Catalog, engine: AnalyticsEngine) {
        self.catalog = catalog
        self.engine = engine
    }

    public func run(_ pipe: PipeRecord, in workspace: Workspace, parameters: [String: String],
                    filters: [String: String] = [:]) async throws -> EndpointResult {
        let started = DispatchTime.now()
        let dataSources = try await catalog.dataSources(in: workspace)
        let columnNames = Set(dataSources.flatMap { $0.definition.columns.map(\.name) })
        // A filter names its data source by name (any case) or id; one that matches none is refused, never skipped.
        var resolved: [String: String] = [:]
        for (resource, filter) in filters {
            guard let source = dataSources.first(where: { $0.id == resource || $0.name.lowercased() == resource.lowercased() }) else {
                throw DomainError(.forbidden, code: "forbidden", "The token's row filter names the Data Source \(resource), which does not exist")
            }
            resolved[source.name] = filter
        }
        let context = "in pipe \(pipe.name)"
        switch try await engine.storage(for: workspace) {
        case .embedded(let database):
            let rendered = try Self.compile(pipe.definition, parameters: parameters, columns: columnNames, filters: resolved,
                                            dataSources: Set(dataSources.map(\.name)), templates: await templates.parsed(pipe.definition))
            return try await execute(rendered, on: database, dataSources: dataSources, started: started, context: context)
        case .clickHouse(let clickHouse):
            let sql = try Self.compileForClickHouse(pipe.definition, parameters: parameters, columns: columnNames, filters: resolved,
                                                    dataSources: Set(dataSources.map(\.name)), templates: await templates.parsed(pipe.definition))
            return try await execute(sql, on: clickHouse, dataSources: dataSources, context: context)
        }
    }

    /// `/v0/sql`: one read-only query over the workspace's data sources, as its admin writes it.
    public func sql(_ text: String, in workspace: Workspace) async throws -> EndpointResult {
        let started = DispatchTime.now()
        let dataSources = try await catalog.dataSources(in: workspace)
        let sql = SQLText.trimmed(text)
        guard SQLText.isSelect(sql) else { throw DomainError.invalidQuery("[Error] /v0/sql runs one SELECT query") }
        if SQLText.readsServiceDataSources(sql) {
            return EndpointResult(meta: [], data: [], rowsBeforeLimit: 0, elapsed: 0, rowsRead: 0, bytesRead: 0)
        }
        switch try await engine.storage(for: workspace) {
        case .embedded(let database):
            return try await execute(RenderedSQL(sql: sql, binds: []), on: database, dataSources: dataSources, started: started,
                                     context: "in the query")
        case .clickHouse(let clickHouse):
            return try await execute(sql, on: clickHouse, dataSources: dataSources, context: "in the query")
        }
    }

    /// A read on ClickHouse: the types and statistics are ClickHouse's own, except where a column stands in for a type
    /// the server lacks (`Bool` kept as `UInt8` before 21.12), which is answered as the datafile declares it.
    func execute(_ sql: String, on clickHouse: ClickHouseWorkspace, dataSources: [DataSourceRecord],
                 context: String) async throws -> EndpointResult {
        let result = try await clickHouse.query(sql, context: context)
        var declared: [String: ColumnType] = [:]
        for source in dataSources { for column in source.definition.columns where declared[column.name] == nil { declared[column.name] = column.type } }
        let meta = result.columns.map { column -> (name: String, type: String) in
            guard declared[column.name]?.base == .bool, column.type.hasSuffix("UInt8") || column.type.hasSuffix("UInt8)") else {
                return (column.name, column.type)
            }
            return (column.name, column.type.hasPrefix("Nullable") ? "Nullable(Bool)" : "Bool")
        }
        let booleans = meta.indices.filter { meta[$0].type.hasSuffix("Bool") || meta[$0].type.hasSuffix("Bool)") }
        var data = Array(result.rows.prefix(WorkspaceDatabase.maximumRows))
        if !booleans.isEmpty {
            for row in data.indices {
                for index in booleans where index < data[row].count {
                    if case .number(let n) = data[row][index] { data[row][index] = .bool(n != 0) }
                }
            }
        }
        return EndpointResult(meta: meta, data: data, rowsBeforeLimit: result.rows.count, elapsed: result.elapsed,
                              rowsRead: result.rowsRead, bytesRead: result.bytesRead)
    }

    func execute(_ rendered: RenderedSQL, on database: WorkspaceDatabase, dataSources: [DataSourceRecord], started: DispatchTime,
                 context: String) async throws -> EndpointResult {
        let result: QueryResult
        do { result = try await database.query(rendered) } catch let error as SQLiteError {
            if error.reason == .busy || error.reason == .locked {
                throw DomainError(.unavailable, code: "busy", "The workspace's data is busy; try again")
            }
            throw DomainError.invalidQuery("[Error] \(error.message) (\(context))")
        }
        var types: [String: ColumnType] = [:]
        var rowsRead = 0, bytesRead = 0
        for source in dataSources where Self.mentions(rendered.sql, source.name) {
            for column in source.definition.columns where types[column.name] == nil { types[column.name] = column.type }
            let rows = try await database.rowCount(source.name)
            rowsRead += rows
            bytesRead += rows * source.definition.columns.reduce(0) { $0 + Self.width($1.type) }
        }
        let rows = Array(result.rows.prefix(WorkspaceDatabase.maximumRows))
        let declared = ResultTypes(dataSources: Dictionary(dataSources.map { source in
            (source.name, Dictionary(source.definition.columns.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first }))
        }, uniquingKeysWith: { first, _ in first })).types(of: rendered.sql)
        // SQLite names an unaliased expression after its text as written; compare without spaces and case.
        func key(_ name: String) -> String { name.filter { !$0.isWhitespace }.lowercased() }
        let declaredByKey = Dictionary(declared.map { (key($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
        let meta = result.columns.enumerated().map { index, name in
            (name: name, type: declared[name] ?? declaredByKey[key(name)] ?? types[name].map { "\($0)" }
                ?? Self.inferredType(rows.map { $0[index] }))
        }
        let data = rows.map { row in row.enumerated().map { index, value in Self.json(value, type: meta[index].type) } }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return EndpointResult(meta: meta, data: data, rowsBeforeLimit: result.rows.count, elapsed: elapsed,
                              rowsRead: rowsRead, bytesRead: bytesRead)
    }

    /// The SQL for a pipe's endpoint node: earlier nodes become CTEs it can select from, and data sources the
    /// token filters are shadowed by CTEs that apply the filter.
    static func compile(_ pipe: PipeDefinition, parameters: [String: String], columns: Set<String>,
                        filters: [String: String], dataSources: Set<String>,
                        templates: [String: PipeTemplate] = [:]) throws -> RenderedSQL {
        guard let endpoint = pipe.endpointNode, let endpointIndex = pipe.nodes.lastIndex(of: endpoint) else {
            if let node = pipe.materializedNode {
                throw DomainError.notFound("The pipe \(pipe.name) is a materialized view (into \(node.datasource ?? "its data source")) and has no endpoint: read the data source through an endpoint pipe")
            }
            throw DomainError.invalidQuery("Pipe \(pipe.name) has no nodes")
        }
        return try compile(pipe, through: endpointIndex, parameters: parameters, columns: columns, filters: filters,
                           dataSources: dataSources, templates: templates)
    }

    /// The ClickHouse SQL for a pipe's endpoint node, as Tinybird runs it: template values as typed literals, and
    /// each earlier node (and a token-filtered data source) written in as a subquery where it is selected from,
    /// since ClickHouse before 20.10 has no CTEs.
    static func compileForClickHouse(_ pipe: PipeDefinition, parameters: [String: String], columns: Set<String>,
                                     filters: [String: String], dataSources: Set<String>,
                                     templates: [String: PipeTemplate] = [:]) throws -> String {
        guard let endpoint = pipe.endpointNode, let endpointIndex = pipe.nodes.lastIndex(of: endpoint) else {
            throw DomainError.invalidQuery("Pipe \(pipe.name) has no endpoint node")
        }
        return try compileForClickHouse(pipe, through: endpointIndex, parameters: parameters, columns: columns, filters: filters,
                                        dataSources: dataSources, templates: templates)
    }

    /// The ClickHouse SQL for one node of a pipe, with the nodes before it written in as subqueries.
    static func compileForClickHouse(_ pipe: PipeDefinition, through endpointIndex: Int, parameters: [String: String],
                                     columns: Set<String>, filters: [String: String], dataSources: Set<String>,
                                     templates: [String: PipeTemplate] = [:]) throws -> String {
        let endpoint = pipe.nodes[endpointIndex]
        var sources: [(name: String, sql: String)] = []
        for (name, filter) in filters.sorted(by: { $0.key < $1.key }) where dataSources.contains(name) {
            sources.append((name, "SELECT * FROM \(ClickHouseSQL.identifier(name)) WHERE \(filter)"))
        }
        do {
            var compiled = ""
            for node in pipe.nodes[...endpointIndex] {
                let template = try templates[node.sql] ?? PipeTemplate(node.sql)
                compiled = ClickHouseSubqueries.inline(sources, into: try template.renderForClickHouse(parameters, columns: columns))
                sources.append((node.name, compiled))
            }
            let sql = SQLText.trimmed(compiled)
            guard SQLText.isSelect(sql) else {
                throw DomainError.invalidQuery("[Error] Pipe \(pipe.name): node \(endpoint.name) must be a SELECT query")
            }
            return sql
        } catch let failure as PipeTemplate.Failure {
            throw DomainError.invalidQuery(failure.message)
        }
    }

    /// The SQL for one node of a pipe, with the nodes before it as CTEs.
    static func compile(_ pipe: PipeDefinition, through endpointIndex: Int, parameters: [String: String], columns: Set<String>,
                        filters: [String: String], dataSources: Set<String>,
                        templates: [String: PipeTemplate] = [:]) throws -> RenderedSQL {
        func template(_ sql: String) throws(PipeTemplate.Failure) -> PipeTemplate {
            if let known = templates[sql] { return known }
            return try PipeTemplate(sql)
        }
        let endpoint = pipe.nodes[endpointIndex]
        var prelude: [(String, RenderedSQL)] = []
        for (name, filter) in filters.sorted(by: { $0.key < $1.key }) where dataSources.contains(name) {
            prelude.append((name, RenderedSQL(sql: "SELECT * FROM main.\(WorkspaceDatabase.quoted(name)) WHERE \(filter)", binds: [])))
        }
        do {
            for node in pipe.nodes[..<endpointIndex] {
                prelude.append((node.name, try template(node.sql).render(parameters, columns: columns)))
            }
            var main = try template(endpoint.sql).render(parameters, columns: columns)
            main.sql = SQLText.trimmed(main.sql)
            guard SQLText.isSelect(main.sql) else {
                throw DomainError.invalidQuery("[Error] Pipe \(pipe.name): node \(endpoint.name) must be a SELECT query")
            }
            guard !prelude.isEmpty else { return main }
            var sql = "WITH " + prelude.map { "\(WorkspaceDatabase.quoted($0.0)) AS (\n\($0.1.sql)\n)" }.joined(separator: ",\n")
            var binds = prelude.flatMap(\.1.binds)
            if main.sql.uppercased().hasPrefix("WITH") {
                sql += ",\n" + main.sql.drop { $0.isWhitespace }.dropFirst(4)
            } else {
                sql += "\n" + main.sql
            }
            binds += main.binds
            return RenderedSQL(sql: sql, binds: binds)
        } catch let failure as PipeTemplate.Failure {
            throw DomainError.invalidQuery(failure.message)
        }
    }

    /// Whether `sql` names `name` as a whole identifier (not as part of a longer one).
    static func mentions(_ sql: String, _ name: String) -> Bool {
        func isIdentifier(_ character: Character?) -> Bool {
            guard let character else { return false }
            return character.isLetter || character.isNumber || character == "_"
        }
        var searchStart = sql.startIndex
        while let range = sql[searchStart...].range(of: name) {
            let before = range.lowerBound > sql.startIndex ? sql[sql.index(before: range.lowerBound)] : nil
            let after = range.upperBound < sql.endIndex ? sql[range.upperBound] : nil
            if !isIdentifier(before) && !isIdentifier(after) { return true }
            searchStart = range.upperBound
        }
        return false
    }

    static func width(_ type: ColumnType) -> Int {
        switch type.base {
        case .integer(let bits, _): bits / 8
        case .float(let bits): bits / 8
        case .bool: 1
        case .date: 2
        case .dateTime: 4
        case .dateTime64: 8
        default: 16
        }
    }

    static func inferredType(_ values: [SQLiteData]) -> String {
        var sawNull = false
        for value in values {
            switch value {
            case .integer: return sawNull ? "Nullable(Int64)" : "Int64"
            case .float: return sawNull ? "Nullable(Float64)" : "Float64"
            case .text, .blob: return sawNull ? "Nullable(String)" : "String"
            case .null: sawNull = true
            }
        }
        return "String"
    }

    static func json(_ value: SQLiteData, type: String) -> JSONValue {
        switch value {
        case .null: return .null
        case .integer(let n):
            if type == "Bool" || type == "Nullable(Bool)" { return .bool(n != 0) }
            return .number(Double(n))
        case .float(let n): return n.isFinite ? .number(n) : .null
        case .text(let text):
            if type.hasPrefix("Array("), let parsed = try? JSONValue.parse(text) { return parsed }
            return .string(text)
        case .blob(let buffer): return .string(String(buffer: buffer))
        }
    }
}

/// Pipes' templates, parsed once per text rather than on every request (parsing was a tenth of an endpoint's time:
/// BENCHMARKS.md, issue 11). A template that does not parse is not kept, so the request parses it again and reports why.
actor TemplateCache {
    private var parsed: [String: PipeTemplate] = [:]
    static let capacity = 2_000

    func parsed(_ pipe: PipeDefinition) -> [String: PipeTemplate] {
        var found: [String: PipeTemplate] = [:]
        for node in pipe.nodes {
            if let known = parsed[node.sql] { found[node.sql] = known; continue }
            guard let template = try? PipeTemplate(node.sql) else { continue }
            if parsed.count >= Self.capacity { parsed.removeAll(keepingCapacity: true) }
            parsed[node.sql] = template
            found[node.sql] = template
        }
        return found
    }
}

/// RFC 4180 CSV: reading (quoted fields, doubled quotes, CRLF) and quoting for output.
public enum CSV {
    public static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The records of a CSV text, each with its raw line for quarantine messages.
    public static func records(_ text: String) -> [(fields: [String], line: String)] {
        var records: [(fields: [String], line: String)] = []
        let characters = Array(text)
        var fields: [String] = [], field = "", inQuotes = false, wasQuoted = false
        var index = 0, lineStart = 0
        func finish(at end: Int) {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) {
                records.append((fields, String(characters[lineStart..<end])))
            }
            fields = []; field = ""; wasQuoted = false
        }
        while index < characters.count {
            let character = characters[index]
            if inQuotes {
                if character == "\"" {
                    if index + 1 < characters.count, characters[index + 1] == "\"" { field.append("\""); index += 2; continue }
                    inQuotes = false
                } else {
                    field.append(character)
                }
                index += 1
                continue
            }
            switch character {
            case "\"" where field.isEmpty: inQuotes = true; wasQuoted = true
            case ",": fields.append(field); field = ""
            case "\n", "\r\n", "\r": finish(at: index); lineStart = index + 1
            default: field.append(character)
            }
            index += 1
        }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { finish(at: characters.count) }
        return records
    }
}
