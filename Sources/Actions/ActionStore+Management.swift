import Foundation
import SQLKit
import TesseraCore
import TesseraStore

/// An action as the Management API shows it: never with secret values, only their names.
public struct ActionRecord: Sendable, Equatable {
    public let id: String
    public let name: String
    public let trigger: String
    public let code: String
    public let deployedCode: String?
    public let deployedVersion: Int
    public let secretNames: [String]
    public let secrets: [String: JSONValue]
    public let configuration: [String: JSONValue]
    public let createdAt: String
    public let updatedAt: String

    public var wire: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id), "name": .string(name), "supported_triggers": supportedTriggers,
            "code": .string(code), "runtime": .string("tessera-jsc"), "dependencies": dependencies,
            "secrets": secretsWire, "configuration": .object(configuration),
            "status": .string("built"), "all_changes_deployed": .bool(deployedCode == code),
            "created_at": .string(createdAt), "updated_at": .string(updatedAt),
        ]
        // Auth0's ActionDeployedVersion, an object (the SDKs refuse a number); absent until the first deploy.
        if let deployedCode, deployedVersion > 0 {
            fields["deployed_version"] = .object([
                "id": .string(ActionVersion.id(action: id, number: deployedVersion)), "action_id": .string(id),
                "number": .number(Double(deployedVersion)), "code": .string(deployedCode), "deployed": .bool(true),
                "status": .string("built"), "runtime": .string("tessera-jsc"), "dependencies": dependencies,
                "secrets": secretsWire, "supported_triggers": supportedTriggers,
            ])
        }
        return .object(fields)
    }

    var supportedTriggers: JSONValue { .array([.object(["id": .string(trigger), "version": .string("v3")])]) }
    var dependencies: JSONValue {
        .array(ActionRunner.builtinModules.map { .object(["name": .string($0), "version": .string("builtin")]) })
    }
    var secretsWire: JSONValue { .array(secretNames.sorted().map { .object(["name": .string($0)]) }) }
}

/// One deployed version of an action, as Auth0's versions endpoints show it.
public struct ActionVersion: Sendable, Equatable {
    public let id: String
    public let number: Int
    public let code: String
    public let deployed: Bool
    public let createdAt: String
    public let action: ActionRecord

    static func id(action: String, number: Int) -> String {
        "actv_\(action.dropFirst(4))_\(number)"
    }

    init(row: any SQLRow, action: ActionRecord) throws {
        id = try row.string("id")
        number = try row.integer("number")
        code = try row.string("code")
        createdAt = try row.string("created_at")
        deployed = number == action.deployedVersion
        self.action = action
    }

    public var wire: JSONValue {
        .object([
            "id": .string(id), "action_id": .string(action.id), "number": .number(Double(number)), "code": .string(code),
            "deployed": .bool(deployed), "status": .string("built"), "runtime": .string("tessera-jsc"),
            "dependencies": action.dependencies, "secrets": action.secretsWire, "supported_triggers": action.supportedTriggers,
            "created_at": .string(createdAt), "updated_at": .string(createdAt),
            "action": action.wire,
        ])
    }
}

extension ActionStore {
    static let notFound = DomainError.notFound("The action does not exist.", code: "inexistent_action")

    public func list() async throws -> [ActionRecord] {
        try await store.read { db in
            try await db.select().columns("*").from("actions").orderBy("name").all().map(record)
        }
    }

    public func get(_ id: String) async throws -> ActionRecord {
        guard let record = try await store.read({ db in
            try await db.select().columns("*").from("actions").where("id", .equal, id).first().map(record)
        }) else { throw Self.notFound }
        return record
    }

    /// `POST /api/v2/actions/actions`: a draft, not yet deployed. Secrets arrive as `[{name, value}]`.
    public func create(_ body: JSONValue, runner: ActionRunner) async throws -> ActionRecord {
        let payload = try Payload(body, allowed: ["name", "supported_triggers", "code", "dependencies", "secrets", "runtime", "configuration"])
        let name = try payload.requiredString("name", maxLength: 100)
        let code = try payload.string("code", maxLength: 100_000) ?? ""
        let trigger = try Self.trigger(payload)
        try Self.checkDependencies(payload)
        let secrets = try Self.secrets(payload, existing: [:])
        let configuration = try payload.object("configuration") ?? [:]
        try Self.checkCode(code, runner: runner)
        let now = Timestamp.string(clock.now())
        let id = RandomToken.identifier(prefix: "act", bytes: 12)
        try await store.transaction(changing: .actions) { db in
            do {
                try await db.insert(into: "actions")
                    .columns("id", "name", "trigger_id", "code", "secrets", "configuration", "created_at", "updated_at")
                    .values(SQLBind(id), SQLBind(name), SQLBind(trigger), SQLBind(code),
                            SQLBind(try sealSecrets(secrets)), SQLBind(JSONValue.object(configuration).jsonText()),
                            SQLBind(now), SQLBind(now))
                    .run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("An action named \(name) already exists", code: "action_conflict")
            }
        }
        return try await get(id)
    }

    /// `PATCH`: edits make a draft; the deployed version keeps running until `deploy`.
    public func update(_ id: String, _ body: JSONValue, runner: ActionRunner) async throws -> ActionRecord {
        let payload = try Payload(body, allowed: ["name", "supported_triggers", "code", "dependencies", "secrets", "runtime", "configuration"])
        let current = try await get(id)
        let name = try payload.string("name", maxLength: 100) ?? current.name
        let code = try payload.string("code", maxLength: 100_000) ?? current.code
        if payload.has("supported_triggers") { _ = try Self.trigger(payload) }
        try Self.checkDependencies(payload)
        try Self.checkCode(code, runner: runner)
        let secrets = try Self.secrets(payload, existing: current.secrets)
        let configuration = try payload.object("configuration") ?? current.configuration
        let now = Timestamp.string(clock.now())
        let sealed = try sealSecrets(secrets)
        try await store.transaction(changing: .actions) { db in
            do {
                try await db.update("actions").set("name", to: name).set("code", to: code)
                    .set("secrets", to: sealed)
                    .set("configuration", to: JSONValue.object(configuration).jsonText()).set("updated_at", to: now)
                    .where("id", .equal, id).run()
            } catch where error.isUniqueViolation {
                throw DomainError.conflict("An action named \(name) already exists", code: "action_conflict")
            }
        }
        return try await get(id)
    }

    public func delete(_ id: String) async throws {
        _ = try await get(id)
        try await store.transaction(changing: .actions) { db in try await db.delete(from: "actions").where("id", .equal, id).run() }
    }

    /// Makes the current draft the live version, and keeps it as a numbered version.
    public func deploy(_ id: String, runner: ActionRunner) async throws -> ActionVersion {
        let current = try await get(id)
        return try await deploy(current, code: current.code, runner: runner)
    }

    /// Auth0's roll-back: a new version, deployed, with an earlier version's code. The draft becomes that code too.
    public func rollBack(_ id: String, to versionID: String, runner: ActionRunner) async throws -> ActionVersion {
        let current = try await get(id)
        let earlier = try await version(id, versionID)
        return try await deploy(current, code: earlier.code, runner: runner)
    }

    private func deploy(_ current: ActionRecord, code: String, runner: ActionRunner) async throws -> ActionVersion {
        try Self.checkCode(code, runner: runner)
        let now = Timestamp.string(clock.now())
        let number = current.deployedVersion + 1
        try await store.transaction(changing: .actions) { db in
            try await db.update("actions").set("code", to: code).set("deployed_code", to: code)
                .set("deployed_version", to: number).set("updated_at", to: now)
                .where("id", .equal, current.id).run()
            try await Self.recordVersion(db, action: current.id, number: number, code: code, at: now)
        }
        return try await version(current.id, ActionVersion.id(action: current.id, number: number))
    }

    /// `GET …/actions/{id}/versions`: newest first.
    public func versions(_ id: String) async throws -> [ActionVersion] {
        let record = try await get(id)
        return try await store.read { db in
            try await db.select().columns("*").from("action_versions").where("action_id", .equal, id)
                .orderBy("number", .descending).all().map { try ActionVersion(row: $0, action: record) }
        }
    }

    public func version(_ id: String, _ versionID: String) async throws -> ActionVersion {
        let record = try await get(id)
        guard let version = try await store.read({ db in
            try await db.select().columns("*").from("action_versions").where("action_id", .equal, id)
                .where("id", .equal, versionID).first().map { try ActionVersion(row: $0, action: record) }
        }) else { throw DomainError.notFound("The action version does not exist.", code: "inexistent_action_version") }
        return version
    }

    /// The flow bound to a trigger, as Auth0's bindings list shows it.
    public func bindings(_ trigger: String) async throws -> [ActionRecord] {
        let ids = try await store.read { db in
            try await db.select().column("action_id").from("action_bindings").where("trigger_id", .equal, trigger)
                .orderBy("position").all().map { try $0.string("action_id") }
        }
        var records: [ActionRecord] = []
        for id in ids { records.append(try await get(id)) }
        return records
    }

    public func name(of id: String) async throws -> String { try await get(id).name }

    static func trigger(_ payload: Payload) throws -> String {
        guard let triggers = try payload.array("supported_triggers") else { return postLogin }
        let ids = try triggers.map { try Payload($0, allowed: ["id", "version"]).requiredString("id") }
        guard ids == [postLogin] else {
            throw DomainError.invalidBody("Payload validation error: 'supported_triggers must be [{\"id\":\"post-login\"}]; Tessera runs post-login actions'.")
        }
        return postLogin
    }

    static func checkDependencies(_ payload: Payload) throws {
        guard let dependencies = try payload.array("dependencies") else { return }
        for dependency in dependencies {
            let name = try Payload(dependency, allowed: ["name", "version", "registry_url"]).requiredString("name")
            guard ActionRunner.builtinModules.contains(name) else {
                throw DomainError.invalidBody("Dependency \(name) is not available; Tessera Actions provide \(ActionRunner.builtinModules.joined(separator: ", ")).")
            }
        }
    }

    static func secrets(_ payload: Payload, existing: [String: JSONValue]) throws -> [String: JSONValue] {
        guard let items = try payload.array("secrets") else { return existing }
        var secrets = existing
        for item in items {
            let secret = try Payload(item, allowed: ["name", "value"])
            let name = try secret.requiredString("name", maxLength: 100)
            secrets[name] = .string(try secret.string("value", maxLength: 8192) ?? existing[name]?.stringValue ?? "")
        }
        return secrets
    }

    static func checkCode(_ code: String, runner: ActionRunner) throws {
        do {
            try runner.checkSyntax(code)
            try runner.checkRequires(code)
        } catch let error as ActionError {
            throw DomainError.invalidBody("The action's code does not build: \(error)")
        }
    }

    func record(_ row: any SQLRow) throws -> ActionRecord {
        let secrets = try openSecrets(row)
        return ActionRecord(
            id: try row.string("id"), name: try row.string("name"), trigger: try row.string("trigger_id"),
            code: try row.string("code"), deployedCode: try row.optionalString("deployed_code"),
            deployedVersion: try row.integer("deployed_version"), secretNames: Array(secrets.keys), secrets: secrets,
            configuration: try row.jsonObject("configuration"), createdAt: try row.string("created_at"),
            updatedAt: try row.string("updated_at"))
    }
}
