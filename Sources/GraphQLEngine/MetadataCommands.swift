import TesseraCore
import TesseraStore

/// `/v1/metadata` and `/v2/query`: Hasura's admin commands, changing metadata one consistent version at a time.
extension GraphQLService {
    /// One `/v1/metadata` call: `{"type", "args", "resource_version"?}`.
    public func metadataCommand(_ body: JSONValue) async throws -> JSONValue {
        let (type, args, fields) = try Self.command(body)
        switch type {
        case "export_metadata":
            let state = await self.state.metadataState()
            if fields["version"] == .number(2) {
                return .object(["resource_version": .number(Double(state.resourceVersion)), "metadata": state.metadata.json])
            }
            return state.metadata.json
        case "reload_metadata":
            try await rebuild(with: nil)
            return .object(["message": .string("success"), "is_consistent": .bool(await state.schema.inconsistencies.isEmpty)])
        case "get_inconsistent_metadata":
            let problems = await state.schema.inconsistencies
            return .object(["is_consistent": .bool(problems.isEmpty),
                            "inconsistent_objects": .array(problems.map { .object(["reason": .string($0)]) })])
        default:
            let expected = fields["resource_version"].flatMap(\.numberValue).map(Int.init)
            return try await changeMetadata(expectedVersion: expected) { metadata throws(HasuraError) in
                try Self.apply(type, args, to: &metadata, path: "$")
            }
        }
    }

    /// One `/v2/query` call: `run_sql`, or a `bulk` of them.
    public func schemaCommand(_ body: JSONValue) async throws -> JSONValue {
        let (type, args, _) = try Self.command(body)
        switch type {
        case "run_sql": return try await runSQL(args)
        case "bulk":
            guard case .array(let commands) = args else { throw HasuraError.parseFailed("expected an array for bulk args", path: "$.args") }
            var results: [JSONValue] = []
            for command in commands { results.append(try await schemaCommand(command)) }
            return .array(results)
        default:
            throw HasuraError.parseFailed("unknown query type \"\(type)\"; /v2/query serves run_sql and bulk", path: "$.type")
        }
    }

    private static func command(_ body: JSONValue) throws(HasuraError) -> (String, JSONValue, [String: JSONValue]) {
        guard case .object(let fields) = body, case .string(let type) = fields["type"] ?? .null else {
            throw HasuraError.parseFailed("the key 'type' was not found", path: "$")
        }
        return (type, fields["args"] ?? .object([:]), fields)
    }

    /// Applies one metadata command to a copy of the metadata; `bulk` applies all or none.
    private static func apply(_ type: String, _ args: JSONValue, to metadata: inout Metadata, path: String) throws(HasuraError) {
        let fields = args.objectValue ?? [:]
        func table() throws(HasuraError) -> QualifiedTable {
            // `{"table": …}`, or Hasura v1's `{"schema", "name"}` as the args themselves.
            try Metadata.qualifiedTable(fields["table"] ?? args, path: "\(path).args.table")
        }
        if let source = fields["source"]?.stringValue, source != "default" {
            throw HasuraError.notFound("source with name \"\(source)\" does not exist", path: "\(path).args.source")
        }
        switch type {
        case "pg_track_table", "track_table":
            try metadata.track(try table(), configuration: fields["configuration"])
        case "pg_untrack_table", "untrack_table":
            try metadata.untrack(try table())
        case "pg_create_object_relationship", "create_object_relationship":
            try metadata.addRelationship(.object, on: try table(), fields)
        case "pg_create_array_relationship", "create_array_relationship":
            try metadata.addRelationship(.array, on: try table(), fields)
        case "pg_drop_relationship", "drop_relationship":
            guard let name = fields["relationship"]?.stringValue else {
                throw HasuraError.parseFailed("the key 'relationship' was not found", path: "\(path).args")
            }
            try metadata.dropRelationship(name, on: try table())
        case _ where type.hasSuffix("_permission") && (type.hasPrefix("pg_create_") || type.hasPrefix("create_")
                                                      || type.hasPrefix("pg_drop_") || type.hasPrefix("drop_")):
            let words = type.split(separator: "_").map(String.init).filter { $0 != "pg" }
            guard words.count == 3, ["select", "insert", "update", "delete"].contains(words[1]) else {
                throw HasuraError.parseFailed("unknown metadata command \"\(type)\"", path: "\(path).type")
            }
            guard let role = fields["role"]?.stringValue, !role.isEmpty else {
                throw HasuraError.parseFailed("the key 'role' was not found", path: "\(path).args")
            }
            guard role != "admin" else { throw HasuraError("constraint-violation", "cannot define permission for admin role") }
            if words[0] == "create" {
                guard case .object = fields["permission"] ?? .null else {
                    throw HasuraError.parseFailed("the key 'permission' was not found", path: "\(path).args")
                }
                try metadata.addPermission(words[1], on: try table(), role: role, fields["permission"]!)
            } else {
                try metadata.dropPermission(words[1], on: try table(), role: role)
            }
        case "replace_metadata":
            // Version 2 wraps the metadata in {"metadata": …}; version 1 sends it as the args.
            let object = fields["metadata"] ?? args
            metadata = try Metadata(json: object, path: "\(path).args")
        case "bulk":
            guard case .array(let commands) = args else { throw HasuraError.parseFailed("expected an array for bulk args", path: "\(path).args") }
            for (index, command) in commands.enumerated() {
                let (type, args, _) = try Self.command(command)
                try apply(type, args, to: &metadata, path: "\(path).args[\(index)]")
            }
        default:
            throw HasuraError.parseFailed("unknown metadata command \"\(type)\"", path: "\(path).type")
        }
    }

    /// Changes metadata under the gate: checks the resource version, refuses a change that leaves tables or
    /// relationships unservable, stores it, and swaps the schema.
    private func changeMetadata(expectedVersion: Int?,
                                _ change: @Sendable (inout Metadata) throws(HasuraError) -> Void) async throws -> JSONValue {
        try await metadataGate.withGate {
            let current = await state.metadataState()
            if let expectedVersion, expectedVersion != current.resourceVersion {
                throw HasuraError("conflict", "metadata resource version referenced (\(expectedVersion)) did not match current version",
                                  status: 409)
            }
            var metadata = current.metadata
            try change(&metadata)
            for table in metadata.trackedTables where !current.metadata.trackedTables.contains(table) {
                if try await DatabaseIntrospection.tables(in: store)[table] == nil {
                    throw HasuraError("not-exists", "no such table/view exists in source: \"\(table)\"")
                }
            }
            try await rebuild(with: metadata, refuseNewInconsistencies: current.metadata)
            return .object(["message": .string("success")])
        }
    }

    /// Reads the database again and builds the schema from `metadata` (or the current metadata), then stores both.
    func rebuild(with metadata: Metadata?, refuseNewInconsistencies previous: Metadata? = nil) async throws {
        let current = await state.metadataState()
        let target = metadata ?? current.metadata
        let old = await state.schema
        let schema = try GraphSchema.build(metadata: target, database: try await DatabaseIntrospection.tables(in: store),
                                           generation: old.generation + 1, stringifyNumbers: configuration.stringifyNumericTypes)
        if previous != nil, let problem = schema.inconsistencies.first(where: { !old.inconsistencies.contains($0) }) {
            throw HasuraError("invalid-configuration", "Inconsistent object: \(problem)")
        }
        let version = metadata == nil ? current.resourceVersion : current.resourceVersion + 1
        if metadata != nil {
            try await catalog.save(.init(metadata: target, resourceVersion: version, projectDigest: current.projectDigest))
        }
        await state.replace(metadata: target, resourceVersion: version, schema: schema)
    }

    /// After SQL that may have created, altered or dropped tables: tables that are gone leave the metadata (with the
    /// relationships that pointed at them), as Hasura's run_sql does, and the schema serves what the database holds.
    private func reconcile() async throws {
        try await metadataGate.withGate {
            let database = try await DatabaseIntrospection.tables(in: store)
            var metadata = await state.metadataState().metadata
            let vanished = metadata.trackedTables.filter { database[$0] == nil }
            guard !vanished.isEmpty else { return try await rebuild(with: nil) }
            for table in vanished { try metadata.untrack(table) }
            logger.info("untracked tables dropped by run_sql", metadata: ["tables": "\(vanished.map(\.description))"])
            try await rebuild(with: metadata)
        }
    }

    /// `run_sql`: the statements in one transaction; the last one's rows as text, first row the column names.
    private func runSQL(_ args: JSONValue) async throws -> JSONValue {
        guard case .object(let fields) = args, case .string(let sql) = fields["sql"] ?? .null else {
            throw HasuraError.parseFailed("the key 'sql' was not found", path: "$.args")
        }
        if let source = fields["source"]?.stringValue, source != "default" {
            throw HasuraError.notFound("source with name \"\(source)\" does not exist", path: "$.args.source")
        }
        let statements = SQLScript.statements(sql)
        guard !statements.isEmpty else { return .object(["result_type": .string("CommandOk"), "result": .null]) }
        let result: TextResult
        do {
            result = try await metadataGate.withGate { try await store.script(statements) }
        } catch {
            throw HasuraError(store.dialect == .postgres ? "postgres-error" : "sqlite-error",
                              "query execution failed: \(DatabaseErrors.message(error))", path: "$")
        }
        if fields["read_only"] != .bool(true) {
            try await reconcile()
        }
        guard SQLScript.returnsRows(statements.last!) || !result.columns.isEmpty else {
            return .object(["result_type": .string("CommandOk"), "result": .null])
        }
        let header = JSONValue.array(result.columns.map(JSONValue.string))
        let rows = result.rows.map { row in JSONValue.array(row.map { $0.map(JSONValue.string) ?? .null }) }
        return .object(["result_type": .string("TuplesOk"), "result": .array([header] + rows)])
    }
}

extension EngineState {
    func metadataState() -> (metadata: Metadata, resourceVersion: Int, projectDigest: String?) {
        (metadata, resourceVersion, projectDigest)
    }
}
