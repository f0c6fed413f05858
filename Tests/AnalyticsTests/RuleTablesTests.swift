import SQLiteNIO
import Testing
import TesseraCore
@testable import Analytics

/// The pipe template renderer, one row per rule: what a template and its parameters become (SQL with placeholders and
/// the values bound to them).
@Suite struct TemplateRuleTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let template: String
        let parameters: [String: String]
        let sql: String
        let binds: [SQLiteData]
        var testDescription: String { template.replacingOccurrences(of: "\n", with: " ") }
    }

    static let rows: [Row] = [
        Row(template: "SELECT 1", parameters: ["x": "1"], sql: "SELECT 1", binds: []),
        Row(template: "%\nSELECT {{String(city, 'Madrid')}}", parameters: [:], sql: "SELECT ?", binds: [.text("Madrid")]),
        Row(template: "%\nSELECT {{String(city, 'Madrid')}}", parameters: ["city": "Lisbon"], sql: "SELECT ?", binds: [.text("Lisbon")]),
        Row(template: "%\nSELECT {{String(city)}}", parameters: ["city": "'; DROP TABLE sales; --"], sql: "SELECT ?",
            binds: [.text("'; DROP TABLE sales; --")]),
        Row(template: "%\nSELECT {{Int32(n, 5)}}", parameters: ["n": "-7"], sql: "SELECT ?", binds: [.integer(-7)]),
        Row(template: "%\nSELECT {{UInt8(n)}}", parameters: ["n": "255"], sql: "SELECT ?", binds: [.integer(255)]),
        Row(template: "%\nSELECT {{Float64(f)}}", parameters: ["f": "2.5"], sql: "SELECT ?", binds: [.float(2.5)]),
        Row(template: "%\nSELECT {{Boolean(b)}}", parameters: ["b": "true"], sql: "SELECT ?", binds: [.integer(1)]),
        Row(template: "%\nSELECT {{Date(d)}}", parameters: ["d": "2026-02-28"], sql: "SELECT ?", binds: [.text("2026-02-28")]),
        Row(template: "%\nSELECT {{DateTime(t)}}", parameters: ["t": "2026-11-21 10:30:00"], sql: "SELECT ?",
            binds: [.text("2026-11-21 10:30:00")]),
        Row(template: "%\nSELECT {{Array(ids, 'Int32')}}", parameters: ["ids": "1,2,3"], sql: "SELECT (?, ?, ?)",
            binds: [.integer(1), .integer(2), .integer(3)]),
        Row(template: "%\nSELECT {{Array(c, 'String', default='a,b')}}", parameters: [:], sql: "SELECT (?, ?)", binds: [.text("a"), .text("b")]),
        Row(template: "%\nSELECT * ORDER BY {{column(sort, 'amount')}}", parameters: [:], sql: "SELECT * ORDER BY \"amount\"", binds: []),
        Row(template: "%\nSELECT {{columns(cols, 'city,amount')}}", parameters: ["cols": "amount"], sql: "SELECT \"amount\"", binds: []),
        Row(template: "%\nSELECT 1 {% if defined(x) %}AND {{Int8(x)}}{% end %}", parameters: [:], sql: "SELECT 1 ", binds: []),
        Row(template: "%\nSELECT 1 {% if defined(x) %}AND {{Int8(x)}}{% end %}", parameters: ["x": "3"], sql: "SELECT 1 AND ?",
            binds: [.integer(3)]),
        Row(template: "%\n{% if not defined(x) %}A{% else %}B{% end %}", parameters: [:], sql: "A", binds: []),
        Row(template: "%\n{% if x == 'a' %}A{% elif x == 'b' %}B{% else %}C{% end %}", parameters: ["x": "b"], sql: "B", binds: []),
        Row(template: "%\n{% if defined(x) and defined(y) %}XY{% elif defined(x) or defined(y) %}one{% end %}", parameters: ["y": "1"],
            sql: "one", binds: []),
        Row(template: "%\n{% if x in ['a', 'b'] %}in{% else %}out{% end %}", parameters: ["x": "b"], sql: "in", binds: []),
    ]

    @Test(arguments: rows)
    func renders(_ row: Row) throws {
        let rendered = try PipeTemplate(row.template).render(row.parameters, columns: ["city", "amount"])
        #expect(rendered.sql == row.sql)
        #expect(rendered.binds == row.binds)
    }
}

/// Tinybird's token scopes: how each is written, and what a principal holding it may do.
@Suite struct ScopeRuleTests {
    static let parsed: [(String, TokenScope)] = [
        ("ADMIN", .admin), ("admin", .admin), ("TOKENS", .tokens), ("DATASOURCES:CREATE", .dataSourcesCreate),
        ("PIPES:CREATE", .pipesCreate), ("PIPES:READ:sales_by_city", .pipesRead("sales_by_city")),
        ("pipes:read:sales_by_city", .pipesRead("sales_by_city")), ("DATASOURCES:APPEND:events", .dataSourcesAppend("events")),
        ("DATASOURCES:READ:sales", .dataSourcesRead("sales", filter: nil)),
        ("DATASOURCES:READ:sales:city = 'Madrid'", .dataSourcesRead("sales", filter: "city = 'Madrid'")),
    ]

    @Test(arguments: parsed)
    func parses(_ text: String, _ scope: TokenScope) throws {
        #expect(try TokenScope.parse(text) == scope)
        #expect(try TokenScope.parse(scope.description) == scope, "written back the way it is read")
    }

    @Test(arguments: ["", "PIPES:READ", "PIPES:READ:", "PIPES:WRITE:x", "DATASOURCES:APPEND", "READ", "SUPERUSER"])
    func refuses(_ text: String) {
        #expect(throws: DomainError.self) { try TokenScope.parse(text) }
    }

    static func principal(_ scopes: [TokenScope]) -> Principal {
        Principal(workspace: Workspace(id: "w", name: "w", adminToken: "t", settings: [:], createdAt: ""), name: "t",
                  kind: .staticToken, scopes: scopes, grants: [:], rps: nil)
    }

    /// (held, asked, allowed): the admin scope opens everything; every other scope opens exactly itself.
    static let checks: [([TokenScope], TokenScope, Bool)] = [
        ([.admin], .tokens, true), ([.admin], .pipesRead("any"), true), ([.admin], .dataSourcesCreate, true),
        ([.tokens], .tokens, true), ([.tokens], .admin, false), ([.tokens], .pipesCreate, false),
        ([.pipesRead("a")], .pipesRead("a"), true), ([.pipesRead("a")], .pipesRead("b"), false),
        ([.dataSourcesAppend("e")], .dataSourcesAppend("e"), true), ([.dataSourcesAppend("e")], .dataSourcesCreate, false),
        ([.dataSourcesCreate], .dataSourcesAppend("e"), false), ([.pipesCreate], .pipesRead("a"), false), ([], .tokens, false),
    ]

    @Test(arguments: checks)
    func holds(_ held: [TokenScope], _ asked: TokenScope, _ allowed: Bool) {
        #expect(Self.principal(held).has(asked) == allowed)
    }

    @Test func pipesAreGrantedByNameOrIDOnly() {
        let reader = Self.principal([.pipesRead("sales_by_city")])
        #expect(reader.pipeGrant(name: "sales_by_city", id: "t_1") != nil)
        #expect(reader.pipeGrant(name: "other", id: "t_2") == nil)
        #expect(Self.principal([.pipesRead("t_1")]).pipeGrant(name: "sales_by_city", id: "t_1") != nil)
        #expect(Self.principal([.admin]).pipeGrant(name: "anything", id: nil) != nil)
        #expect(Self.principal([.dataSourcesRead("sales", filter: "city = 'x'")]).dataSourceFilters == ["sales": "city = 'x'"])
    }
}
