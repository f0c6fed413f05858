import Foundation
import PostgresNIO
import SQLKit
import SQLiteNIO
import TesseraCore
import TesseraStore

/// SQL text with its own placeholders and the values they bind, handed to SQLKit as is.
struct BoundSQL: SQLExpression {
    let text: String
    let values: [SQLValue]

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(text)
        serializer.binds.append(contentsOf: values.map { $0 as any Encodable & Sendable })
    }
}

/// Runs plans: a query as one statement, a mutation's root fields one after another in one transaction, each row it
/// writes read back by identity for `returning`.
struct PlanExecutor {
    let store: Store
    let schema: GraphSchema
    let variables: [String: JSONValue]
    /// The session's variables (`x-hasura-user-id`), which permissions compare with.
    var session: [String: JSONValue] = [:]

    /// The statement answering every table field of a query, one JSON text column per root field.
    static func queryStatement(_ plan: OperationPlan, schema: GraphSchema, dialect: StoreDialect) -> SQLStatement? {
        var generator = SQLGenerator(dialect: dialect, schema: schema)
        var expressions: [String] = []
        for root in plan.roots {
            switch root.plan {
            case .rows(let table, let arguments, let selection):
                expressions.append(generator.rowsJSON(selection, of: table, arguments: arguments, correlation: nil))
            case .row(let table, let filter, let selection):
                expressions.append(generator.rowJSON(selection, of: table, filter: filter))
            case .aggregate(let table, let arguments, let selection):
                expressions.append(generator.aggregateJSON(selection, of: table, arguments: arguments, correlation: nil))
            default: continue
            }
        }
        return expressions.isEmpty ? nil : generator.statement(generator.select(expressions))
    }

    /// The JSON text of each table root field of a query, in order.
    func query(_ statement: SQLStatement, count: Int) async throws -> [String] {
        let bound = try bind(statement)
        return try await store.read { db in
            guard let row = try await db.execute(bound).first else { return Array(repeating: "null", count: count) }
            return try (0..<count).map { try row.decode(column: "f\($0)", as: String?.self) ?? "null" }
        }
    }

    /// Each mutation root field's JSON text, all written in one transaction.
    func mutate(_ plan: OperationPlan) async throws -> [String: String] {
        let roots = plan.roots
        let executor = self
        return try await store.transaction { db in
            var results: [String: String] = [:]
            for root in roots {
                do {
                    results[root.key] = try await executor.mutate(root.plan, db)
                } catch {
                    throw executor.located(error, root.plan, path: root.path)
                }
            }
            return results
        }
    }

    private func mutate(_ root: RootPlan, _ db: any SQLDatabase) async throws -> String? {
        switch root {
        case .insert(let table, let rows, let conflict, let check, let output):
            var identities: [String] = []
            for row in rows {
                var generator = SQLGenerator(dialect: store.dialect, schema: schema)
                let text = generator.insert(row, into: table, onConflict: conflict)
                identities += try await self.identities(generator.statement(text), db)
            }
            try await enforce(check, on: table, identities: identities, db)
            return try await respond(output, table: table, identities: identities, db)
        case .update(let table, let spec, let output):
            return try await respond(output, table: table, identities: try await update(spec, table, db), db)
        case .updateMany(let table, let specs, let selection):
            var responses: [String] = []
            for spec in specs {
                responses.append(try await respond(.response(selection), table: table, identities: try await update(spec, table, db), db))
            }
            return "[" + responses.joined(separator: ",") + "]"
        case .delete(let table, let filter, let output):
            var generator = SQLGenerator(dialect: store.dialect, schema: schema)
            let text = generator.matchingIdentities(filter, of: table)
            let identities = try await self.identities(generator.statement(text), db)
            // The deleted rows are read before they go.
            let response = try await respond(output, table: table, identities: identities, db)
            if !identities.isEmpty {
                var deleter = SQLGenerator(dialect: store.dialect, schema: schema)
                let delete = deleter.delete(identities: deleter.identityList(identities), from: table)
                _ = try await db.execute(try bind(deleter.statement(delete)))
            }
            return response
        default:
            return nil
        }
    }

    /// A database refusal of an insert points at the objects, as Hasura's path does
    /// (`$.selectionSet.insert_author.args.objects`); other errors keep theirs.
    func located(_ error: any Error, _ plan: RootPlan, path: String) -> any Error {
        guard !(error is HasuraError), var translated = DatabaseErrors.translate(error, schema: schema) else { return error }
        if case .insert(_, _, _, _, let output) = plan {
            if case .row = output { translated.path = path + ".args.object" } else { translated.path = path + ".args.objects" }
        }
        return translated
    }

    private func update(_ spec: UpdateSpec, _ table: TableModel, _ db: any SQLDatabase) async throws -> [String] {
        var generator = SQLGenerator(dialect: store.dialect, schema: schema)
        // Nothing to set changes no row, and Hasura reports none (`affected_rows: 0`).
        if spec.set.isEmpty && spec.increment.isEmpty { return [] }
        let updated = try await identities(generator.statement(generator.update(spec, of: table)), db)
        try await enforce(spec.check, on: table, identities: updated, db)
        return updated
    }

    /// A permission's `check` on the rows just written: one that fails it fails the mutation (and its transaction).
    private func enforce(_ check: BoolExp?, on table: TableModel, identities: [String], _ db: any SQLDatabase) async throws {
        guard let check, !identities.isEmpty else { return }
        var generator = SQLGenerator(dialect: store.dialect, schema: schema)
        let text = generator.failingCheck(check, of: table, identities: generator.identityList(identities))
        guard let row = try await db.execute(try bind(generator.statement(text))).first,
              try row.decode(column: "failed", as: Int.self) == 0 else {
            throw HasuraError("permission-error", "check constraint of an insert/update permission has failed")
        }
    }

    private func identities(_ statement: SQLStatement, _ db: any SQLDatabase) async throws -> [String] {
        let dialect = store.dialect
        return try await db.execute(try bind(statement)).map { row in
            dialect == .sqlite ? String(try row.decode(column: "id", as: Int64.self)) : try row.decode(column: "id", as: String.self)
        }
    }

    private func respond(_ output: MutationOutput, table: TableModel, identities: [String], _ db: any SQLDatabase) async throws -> String {
        switch output {
        case .row(let selection):
            guard !identities.isEmpty else { return "null" }
            var generator = SQLGenerator(dialect: store.dialect, schema: schema)
            let rows = generator.rowsJSON(selection, of: table, identities: generator.identityList(Array(identities.prefix(1))))
            let array = try await json(generator.statement(generator.select([rows])), db)
            // One row asked for: the array's only element.
            return String(array.dropFirst().dropLast())
        case .response(let selection):
            var parts: [String] = []
            for (key, field) in selection.fields {
                let value: String
                switch field {
                case .typename(let name): value = JSONValue.string(name).jsonText()
                case .affectedRows: value = String(identities.count)
                case .returning(let nested):
                    if identities.isEmpty { value = "[]"; break }
                    var generator = SQLGenerator(dialect: store.dialect, schema: schema)
                    let rows = generator.rowsJSON(nested, of: table, identities: generator.identityList(identities))
                    value = try await json(generator.statement(generator.select([rows])), db)
                }
                parts.append(JSONValue.string(key).jsonText() + ":" + value)
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }

    private func json(_ statement: SQLStatement, _ db: any SQLDatabase) async throws -> String {
        guard let row = try await db.execute(try bind(statement)).first else { return "null" }
        return try row.decode(column: "f0", as: String?.self) ?? "null"
    }

    /// A session variable as a value of the column it is compared with: sessions carry text ("42"), so text is read
    /// as the column's type; JSON numbers and booleans (claims may hold them) are taken as they are.
    static func sessionValue(_ raw: JSONValue, _ scalar: ScalarType, name: String) throws(HasuraError) -> SQLValue {
        let input: InputValue
        switch (raw, scalar.category) {
        case (.string(let text), .integer) where Int64(text) != nil: input = .int(text)
        case (.string(let text), .float) where Double(text) != nil: input = .float(text)
        case (.string(let text), .boolean) where text == "true" || text == "false": input = .bool(text == "true")
        default: input = InputValue(json: raw)
        }
        return try scalar.sqlValue(input, path: "$.session.\(name)")
    }

    /// A list-valued session variable as one JSON array text of the column's values, which the statement unpacks
    /// (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL).
    private func sessionListValue(_ raw: JSONValue, _ scalar: ScalarType, name: String) throws(HasuraError) -> SQLValue {
        var values: [SQLValue] = []
        for item in try SessionList.items(raw, name: name) where item != .null {
            var value = try Self.sessionValue(item, scalar, name: name)
            if store.dialect == .sqlite, scalar.isTimestamp, case .text(let text) = value { value = .text(SQLiteTimestamps.stored(text)) }
            values.append(store.dialect == .postgres ? value.asText : value)
        }
        guard let data = try? JSONEncoder().encode(values) else {
            throw HasuraError("parse-failed", "session variable \"\(name)\" holds a value that is not a finite number")
        }
        return .text(String(decoding: data, as: UTF8.self))
    }

    /// The statement with this request's values in place of its operands.
    func bind(_ statement: SQLStatement) throws(HasuraError) -> BoundSQL {
        var values: [SQLValue] = []
        values.reserveCapacity(statement.binds.count)
        for operand in statement.binds {
            var value: SQLValue
            switch operand {
            case .value(let constant): value = constant
            case .variable(let name, let path, let scalar, let nullable):
                let input = InputValue(json: variables[name] ?? .null)
                if case .null = input, !nullable {
                    throw HasuraError.validation("unexpected null value for type '\(scalar.name)'", path: path)
                }
                value = try scalar.sqlValue(input, path: path)
                if store.dialect == .sqlite, scalar.isTimestamp, case .text(let text) = value { value = .text(SQLiteTimestamps.stored(text)) }
            case .session(let name, let scalar):
                guard let raw = session[name] else {
                    throw HasuraError("not-found", "missing session variables: \"\(name)\"")
                }
                value = try Self.sessionValue(raw, scalar, name: name)
            case .sessionList(let name, let scalar):
                guard let raw = session[name] else {
                    throw HasuraError("not-found", "missing session variables: \"\(name)\"")
                }
                value = try sessionListValue(raw, scalar, name: name)
            }
            if store.dialect == .postgres { value = value.asText }
            values.append(value)
        }
        return BoundSQL(text: statement.text, values: values)
    }
}

extension SQLDatabase {
    /// All rows of a statement.
    func execute(_ statement: BoundSQL) async throws -> [any SQLRow] {
        try await BoundQuery(query: statement, database: self).all()
    }
}

/// Lets SQLKit's fetcher run a ``BoundSQL`` and collect its rows.
private final class BoundQuery: SQLQueryFetcher {
    let query: any SQLExpression
    let database: any SQLDatabase

    init(query: BoundSQL, database: any SQLDatabase) {
        self.query = query
        self.database = database
    }
}

/// The database's refusals of a write, in Hasura's words; anything else is an internal error whose text stays in the log.
enum DatabaseErrors {
    static func translate(_ error: any Error, schema: GraphSchema) -> HasuraError? {
        if let error = error as? HasuraError { return error }
        if let error = error as? SQLiteError { return sqlite(error, schema: schema) }
        if let error = error as? PSQLError { return postgres(error) }
        return nil
    }

    private static func sqlite(_ error: SQLiteError, schema: GraphSchema) -> HasuraError? {
        // SQLite says "UNIQUE constraint failed: users.email, users.name"; PostgreSQL names the constraint.
        let detail = error.message.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let qualified = detail.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let tableName = qualified.first?.split(separator: ".").first.map(String.init) ?? ""
        let columns = qualified.compactMap { $0.split(separator: ".").last.map(String.init) }
        switch error.reason {
        case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
            let table = schema.tables[QualifiedTable(name: tableName)]?.info
            let name = table?.constraints.first { Set($0.columns) == Set(columns) }?.name ?? "\(tableName)_\(columns.joined(separator: "_"))_key"
            return HasuraError("constraint-violation", "Uniqueness violation. duplicate key value violates unique constraint \"\(name)\"")
        case .constraintNotNullFailed:
            return HasuraError("constraint-violation",
                               "Not-NULL violation. null value in column \"\(columns.first ?? "")\" of relation \"\(tableName)\" violates not-null constraint")
        case .constraintForeignKeyFailed:
            return HasuraError("constraint-violation", "Foreign key violation. a foreign key constraint failed")
        case .constraintCheckFailed:
            return HasuraError("constraint-violation", "Check constraint violation. new row violates check constraint \"\(detail)\"")
        case .mismatch, .constraintStrictDataTypeFailed:
            return HasuraError("data-exception", "a value does not have the column's type")
        default:
            return nil
        }
    }

    /// The database's own words for a failed admin statement (run_sql), which the admin wrote.
    static func message(_ error: any Error) -> String {
        if let error = error as? SQLiteError { return error.message }
        if let error = error as? PSQLError, let message = error.serverInfo?[.message] { return message }
        return "the database refused the statement"
    }

    private static func postgres(_ error: PSQLError) -> HasuraError? {
        guard let state = error.serverInfo?[.sqlState], let message = error.serverInfo?[.message] else { return nil }
        switch state {
        case "23505": return HasuraError("constraint-violation", "Uniqueness violation. \(message)")
        case "23503": return HasuraError("constraint-violation", "Foreign key violation. \(message)")
        case "23502": return HasuraError("constraint-violation", "Not-NULL violation. \(message)")
        case "23514": return HasuraError("constraint-violation", "Check constraint violation. \(message)")
        case _ where state.hasPrefix("22"): return HasuraError("data-exception", message)
        default: return nil
        }
    }
}
