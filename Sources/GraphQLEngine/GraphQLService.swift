import Foundation
import GraphQL
import Logging
import TesseraCore
import SQLiteNIO
import TesseraStore
import TesseraTokens

/// Who a request runs as: `admin`, or a role whose permissions in metadata decide what it sees.
public struct GraphQLSession: Sendable, Hashable {
    public var role: String
    /// `x-hasura-*` session variables, names lowercased; JSON so a claim may hold an array or a number.
    public var variables: [String: JSONValue]
    /// `x-hasura-use-backend-only-permissions: true` with the admin secret: the role's `backend_only` write
    /// permissions apply instead of its others.
    public var backendOnly: Bool

    public init(role: String, variables: [String: JSONValue] = [:], backendOnly: Bool = false) {
        self.role = role
        self.variables = variables
        self.backendOnly = backendOnly
    }

    public static let admin = GraphQLSession(role: "admin")
}

/// One GraphQL request as clients send it (`{"query", "operationName", "variables"}`).
public struct GraphQLRequest: Sendable {
    public var query: String
    public var operationName: String?
    public var variables: [String: JSONValue]

    public init(query: String, operationName: String? = nil, variables: [String: JSONValue] = [:]) {
        self.query = query
        self.operationName = operationName
        self.variables = variables
    }

    /// Reads a request object; `path` locates it in a batch.
    public init(json: JSONValue, path: String = "$") throws(HasuraError) {
        guard case .object(let fields) = json else {
            throw HasuraError.parseFailed("expected an object with a 'query'", path: path)
        }
        if fields["extensions"]?.objectValue?["persistedQuery"] != nil {
            throw HasuraError.notSupported("Automatic Persisted Queries is not enabled", path: path)
        }
        guard case .string(let query) = fields["query"] ?? .null else {
            throw HasuraError.parseFailed("the key 'query' was not found", path: path)
        }
        self.query = query
        switch fields["operationName"] ?? .null {
        case .null: operationName = nil
        case .string(let name): operationName = name
        default: throw HasuraError.parseFailed("expected a string for 'operationName'", path: "\(path).operationName")
        }
        switch fields["variables"] ?? .null {
        case .null: variables = [:]
        case .object(let values): variables = values
        default: throw HasuraError.parseFailed("expected an object for 'variables'", path: "\(path).variables")
        }
    }
}

/// The Hasura-compatible engine: its own database (the `default` source), metadata, the generated schema and the
/// cache of planned operations. Handlers call it with a decoded request and a session; it answers JSON text.
public final class GraphQLService: Sendable {
    public let configuration: GraphQLConfiguration
    let store: Store
    let state: EngineState
    let catalog: MetadataCatalog
    /// Admin changes (metadata, run_sql) take turns, so each builds on the one before.
    let metadataGate = AsyncGate()
    let logger: Logger
    let authentication: Authentication

    public var dialect: StoreDialect { store.dialect }

    private init(configuration: GraphQLConfiguration, store: Store, state: EngineState, verifier: JWTVerifier?, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.state = state
        self.catalog = MetadataCatalog(store: store)
        self.logger = logger
        self.authentication = Authentication(adminSecretDigest: configuration.adminSecret.flatMap { $0.isEmpty ? nil : OpaqueSecret.digest($0) },
                                             developmentMode: configuration.developmentMode,
                                             verifier: verifier, unauthorizedRole: configuration.unauthorizedRole)
    }

    /// The session a request's headers and cookies give it, or Hasura's error for why they give none.
    public func session(_ credentials: GraphQLCredentials) async throws(HasuraError) -> GraphQLSession {
        try await authentication.session(credentials)
    }

    /// Opens the database, applies the project's migrations and metadata, and builds the schema.
    public static func open(_ configuration: GraphQLConfiguration, logger: Logger) async throws -> GraphQLService {
        let configuration = try configuration.validated()
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let store = try await Store.open(databaseURL: configuration.databaseURL, dataDirectory: configuration.dataDirectory,
                                         fileName: "graphql.sqlite",
                                         // Hasura's _like is case-sensitive, as PostgreSQL's LIKE is; SQLite's is not by default.
                                         sqlitePragmas: ["PRAGMA case_sensitive_like=ON"],
                                         // stddev and variance need a square root, which SQLite builds may leave out.
                                         sqliteFunctions: [SQLiteCustomFunction("sqrt", argumentCount: 1, pure: true) { values in
                                             guard let value = values.first?.double, value >= 0 else { return nil as Double? }
                                             return value.squareRoot()
                                         }], logger: logger)
        do {
            let catalog = MetadataCatalog(store: store)
            try await catalog.prepare()
            var stored = try await catalog.load() ?? .init(metadata: .empty, resourceVersion: 1, projectDigest: nil)
            if let directory = configuration.projectDirectory {
                let project = HasuraProject(directory: directory)
                let ran = try await catalog.apply(try project.migrations())
                if !ran.isEmpty { logger.info("applied GraphQL migrations", metadata: ["versions": "\(ran)"]) }
                if let metadata = try project.metadata() {
                    let digest = OpaqueSecret.digest(metadata.json.jsonText())
                    if digest != stored.projectDigest {
                        stored = .init(metadata: metadata, resourceVersion: stored.resourceVersion + 1, projectDigest: digest)
                        logger.info("applied GraphQL metadata from the project", metadata: ["tables": "\(metadata.trackedTables.count)"])
                    }
                }
            }
            try await catalog.save(stored)
            let schema = try GraphSchema.build(metadata: stored.metadata, database: try await DatabaseIntrospection.tables(in: store),
                                               stringifyNumbers: configuration.stringifyNumericTypes)
            for problem in schema.inconsistencies { logger.warning("inconsistent GraphQL metadata", metadata: ["object": "\(problem)"]) }
            let state = EngineState(metadata: stored.metadata, resourceVersion: stored.resourceVersion,
                                    projectDigest: stored.projectDigest, schema: schema, logger: logger)
            var verifier: JWTVerifier?
            if let jwt = configuration.jwt { verifier = try await JWTVerifier(settings: jwt, logger: logger) }
            return GraphQLService(configuration: configuration, store: store, state: state, verifier: verifier, logger: logger)
        } catch {
            await store.shutdown()
            throw error
        }
    }

    public func shutdown() async {
        await store.shutdown()
    }

    // MARK: - Admin

    /// Whether a request may act as admin (the admin endpoints): see ``Authentication/isAdmin(secret:)``.
    public func isAdmin(secret: String?) throws(HasuraError) -> Bool {
        try authentication.isAdmin(secret: secret)
    }

    /// The cookie JWT mode reads the token from, when it is configured so.
    public var tokenCookie: String? {
        if case .cookie(let name)? = configuration.jwt?.location { return name }
        return nil
    }

    // MARK: - Queries

    /// Runs one operation and answers the response object's JSON text; errors are answered, not thrown.
    public func execute(_ request: GraphQLRequest, session: GraphQLSession) async -> String {
        let key = PlanKey(query: request.query, operationName: request.operationName,
                          role: RoleKey(role: session.role, backendOnly: session.backendOnly))
        let (schema, cached) = await state.lookup(key)
        do {
            return try await run(request, key: key, cached: cached, schema: schema, session: session)
        } catch let error as HasuraError {
            return Self.errorResponse(error)
        } catch {
            if let translated = DatabaseErrors.translate(error, schema: schema) { return Self.errorResponse(translated) }
            logger.error("GraphQL execution failed", metadata: ["error": "\(String(reflecting: error))"])
            return Self.errorResponse(.unexpected)
        }
    }

    static func errorResponse(_ error: HasuraError) -> String {
        JSONValue.object(["errors": .array([.object([
            "message": .string(error.message),
            "extensions": .object(["path": .string(error.path), "code": .string(error.code)]),
        ])])]).jsonText()
    }

    private func run(_ request: GraphQLRequest, key: PlanKey, cached: PreparedOperation?, schema: GraphSchema,
                     session: GraphQLSession) async throws -> String {
        let prepared: PreparedOperation
        if let cached {
            prepared = cached
        } else {
            prepared = try prepare(request, schema: schema)
            await state.remember(prepared, for: key, generation: schema.generation)
        }
        let variables = try prepared.effectiveVariables(request.variables)
        var plan: OperationPlan
        var statement: SQLStatement?
        if let reusable = prepared.plan {
            plan = reusable
            statement = prepared.statement
        } else {
            var resolver = OperationResolver(schema: schema, document: prepared.document, variables: variables, limits: configuration.limits)
            plan = try resolver.plan(prepared.operation)
            statement = plan.kind == .query ? PlanExecutor.queryStatement(plan, schema: schema, dialect: store.dialect) : nil
        }
        var executor = PlanExecutor(store: store, schema: schema, variables: variables)
        executor.session = session.variables
        var values: [String: String] = [:]
        switch plan.kind {
        case .query:
            if let statement {
                let tableKeys = plan.roots.filter { if case .typename = $0.plan { false } else if case .introspection = $0.plan { false } else { true } }
                    .map(\.key)
                for (key, value) in zip(tableKeys, try await executor.query(statement, count: tableKeys.count)) { values[key] = value }
            }
        case .mutation:
            values = try await executor.mutate(plan)
        }
        if plan.hasIntrospection {
            let introspected = try await introspect(prepared, variables: variables, schema: schema)
            for root in plan.roots { if case .introspection = root.plan { values[root.key] = introspected[root.key] } }
        }
        var output = "{\"data\":{"
        for (index, root) in plan.roots.enumerated() {
            if index > 0 { output += "," }
            output += JSONValue.string(root.key).jsonText() + ":"
            if case .typename(let name) = root.plan { output += JSONValue.string(name).jsonText() } else { output += values[root.key] ?? "null" }
        }
        return output + "}}"
    }

    /// Parses, picks the operation, plans it and checks it against the GraphQL specification's rules.
    private func prepare(_ request: GraphQLRequest, schema: GraphSchema) throws -> PreparedOperation {
        let document: Document
        do {
            document = try parse(source: request.query, noLocation: false)
        } catch {
            throw HasuraError.validation("not a valid graphql query", path: "$.query")
        }
        let operation = try OperationResolver.operation(in: document, named: request.operationName)
        let prepared = PreparedOperation(document: document, operation: operation)
        var resolver = OperationResolver(schema: schema, document: document, variables: try prepared.effectiveVariables(request.variables),
                                         limits: configuration.limits)
        let plan = try resolver.plan(operation)
        // Hasura accepts a declared variable the operation does not use; the specification's rule does not.
        if let problem = GraphQL.validate(schema: schema.library, ast: document).first(where: { !$0.message.contains("is never used") }) {
            throw HasuraError.validation(problem.message, path: "$")
        }
        var result = prepared
        if plan.reusable {
            result.plan = plan
            result.statement = plan.kind == .query ? PlanExecutor.queryStatement(plan, schema: schema, dialect: store.dialect) : nil
        }
        return result
    }

    /// `__schema` and `__type`, answered by the GraphQL library over the generated SDL.
    private func introspect(_ prepared: PreparedOperation, variables: [String: JSONValue], schema: GraphSchema) async throws -> [String: String] {
        let result = try await GraphQL.execute(schema: schema.library, documentAST: prepared.document, rootValue: (), context: (),
                                               variableValues: try variables.mapValues { try Map($0) }, operationName: prepared.operation.name?.value)
        guard case .dictionary(let data) = result.data ?? .null else {
            throw HasuraError.validation(result.errors.first?.message ?? "introspection failed", path: "$")
        }
        var values: [String: String] = [:]
        // `__type(name: …)` may leave the type's name out of its selection: the argument says which type it is.
        var typeNames: [String: String] = [:]
        for case let field as Field in prepared.operation.selectionSet.selections where field.name.value == "__type" {
            guard let argument = field.arguments.first(where: { $0.name.value == "name" }) else { continue }
            let name: JSONValue = switch InputValue(argument.value) {
            case .variable(let variable): variables[variable] ?? .null
            case let literal: literal.json
            }
            if let name = name.stringValue { typeNames[field.alias?.value ?? "__type"] = name }
        }
        for (key, value) in data { values[key] = MapText.json(schema.restoringInputDefaults(value, typeName: typeNames[key])) }
        return values
    }
}

struct PlanKey: Hashable, Sendable {
    var query: String
    var operationName: String?
    var role: RoleKey
}

/// Which schema a request queries: its role's, with the role's backend-only write permissions or its others.
struct RoleKey: Hashable, Sendable {
    var role: String
    var backendOnly: Bool = false
}

/// A parsed and checked operation; with its plan (and, for a query, its SQL) when variables do not shape it.
struct PreparedOperation: @unchecked Sendable {
    // The GraphQL library's AST is immutable once parsed; it is shared read-only between requests.
    let document: Document
    let operation: OperationDefinition
    var plan: OperationPlan?
    var statement: SQLStatement?

    init(document: Document, operation: OperationDefinition) {
        self.document = document
        self.operation = operation
    }

    /// The request's variables with the operation's defaults, checked against what the operation declares.
    func effectiveVariables(_ provided: [String: JSONValue]) throws(HasuraError) -> [String: JSONValue] {
        let declared = Set(operation.variableDefinitions.map(\.variable.name.value))
        let unexpected = provided.keys.filter { !declared.contains($0) }.sorted()
        if !unexpected.isEmpty {
            throw HasuraError.validation("unexpected variables in variableValues: \(unexpected.joined(separator: ", "))", path: "$")
        }
        var values = provided
        for definition in operation.variableDefinitions {
            let name = definition.variable.name.value
            if values[name] == nil, let fallback = definition.defaultValue { values[name] = InputValue(fallback).json }
            if definition.type is NonNullType, (values[name] ?? .null) == .null {
                throw HasuraError.validation("expecting a value for non-nullable variable: \"\(name)\"", path: "$")
            }
        }
        return values
    }
}

/// The engine's changing state: metadata, its version, the schema built from it, and plans keyed by document.
actor EngineState {
    var metadata: Metadata
    var resourceVersion: Int
    var projectDigest: String?
    var schema: GraphSchema
    private var plans: [PlanKey: PreparedOperation] = [:]
    private let maxPlans = 1_000

    /// Each role's schema, built from the same metadata and database on first use, dropped with every change.
    private var roleSchemas: [RoleKey: GraphSchema] = [:]

    private let logger: Logger

    init(metadata: Metadata, resourceVersion: Int, projectDigest: String?, schema: GraphSchema, logger: Logger) {
        self.logger = logger
        self.metadata = metadata
        self.resourceVersion = resourceVersion
        self.projectDigest = projectDigest
        self.schema = schema
    }

    /// The schema a role queries: everything for admin; for another role what its permissions give it (a role
    /// without any sees an empty query root, and Hasura's `field … not found in type: 'query_root'`).
    func schema(for key: RoleKey) -> GraphSchema {
        let role = key.role
        if role == "admin" { return schema }
        if let built = roleSchemas[key] { return built }
        let built: GraphSchema
        do {
            built = try GraphSchema.build(metadata: metadata, database: schema.database, generation: schema.generation,
                                          stringifyNumbers: schema.stringifyNumbers, role: role, backendOnly: key.backendOnly)
        } catch {
            // A schema the permissions cannot make (a bug, not the client's doing): the role sees nothing, and it is said.
            logger.error("could not build a role's GraphQL schema", metadata: ["role": "\(role)", "error": "\(error)"])
            built = try! GraphSchema.build(metadata: .empty, database: [:], generation: schema.generation, role: role)
        }
        roleSchemas[key] = built
        return built
    }

    /// The schema a request's role queries, and the plan already made for its document, in one hop.
    func lookup(_ key: PlanKey) -> (GraphSchema, PreparedOperation?) {
        (schema(for: key.role), plans[key])
    }

    func remember(_ operation: PreparedOperation, for key: PlanKey, generation: Int) {
        guard generation == schema.generation else { return }
        // A bounded cache: past the bound it starts over, which costs one planning per document.
        if plans.count >= maxPlans { plans.removeAll(keepingCapacity: true) }
        plans[key] = operation
    }

    func replace(metadata: Metadata, resourceVersion: Int, schema: GraphSchema) {
        self.metadata = metadata
        self.resourceVersion = resourceVersion
        self.schema = schema
        plans.removeAll()
        roleSchemas.removeAll()
    }
}

/// The GraphQL library's `Map` values as JSON text, in the library's key order.
enum MapText {
    static func json(_ value: Map) -> String {
        switch value {
        case .undefined, .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            return number.storageType == .double ? JSONValue.number(number.doubleValue).jsonText() : String(number.intValue)
        case .string(let text): return JSONValue.string(text).jsonText()
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let fields):
            return "{" + fields.map { JSONValue.string($0.key).jsonText() + ":" + json($0.value) }.joined(separator: ",") + "}"
        }
    }
}
