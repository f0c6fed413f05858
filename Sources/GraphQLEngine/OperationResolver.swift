import GraphQL
import TesseraCore

/// Reads one operation of a parsed document against the generated schema and produces its plan, with Hasura's error
/// messages and paths (`field 'x' not found in type: 'query_root'` at `$.selectionSet.x`). Fragments are expanded,
/// `@include`/`@skip` applied, and depth and size bounded on the way, so a hostile document stops early.
struct OperationResolver {
    let schema: GraphSchema
    let fragments: [String: FragmentDefinition]
    let variables: [String: JSONValue]
    let limits: GraphQLLimits
    private(set) var reusable = true
    private var fieldCount = 0
    /// Set while a permission's filter is read: it may name columns the role cannot see.
    private var readingPermission = false

    init(schema: GraphSchema, document: Document, variables: [String: JSONValue], limits: GraphQLLimits) {
        self.schema = schema
        self.variables = variables
        self.limits = limits
        var fragments: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { fragments[fragment.name.value] = fragment }
        self.fragments = fragments
    }

    /// The operation a request names, or the only one in the document.
    static func operation(in document: Document, named name: String?) throws(HasuraError) -> OperationDefinition {
        let operations = document.definitions.compactMap { $0 as? OperationDefinition }
        if let name {
            guard let operation = operations.first(where: { $0.name?.value == name }) else {
                throw HasuraError.validation("no such operation found in the document: \"\(name)\"", path: "$")
            }
            return operation
        }
        guard operations.count == 1 else {
            throw HasuraError.validation(
                operations.isEmpty ? "no operations found in the document"
                    : "exactly one operation has to be present in the document when operationName is not specified",
                path: "$")
        }
        return operations[0]
    }

    mutating func plan(_ operation: OperationDefinition) throws(HasuraError) -> OperationPlan {
        let kind: OperationPlan.Kind
        let rootType: String
        let fields: [String: RootField]
        switch operation.operation {
        case .query: (kind, rootType, fields) = (.query, "query_root", schema.queryFields)
        case .mutation:
            guard !schema.mutationFields.isEmpty else { throw HasuraError.validation("no mutations exist", path: "$") }
            (kind, rootType, fields) = (.mutation, "mutation_root", schema.mutationFields)
        case .subscription:
            throw HasuraError.notSupported("subscriptions are not supported over HTTP; Tessera serves queries and mutations")
        }
        var roots: [(key: String, path: String, plan: RootPlan)] = []
        for directive in operation.directives where ["include", "skip"].contains(directive.name.value) {
            throw HasuraError.validation("directive \"\(directive.name.value)\" is not allowed on a \(operation.operation.rawValue)", path: "$")
        }
        for (field, path) in try collect([(operation.selectionSet, [])], typeName: rootType, path: "$", depth: 1) {
            let key = field.key
            let name = field.name
            let fieldPath = "\(path).selectionSet.\(name)"
            switch name {
            case "__typename": roots.append((key, fieldPath, .typename(rootType)))
            case "__schema" where kind == .query, "__type" where kind == .query: roots.append((key, fieldPath, .introspection))
            default:
                guard let root = fields[name] else { throw HasuraError.fieldNotFound(name, in: rootType, path: fieldPath) }
                roots.append((key, fieldPath, try rootPlan(root, field, path: fieldPath)))
            }
        }
        return OperationPlan(kind: kind, roots: roots, reusable: reusable)
    }

    // MARK: - Selections

    /// The fields of selection sets, fragments expanded and directives applied, in document order; fields with one
    /// response key merge (their selection sets are read together), as the specification collects fields. Each keeps
    /// the fragments it was reached through, so a fragment that spreads itself is found however deep.
    private mutating func collect(_ sets: [(set: SelectionSet, fragments: [String])], typeName: String, path: String,
                                  depth: Int) throws(HasuraError) -> [(CollectedField, String)] {
        guard depth <= limits.maxDepth else {
            throw HasuraError.validation("the query exceeds the maximum depth of \(limits.maxDepth)", path: path)
        }
        var fields: [CollectedField] = []
        var bases: [String] = []
        func add(_ field: Field, fragments: [String], base: String) {
            let key = field.alias?.value ?? field.name.value
            if let index = fields.firstIndex(where: { $0.key == key }) {
                if let set = field.selectionSet { fields[index].sets.append((set, fragments)) }
            } else {
                fields.append(CollectedField(field: field, sets: field.selectionSet.map { [($0, fragments)] } ?? [], fragments: fragments))
                bases.append(base)
            }
        }
        func gather(_ set: SelectionSet, fragments: [String], base: String) throws(HasuraError) {
            for selection in set.selections {
                switch selection {
                case let field as Field:
                    guard try included(field.directives, path: path) else { continue }
                    fieldCount += 1
                    guard fieldCount <= limits.maxFields else {
                        throw HasuraError.validation("the query selects more than \(limits.maxFields) fields", path: path)
                    }
                    add(field, fragments: fragments, base: base)
                case let spread as FragmentSpread:
                    guard try included(spread.directives, path: path) else { continue }
                    let name = spread.name.value
                    if let start = fragments.firstIndex(of: name) {
                        let via = (fragments[(start + 1)...] + [name]).joined(separator: ",")
                        throw HasuraError.validation("cannot spread fragment \"\(name)\" within itself via \(via)", path: "\(base).selectionSet")
                    }
                    guard let fragment = self.fragments[name] else {
                        throw HasuraError.validation("fragment '\(name)' not found", path: "\(base).selectionSet")
                    }
                    guard fragment.typeCondition.name.value == typeName else { continue }
                    try gather(fragment.selectionSet, fragments: fragments + [name], base: "\(base).selectionSet.\(name)")
                case let inline as InlineFragment:
                    guard try included(inline.directives, path: path) else { continue }
                    if let condition = inline.typeCondition, condition.name.value != typeName { continue }
                    try gather(inline.selectionSet, fragments: fragments, base: base)
                default: continue
                }
            }
        }
        for (set, fragments) in sets { try gather(set, fragments: fragments, base: path) }
        return Array(zip(fields, bases))
    }

    private mutating func included(_ directives: [Directive], path: String) throws(HasuraError) -> Bool {
        let names = directives.map(\.name.value)
        let repeated = Set(names.filter { name in names.filter { $0 == name }.count > 1 }).sorted()
        if !repeated.isEmpty {
            throw HasuraError.validation("the following directives are used more than once: \(repeated.joined(separator: ", "))",
                                         path: "\(path).selectionSet")
        }
        for directive in directives {
            let name = directive.name.value
            guard name == "include" || name == "skip" else {
                throw HasuraError.validation("directive \"\(name)\" is not defined in the schema", path: "\(path).selectionSet")
            }
            guard let argument = directive.arguments.first(where: { $0.name.value == "if" }) else {
                throw HasuraError.validation("missing required field 'if'", path: "\(path).selectionSet")
            }
            guard case .bool(let flag) = try structural(InputValue(argument.value)) else {
                throw HasuraError.validation("expected a boolean for 'if'", path: "\(path).selectionSet")
            }
            if (name == "include") != flag { return false }
        }
        return true
    }

    private mutating func subselection(_ field: CollectedField, typeName: String, path: String, depth: Int) throws(HasuraError) -> [(CollectedField, String)] {
        guard !field.sets.isEmpty else {
            throw HasuraError.validation("missing selection set for '\(typeName)'", path: path)
        }
        return try collect(field.sets, typeName: typeName, path: path, depth: depth + 1)
    }

    private func leaf(_ field: CollectedField, path: String) throws(HasuraError) {
        if !field.sets.isEmpty {
            throw HasuraError.validation("unexpected subselection set for non-object field", path: path)
        }
    }

    mutating func selection(_ field: CollectedField, of table: TableModel, path: String, depth: Int) throws(HasuraError) -> Selection {
        var result: [(key: String, field: SelectedField)] = []
        for (child, base) in try subselection(field, typeName: table.typeName, path: path, depth: depth) {
            let name = child.name
            let key = child.key
            let childPath = "\(base).selectionSet.\(name)"
            if name == "__typename" {
                result.append((key, .typename(table.typeName)))
            } else if let column = column(of: table, name) {
                try leaf(child, path: childPath)
                try noArguments(child, path: childPath)
                result.append((key, .column(column)))
            } else if let relationship = table.relationships[name] {
                let remote = schema.table(relationship.remote)
                if relationship.isArray {
                    let arguments = try permitted(try rowArguments(child.arguments, of: remote, path: childPath), on: remote)
                    result.append((key, .array(relationship, arguments, try selection(child, of: remote, path: childPath, depth: depth + 1))))
                } else {
                    try noArguments(child, path: childPath)
                    result.append((key, .object(relationship, try permittedRows(remote),
                                                try selection(child, of: remote, path: childPath, depth: depth + 1))))
                }
            } else if name.hasSuffix("_aggregate"), let relationship = table.relationships[String(name.dropLast(10))], relationship.isArray,
                      schema.table(relationship.remote).allowsAggregations {
                let remote = schema.table(relationship.remote)
                let arguments = try permitted(try rowArguments(child.arguments, of: remote, path: childPath), on: remote)
                result.append((key, .aggregate(relationship, arguments,
                                               try aggregateSelection(child, of: remote, path: childPath, depth: depth + 1))))
            } else {
                throw HasuraError.fieldNotFound(name, in: table.typeName, path: childPath)
            }
        }
        return Selection(fields: result)
    }

    private mutating func aggregateSelection(_ field: CollectedField, of table: TableModel, path: String, depth: Int) throws(HasuraError) -> AggregateSelection {
        let t = table.typeName
        var fields: [(key: String, field: AggregateSelection.Field)] = []
        for (child, base) in try subselection(field, typeName: "\(t)_aggregate", path: path, depth: depth) {
            let name = child.name
            let key = child.key
            let childPath = "\(base).selectionSet.\(name)"
            switch name {
            case "__typename": fields.append((key, .typename("\(t)_aggregate")))
            case "nodes": fields.append((key, .nodes(try selection(child, of: table, path: childPath, depth: depth + 1))))
            case "aggregate":
                var operations: [(key: String, op: AggregateSelection.Operation)] = []
                for (op, opBase) in try subselection(child, typeName: "\(t)_aggregate_fields", path: childPath, depth: depth + 1) {
                    let opName = op.name
                    let opKey = op.key
                    let opPath = "\(opBase).selectionSet.\(opName)"
                    switch opName {
                    case "__typename": operations.append((opKey, .typename("\(t)_aggregate_fields")))
                    case "count":
                        try leaf(op, path: opPath)
                        var columns: [ColumnInfo] = []
                        var distinct = false
                        for argument in op.arguments {
                            let argumentPath = "\(opPath).args.\(argument.name.value)"
                            switch argument.name.value {
                            case "columns": columns = try enumList(argument.value, typeName: "\(t)_select_column", path: argumentPath).map { name throws(HasuraError) in
                                guard let column = column(of: table, name) else {
                                    throw HasuraError.validation("expected one of the values \(table.columns.map(\.name)) for type '\(t)_select_column', but found '\(name)'", path: argumentPath)
                                }
                                return column
                            }
                            case "distinct":
                                guard case .bool(let flag) = try structural(InputValue(argument.value)) else {
                                    throw HasuraError.validation("expected a boolean for type 'Boolean'", path: argumentPath)
                                }
                                distinct = flag
                            default:
                                throw HasuraError.validation("'count' has no argument named '\(argument.name.value)'", path: argumentPath)
                            }
                        }
                        operations.append((opKey, .count(columns: columns, distinct: distinct)))
                    case _ where AggregateFunctions.all.contains(opName) && !AggregateFunctions.columns(opName, of: table).isEmpty:
                        let typeName = "\(t)_\(opName)_fields"
                        let allowed = AggregateFunctions.columns(opName, of: table)
                        var columns: [(key: String, column: ColumnInfo?)] = []
                        for (column, columnBase) in try subselection(op, typeName: typeName, path: opPath, depth: depth + 2) {
                            let columnName = column.name
                            let columnKey = column.key
                            if columnName == "__typename" { columns.append((columnKey, nil)); continue }
                            guard let info = allowed.first(where: { $0.name == columnName }) else {
                                throw HasuraError.fieldNotFound(columnName, in: typeName, path: "\(columnBase).selectionSet.\(columnName)")
                            }
                            columns.append((columnKey, info))
                        }
                        operations.append((opKey, .function(opName, typename: typeName, columns)))
                    default:
                        throw HasuraError.fieldNotFound(opName, in: "\(t)_aggregate_fields", path: opPath)
                    }
                }
                fields.append((key, .aggregate(operations)))
            default:
                throw HasuraError.fieldNotFound(name, in: "\(t)_aggregate", path: childPath)
            }
        }
        return AggregateSelection(fields: fields)
    }

    private mutating func mutationSelection(_ field: CollectedField, of table: TableModel, path: String) throws(HasuraError) -> MutationSelection {
        let typeName = "\(table.typeName)_mutation_response"
        var fields: [(key: String, field: MutationSelection.Field)] = []
        for (child, base) in try subselection(field, typeName: typeName, path: path, depth: 1) {
            let name = child.name
            let key = child.key
            let childPath = "\(base).selectionSet.\(name)"
            switch name {
            case "__typename": fields.append((key, .typename(typeName)))
            case "affected_rows": try leaf(child, path: childPath); fields.append((key, .affectedRows))
            case "returning" where !table.insertOnly:
                fields.append((key, .returning(try selection(child, of: table, path: childPath, depth: 2))))
            default: throw HasuraError.fieldNotFound(name, in: typeName, path: childPath)
            }
        }
        return MutationSelection(fields: fields)
    }

    // MARK: - Root fields

    private mutating func rootPlan(_ root: RootField, _ field: CollectedField, path: String) throws(HasuraError) -> RootPlan {
        let table = schema.table(root.table)
        switch root.kind {
        case .select:
            return .rows(table, try permitted(try rowArguments(field.arguments, of: table, path: path), on: table),
                         try selection(field, of: table, path: path, depth: 1))
        case .selectAggregate:
            return .aggregate(table, try permitted(try rowArguments(field.arguments, of: table, path: path), on: table),
                              try aggregateSelection(field, of: table, path: path, depth: 1))
        case .selectByPk:
            let arguments = try namedArguments(field, allowed: table.info.primaryKey!.columns, path: path)
            return .row(table, try restricted(try primaryKeyFilter(table, arguments, path: path), to: table)!,
                        try selection(field, of: table, path: path, depth: 1))
        case .insert, .insertOne:
            let one = root.kind == .insertOne
            let arguments = try namedArguments(field, allowed: [one ? "object" : "objects"] + (table.mayUpdate ? ["on_conflict"] : []),
                                               path: path)
            let objectsKey = one ? "object" : "objects"
            guard let objectsValue = arguments[objectsKey] else {
                throw HasuraError.validation("missing required field '\(objectsKey)'", path: "\(path).args")
            }
            var objects: [InputValue]
            switch try structuralShallow(objectsValue) {
            case .list(let values) where !one: objects = values
            case .object: objects = [try structuralShallow(objectsValue)]
            default: throw HasuraError.validation("expected an object for type '\(table.typeName)_insert_input'", path: "\(path).args.\(objectsKey)")
            }
            var rows: [[ColumnValue]] = []
            for (index, object) in objects.enumerated() {
                let objectPath = one ? "\(path).args.object" : "\(path).args.objects[\(index)]"
                rows.append(try columnValues(try structuralShallow(object), of: table, allowed: table.insertColumns,
                                             typeName: "\(table.typeName)_insert_input", nullable: true, path: objectPath)
                            + presets(table.insertPermission, of: table))
            }
            let conflict = try arguments["on_conflict"].flatMap { value throws(HasuraError) in
                try onConflict(value, of: table, path: "\(path).args.on_conflict")
            }
            let output: MutationOutput = one ? .row(try selection(field, of: table, path: path, depth: 1))
                : .response(try mutationSelection(field, of: table, path: path))
            return .insert(table, rows, conflict, try permissionCondition(table.insertPermission?.check, on: table), output)
        case .update:
            let arguments = try namedArguments(field, allowed: ["where", "_set", "_inc"], path: path)
            guard let filter = arguments["where"] else { throw HasuraError.validation("missing required field 'where'", path: "\(path).args") }
            let spec = try updateSpec(filter: try boolExp(filter, of: table, path: "\(path).args.where"), arguments, of: table, path: path)
            return .update(table, spec, .response(try mutationSelection(field, of: table, path: path)))
        case .updateByPk:
            let arguments = try namedArguments(field, allowed: ["pk_columns", "_set", "_inc"], path: path)
            guard let keyValue = arguments["pk_columns"], case .object(let keyFields) = try structural(keyValue) else {
                throw HasuraError.validation("missing required field 'pk_columns'", path: "\(path).args")
            }
            let keys = Dictionary(keyFields.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
            for key in keys.keys where !table.info.primaryKey!.columns.contains(key) {
                throw HasuraError.fieldNotFound(key, in: "\(table.typeName)_pk_columns_input", path: "\(path).args.pk_columns.\(key)")
            }
            let spec = try updateSpec(filter: try primaryKeyFilter(table, keys, path: "\(path).args.pk_columns"), arguments, of: table, path: path)
            return .update(table, spec, .row(try selection(field, of: table, path: path, depth: 1)))
        case .updateMany:
            let arguments = try namedArguments(field, allowed: ["updates"], path: path)
            guard let updates = arguments["updates"] else { throw HasuraError.validation("missing required field 'updates'", path: "\(path).args") }
            var specs: [UpdateSpec] = []
            let list: [InputValue]
            switch try structural(updates) {
            case .list(let values): list = values
            case let value: list = [value]
            }
            for (index, update) in list.enumerated() {
                let updatePath = "\(path).args.updates[\(index)]"
                guard case .object(let fields) = update else {
                    throw HasuraError.validation("expected an object for type '\(table.typeName)_updates'", path: updatePath)
                }
                let entries = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { _, b in b })
                for key in entries.keys where !["where", "_set", "_inc"].contains(key) {
                    throw HasuraError.fieldNotFound(key, in: "\(table.typeName)_updates", path: "\(updatePath).\(key)")
                }
                guard let filter = entries["where"] else { throw HasuraError.validation("missing required field 'where'", path: updatePath) }
                specs.append(try updateSpec(filter: try boolExp(filter, of: table, path: "\(updatePath).where"), entries, of: table, path: updatePath))
            }
            return .updateMany(table, specs, try mutationSelection(field, of: table, path: path))
        case .delete:
            let arguments = try namedArguments(field, allowed: ["where"], path: path)
            guard let filter = arguments["where"] else { throw HasuraError.validation("missing required field 'where'", path: "\(path).args") }
            return .delete(table, try deletable(try boolExp(filter, of: table, path: "\(path).args.where"), of: table),
                           .response(try mutationSelection(field, of: table, path: path)))
        case .deleteByPk:
            let arguments = try namedArguments(field, allowed: table.info.primaryKey!.columns, path: path)
            return .delete(table, try deletable(try primaryKeyFilter(table, arguments, path: path), of: table),
                           .row(try selection(field, of: table, path: path, depth: 1)))
        }
    }

    private func noArguments(_ field: CollectedField, path: String) throws(HasuraError) {
        if let argument = field.arguments.first {
            throw HasuraError.validation("'\(field.name)' has no argument named '\(argument.name.value)'", path: "\(path).args.\(argument.name.value)")
        }
    }

    private func namedArguments(_ field: CollectedField, allowed: [String], path: String) throws(HasuraError) -> [String: InputValue] {
        var arguments: [String: InputValue] = [:]
        for argument in field.arguments {
            let name = argument.name.value
            guard allowed.contains(name) else {
                throw HasuraError.validation("'\(field.name)' has no argument named '\(name)'", path: "\(path).args.\(name)")
            }
            arguments[name] = InputValue(argument.value)
        }
        return arguments
    }

    private mutating func primaryKeyFilter(_ table: TableModel, _ arguments: [String: InputValue], path: String) throws(HasuraError) -> BoolExp {
        var terms: [BoolExp] = []
        for name in table.info.primaryKey!.columns {
            guard let value = arguments[name], let column = column(of: table, name) else {
                throw HasuraError.validation("missing required field '\(name)'", path: "\(path).args")
            }
            terms.append(.compare(column, .eq, try operand(value, column.scalar, nullable: false, path: "\(path).args.\(name)")))
        }
        return .and(terms)
    }

    private mutating func updateSpec(filter: BoolExp, _ arguments: [String: InputValue], of table: TableModel, path: String) throws(HasuraError) -> UpdateSpec {
        // The role updates only the rows its update permission's filter gives it.
        let permitted = try permissionCondition(table.updatePermission?.filter, on: table)
        var spec = UpdateSpec(filter: permitted.map { .and([filter, $0]) } ?? filter, set: [], increment: [],
                              check: try permissionCondition(table.updatePermission?.check, on: table))
        if let set = arguments["_set"] {
            spec.set = try columnValues(try structuralShallow(set), of: table, allowed: table.updateColumns,
                                        typeName: "\(table.typeName)_set_input", nullable: true, path: "\(path).args._set")
        }
        if let increment = arguments["_inc"] {
            spec.increment = try columnValues(try structuralShallow(increment), of: table, allowed: table.updateColumns,
                                              typeName: "\(table.typeName)_inc_input", nullable: false, path: "\(path).args._inc",
                                              numericOnly: true)
        }
        if !spec.set.isEmpty || !spec.increment.isEmpty { spec.set += presets(table.updatePermission, of: table) }
        let incremented = Set(spec.increment.map(\.column.name))
        let twice = spec.set.map(\.column.name).filter(incremented.contains)
        if !twice.isEmpty {
            throw HasuraError.validation("column found in multiple operators; " + twice.map { "\"\($0)\" in _set, _inc" }.joined(separator: ". "),
                                         path: "$")
        }
        return spec
    }

    /// A permission's `set`: columns written with a literal or a session variable, whatever the request says.
    private func presets(_ permission: WritePermission?, of table: TableModel) -> [ColumnValue] {
        guard let permission else { return [] }
        return permission.presets.sorted { $0.key < $1.key }.compactMap { name, value in
            guard let column = table.info.column(name) else { return nil }
            if case .string(let text) = value, text.lowercased().hasPrefix("x-hasura-") {
                return ColumnValue(column: column, value: .session(name: text.lowercased(), scalar: column.scalar))
            }
            guard let literal = try? column.scalar.sqlValue(InputValue(json: value), path: "$") else { return nil }
            return ColumnValue(column: column, value: .value(literal))
        }
    }

    private mutating func columnValues(_ value: InputValue, of table: TableModel, allowed: [ColumnInfo], typeName: String,
                                       nullable: Bool, path: String, numericOnly: Bool = false) throws(HasuraError) -> [ColumnValue] {
        guard case .object(let fields) = value else {
            if case .null = value { return [] }
            throw HasuraError.validation("expected an object for type '\(typeName)', but found \(value.kindName)", path: path)
        }
        var values: [ColumnValue] = []
        for (key, fieldValue) in fields {
            guard let column = allowed.first(where: { $0.name == key }), !numericOnly || column.scalar.isNumeric else {
                if table.relationships[key] != nil, !numericOnly {
                    throw HasuraError.notSupported("nested inserts through relationships are not supported yet", path: "\(path).\(key)")
                }
                throw HasuraError.fieldNotFound(key, in: typeName, path: "\(path).\(key)")
            }
            if values.contains(where: { $0.column.name == key }) { continue }
            values.append(ColumnValue(column: column, value: try operand(fieldValue, column.scalar, nullable: nullable, path: "\(path).\(key)")))
        }
        return values
    }

    private mutating func onConflict(_ value: InputValue, of table: TableModel, path: String) throws(HasuraError) -> OnConflict? {
        let typeName = "\(table.typeName)_on_conflict"
        guard !table.info.constraints.isEmpty else {
            throw HasuraError.validation("'\(table.typeName)' has no unique or primary key constraint for on_conflict", path: path)
        }
        guard case .object(let fields) = try structuralShallow(value) else {
            if case .null = try structural(value) { return nil }
            throw HasuraError.validation("expected an object for type '\(typeName)'", path: path)
        }
        var constraint: ConstraintInfo?
        var updateColumns: [ColumnInfo] = []
        var filter: BoolExp?
        for (key, fieldValue) in fields {
            switch key {
            case "constraint":
                guard case let name?? = try enumName(fieldValue, path: "\(path).constraint"),
                      let found = table.info.constraints.first(where: { $0.name == name }) else {
                    throw HasuraError.validation(
                        "expected one of the values \(table.info.constraints.map(\.name)) for type '\(table.typeName)_constraint'",
                        path: "\(path).constraint")
                }
                constraint = found
            case "update_columns":
                updateColumns = try enumList(fieldValue, typeName: "\(table.typeName)_update_column", path: "\(path).update_columns")
                    .map { name throws(HasuraError) in
                        guard let column = table.updateColumns.first(where: { $0.name == name }) else {
                            throw HasuraError.validation("expected one of the values \(table.updateColumns.map(\.name)) for type '\(table.typeName)_update_column', but found '\(name)'",
                                                         path: "\(path).update_columns")
                        }
                        return column
                    }
            case "where": filter = try boolExp(fieldValue, of: table, path: "\(path).where")
            default: throw HasuraError.fieldNotFound(key, in: typeName, path: "\(path).\(key)")
            }
        }
        guard let constraint else { throw HasuraError.validation("missing required field 'constraint'", path: path) }
        // An upsert updates only rows the role's update permission lets it update.
        if let permitted = try permissionCondition(table.updatePermission?.filter, on: table) {
            filter = filter.map { .and([$0, permitted]) } ?? permitted
        }
        return OnConflict(constraint: constraint, updateColumns: updateColumns, filter: filter)
    }

    // MARK: - Arguments of row selections

    private mutating func rowArguments(_ arguments: [Argument], of table: TableModel, path: String) throws(HasuraError) -> RowArguments {
        var result = RowArguments()
        for argument in arguments {
            let name = argument.name.value
            let value = InputValue(argument.value)
            let argumentPath = "\(path).args.\(name)"
            switch name {
            case "where": result.filter = try boolExp(value, of: table, path: argumentPath)
            case "limit": result.limit = try count(value, path: argumentPath)
            case "offset": result.offset = try count(value, path: argumentPath)
            case "order_by": result.orderBy = try orderBy(value, of: table, path: argumentPath)
            case "distinct_on":
                result.distinctOn = try enumList(value, typeName: "\(table.typeName)_select_column", path: argumentPath).map { name throws(HasuraError) in
                    guard let column = column(of: table, name) else {
                        throw HasuraError.validation("expected one of the values \(table.columns.map(\.name)) for type '\(table.typeName)_select_column', but found '\(name)'", path: argumentPath)
                    }
                    return column
                }
            default:
                throw HasuraError.validation("'\(path.split(separator: ".").last ?? "")' has no argument named '\(name)'", path: argumentPath)
            }
        }
        if !result.distinctOn.isEmpty {
            // PostgreSQL's rule, which Hasura keeps: DISTINCT ON columns lead the ORDER BY.
            let leading = result.orderBy.prefix(result.distinctOn.count).map { term -> String? in
                if term.path.isEmpty, case .column(let column) = term.target { return column.name }
                return nil
            }
            if !result.orderBy.isEmpty, Set(leading.compactMap { $0 }) != Set(result.distinctOn.map(\.name)) || leading.count < result.distinctOn.count {
                throw HasuraError.validation("\"distinct_on\" columns must match initial \"order_by\" columns", path: "\(path).args")
            }
        }
        return result
    }

    private mutating func count(_ value: InputValue, path: String) throws(HasuraError) -> Operand? {
        if case .null = value { return nil }
        let operand = try operand(value, .int, nullable: true, path: path)
        if case .value(.integer(let number)) = operand, number < 0 {
            throw HasuraError.notSupported("unexpected negative value", path: path)
        }
        return operand
    }

    private mutating func orderBy(_ value: InputValue, of table: TableModel, path: String) throws(HasuraError) -> [OrderTerm] {
        if case .null = try structuralShallow(value) { return [] }
        let items = try listItems(value)
        var terms: [OrderTerm] = []
        for (index, item) in items.enumerated() {
            terms += try orderTerms(try structuralShallow(item), of: table, through: [], path: items.count == 1 ? path : "\(path)[\(index)]")
        }
        return terms
    }

    private mutating func orderTerms(_ value: InputValue, of table: TableModel, through path: [RelationshipModel],
                                     path location: String) throws(HasuraError) -> [OrderTerm] {
        guard case .object(let fields) = value else {
            throw HasuraError.validation("expected an object for type '\(table.typeName)_order_by', but found \(value.kindName)", path: location)
        }
        var terms: [OrderTerm] = []
        for (key, fieldValue) in fields {
            let fieldPath = "\(location).\(key)"
            if let column = column(of: table, key) {
                guard let direction = try orderDirection(fieldValue, path: fieldPath) else { continue }
                terms.append(OrderTerm(path: path, target: .column(column), descending: direction.descending, nullsFirst: direction.nullsFirst))
            } else if let relationship = table.relationships[key], !relationship.isArray {
                terms += try orderTerms(try structuralShallow(fieldValue), of: schema.table(relationship.remote), through: path + [relationship],
                                        path: fieldPath)
            } else if key.hasSuffix("_aggregate"), let relationship = table.relationships[String(key.dropLast(10))], relationship.isArray {
                guard case .object(let aggregate) = try structuralShallow(fieldValue) else {
                    throw HasuraError.validation("expected an object for type '\(schema.table(relationship.remote).typeName)_aggregate_order_by'", path: fieldPath)
                }
                let remote = schema.table(relationship.remote)
                for (aggregateKey, direction) in aggregate {
                    let aggregatePath = "\(fieldPath).\(aggregateKey)"
                    if aggregateKey == "count" {
                        guard let order = try orderDirection(direction, path: aggregatePath) else { continue }
                        terms.append(OrderTerm(path: path, target: .count(relationship), descending: order.descending, nullsFirst: order.nullsFirst))
                        continue
                    }
                    let columns = AggregateFunctions.all.contains(aggregateKey) ? AggregateFunctions.columns(aggregateKey, of: remote) : []
                    guard !columns.isEmpty else {
                        throw HasuraError.fieldNotFound(aggregateKey, in: "\(remote.typeName)_aggregate_order_by", path: aggregatePath)
                    }
                    guard case .object(let byColumn) = try structuralShallow(direction) else {
                        throw HasuraError.validation("expected an object for type '\(remote.typeName)_\(aggregateKey)_order_by'", path: aggregatePath)
                    }
                    for (columnName, columnDirection) in byColumn {
                        guard let column = columns.first(where: { $0.name == columnName }) else {
                            throw HasuraError.fieldNotFound(columnName, in: "\(remote.typeName)_\(aggregateKey)_order_by", path: "\(aggregatePath).\(columnName)")
                        }
                        guard let order = try orderDirection(columnDirection, path: "\(aggregatePath).\(columnName)") else { continue }
                        terms.append(OrderTerm(path: path, target: .aggregate(relationship, aggregateKey, column),
                                               descending: order.descending, nullsFirst: order.nullsFirst))
                    }
                }
            } else {
                throw HasuraError.fieldNotFound(key, in: "\(table.typeName)_order_by", path: fieldPath)
            }
        }
        return terms
    }

    private mutating func orderDirection(_ value: InputValue, path: String) throws(HasuraError) -> (descending: Bool, nullsFirst: Bool)? {
        guard case let name?? = try enumName(value, path: path) else { return nil }
        switch name {
        case "asc", "asc_nulls_last": return (false, false)
        case "asc_nulls_first": return (false, true)
        case "desc", "desc_nulls_first": return (true, true)
        case "desc_nulls_last": return (true, false)
        default:
            throw HasuraError.validation("expected one of the values [\"asc\",\"asc_nulls_first\",\"asc_nulls_last\",\"desc\",\"desc_nulls_first\",\"desc_nulls_last\"] for type 'order_by', but found '\(name)'", path: path)
        }
    }

    // MARK: - Boolean expressions

    mutating func boolExp(_ value: InputValue, of table: TableModel, path: String) throws(HasuraError) -> BoolExp {
        let typeName = "\(table.typeName)_bool_exp"
        guard case .object(let fields) = try structuralShallow(value) else {
            throw HasuraError.validation("expected an object for type '\(typeName)', but found \(try structuralShallow(value).kindName)", path: path)
        }
        var terms: [BoolExp] = []
        for (key, fieldValue) in fields {
            let fieldPath = "\(path).\(key)"
            switch key {
            case "_and", "_or":
                let items = try listItems(fieldValue)
                var nested: [BoolExp] = []
                for (index, item) in items.enumerated() {
                    nested.append(try boolExp(item, of: table, path: "\(fieldPath)[\(index)]"))
                }
                terms.append(key == "_and" ? .and(nested) : .or(nested))
            case "_not":
                terms.append(.not(try boolExp(fieldValue, of: table, path: fieldPath)))
            case "_exists" where readingPermission:
                terms.append(try exists(fieldValue, path: fieldPath))
            default:
                if let column = column(of: table, key) {
                    terms.append(contentsOf: try comparisons(fieldValue, column, path: fieldPath))
                } else if let relationship = readingPermission ? table.allRelationships[key] : table.relationships[key] {
                    let remote = schema.table(relationship.remote)
                    let nested = try boolExp(fieldValue, of: remote, path: fieldPath)
                    // Through a relationship, a filter sees only the rows the role may read there.
                    terms.append(.relationship(relationship, readingPermission ? nested : try restricted(nested, to: remote)!))
                } else {
                    throw HasuraError.fieldNotFound(key, in: typeName, path: fieldPath)
                }
            }
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func comparisons(_ value: InputValue, _ column: ColumnInfo, path: String) throws(HasuraError) -> [BoolExp] {
        let typeName = "\(column.scalar.name)_comparison_exp"
        var value = value
        // In a permission, a column compared with a bare value (or a session variable) means equality.
        if readingPermission, !value.isObject { value = .object([(key: "_eq", value: value)]) }
        guard case .object(let fields) = try structuralShallow(value) else {
            throw HasuraError.validation("expected an object for type '\(typeName)', but found \(try structuralShallow(value).kindName)", path: path)
        }
        var terms: [BoolExp] = []
        for (key, operatorValue) in fields {
            let operatorPath = "\(path).\(key)"
            if let op = ComparisonOperator(rawValue: key) {
                let isText = [.like, .nlike, .ilike, .nilike].contains(op)
                guard !isText || column.scalar.name == "String" else { throw HasuraError.fieldNotFound(key, in: typeName, path: operatorPath) }
                terms.append(.compare(column, op, try operand(operatorValue, isText ? .string : column.scalar, nullable: false, path: operatorPath)))
            } else if key == "_in" || key == "_nin", case .session(let name) = operatorValue {
                terms.append(.withinList(column, negated: key == "_nin", .sessionList(name: name, scalar: column.scalar)))
            } else if key == "_in" || key == "_nin" {
                let items = try listItems(operatorValue)
                var operands: [Operand] = []
                for (index, item) in items.enumerated() {
                    operands.append(try operand(item, column.scalar, nullable: false, path: "\(operatorPath)[\(index)]"))
                }
                terms.append(.within(column, negated: key == "_nin", operands))
            } else if key == "_is_null" {
                terms.append(.isNull(column, try operand(operatorValue, .boolean, nullable: false, path: operatorPath)))
            } else {
                throw HasuraError.fieldNotFound(key, in: typeName, path: operatorPath)
            }
        }
        return terms
    }

    /// A permission's `_exists: {_table, _where}`: some row of another tracked table satisfies `_where`.
    private mutating func exists(_ value: InputValue, path: String) throws(HasuraError) -> BoolExp {
        guard case .object(let fields) = value, let tableValue = fields.first(where: { $0.key == "_table" })?.value else {
            throw HasuraError.parseFailed("_exists needs _table and _where", path: path)
        }
        let name: QualifiedTable
        switch tableValue {
        case .string(let table): name = QualifiedTable(name: table)
        case .object(let parts):
            guard case .string(let table)? = parts.first(where: { $0.key == "name" })?.value else {
                throw HasuraError.parseFailed("the key 'name' was not found", path: "\(path)._table")
            }
            var schemaName = "public"
            if case .string(let given)? = parts.first(where: { $0.key == "schema" })?.value { schemaName = given }
            name = QualifiedTable(schema: schemaName, name: table)
        default: throw HasuraError.parseFailed("expected a table name or an object with schema and name", path: "\(path)._table")
        }
        guard let table = schema.tables[name] else {
            throw HasuraError("not-exists", "table \"\(name)\" does not exist", path: "\(path)._table")
        }
        let condition = fields.first(where: { $0.key == "_where" })?.value ?? .object([])
        return .exists(name, try boolExp(condition, of: table, path: "\(path)._where"))
    }

    /// A column by name: one the role may use, or, while reading a permission's own filter, any column of the table.
    private func column(of table: TableModel, _ name: String) -> ColumnInfo? {
        readingPermission ? table.info.column(name) : table.column(name)
    }

    /// The rows of `table` the role may read, as a condition (nil for admin, and for a permission of `{}`).
    private mutating func permittedRows(_ table: TableModel) throws(HasuraError) -> BoolExp? {
        try permissionCondition(table.permission?.filter, on: table)
    }

    /// A permission's boolean expression (`filter` or `check`) as a condition; nil when there is none or it is `{}`.
    private mutating func permissionCondition(_ expression: JSONValue?, on table: TableModel) throws(HasuraError) -> BoolExp? {
        guard let expression, expression != .object([:]) else { return nil }
        let outer = readingPermission
        readingPermission = true
        defer { readingPermission = outer }
        return try boolExp(PermissionExpressions.input(expression), of: table, path: "$.permission")
    }

    /// A delete's condition, held to the role's delete permission.
    private mutating func deletable(_ filter: BoolExp, of table: TableModel) throws(HasuraError) -> BoolExp {
        guard let permitted = try permissionCondition(table.deletePermission?.filter, on: table) else { return filter }
        return .and([filter, permitted])
    }

    /// A selection's arguments with the role's row filter and limit added.
    private mutating func permitted(_ arguments: RowArguments, on table: TableModel) throws(HasuraError) -> RowArguments {
        var result = arguments
        result.filter = try restricted(arguments.filter, to: table)
        result.permissionLimit = table.permission?.limit
        return result
    }

    /// A user's condition and the permission's, both to hold.
    private mutating func restricted(_ filter: BoolExp?, to table: TableModel) throws(HasuraError) -> BoolExp? {
        guard let permitted = try permittedRows(table) else { return filter }
        guard let filter else { return permitted }
        return .and([filter, permitted])
    }

    // MARK: - Values

    /// A single value: a variable stays a reference, so the plan can be reused; a literal is checked now.
    private func operand(_ value: InputValue, _ scalar: ScalarType, nullable: Bool, path: String) throws(HasuraError) -> Operand {
        if case .variable(let name) = value {
            return .variable(name: name, path: path, scalar: scalar, nullable: nullable)
        }
        if case .session(let name) = value {
            return .session(name: name, scalar: scalar)
        }
        if case .null = value, !nullable {
            throw HasuraError.validation("unexpected null value for type '\(scalar.name)'", path: path)
        }
        return .value(try scalar.sqlValue(value, path: path))
    }

    /// A value whose shape decides the plan: variables anywhere inside it are replaced by their values.
    private mutating func structural(_ value: InputValue) throws(HasuraError) -> InputValue {
        switch value {
        case .variable(let name):
            reusable = false
            return InputValue(json: variables[name] ?? .null)
        case .list(let values):
            var result: [InputValue] = []
            for item in values { result.append(try structural(item)) }
            return .list(result)
        case .object(let fields):
            var result: [(key: String, value: InputValue)] = []
            for field in fields { result.append((field.key, try structural(field.value))) }
            return .object(result)
        default: return value
        }
    }

    /// A list argument's items; a single value where a list is expected is a list of one (GraphQL's input coercion).
    private mutating func listItems(_ value: InputValue) throws(HasuraError) -> [InputValue] {
        switch try structuralShallow(value) {
        case .list(let values): return values
        case let single: return [single]
        }
    }

    /// Replaces a variable standing for the whole value, leaving variables inside it as references.
    private mutating func structuralShallow(_ value: InputValue) throws(HasuraError) -> InputValue {
        guard case .variable(let name) = value else { return value }
        reusable = false
        return InputValue(json: variables[name] ?? .null)
    }

    private mutating func enumName(_ value: InputValue, path: String) throws(HasuraError) -> String?? {
        switch try structural(value) {
        case .enumValue(let name), .string(let name): return .some(name)
        case .null: return .some(nil)
        case let other: throw HasuraError.validation("expected an enum value, but found \(other.kindName)", path: path)
        }
    }

    private mutating func enumList(_ value: any Value, typeName: String, path: String) throws(HasuraError) -> [String] {
        try enumList(InputValue(value), typeName: typeName, path: path)
    }

    private mutating func enumList(_ value: InputValue, typeName: String, path: String) throws(HasuraError) -> [String] {
        var names: [String] = []
        switch try structural(value) {
        case .list(let values):
            for item in values {
                guard case .some(.some(let name)) = try enumName(item, path: path) else {
                    throw HasuraError.validation("expected a list of '\(typeName)' values", path: path)
                }
                names.append(name)
            }
        case .null: break
        case let single:
            guard case .some(.some(let name)) = try enumName(single, path: path) else {
                throw HasuraError.validation("expected a list of '\(typeName)' values", path: path)
            }
            names.append(name)
        }
        return names
    }
}

/// A field as the selection names it, under one response key: its first occurrence (name, alias, arguments) and
/// the selection sets of every occurrence, each with the fragments it was reached through.
struct CollectedField {
    let field: Field
    var sets: [(set: SelectionSet, fragments: [String])]
    let fragments: [String]

    var name: String { field.name.value }
    var key: String { field.alias?.value ?? field.name.value }
    var arguments: [Argument] { field.arguments }
}
