import Foundation
import TesseraStore

/// One SQL statement and the values it binds, in placeholder order (`?1` on SQLite, `$1` on PostgreSQL, so the text
/// can be written in any order).
struct SQLStatement: Sendable {
    var text: String
    var binds: [Operand]
}

/// Writes plans as SQL that builds the response JSON in the database, as Hasura does: one statement per query, each
/// row a JSON object, lists aggregated into JSON arrays, relationships as correlated subqueries. Every value is a
/// bound parameter; names are quoted identifiers taken from the database's own catalog.
struct SQLGenerator {
    let dialect: StoreDialect
    let schema: GraphSchema
    private(set) var binds: [Operand] = []
    private var aliases = 0

    init(dialect: StoreDialect, schema: GraphSchema) {
        self.dialect = dialect
        self.schema = schema
    }

    mutating func statement(_ text: String) -> SQLStatement {
        SQLStatement(text: text, binds: binds)
    }

    // MARK: - Names and values

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    func tableName(_ table: QualifiedTable) -> String {
        dialect == .postgres ? "\(Self.quote(table.schema)).\(Self.quote(table.name))" : Self.quote(table.name)
    }

    private mutating func alias() -> String {
        aliases += 1
        return "_\(aliases)"
    }

    mutating func placeholder(_ operand: Operand, _ scalar: ScalarType) -> String {
        if dialect == .sqlite, scalar.isTimestamp, case .value(.text(let text)) = operand {
            binds.append(.value(.text(SQLiteTimestamps.stored(text))))
        } else {
            binds.append(operand)
        }
        switch dialect {
        case .sqlite: return "?\(binds.count)"
        case .postgres: return "$\(binds.count)::\(Self.quote(scalar.postgresType))"
        }
    }

    func column(_ alias: String, _ column: ColumnInfo) -> String { "\(alias).\(Self.quote(column.name))" }

    /// The identity of a written row, to read it back in the same transaction: SQLite's rowid, PostgreSQL's ctid.
    var identity: String { dialect == .sqlite ? "rowid" : "ctid" }

    // MARK: - JSON

    func jsonObject(_ pairs: [(key: String, value: String)]) -> String {
        guard dialect == .postgres else {
            return "json_object(" + pairs.map { "\(Self.literal($0.key)), \($0.value)" }.joined(separator: ", ") + ")"
        }
        // json_build_object takes at most 100 arguments: wider objects are built in parts and joined as jsonb.
        let chunks = stride(from: 0, to: max(pairs.count, 1), by: 50).map { Array(pairs[$0..<min($0 + 50, pairs.count)]) }
        let parts = chunks.map { "json_build_object(" + $0.map { "\(Self.literal($0.key)), \($0.value)" }.joined(separator: ", ") + ")" }
        return parts.count == 1 ? parts[0] : "(" + parts.map { "\($0)::jsonb" }.joined(separator: " || ") + ")::json"
    }

    /// A JSON value produced by a subquery, placed inside another JSON object.
    func embed(_ subquery: String) -> String {
        dialect == .sqlite ? "json(\(subquery))" : subquery
    }

    private func jsonArrayAggregate(_ expression: String) -> String {
        dialect == .sqlite ? "coalesce(json_group_array(json(\(expression))), '[]')" : "coalesce(json_agg(\(expression)), '[]'::json)"
    }

    private func columnJSON(_ alias: String, _ info: ColumnInfo) -> String {
        let value = column(alias, info)
        if schema.stringifyNumbers, ["bigint", "numeric", "float8"].contains(info.scalar.name) {
            return dialect == .sqlite ? "CAST(\(value) AS TEXT)" : "(\(value))::text"
        }
        guard dialect == .sqlite else { return value }
        switch info.scalar.category {
        case .boolean: return "json(CASE WHEN \(value) IS NULL THEN 'null' WHEN \(value) THEN 'true' ELSE 'false' END)"
        case .json: return "json(\(value))"
        default: return info.scalar.isTimestamp ? isoTimestamp(value, info.scalar) : value
        }
    }

    /// A timestamp SQLite holds as text, in ISO 8601 as PostgreSQL's JSON writes it: UTC (strftime reads any offset),
    /// fractional seconds only when there are some, `+00:00` for timestamptz.
    private func isoTimestamp(_ value: String, _ scalar: ScalarType) -> String {
        let time = "(CASE WHEN strftime('%f', \(value)) LIKE '%.000' THEN strftime('%Y-%m-%dT%H:%M:%S', \(value)) ELSE strftime('%Y-%m-%dT%H:%M:%f', \(value)) END)"
        return scalar.name == "timestamptz" ? "(\(time) || '+00:00')" : time
    }

    // MARK: - Selections

    mutating func objectJSON(_ selection: Selection, of table: TableModel, alias: String) -> String {
        var pairs: [(key: String, value: String)] = []
        for (key, field) in selection.fields {
            switch field {
            case .column(let info): pairs.append((key, columnJSON(alias, info)))
            case .typename(let name): pairs.append((key, Self.literal(name)))
            case .object(let relationship, let filter, let nested):
                let remote = schema.table(relationship.remote)
                let inner = self.alias()
                let object = objectJSON(nested, of: remote, alias: inner)
                let permitted = filter.map { " AND " + condition($0, of: remote, alias: inner) } ?? ""
                pairs.append((key, embed("(SELECT \(object) FROM \(tableName(remote.table)) AS \(inner) WHERE \(join(relationship, from: alias, to: inner))\(permitted) LIMIT 1)")))
            case .array(let relationship, let arguments, let nested):
                let remote = schema.table(relationship.remote)
                pairs.append((key, embed(rowsJSON(nested, of: remote, arguments: arguments, correlation: (relationship, alias)))))
            case .aggregate(let relationship, let arguments, let nested):
                let remote = schema.table(relationship.remote)
                pairs.append((key, embed(aggregateJSON(nested, of: remote, arguments: arguments, correlation: (relationship, alias)))))
            }
        }
        return jsonObject(pairs)
    }

    private func join(_ relationship: RelationshipModel, from outer: String, to inner: String) -> String {
        relationship.mapping.map { "\(inner).\(Self.quote($0.remote)) = \(outer).\(Self.quote($0.local))" }.joined(separator: " AND ")
    }

    /// `FROM … WHERE … ORDER BY … LIMIT …` for rows of `table` under `alias`, optionally correlated to an outer row.
    private mutating func rowSource(_ table: TableModel, arguments: RowArguments, alias: String,
                                    correlation: (RelationshipModel, String)?) -> String {
        var conditions: [String] = []
        if let (relationship, outer) = correlation { conditions.append(join(relationship, from: outer, to: alias)) }
        if let filter = arguments.filter { conditions.append(condition(filter, of: table, alias: alias)) }
        let order = orderBy(arguments.orderBy, of: table, alias: alias)
        var source: String
        if arguments.distinctOn.isEmpty {
            source = "FROM \(tableName(table.table)) AS \(alias)"
            if !conditions.isEmpty { source += " WHERE " + conditions.joined(separator: " AND ") }
        } else {
            // DISTINCT ON as a window: the first row of each group in the requested order, the same on both databases.
            let partition = arguments.distinctOn.map { column(alias, $0) }.joined(separator: ", ")
            let windowOrder = order.isEmpty ? partition : order
            source = "FROM (SELECT \(alias).*, row_number() OVER (PARTITION BY \(partition) ORDER BY \(windowOrder)) AS \"_rn\" FROM \(tableName(table.table)) AS \(alias)"
            if !conditions.isEmpty { source += " WHERE " + conditions.joined(separator: " AND ") }
            source += ") AS \(alias) WHERE \(alias).\"_rn\" = 1"
        }
        if !order.isEmpty { source += " ORDER BY " + order }
        source += limitClause(arguments)
        return source
    }

    private mutating func limitClause(_ arguments: RowArguments) -> String {
        if let cap = arguments.permissionLimit {
            // The role's limit caps the request's: min(asked, cap), or the cap when nothing is asked.
            let asked = arguments.limit.map { placeholder($0, dialect == .sqlite ? .int : ScalarType.forDeclaredType("bigint")) }
            let limit = asked.map { dialect == .sqlite ? "min(coalesce(\($0), \(cap)), \(cap))" : "LEAST(coalesce(\($0), \(cap)), \(cap))" } ?? "\(cap)"
            let offset = arguments.offset.map { " OFFSET coalesce(\(placeholder($0, dialect == .sqlite ? .int : ScalarType.forDeclaredType("bigint"))), 0)" } ?? ""
            return " LIMIT \(limit)" + offset
        }
        switch (arguments.limit, arguments.offset, dialect) {
        case (nil, nil, _): return ""
        case (let limit?, let offset, .sqlite):
            let offsetText = offset.map { " OFFSET coalesce(\(placeholder($0, .int)), 0)" } ?? ""
            return " LIMIT coalesce(\(placeholder(limit, .int)), -1)" + offsetText
        case (nil, let offset?, .sqlite): return " LIMIT -1 OFFSET coalesce(\(placeholder(offset, .int)), 0)"
        case (let limit, let offset, .postgres):
            let bigint = ScalarType.forDeclaredType("bigint")
            return (limit.map { " LIMIT \(placeholder($0, bigint))" } ?? "") + (offset.map { " OFFSET \(placeholder($0, bigint))" } ?? "")
        }
    }

    /// A JSON array of the selected rows.
    mutating func rowsJSON(_ selection: Selection, of table: TableModel, arguments: RowArguments,
                           correlation: (RelationshipModel, String)?) -> String {
        let alias = self.alias()
        let source = rowSource(table, arguments: arguments, alias: alias, correlation: correlation)
        let object = objectJSON(selection, of: table, alias: alias)
        return "(SELECT \(jsonArrayAggregate("_e.j")) FROM (SELECT \(object) AS j \(source)) AS _e)"
    }

    /// One row as a JSON object, or null.
    mutating func rowJSON(_ selection: Selection, of table: TableModel, filter: BoolExp) -> String {
        let alias = self.alias()
        let object = objectJSON(selection, of: table, alias: alias)
        return "(SELECT \(object) FROM \(tableName(table.table)) AS \(alias) WHERE \(condition(filter, of: table, alias: alias)) LIMIT 1)"
    }

    mutating func aggregateJSON(_ selection: AggregateSelection, of table: TableModel, arguments: RowArguments,
                                correlation: (RelationshipModel, String)?) -> String {
        var pairs: [(key: String, value: String)] = []
        for (key, field) in selection.fields {
            switch field {
            case .typename(let name): pairs.append((key, Self.literal(name)))
            case .nodes(let nested): pairs.append((key, embed(rowsJSON(nested, of: table, arguments: arguments, correlation: correlation))))
            case .aggregate(let operations):
                let alias = self.alias()
                let source = rowSource(table, arguments: arguments, alias: alias, correlation: correlation)
                let rows = "_g\(aliases)"
                var values: [(key: String, value: String)] = []
                for (opKey, op) in operations {
                    switch op {
                    case .typename(let name): values.append((opKey, Self.literal(name)))
                    case .count(let columns, let distinct):
                        values.append((opKey, countExpression(columns, distinct: distinct, rows: rows)))
                    case .function(let function, let typename, let columns):
                        let inner = columns.map { entry -> (key: String, value: String) in
                            guard let info = entry.column else { return (entry.key, Self.literal(typename)) }
                            let value = aggregate(function, "\(rows).\(Self.quote(info.name))")
                            return (entry.key, dialect == .sqlite && info.scalar.isTimestamp ? isoTimestamp(value, info.scalar) : value)
                        }
                        values.append((opKey, jsonObject(inner)))
                    }
                }
                pairs.append((key, embed("(SELECT \(jsonObject(values)) FROM (SELECT \(alias).* \(source)) AS \(rows))")))
            }
        }
        return "(SELECT \(jsonObject(pairs)))"
    }

    /// An aggregate function of a column. PostgreSQL has them all; SQLite has `avg`, `sum`, `max` and `min`, and the
    /// variances are written out (the sample one is NULL for fewer than two rows, as PostgreSQL's is).
    private func aggregate(_ function: String, _ value: String) -> String {
        guard dialect == .sqlite, !["avg", "sum", "max", "min"].contains(function) else { return "\(function)(\(value))" }
        let squares = "(sum(\(value) * \(value) * 1.0) - sum(\(value) * 1.0) * sum(\(value)) / count(\(value)))"
        switch function {
        case "var_pop": return "(\(squares) / count(\(value)))"
        case "stddev_pop": return "sqrt(\(squares) / count(\(value)))"
        case "var_samp", "variance": return "(\(squares) / (count(\(value)) - 1))"
        default: return "sqrt(\(squares) / (count(\(value)) - 1))"
        }
    }

    private func countExpression(_ columns: [ColumnInfo], distinct: Bool, rows: String) -> String {
        let values = columns.map { "\(rows).\(Self.quote($0.name))" }
        switch (values.count, distinct) {
        case (0, _): return "count(*)"
        case (1, _): return "count(\(distinct ? "DISTINCT " : "")\(values[0]))"
        case (_, false): return "count(CASE WHEN " + values.map { "\($0) IS NOT NULL" }.joined(separator: " AND ") + " THEN 1 END)"
        case (_, true):
            return dialect == .sqlite
                ? "count(DISTINCT CASE WHEN " + values.map { "\($0) IS NOT NULL" }.joined(separator: " AND ") + " THEN json_array(\(values.joined(separator: ", "))) END)"
                : "count(DISTINCT (\(values.joined(separator: ", "))))"
        }
    }

    // MARK: - Ordering

    private mutating func orderBy(_ terms: [OrderTerm], of table: TableModel, alias: String) -> String {
        terms.map { term in
            var expression: String
            var currentAlias = alias
            var lookups: [(RelationshipModel, String, String)] = []
            for relationship in term.path {
                let inner = self.alias()
                lookups.append((relationship, currentAlias, inner))
                currentAlias = inner
            }
            switch term.target {
            case .column(let info): expression = column(currentAlias, info)
            case .count(let relationship):
                let inner = self.alias()
                let remote = schema.table(relationship.remote)
                expression = "(SELECT count(*) FROM \(tableName(remote.table)) AS \(inner) WHERE \(join(relationship, from: currentAlias, to: inner)))"
            case .aggregate(let relationship, let function, let info):
                let inner = self.alias()
                let remote = schema.table(relationship.remote)
                expression = "(SELECT \(aggregate(function, column(inner, info))) FROM \(tableName(remote.table)) AS \(inner) WHERE \(join(relationship, from: currentAlias, to: inner)))"
            }
            for (relationship, outer, inner) in lookups.reversed() {
                let remote = schema.table(relationship.remote)
                expression = "(SELECT \(expression) FROM \(tableName(remote.table)) AS \(inner) WHERE \(join(relationship, from: outer, to: inner)) LIMIT 1)"
            }
            return "\(expression) \(term.descending ? "DESC" : "ASC") NULLS \(term.nullsFirst ? "FIRST" : "LAST")"
        }.joined(separator: ", ")
    }

    // MARK: - Conditions

    mutating func condition(_ expression: BoolExp, of table: TableModel, alias: String) -> String {
        switch expression {
        case .and(let terms):
            return terms.isEmpty ? "(1 = 1)" : "(" + terms.map { condition($0, of: table, alias: alias) }.joined(separator: " AND ") + ")"
        case .or(let terms):
            return terms.isEmpty ? "(1 = 0)" : "(" + terms.map { condition($0, of: table, alias: alias) }.joined(separator: " OR ") + ")"
        case .not(let term):
            return "(NOT \(condition(term, of: table, alias: alias)))"
        case .compare(let info, let op, let operand):
            let left = column(alias, info)
            switch op {
            case .eq: return "(\(left) = \(placeholder(operand, info.scalar)))"
            case .neq: return "(\(left) <> \(placeholder(operand, info.scalar)))"
            case .gt: return "(\(left) > \(placeholder(operand, info.scalar)))"
            case .lt: return "(\(left) < \(placeholder(operand, info.scalar)))"
            case .gte: return "(\(left) >= \(placeholder(operand, info.scalar)))"
            case .lte: return "(\(left) <= \(placeholder(operand, info.scalar)))"
            case .like: return "(\(left) LIKE \(placeholder(operand, .string)))"
            case .nlike: return "(\(left) NOT LIKE \(placeholder(operand, .string)))"
            case .ilike, .nilike:
                let negation = op == .nilike ? "NOT " : ""
                return dialect == .postgres
                    ? "(\(left) \(negation)ILIKE \(placeholder(operand, .string)))"
                    : "(lower(\(left)) \(negation)LIKE lower(\(placeholder(operand, .string))))"
            }
        case .within(let info, let negated, let operands):
            guard !operands.isEmpty else { return negated ? "(1 = 1)" : "(1 = 0)" }
            let list = operands.map { placeholder($0, info.scalar) }.joined(separator: ", ")
            return "(\(column(alias, info)) \(negated ? "NOT IN" : "IN") (\(list)))"
        case .withinList(let info, let negated, let operand):
            binds.append(operand)
            let elements = dialect == .sqlite
                ? "SELECT value FROM json_each(?\(binds.count))"
                : "SELECT CAST(value AS \(Self.quote(info.scalar.postgresType))) FROM json_array_elements_text($\(binds.count)::json)"
            return "(\(column(alias, info)) \(negated ? "NOT IN" : "IN") (\(elements)))"
        case .isNull(let info, let operand):
            if case .value(.boolean(let flag)) = operand { return "(\(column(alias, info)) IS \(flag ? "" : "NOT ")NULL)" }
            return "((\(column(alias, info)) IS NULL) = \(placeholder(operand, .boolean)))"
        case .relationship(let relationship, let nested):
            let remote = schema.table(relationship.remote)
            let inner = self.alias()
            return "(EXISTS (SELECT 1 FROM \(tableName(remote.table)) AS \(inner) WHERE \(join(relationship, from: alias, to: inner)) AND \(condition(nested, of: remote, alias: inner))))"
        case .exists(let name, let nested):
            let other = schema.table(name)
            let inner = self.alias()
            return "(EXISTS (SELECT 1 FROM \(tableName(other.table)) AS \(inner) WHERE \(condition(nested, of: other, alias: inner))))"
        }
    }

    // MARK: - Writes

    mutating func insert(_ row: [ColumnValue], into table: TableModel, onConflict: OnConflict?) -> String {
        let alias = "_0"
        var text = "INSERT INTO \(tableName(table.table)) AS \(alias) "
        if row.isEmpty {
            text += dialect == .postgres ? "DEFAULT VALUES" : "DEFAULT VALUES"
        } else {
            text += "(" + row.map { Self.quote($0.column.name) }.joined(separator: ", ") + ") VALUES ("
                + row.map { placeholder($0.value, $0.column.scalar) }.joined(separator: ", ") + ")"
        }
        if let onConflict {
            text += dialect == .postgres
                ? " ON CONFLICT ON CONSTRAINT \(Self.quote(onConflict.constraint.name))"
                : " ON CONFLICT (" + onConflict.constraint.columns.map(Self.quote).joined(separator: ", ") + ")"
            if onConflict.updateColumns.isEmpty {
                text += " DO NOTHING"
            } else {
                text += " DO UPDATE SET " + onConflict.updateColumns.map { "\(Self.quote($0.name)) = excluded.\(Self.quote($0.name))" }
                    .joined(separator: ", ")
                if let filter = onConflict.filter { text += " WHERE " + condition(filter, of: table, alias: alias) }
            }
        }
        return text + " RETURNING \(identityText(alias))"
    }

    mutating func update(_ spec: UpdateSpec, of table: TableModel) -> String {
        let alias = "_0"
        let assignments = spec.set.map { "\(Self.quote($0.column.name)) = \(placeholder($0.value, $0.column.scalar))" }
            + spec.increment.map { "\(Self.quote($0.column.name)) = \(column(alias, $0.column)) + \(placeholder($0.value, $0.column.scalar))" }
        return "UPDATE \(tableName(table.table)) AS \(alias) SET \(assignments.joined(separator: ", ")) WHERE \(condition(spec.filter, of: table, alias: alias)) RETURNING \(identityText(alias))"
    }

    mutating func matchingIdentities(_ filter: BoolExp, of table: TableModel) -> String {
        let alias = "_0"
        return "SELECT \(identityText(alias)) FROM \(tableName(table.table)) AS \(alias) WHERE \(condition(filter, of: table, alias: alias))"
    }

    mutating func delete(identities: SQLValue, from table: TableModel) -> String {
        switch dialect {
        case .sqlite: return "DELETE FROM \(tableName(table.table)) WHERE rowid IN (SELECT value FROM json_each(\(placeholder(.value(identities), .string))))"
        case .postgres: return "DELETE FROM \(tableName(table.table)) WHERE ctid = ANY(\(placeholder(.value(identities), ScalarType(name: "tid", category: .string, postgresType: "_tid"))))"
        }
    }

    /// Unqualified: SQLite's RETURNING does not see the table's alias.
    private func identityText(_ alias: String) -> String {
        dialect == .sqlite ? "rowid AS id" : "ctid::text AS id"
    }

    /// The rows with these identities, in that order, as a JSON array.
    mutating func rowsJSON(_ selection: Selection, of table: TableModel, identities: SQLValue) -> String {
        let alias = self.alias()
        let object = objectJSON(selection, of: table, alias: alias)
        switch dialect {
        case .sqlite:
            return "(SELECT \(jsonArrayAggregate("_e.j")) FROM (SELECT \(object) AS j FROM json_each(\(placeholder(.value(identities), .string))) AS _ids JOIN \(tableName(table.table)) AS \(alias) ON \(alias).rowid = _ids.value ORDER BY _ids.key) AS _e)"
        case .postgres:
            let tids = ScalarType(name: "tid", category: .string, postgresType: "_tid")
            return "(SELECT \(jsonArrayAggregate("_e.j")) FROM (SELECT \(object) AS j FROM unnest(\(placeholder(.value(identities), tids))) WITH ORDINALITY AS _ids(id, ord) JOIN \(tableName(table.table)) AS \(alias) ON \(alias).ctid = _ids.id ORDER BY _ids.ord) AS _e)"
        }
    }

    /// How many of the rows with these identities fail `check`.
    mutating func failingCheck(_ check: BoolExp, of table: TableModel, identities: SQLValue) -> String {
        let alias = self.alias()
        let list: String
        switch dialect {
        case .sqlite: list = "\(alias).rowid IN (SELECT value FROM json_each(\(placeholder(.value(identities), .string))))"
        case .postgres:
            list = "\(alias).ctid = ANY(\(placeholder(.value(identities), ScalarType(name: "tid", category: .string, postgresType: "_tid"))))"
        }
        return "SELECT count(*) AS failed FROM \(tableName(table.table)) AS \(alias) WHERE \(list) AND NOT coalesce(\(condition(check, of: table, alias: alias)), \(dialect == .sqlite ? "0" : "false"))"
    }

    /// Identities as one bound value: a JSON array for SQLite's json_each, an array literal for PostgreSQL.
    func identityList(_ identities: [String]) -> SQLValue {
        switch dialect {
        case .sqlite: return .text("[" + identities.joined(separator: ",") + "]")
        case .postgres: return .text("{" + identities.map { "\"\($0)\"" }.joined(separator: ",") + "}")
        }
    }

    /// Wraps JSON expressions as the columns of one SELECT that returns text.
    func select(_ expressions: [String]) -> String {
        "SELECT " + expressions.enumerated().map { index, expression in
            dialect == .postgres ? "(\(expression))::text AS \"f\(index)\"" : "\(expression) AS \"f\(index)\""
        }.joined(separator: ", ")
    }
}

/// SQLite keeps timestamps as text in its own form, `YYYY-MM-DD HH:MM:SS[.SSS]` in UTC (what CURRENT_TIMESTAMP writes),
/// so that they sort and compare as text; values clients send in ISO 8601 (`T`, `Z`, `+00:00`) are stored in that form
/// and read back as ISO 8601, as PostgreSQL answers them.
enum SQLiteTimestamps {
    static func stored(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespaces)
        guard value.count >= 19, value.dropFirst(10).first == "T" else { return value }
        value = value.replacingOccurrences(of: "T", with: " ")
        for suffix in ["Z", "z", "+00:00", "+0000", "+00"] where value.hasSuffix(suffix) {
            value.removeLast(suffix.count)
            break
        }
        return value
    }
}
