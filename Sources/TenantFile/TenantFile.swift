import Directory
import Foundation
import Actions
import IdentityManagement
import TesseraCore
import Yams

/// The `graphql` section: a Hasura CLI project folder (relative to the file), the admin secret, and a PostgreSQL URL
/// for the engine's data (the embedded SQLite file when absent).
public struct GraphQLSettings: Sendable, Equatable {
    public var project: String?
    public var adminSecret: String?
    public var databaseURL: String?
    /// `jwt_secret`: Hasura's JWT configuration (an object, or its JSON text).
    public var jwtSecret: JSONValue?
    public var unauthorizedRole: String?

    public init(project: String? = nil, adminSecret: String? = nil, databaseURL: String? = nil) {
        self.project = project
        self.adminSecret = adminSecret
        self.databaseURL = databaseURL
    }
}

/// `tessera.yaml`: the tenant as code. Loading validates the whole file (types, names, references)
/// before anything is written; applying creates what is missing and updates what differs.
public struct TenantFile: Sendable {
    struct Application: Sendable {
        var name: String
        var body: [String: JSONValue]
        var grants: [(audience: String, scopes: [String])]
        /// `client_secret`: the operator's own secret instead of a generated one.
        var clientSecret: String?
    }

    struct API: Sendable {
        var identifier: String
        var body: [String: JSONValue]
    }

    struct RoleSpec: Sendable {
        var name: String
        var description: String
        var permissions: [RolePermission]
    }

    struct UserSpec: Sendable {
        var email: String
        var body: [String: JSONValue]
        var roles: [String]
    }

    struct ActionSpec: Sendable {
        var name: String
        var trigger: String
        var code: String
        var secrets: [String: JSONValue]
        var configuration: [String: JSONValue]
    }

    var applications: [Application] = []
    var apis: [API] = []
    var roles: [RoleSpec] = []
    var users: [UserSpec] = []
    var actions: [ActionSpec] = []
    var flows: [String: [String]] = [:]
    var workspaces: [WorkspaceSpec] = []
    /// `outbound: { allow: [...] }`: where Actions' `fetch` may go; nil leaves the stored policy as it is.
    var outbound: OutboundPolicy?
    /// `graphql: { project, admin_secret, database_url }`: how the GraphQL engine starts (read before the store opens).
    public var graphql: GraphQLSettings?
    /// `directory: { api_keys: [...] }`: admin API keys of the directory (stored as digests).
    var directoryKeys: [DirectoryKeySpec] = []
    var directoryConnections: [Connection] = []
    /// `directory.webhooks`: endpoints that receive `users.changed` events.
    var directoryWebhooks: [Webhook] = []
    /// `directory.resync_interval`: how often every connection is synced again (`1h` by default; `0` for never).
    public var directoryResyncSeconds: Int?

    struct DirectoryKeySpec: Sendable {
        var description: String
        var key: String
        var integration: String?
    }

    /// Audience alias for the Management API, so files need not spell out the issuer.
    static let managementAlias = "management"

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TenantFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TenantFileError(file: path, line: 1, column: 1, path: "file", message: "cannot read the file")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(String(decoding: data, as: UTF8.self), file: path, environment: environment, directory: directory)
    }

    /// `directory` is where relative paths in the file (action code) are resolved.
    public static func parse(_ text: String, file: String, environment: [String: String],
                             directory: String = FileManager.default.currentDirectoryPath) throws -> TenantFile {
        let reader = YAMLReader(file: file, environment: environment)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return TenantFile() }
            root = node
        } catch let error as YamlError {
            throw TenantFileError(file: file, line: 1, column: 1, path: "yaml", message: "\(error)")
        }
        var tenantFile = TenantFile()
        let sections: Set<String> = ["tenant", "applications", "apis", "roles", "users", "actions", "flows", "workspaces", "outbound", "graphql", "directory"]
        for (key, node) in try reader.mapping(root, "tenant file", allowed: sections) {
            switch key {
            case "tenant":
                _ = try reader.mapping(node, "tenant", allowed: ["issuer", "name"])
            case "applications":
                tenantFile.applications = try reader.sequence(node, key).enumerated().map { try application($1, "applications[\($0)]", reader) }
            case "apis":
                tenantFile.apis = try reader.sequence(node, key).enumerated().map { try api($1, "apis[\($0)]", reader) }
            case "roles":
                tenantFile.roles = try reader.sequence(node, key).enumerated().map { try role($1, "roles[\($0)]", reader) }
            case "directory":
                for (section, list) in try reader.mapping(node, "directory", allowed: ["api_keys", "connections", "resync_interval", "webhooks"]) {
                    if section == "resync_interval" {
                        let text = try reader.string(list, "directory.resync_interval")
                        guard let seconds = Self.seconds(text) else { throw reader.fail(list, "directory.resync_interval", "a duration such as 30m, 1h or 0") }
                        tenantFile.directoryResyncSeconds = seconds
                        continue
                    }
                    if section == "webhooks" {
                        for (index, item) in try reader.sequence(list, "directory.webhooks").enumerated() {
                            tenantFile.directoryWebhooks.append(try directoryWebhook(item, "directory.webhooks[\(index)]", reader))
                        }
                        continue
                    }
                    if section == "connections" {
                        for (index, item) in try reader.sequence(list, "directory.connections").enumerated() {
                            tenantFile.directoryConnections.append(try directoryConnection(item, "directory.connections[\(index)]", reader))
                        }
                        continue
                    }
                    for (index, item) in try reader.sequence(list, "directory.api_keys").enumerated() {
                        let path = "directory.api_keys[\(index)]"
                        var spec = DirectoryKeySpec(description: "", key: "")
                        for (field, value) in try reader.mapping(item, path, allowed: ["description", "key", "integration"]) {
                            let text = try reader.string(value, "\(path).\(field)")
                            switch field {
                            case "description": spec.description = text
                            case "key":
                                guard text.utf8.count >= 24 else { throw reader.fail(value, "\(path).key", "at least 24 characters") }
                                spec.key = text
                            default:
                                guard APIKeys.integrations.contains(text) else { throw reader.fail(value, "\(path).integration", "auth0") }
                                spec.integration = text
                            }
                        }
                        guard !spec.key.isEmpty else { throw reader.fail(item, path, "a key") }
                        tenantFile.directoryKeys.append(spec)
                    }
                }
            case "outbound":
                var allow: [String] = []
                for (_, list) in try reader.mapping(node, "outbound", allowed: ["allow"]) {
                    for (index, item) in try reader.sequence(list, "outbound.allow").enumerated() {
                        let pattern = try reader.string(item, "outbound.allow[\(index)]")
                        // A host, not a URL: no scheme or path, and no port (one colon; IPv6 literals have several).
                        guard !pattern.isEmpty, !pattern.contains("/"), pattern.filter({ $0 == ":" }).count != 1 else {
                            throw reader.fail(item, "outbound.allow[\(index)]", "a host name, an IP address, *.domain or * (no scheme, port or path)")
                        }
                        allow.append(pattern)
                    }
                }
                tenantFile.outbound = OutboundPolicy(allow: allow)
            case "actions":
                tenantFile.actions = try reader.sequence(node, key).enumerated().map {
                    try action($1, "actions[\($0)]", reader, directory: directory)
                }
            case "workspaces":
                tenantFile.workspaces = try reader.sequence(node, key).enumerated().map {
                    try workspace($1, "workspaces[\($0)]", reader, directory: directory)
                }
            case "graphql":
                var settings = GraphQLSettings()
                for (field, value) in try reader.mapping(node, "graphql", allowed: ["project", "admin_secret", "database_url",
                                                                                   "jwt_secret", "unauthorized_role"]) {
                    if field == "jwt_secret" {
                        // Hasura's JSON, as a YAML mapping or as the JSON text of HASURA_GRAPHQL_JWT_SECRET.
                        settings.jwtSecret = try reader.json(value, "graphql.jwt_secret")
                        continue
                    }
                    let text = try reader.string(value, "graphql." + field)
                    switch field {
                    case "unauthorized_role": settings.unauthorizedRole = text.isEmpty ? nil : text
                    case "project": settings.project = URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).path
                    case "admin_secret": settings.adminSecret = text.isEmpty ? nil : text
                    default: settings.databaseURL = text.isEmpty ? nil : text
                    }
                }
                tenantFile.graphql = settings
            case "flows":
                for (trigger, names) in try reader.mapping(node, "flows", allowed: ["post-login"]) {
                    tenantFile.flows[trigger] = try reader.strings(names, "flows." + trigger)
                }
            default:
                tenantFile.users = try reader.sequence(node, key).enumerated().map { try user($1, "users[\($0)]", reader) }
            }
        }
        try tenantFile.checkNamesAreUnique(root, reader)
        return tenantFile
    }

    static func application(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> Application {
        let allowed: Set<String> = ["name", "type", "description", "callbacks", "web_origins", "allowed_origins",
                                    "allowed_logout_urls", "grant_types", "token_endpoint_auth_method", "grants", "client_secret"]
        var name: String?
        var body: [String: JSONValue] = [:]
        var grants: [(audience: String, scopes: [String])] = []
        var clientSecret: String?
        for (key, value) in try reader.mapping(node, path, allowed: allowed) {
            let field = path + "." + key
            switch key {
            case "name": name = try reader.string(value, field)
            case "client_secret":
                let secret = try reader.string(value, field)
                guard secret.utf8.count >= 32 else { throw reader.fail(value, field, "at least 32 characters") }
                clientSecret = secret
            case "type":
                let type = try reader.string(value, field)
                guard let appType = AppType(wire: type) else {
                    throw reader.fail(value, field, "expected one of spa, native, regular_web, m2m")
                }
                body["app_type"] = .string(appType.rawValue)
            case "description", "token_endpoint_auth_method":
                body[key] = .string(try reader.string(value, field))
            case "grants":
                grants = try reader.sequence(value, field).enumerated().map { index, grantNode in
                    let grantPath = "\(field)[\(index)]"
                    var audience: String?
                    var scopes: [String] = []
                    for (grantKey, grantValue) in try reader.mapping(grantNode, grantPath, allowed: ["audience", "scopes"]) {
                        if grantKey == "audience" { audience = try reader.string(grantValue, grantPath + ".audience") }
                        else { scopes = try reader.strings(grantValue, grantPath + ".scopes") }
                    }
                    guard let audience else { throw reader.fail(grantNode, grantPath, "audience is required") }
                    return (audience, scopes)
                }
            default:
                let urls = try reader.strings(value, field)
                if key != "grant_types", let bad = urls.first(where: { URL(string: $0)?.scheme == nil }) {
                    throw reader.fail(value, field, "\(bad) is not an absolute URL")
                }
                body[key] = .array(urls.map(JSONValue.string))
            }
        }
        guard let name, !name.isEmpty else { throw reader.fail(node, path + ".name", "name is required") }
        body["name"] = .string(name)
        return Application(name: name, body: body, grants: grants, clientSecret: clientSecret)
    }

    static func api(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> API {
        let allowed: Set<String> = ["name", "identifier", "signing_alg", "token_lifetime", "scopes", "allow_offline_access"]
        var body: [String: JSONValue] = [:]
        for (key, value) in try reader.mapping(node, path, allowed: allowed) {
            let field = path + "." + key
            switch key {
            case "token_lifetime": body[key] = .number(Double(try reader.integer(value, field)))
            case "allow_offline_access": body[key] = .bool(try reader.bool(value, field))
            case "signing_alg":
                let alg = try reader.string(value, field)
                guard alg == "RS256" || alg == "HS256" else { throw reader.fail(value, field, "expected RS256 or HS256") }
                body[key] = .string(alg)
            case "scopes":
                body[key] = .array(try reader.sequence(value, field).enumerated().map { index, scopeNode in
                    if scopeNode.scalar != nil {
                        let scope = try reader.string(scopeNode, "\(field)[\(index)]")
                        return .object(["value": .string(scope), "description": .string(scope)])
                    }
                    var scope: [String: JSONValue] = [:]
                    for (scopeKey, scopeValue) in try reader.mapping(scopeNode, "\(field)[\(index)]", allowed: ["value", "description"]) {
                        scope[scopeKey] = .string(try reader.string(scopeValue, "\(field)[\(index)].\(scopeKey)"))
                    }
                    return .object(scope)
                })
            default: body[key] = .string(try reader.string(value, field))
            }
        }
        guard let identifier = body["identifier"]?.stringValue, !identifier.isEmpty else {
            throw reader.fail(node, path + ".identifier", "identifier is required")
        }
        return API(identifier: identifier, body: body)
    }

    static func action(_ node: Node, _ path: String, _ reader: YAMLReader, directory: String) throws -> ActionSpec {
        var spec = ActionSpec(name: "", trigger: "post-login", code: "", secrets: [:], configuration: [:])
        var codeNode: Node?
        for (key, value) in try reader.mapping(node, path, allowed: ["name", "trigger", "code", "secrets", "configuration", "dependencies"]) {
            let field = path + "." + key
            switch key {
            case "name": spec.name = try reader.string(value, field)
            case "trigger":
                spec.trigger = try reader.string(value, field)
                guard spec.trigger == "post-login" else { throw reader.fail(value, field, "expected post-login") }
            case "code":
                codeNode = value
                let relative = try reader.string(value, field)
                let path = relative.hasPrefix("/") ? relative : directory + "/" + relative
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw reader.fail(value, field, "cannot read \(path)")
                }
                spec.code = String(decoding: data, as: UTF8.self)
            case "secrets", "configuration":
                var values: [String: JSONValue] = [:]
                for (name, entry) in try reader.mapping(value, field, allowed: Set((value.mapping ?? [:]).keys.compactMap(\.string))) {
                    values[name] = .string(try reader.string(entry, field + "." + name))
                }
                if key == "secrets" { spec.secrets = values } else { spec.configuration = values }
            default:
                // Declared dependencies must be modules the runtime provides.
                for (index, dependency) in try reader.strings(value, field).enumerated() {
                    let module = ActionRunner.moduleName(ofDependency: dependency)
                    guard ActionRunner.builtinModules.contains(module) else {
                        throw reader.fail(value, "\(field)[\(index)]", "\(module) is not available; Tessera Actions provide \(ActionRunner.builtinModules.joined(separator: ", "))")
                    }
                }
            }
        }
        guard !spec.name.isEmpty else { throw reader.fail(node, path + ".name", "name is required") }
        guard codeNode != nil else { throw reader.fail(node, path + ".code", "code (a path to a .js file) is required") }
        return spec
    }

    static func role(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> RoleSpec {
        var spec = RoleSpec(name: "", description: "", permissions: [])
        for (key, value) in try reader.mapping(node, path, allowed: ["name", "description", "permissions"]) {
            let field = path + "." + key
            switch key {
            case "name": spec.name = try reader.string(value, field)
            case "description": spec.description = try reader.string(value, field)
            default:
                for (index, permissionNode) in try reader.sequence(value, field).enumerated() {
                    let permissionPath = "\(field)[\(index)]"
                    var api: String?
                    var scopes: [String] = []
                    for (permissionKey, permissionValue) in try reader.mapping(permissionNode, permissionPath, allowed: ["api", "scopes"]) {
                        if permissionKey == "api" { api = try reader.string(permissionValue, permissionPath + ".api") }
                        else { scopes = try reader.strings(permissionValue, permissionPath + ".scopes") }
                    }
                    guard let api else { throw reader.fail(permissionNode, permissionPath, "api is required") }
                    spec.permissions += scopes.map { RolePermission(resourceServerIdentifier: api, permissionName: $0) }
                }
            }
        }
        guard !spec.name.isEmpty else { throw reader.fail(node, path + ".name", "name is required") }
        return spec
    }

    static func user(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> UserSpec {
        let allowed: Set<String> = ["email", "password", "username", "name", "given_name", "family_name", "nickname",
                                    "picture", "email_verified", "blocked", "app_metadata", "user_metadata", "roles"]
        var body: [String: JSONValue] = ["connection": .string(User.databaseConnection)]
        var roles: [String] = []
        for (key, value) in try reader.mapping(node, path, allowed: allowed) {
            let field = path + "." + key
            switch key {
            case "email_verified", "blocked": body[key] = .bool(try reader.bool(value, field))
            case "app_metadata", "user_metadata":
                let metadata = try reader.json(value, field)
                guard metadata.objectValue != nil else { throw reader.fail(value, field, "expected a mapping") }
                body[key] = metadata
            case "roles": roles = try reader.strings(value, field)
            case "password":
                let password = try reader.string(value, field)
                do { try PasswordPolicy.check(password) } catch let error as DomainError {
                    throw reader.fail(value, field, error.message)
                }
                body[key] = .string(password)
            default: body[key] = .string(try reader.string(value, field))
            }
        }
        guard let email = body["email"]?.stringValue, email.contains("@") else {
            throw reader.fail(node, path + ".email", "a valid email is required")
        }
        guard body["password"] != nil else { throw reader.fail(node, path + ".password", "password is required") }
        body["email"] = .string(email.lowercased())
        return UserSpec(email: email.lowercased(), body: body, roles: roles)
    }

    private func checkNamesAreUnique(_ root: Node, _ reader: YAMLReader) throws {
        func duplicate(_ names: [String]) -> String? {
            var seen = Set<String>()
            return names.first { !seen.insert($0).inserted }
        }
        if let name = duplicate(applications.map(\.name)) { throw reader.fail(root, "applications", "\(name) appears twice") }
        if let name = duplicate(apis.map(\.identifier)) { throw reader.fail(root, "apis", "\(name) appears twice") }
        if let name = duplicate(roles.map(\.name)) { throw reader.fail(root, "roles", "\(name) appears twice") }
        if let name = duplicate(users.map(\.email)) { throw reader.fail(root, "users", "\(name) appears twice") }
    }
}

extension TenantFile {
    /// `{id: conn_…, name, domain, client_id, client_secret}`: an Auth0 (or Tessera) tenant to import users from.
    static func directoryConnection(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> Connection {
        var fields: [String: String] = [:]
        for (field, value) in try reader.mapping(node, path, allowed: ["id", "name", "domain", "client_id", "application", "client_secret"]) {
            fields[field] = try reader.string(value, "\(path).\(field)")
        }
        for required in ["id", "domain", "client_secret"] where (fields[required] ?? "").isEmpty {
            throw reader.fail(node, "\(path).\(required)", "a value")
        }
        // `application: <name>` names an application of this file (its client_id is known once it is applied).
        guard (fields["client_id"] == nil) != (fields["application"] == nil) else {
            throw reader.fail(node, path, "client_id, or application naming an application of this tenant")
        }
        return Connection(id: fields["id"]!, displayName: fields["name"] ?? "Auth0", domain: fields["domain"]!,
                          clientId: fields["client_id"] ?? "application:" + fields["application"]!, clientSecret: fields["client_secret"]!)
    }

    static func directoryWebhook(_ node: Node, _ path: String, _ reader: YAMLReader) throws -> Webhook {
        var fields: [String: String] = [:]
        for (field, value) in try reader.mapping(node, path, allowed: ["id", "url", "signing_secret"]) {
            fields[field] = try reader.string(value, "\(path).\(field)")
        }
        for required in ["id", "url", "signing_secret"] where (fields[required] ?? "").isEmpty {
            throw reader.fail(node, "\(path).\(required)", "a value")
        }
        do {
            return try Webhook(id: fields["id"]!, url: fields["url"]!, signingSecret: fields["signing_secret"]!).validated()
        } catch let error as DirectoryError {
            throw reader.fail(node, path, error.message)
        }
    }

    /// `90`, `30s`, `15m`, `1h`, `2d`; nil when it is none of those.
    static func seconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let plain = Int(text), plain >= 0 { return plain }
        guard let unit = text.last, let multiplier = units[unit], let count = Int(text.dropLast()), count >= 0 else { return nil }
        return count * multiplier
    }
}
