/// Writes the generated schema as GraphQL SDL, with Hasura's type and field names, so that introspection shows
/// clients (GraphiQL, `gql`, codegen) exactly what a Hasura server would for the same tables.
struct SDLWriter {
    let tables: [QualifiedTable: TableModel]
    let queryFields: [String: RootField]
    let mutationFields: [String: RootField]

    private var sorted: [TableModel] { tables.values.sorted { $0.typeName < $1.typeName } }

    func write() -> String {
        var out: [String] = []
        let mutations = !mutationFields.isEmpty
        out.append("schema { query: query_root\(mutations ? " mutation: mutation_root" : "") }")
        // Every column's scalar, read or only written by the role (an insert may name a column it cannot select).
        var scalars = Set(tables.values.flatMap { $0.info.columns.map(\.scalar) }.filter { !$0.isBuiltIn }.map(\.name))
        scalars.remove("")
        for scalar in scalars.sorted() { out.append("scalar \(scalar)") }
        out.append("""
            \"column ordering options\"
            enum order_by { asc asc_nulls_first asc_nulls_last desc desc_nulls_first desc_nulls_last }
            """)
        let scalarTypes = Dictionary(tables.values.flatMap { $0.info.columns.map { ($0.scalar.name, $0.scalar) } }, uniquingKeysWith: { a, _ in a })
        for (name, scalar) in scalarTypes.sorted(by: { $0.key < $1.key }) {
            out.append(comparison(name, scalar))
        }
        for table in sorted { out.append(contentsOf: types(for: table)) }
        out.append(root("query_root", fields: queryFields, fallback: "no_queries_available: String!"))
        if mutations { out.append(root("mutation_root", fields: mutationFields, fallback: nil)) }
        return out.joined(separator: "\n\n")
    }

    private func comparison(_ name: String, _ scalar: ScalarType) -> String {
        var fields = ["_eq: \(name)", "_gt: \(name)", "_gte: \(name)", "_in: [\(name)!]", "_is_null: Boolean",
                      "_lt: \(name)", "_lte: \(name)", "_neq: \(name)", "_nin: [\(name)!]"]
        if scalar.name == "String" {
            fields += ["_ilike: String", "_like: String", "_nilike: String", "_nlike: String"]
        }
        return "\"Boolean expression to compare columns of type \\\"\(name)\\\". All fields are combined with logical 'AND'.\"\ninput \(name)_comparison_exp { \(fields.sorted().joined(separator: " ")) }"
    }

    private func nullable(_ column: ColumnInfo) -> String {
        column.scalar.name + (column.nullable ? "" : "!")
    }

    private static func selectArguments(_ type: String) -> String {
        "(distinct_on: [\(type)_select_column!], limit: Int, offset: Int, order_by: [\(type)_order_by!], where: \(type)_bool_exp)"
    }

    private func types(for table: TableModel) -> [String] {
        let t = table.typeName
        if table.insertOnly {
            return ["input \(t)_insert_input { \(Self.inputFields(table.insertColumns)) }",
                    "type \(t)_mutation_response { affected_rows: Int! }"]
        }
        var out: [String] = []
        var objectFields = table.columns.map { "\($0.name): \(nullable($0))" }
        var boolFields = ["_and: [\(t)_bool_exp!]", "_not: \(t)_bool_exp", "_or: [\(t)_bool_exp!]"]
            + table.columns.map { "\($0.name): \($0.scalar.name)_comparison_exp" }
        var orderFields = table.columns.map { "\($0.name): order_by" }
        for relationship in table.relationships.values.sorted(by: { $0.name < $1.name }) {
            guard let remote = tables[relationship.remote] else { continue }
            let r = remote.typeName
            if relationship.isArray {
                objectFields.append("\(relationship.name)\(Self.selectArguments(r)): [\(r)!]!")
                if remote.allowsAggregations {
                    objectFields.append("\(relationship.name)_aggregate\(Self.selectArguments(r)): \(r)_aggregate!")
                }
                orderFields.append("\(relationship.name)_aggregate: \(r)_aggregate_order_by")
            } else {
                objectFields.append("\(relationship.name): \(r)")
                orderFields.append("\(relationship.name): \(r)_order_by")
            }
            boolFields.append("\(relationship.name): \(r)_bool_exp")
        }
        out.append("\"columns and relationships of \\\"\(table.table.name)\\\"\"\ntype \(t) { \(objectFields.joined(separator: " ")) }")
        out.append("\"Boolean expression to filter rows from the table \\\"\(table.table.name)\\\". All fields are combined with a logical 'AND'.\"\ninput \(t)_bool_exp { \(boolFields.sorted().joined(separator: " ")) }")
        out.append("\"Ordering options when selecting data from \\\"\(table.table.name)\\\".\"\ninput \(t)_order_by { \(orderFields.sorted().joined(separator: " ")) }")
        out.append("\"select columns of table \\\"\(table.table.name)\\\"\"\nenum \(t)_select_column { \(table.columns.map(\.name).joined(separator: " ")) }")
        // Aggregates.
        var aggregateFields = ["count(columns: [\(t)_select_column!], distinct: Boolean): Int!"]
        var aggregateOrder = ["count: order_by"]
        for op in AggregateFunctions.all {
            let columns = AggregateFunctions.columns(op, of: table)
            guard !columns.isEmpty else { continue }
            // Sums, maxima and minima keep the column's type; the statistics are Float.
            let fields = columns.map { "\($0.name): \(["sum", "max", "min"].contains(op) ? $0.scalar.name : "Float")" }
            aggregateFields.append("\(op): \(t)_\(op)_fields")
            out.append("type \(t)_\(op)_fields { \(fields.joined(separator: " ")) }")
            aggregateOrder.append("\(op): \(t)_\(op)_order_by")
            out.append("input \(t)_\(op)_order_by { \(columns.map { "\($0.name): order_by" }.joined(separator: " ")) }")
        }
        out.append("type \(t)_aggregate { aggregate: \(t)_aggregate_fields nodes: [\(t)!]! }")
        out.append("type \(t)_aggregate_fields { \(aggregateFields.sorted().joined(separator: " ")) }")
        out.append("input \(t)_aggregate_order_by { \(aggregateOrder.sorted().joined(separator: " ")) }")
        // Mutations, for the roles that have them.
        guard !mutationFields.isEmpty else { return out }
        let fields = Self.inputFields
        out.append("input \(t)_insert_input { \(fields(table.insertColumns)) }")
        out.append("input \(t)_set_input { \(fields(table.updateColumns)) }")
        if !Self.incrementable(table).isEmpty {
            out.append("input \(t)_inc_input { \(fields(Self.incrementable(table))) }")
        }
        out.append("type \(t)_mutation_response { affected_rows: Int! returning: [\(t)!]! }")
        out.append("input \(t)_updates { \(updateArguments(table)) where: \(t)_bool_exp! }")
        let updatable = table.updateColumns.map(\.name)
        out.append("enum \(t)_update_column { \(updatable.isEmpty ? "_PLACEHOLDER" : updatable.joined(separator: " ")) }")
        if !table.info.constraints.isEmpty, table.mayUpdate {
            out.append("enum \(t)_constraint { \(table.info.constraints.map(\.name).joined(separator: " ")) }")
            out.append("input \(t)_on_conflict { constraint: \(t)_constraint! update_columns: [\(t)_update_column!]! = [] where: \(t)_bool_exp }")
        }
        if let key = table.info.primaryKey {
            out.append("input \(t)_pk_columns_input { \(pkArguments(table, key)) }")
        }
        return out
    }

    private static func inputFields(_ columns: [ColumnInfo]) -> String {
        // An input type needs a field; Hasura's stand-in for "nothing to give" is _PLACEHOLDER.
        columns.isEmpty ? "_PLACEHOLDER: String" : columns.map { "\($0.name): \($0.scalar.name)" }.joined(separator: " ")
    }

    private func updateArguments(_ table: TableModel) -> String {
        (Self.incrementable(table).isEmpty ? "" : "_inc: \(table.typeName)_inc_input ") + "_set: \(table.typeName)_set_input"
    }

    static func incrementable(_ table: TableModel) -> [ColumnInfo] { table.updateColumns.filter(\.scalar.isNumeric) }

    private func pkArguments(_ table: TableModel, _ key: ConstraintInfo) -> String {
        key.columns.compactMap { name in table.info.column(name).map { "\(name): \($0.scalar.name)!" } }.joined(separator: ", ")
    }

    private func root(_ name: String, fields: [String: RootField], fallback: String?) -> String {
        var lines: [String] = []
        for (field, root) in fields.sorted(by: { $0.key < $1.key }) {
            guard let table = tables[root.table] else { continue }
            let t = table.typeName
            let conflict = table.info.constraints.isEmpty || !table.mayUpdate || table.insertOnly ? "" : ", on_conflict: \(t)_on_conflict"
            switch root.kind {
            case .select: lines.append("\(field)\(Self.selectArguments(t)): [\(t)!]!")
            case .selectAggregate: lines.append("\(field)\(Self.selectArguments(t)): \(t)_aggregate!")
            case .selectByPk: lines.append("\(field)(\(pkArguments(table, table.info.primaryKey!))): \(t)")
            case .insert: lines.append("\(field)(objects: [\(t)_insert_input!]!\(conflict)): \(t)_mutation_response")
            case .insertOne: lines.append("\(field)(object: \(t)_insert_input!\(conflict)): \(t)")
            case .update: lines.append("\(field)(\(updateArguments(table)), where: \(t)_bool_exp!): \(t)_mutation_response")
            case .updateByPk: lines.append("\(field)(\(updateArguments(table)), pk_columns: \(t)_pk_columns_input!): \(t)")
            case .updateMany: lines.append("\(field)(updates: [\(t)_updates!]!): [\(t)_mutation_response]")
            case .delete: lines.append("\(field)(where: \(t)_bool_exp!): \(t)_mutation_response")
            case .deleteByPk: lines.append("\(field)(\(pkArguments(table, table.info.primaryKey!))): \(t)")
            }
        }
        if lines.isEmpty, let fallback { lines.append(fallback) }
        return "type \(name) { \(lines.joined(separator: "\n  ")) }"
    }
}
