import Testing
import SQLiteNIO
import TesseraCore
@testable import Analytics

@Suite struct TemplateTests {
    let columns: Set<String> = ["city", "amount", "timestamp"]

    func render(_ sql: String, _ parameters: [String: String] = [:]) throws -> RenderedSQL {
        try PipeTemplate(sql).render(parameters, columns: columns)
    }

    @Test func plainSQLIsLeftAlone() throws {
        let sql = "SELECT {{not a template}} FROM sales"
        #expect(try render(sql) == RenderedSQL(sql: sql, binds: []))
    }

    @Test func typedParametersAreBoundNeverSpliced() throws {
        let template = """
            %
            SELECT * FROM sales WHERE city = {{String(city, 'Madrid', description="A city", required=False)}}
            AND amount > {{Float64(min_amount, 0)}} LIMIT {{Int32(limit, 10)}}
            """
        let defaults = try render(template)
        #expect(defaults.sql == "SELECT * FROM sales WHERE city = ?\nAND amount > ? LIMIT ?", "\(defaults.sql)")
        #expect(defaults.binds == [.text("Madrid"), .float(0), .integer(10)])
        let hostile = try render(template, ["city": "x' OR '1'='1", "min_amount": "2.5", "limit": "3"])
        #expect(!hostile.sql.contains("OR '1'"))
        #expect(hostile.binds == [.text("x' OR '1'='1"), .float(2.5), .integer(3)])
    }

    @Test func conditionalsPickTheRightBranch() throws {
        let template = """
            %
            SELECT 1 {% if defined(city) and city != 'all' %} AND city = {{String(city)}}
            {% elif defined(cities) %} AND city IN {{Array(cities, 'String')}}
            {% else %} AND 1 = 1 {% end %}
            {% if not defined(limit) %}LIMIT 5{% end %}
            """
        let one = try render(template, ["city": "Lisbon"])
        #expect(one.sql.contains("AND city = ?") && one.binds == [.text("Lisbon")] && one.sql.contains("LIMIT 5"))
        let all = try render(template, ["city": "all", "limit": "1"])
        #expect(all.sql.contains("AND 1 = 1") && !all.sql.contains("LIMIT 5") && all.binds.isEmpty)
        let many = try render(template, ["cities": "Madrid, Lisbon,Bilbao"])
        #expect(many.sql.contains("IN (?, ?, ?)") && many.binds == [.text("Madrid"), .text("Lisbon"), .text("Bilbao")])
    }

    @Test func badValuesNameTheParameterAndType() throws {
        let cases: [(String, [String: String], PipeTemplate.Failure)] = [
            ("%\nSELECT {{Int32(limit, 10)}}", ["limit": "ten"], .invalid(parameter: "limit", value: "ten", type: "Int32")),
            ("%\nSELECT {{Int8(n)}}", ["n": "300"], .invalid(parameter: "n", value: "300", type: "Int8")),
            ("%\nSELECT {{UInt32(n)}}", ["n": "-1"], .invalid(parameter: "n", value: "-1", type: "UInt32")),
            ("%\nSELECT {{Date(d)}}", ["d": "2026-02-30"], .invalid(parameter: "d", value: "2026-02-30", type: "Date")),
            ("%\nSELECT {{DateTime(d)}}", ["d": "yesterday"], .invalid(parameter: "d", value: "yesterday", type: "DateTime")),
            ("%\nSELECT {{DateTime(d)}}", ["d": "99999999999999999999"], .invalid(parameter: "d", value: "99999999999999999999", type: "DateTime")),
            ("%\nSELECT {{Boolean(b)}}", ["b": "maybe"], .invalid(parameter: "b", value: "maybe", type: "Boolean")),
            ("%\nSELECT {{Float64(f)}}", ["f": "1e999"], .invalid(parameter: "f", value: "1e999", type: "Float64")),
            ("%\nSELECT {{Array(ids, 'Int32')}}", ["ids": "1,2,x"], .invalid(parameter: "ids", value: "x", type: "Int32")),
            ("%\nSELECT {{String(name, required=True)}}", [:], .missing(parameter: "name", type: "String")),
            ("%\nSELECT * ORDER BY {{column(sort, 'amount')}}", ["sort": "amount; DROP TABLE sales"], .unknownColumn("amount; DROP TABLE sales")),
            ("%\nSELECT {{error('pick a city', 400)}}", [:], .raised("pick a city")),
        ]
        for (template, parameters, expected) in cases {
            #expect(throws: expected) { try render(template, parameters) }
        }
    }

    @Test func columnsAndArraysRenderSafely() throws {
        let sorted = try render("%\nSELECT * FROM sales ORDER BY {{column(sort, 'amount')}} DESC", ["sort": "city"])
        #expect(sorted.sql.hasSuffix("ORDER BY \"city\" DESC") && sorted.binds.isEmpty)
        #expect(try render("%\nSELECT {{columns(cols, 'city,amount')}} FROM sales").sql == "SELECT \"city\", \"amount\" FROM sales")
        let dates = try render("%\nSELECT {{Array(days, 'Date', default='2026-11-01,2026-11-02')}}")
        #expect(dates.binds == [.text("2026-11-01"), .text("2026-11-02")])
        let stamp = try render("%\nSELECT {{DateTime(t)}}", ["t": "2026-11-21T10:30:00Z"])
        #expect(stamp.binds == [.text("2026-11-21 10:30:00")])
    }

    @Test func syntaxErrorsAreReportedNotCrashes() {
        for template in ["%\nSELECT {{String(x)", "%\n{% if defined(x) %}A", "%\n{% end %}", "%\n{% for x in y %}{% end %}",
                         "%\nSELECT {{ String('x') }}", "%\nSELECT {{ 1 + }}", "%\nSELECT {{ unknown(x) }}"] {
            #expect(throws: PipeTemplate.Failure.self, "\(template)") { try render(template) }
        }
    }

    @Test func documentsItsParameters() throws {
        let template = try PipeTemplate("%\nSELECT {{Int32(limit, 10, description=\"How many\")}} {% if defined(city) %}{{String(city, required=True)}}{% end %}")
        #expect(template.parameters == [
            .init(name: "city", type: "String", defaultValue: nil, required: true, description: nil),
            .init(name: "limit", type: "Int32", defaultValue: "10", required: false, description: "How many"),
        ])
    }
}

@Suite struct DatafileTests {
    @Test func readsDataSourceFiles() throws {
        let definition = try Datafile.dataSource(name: "events", text: """
            DESCRIPTION >
                Clicks.

            SCHEMA >
                `timestamp` DateTime `json:$.ts`,
                `user_id` String `json:$.user.id`,
                `tags` Array(String) `json:$.tags`,
                `price` Nullable(Float64) `json:$.price`,
                `country` LowCardinality(String),
                `pair` Array(Int32) `json:$.pair`

            ENGINE "MergeTree"
            ENGINE_SORTING_KEY "timestamp"
            """, file: "events.datasource")
        #expect(definition.description == "Clicks.")
        #expect(definition.columns.map(\.name) == ["timestamp", "user_id", "tags", "price", "country", "pair"])
        #expect(definition.columns.map { "\($0.type)" } == ["DateTime", "String", "Array(String)", "Nullable(Float64)",
                                                             "LowCardinality(String)", "Array(Int32)"])
        #expect(definition.columns[1].jsonPath == ["user", "id"])
        #expect(definition.columns[4].jsonPath == ["country"])
        #expect(definition.engine == ["ENGINE \"MergeTree\"", "ENGINE_SORTING_KEY \"timestamp\""])
    }

    @Test func refusesWhatItCannotStore() {
        #expect(throws: DomainError.self) {
            try Datafile.dataSource(name: "x", text: "SCHEMA >\n    `price` Decimal(10, 2)", file: "x.datasource")
        }
        #expect(throws: DomainError.self) { try Datafile.dataSource(name: "x", text: "DESCRIPTION >\n    nothing", file: "x.datasource") }
        #expect(throws: DomainError.self) { try Datafile.dataSource(name: "x", text: "SCHEMA >\n    `a` String,\n    `a` Int8", file: "x.datasource") }
        #expect(throws: DomainError.self) { try Datafile.pipe(name: "p", text: "SQL >\n    SELECT 1", file: "p.pipe") }
        #expect(throws: DomainError.self) { try Datafile.pipe(name: "p", text: "NODE n\nFROBNICATE yes", file: "p.pipe") }
    }

    @Test func readsPipeFiles() throws {
        let pipe = try Datafile.pipe(name: "top", text: """
            DESCRIPTION >
                Top cities.

            TOKEN "top_read" READ

            NODE base
            SQL >
                SELECT * FROM sales

            NODE endpoint
            DESCRIPTION >
                The answer.
            SQL >
                %
                SELECT city FROM base
                LIMIT {{Int32(limit, 5)}}
            TYPE ENDPOINT
            """, file: "top.pipe")
        #expect(pipe.description == "Top cities." && pipe.tokens == ["top_read"])
        #expect(pipe.nodes.map(\.name) == ["base", "endpoint"])
        #expect(pipe.endpointNode?.name == "endpoint" && pipe.endpointNode?.description == "The answer.")
        #expect(pipe.nodes[1].sql == "%\nSELECT city FROM base\nLIMIT {{Int32(limit, 5)}}")
    }

    @Test func columnTypesCheckValues() throws {
        #expect(try ColumnType.parse("UInt8").storable(.number(255)) == .integer(255))
        #expect(throws: ColumnType.Mismatch.self) { try ColumnType.parse("UInt8").storable(.number(256)) }
        #expect(throws: ColumnType.Mismatch.self) { try ColumnType.parse("Int32").storable(.number(1.5)) }
        #expect(throws: ColumnType.Mismatch.self) { try ColumnType.parse("String").storable(nil) }
        #expect(try ColumnType.parse("Nullable(String)").storable(nil) == .null)
        #expect(try ColumnType.parse("DateTime").storable(.string("2026-11-21T10:30:00.123Z")) == .text("2026-11-21 10:30:00"))
        #expect(try ColumnType.parse("Date").storable(.string("2026-11-21 10:30:00")) == .text("2026-11-21"))
        #expect(throws: ColumnType.Mismatch.self) { try ColumnType.parse("Date").storable(.string("21/11/2026")) }
        #expect(try ColumnType.parse("Bool").storable(.bool(true)) == .integer(1))
        #expect(try ColumnType.parse("Array(Int32)").storable(.array([.number(1), .number(2)])) == .text("[1,2]"))
        #expect(throws: ColumnType.Mismatch.self) { try ColumnType.parse("Array(Int32)").storable(.array([.string("x")])) }
        #expect(try ColumnType.parse("Float64").storable(csv: "2.5") == .float(2.5))
        // Numbers far outside the calendar are refused, not converted (a time_t conversion would trap).
        for huge: JSONValue in [.number(1e300), .number(-1e300), .string("99999999999999999999"), .number(.infinity)] {
            #expect(throws: ColumnType.Mismatch.self, "\(huge.jsonText())") { try ColumnType.parse("DateTime").storable(huge) }
        }
        #expect(try ColumnType.parse("DateTime").storable(.number(0)) == .text("1970-01-01 00:00:00"))
    }

    @Test func csvRecordsFollowRFC4180() {
        let records = CSV.records("a,\"b, with comma\",\"say \"\"hi\"\"\"\r\n\n1,,\"multi\nline\"\nlast")
        #expect(records.map(\.fields) == [["a", "b, with comma", "say \"hi\""], ["1", "", "multi\nline"], ["last"]])
        #expect(CSV.quote("x\"y") == "\"x\"\"y\"")
    }
}

/// Datafiles written back (as `tb pull` gets them) parse to the definitions they came from.
@Suite struct DatafileTextTests {
    @Test func dataSourcesRoundTrip() throws {
        let text = """
            DESCRIPTION >
                Clicks, one row each.

                Kept for a year.

            SCHEMA >
                `timestamp` DateTime `json:$.ts`,
                `user_id` String `json:$.user.id`,
                `tags` Array(String) `json:$.tags`

            ENGINE "MergeTree"
            ENGINE_SORTING_KEY "timestamp"
            """
        let definition = try Datafile.dataSource(name: "events", text: text, file: "events.datasource")
        let written = Datafile.text(definition)
        #expect(try Datafile.dataSource(name: "events", text: written, file: "events.datasource") == definition)
        #expect(written == text + "\n")
    }

    @Test func pipesRoundTrip() throws {
        let text = """
            DESCRIPTION >
                Top cities.

            TOKEN "top_read" READ

            NODE base
            SQL >
                %
                SELECT * FROM sales WHERE city = {{String(city, 'Madrid')}}

            NODE endpoint
            DESCRIPTION >
                The answer.
            SQL >
                SELECT city FROM base LIMIT 5
            TYPE ENDPOINT
            """
        let definition = try Datafile.pipe(name: "top", text: text, file: "top.pipe")
        let written = Datafile.text(definition)
        #expect(try Datafile.pipe(name: "top", text: written, file: "top.pipe") == definition)
        #expect(Datafile.text(try Datafile.pipe(name: "top", text: written, file: "top.pipe")) == written, "stable")
    }

    @Test func templatesLoseTheIndentationTbSends() {
        #expect(Datafile.dedentedTemplate("%\n    SELECT 1\n      FROM x") == "%\nSELECT 1\n  FROM x")
        #expect(Datafile.dedentedTemplate("SELECT 1\n    FROM x") == "SELECT 1\n    FROM x")
    }
}
