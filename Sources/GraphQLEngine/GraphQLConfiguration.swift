import Foundation
import TesseraCore

/// How the GraphQL engine runs: where its data lives, the Hasura project it loads and who is admin.
public struct GraphQLConfiguration: Sendable {
    /// A `postgres://` URL (`graphql.database_url`, `HASURA_GRAPHQL_DATABASE_URL`); `nil` for an embedded SQLite
    /// file, `graphql.sqlite`, in the data folder.
    public var databaseURL: String?
    public var dataDirectory: String
    /// A Hasura CLI project folder (`migrations/`, `metadata/`), applied at start.
    public var projectDirectory: String?
    /// `x-hasura-admin-secret`. Without one the engine starts only in development mode, where every request is admin.
    public var adminSecret: String?
    public var developmentMode: Bool
    public var limits: GraphQLLimits
    /// `HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES`: bigint, numeric and double precision values answered as JSON strings,
    /// since JSON numbers lose precision past 2^53 in most clients.
    public var stringifyNumericTypes: Bool
    /// JWT mode (`HASURA_GRAPHQL_JWT_SECRET`); nil is admin-secret-only mode.
    public var jwt: JWTSettings?
    /// `HASURA_GRAPHQL_UNAUTHORIZED_ROLE`: the role of requests that carry no credentials.
    public var unauthorizedRole: String?

    public init(databaseURL: String? = nil, dataDirectory: String, projectDirectory: String? = nil,
                adminSecret: String? = nil, developmentMode: Bool = false, limits: GraphQLLimits = .init(),
                stringifyNumericTypes: Bool = false, jwt: JWTSettings? = nil, unauthorizedRole: String? = nil) {
        self.databaseURL = databaseURL
        self.dataDirectory = dataDirectory
        self.projectDirectory = projectDirectory
        self.adminSecret = adminSecret
        self.developmentMode = developmentMode
        self.limits = limits
        self.stringifyNumericTypes = stringifyNumericTypes
        self.jwt = jwt
        self.unauthorizedRole = unauthorizedRole
    }

    /// Refuses to run an engine anyone could administer: Hasura runs open without a secret, Tessera only when told.
    public func validated() throws(DomainError) -> GraphQLConfiguration {
        if adminSecret?.isEmpty ?? true, !developmentMode {
            throw DomainError(.invalidInput, code: "graphql_admin_secret_required",
                              "the GraphQL engine needs an admin secret (graphql.admin_secret in the tenant file, or HASURA_GRAPHQL_ADMIN_SECRET); run with --dev to serve it without one")
        }
        return self
    }
}

/// Bounds on what one request may ask, so that a hostile query costs little to refuse.
public struct GraphQLLimits: Sendable {
    /// Nesting of selection sets (fragments expanded).
    public var maxDepth: Int
    /// Fields selected in all, fragments expanded: stops fragment fan-out that grows exponentially.
    public var maxFields: Int
    public var maxBodyBytes: Int
    /// Operations in one batched request.
    public var maxBatch: Int

    public init(maxDepth: Int = 25, maxFields: Int = 2_000, maxBodyBytes: Int = 1 << 20, maxBatch: Int = 50) {
        self.maxDepth = maxDepth
        self.maxFields = maxFields
        self.maxBodyBytes = maxBodyBytes
        self.maxBatch = maxBatch
    }
}

extension GraphQLConfiguration {
    /// The engine's configuration from a tenant file's `graphql` values and Hasura's environment variables, or nil
    /// when nothing asks for the engine.
    ///
    /// JWT mode comes from `jwtSecret` (the tenant file's `graphql.jwt_secret`), else `HASURA_GRAPHQL_JWT_SECRET`,
    /// else, Tessera being the issuer, its own JWKS and issuer (`defaultIssuer`).
    public static func from(project: String?, adminSecret: String?, databaseURL: String?, jwtSecret: JSONValue? = nil,
                            unauthorizedRole: String? = nil, dataDirectory: String, developmentMode: Bool,
                            defaultIssuer: String? = nil, environment: [String: String]) throws(DomainError) -> GraphQLConfiguration? {
        func nonEmpty(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
        let secret = nonEmpty(adminSecret) ?? nonEmpty(environment["HASURA_GRAPHQL_ADMIN_SECRET"])
        let url = nonEmpty(databaseURL) ?? nonEmpty(environment["HASURA_GRAPHQL_DATABASE_URL"])
        guard project != nil || secret != nil || url != nil || developmentMode else { return nil }
        var jwt: JWTSettings?
        switch jwtSecret {
        case .string(let text)?: jwt = try JWTSettings(jsonText: text)
        case .object?: jwt = try JWTSettings(json: jwtSecret!)
        default:
            if let text = nonEmpty(environment["HASURA_GRAPHQL_JWT_SECRET"]) {
                jwt = try JWTSettings(jsonText: text)
            } else if let issuer = defaultIssuer, let jwks = URL(string: issuer + ".well-known/jwks.json") {
                jwt = JWTSettings(source: .jwkURL(jwks), issuer: issuer)
            }
        }
        return GraphQLConfiguration(databaseURL: url, dataDirectory: dataDirectory, projectDirectory: project,
                                    adminSecret: secret, developmentMode: developmentMode,
                                    stringifyNumericTypes: environment["HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES"]?.lowercased() == "true",
                                    jwt: jwt,
                                    unauthorizedRole: nonEmpty(unauthorizedRole) ?? nonEmpty(environment["HASURA_GRAPHQL_UNAUTHORIZED_ROLE"]))
    }
}
