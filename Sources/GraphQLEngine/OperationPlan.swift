/// What one GraphQL operation asks of the tables, checked against the schema, before any SQL is written.
/// Values are `Operand`s: known constants, or variables read when the plan runs, so the same plan serves every call
/// of a document whose variables fill single values.

enum Operand: Sendable {
    case value(SQLValue)
    /// A variable filling one value: `nullable` says whether null may stand there (an inserted value may be null,
    /// a comparison may not).
    case variable(name: String, path: String, scalar: ScalarType, nullable: Bool)
    /// A session variable a permission compares with (`x-hasura-user-id`, lowercased).
    case session(name: String, scalar: ScalarType)
    /// A session variable holding a list (a JSON array claim, or Hasura's `{a,b}` header form), for `_in`/`_nin`:
    /// bound as one JSON array of the column's values.
    case sessionList(name: String, scalar: ScalarType)
}

struct Selection: Sendable {
    var fields: [(key: String, field: SelectedField)]
}

indirect enum SelectedField: Sendable {
    case column(ColumnInfo)
    case typename(String)
    /// The related row, when the filter (the role's permission on the remote table) lets it be read.
    case object(RelationshipModel, BoolExp?, Selection)
    case array(RelationshipModel, RowArguments, Selection)
    case aggregate(RelationshipModel, RowArguments, AggregateSelection)
}

struct RowArguments: Sendable {
    var filter: BoolExp?
    var orderBy: [OrderTerm] = []
    var limit: Operand?
    var offset: Operand?
    var distinctOn: [ColumnInfo] = []
    /// The role's `limit` on the table: no more rows than this, whatever the request asks.
    var permissionLimit: Int?
}

enum ComparisonOperator: String, Sendable, CaseIterable {
    case eq = "_eq", neq = "_neq", gt = "_gt", lt = "_lt", gte = "_gte", lte = "_lte"
    case like = "_like", nlike = "_nlike", ilike = "_ilike", nilike = "_nilike"
}

indirect enum BoolExp: Sendable {
    case and([BoolExp])
    case or([BoolExp])
    case not(BoolExp)
    case compare(ColumnInfo, ComparisonOperator, Operand)
    case within(ColumnInfo, negated: Bool, [Operand])
    /// `_in`/`_nin` against a list known only when the request runs (a session variable's).
    case withinList(ColumnInfo, negated: Bool, Operand)
    case isNull(ColumnInfo, Operand)
    case relationship(RelationshipModel, BoolExp)
    /// A permission's `_exists`: a row of the named table satisfies the condition.
    case exists(QualifiedTable, BoolExp)
}

struct OrderTerm: Sendable {
    enum Target: Sendable {
        case column(ColumnInfo)
        case count(RelationshipModel)
        /// `avg`, `max`, … of a column over an array relationship's rows.
        case aggregate(RelationshipModel, String, ColumnInfo)
    }
    /// Object relationships walked from the row to the ordered value.
    var path: [RelationshipModel]
    var target: Target
    var descending: Bool
    var nullsFirst: Bool
}

/// Hasura's aggregate functions: the statistical ones take numeric columns, `max` and `min` any comparable column.
enum AggregateFunctions {
    static let numeric = ["avg", "stddev", "stddev_pop", "stddev_samp", "sum", "var_pop", "var_samp", "variance"]
    static let comparable = ["max", "min"]
    static let all = numeric + comparable

    static func columns(_ function: String, of table: TableModel) -> [ColumnInfo] {
        comparable.contains(function) ? table.comparableColumns : table.numericColumns
    }
}

struct AggregateSelection: Sendable {
    enum Field: Sendable {
        case typename(String)
        case nodes(Selection)
        case aggregate([(key: String, op: Operation)])
    }
    enum Operation: Sendable {
        case typename(String)
        case count(columns: [ColumnInfo], distinct: Bool)
        /// `sum`, `avg`, `max`, `min` over columns; a nil column is `__typename`, answered with `typename`.
        case function(String, typename: String, [(key: String, column: ColumnInfo?)])
    }
    var fields: [(key: String, field: Field)]
}

struct MutationSelection: Sendable {
    enum Field: Sendable {
        case typename(String)
        case affectedRows
        case returning(Selection)
    }
    var fields: [(key: String, field: Field)]
}

struct ColumnValue: Sendable {
    var column: ColumnInfo
    var value: Operand
}

struct OnConflict: Sendable {
    var constraint: ConstraintInfo
    var updateColumns: [ColumnInfo]
    var filter: BoolExp?
}

struct UpdateSpec: Sendable {
    var filter: BoolExp
    var set: [ColumnValue]
    var increment: [ColumnValue]
    /// The role's `check`: what every updated row must satisfy afterwards, or the mutation fails.
    var check: BoolExp?
}

enum MutationOutput: Sendable {
    case response(MutationSelection)
    case row(Selection)
}

enum RootPlan: Sendable {
    case typename(String)
    /// `__schema` / `__type`: answered by the GraphQL library from the generated SDL.
    case introspection
    case rows(TableModel, RowArguments, Selection)
    case row(TableModel, BoolExp, Selection)
    case aggregate(TableModel, RowArguments, AggregateSelection)
    /// Rows to insert, the upsert, the role's `check` on every inserted row, and what to answer.
    case insert(TableModel, [[ColumnValue]], OnConflict?, BoolExp?, MutationOutput)
    case update(TableModel, UpdateSpec, MutationOutput)
    case updateMany(TableModel, [UpdateSpec], MutationSelection)
    case delete(TableModel, BoolExp, MutationOutput)
}

struct OperationPlan: Sendable {
    enum Kind: Sendable { case query, mutation }
    var kind: Kind
    /// Each root field: its response key, its path in the document (`$.selectionSet.insert_users`), and its plan.
    var roots: [(key: String, path: String, plan: RootPlan)]
    /// False when a variable shaped the plan (a whole `where` or `objects` passed as a variable, a `@skip(if: $x)`):
    /// then the plan holds that call's values and is rebuilt for the next.
    var reusable: Bool
    var hasIntrospection: Bool { roots.contains { if case .introspection = $0.plan { true } else { false } } }
}
