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
        .object([
            "id": .string(id), "name": .string(name),
            "supported_triggers": .array([.object(["id": .string(trigger), "version": .string("v3")])]),
            "code": .string(code), "runtime": .string("tessera-jsc"),
            "dependencies": .array(ActionRunner.builtinModules.map { .object(["name": .string($0), "version": .string("builtin")]) }),
            "secrets": .array(secretNames.sorted().map { .object(["name": .string($0)]) }),
            "configuration": .object(configuration),
            "status": .string("built"), "all_changes_deployed": .bool(deployedCode == code),
            "deployed_version": .number(Double(deployedVersion)),
            "created_at": .string(createdAt), "updated_at": .string(updatedAt),
        ])
    }
}

extension ActionStore {
    static let notFound = DomainError.notFound("The action does not exist.", code: "inexistent_action")

    public func list() async throws -> [ActionRecord] {
        try await store.read { db in
            try await db.select().columns("*").from("actions").orderBy("name").all().map(Self.record)
        }
    }

    public func get(_ id: String) async throws -> ActionRecord {
        guard let record = try await store.read({ db in
            try await db.select().columns("*").from("actions").where("id", .equal, id).first().map(Self.record)
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
        try await store.transaction { db in
            do {
                try await db.insert(into: "actions")
                    .columns("id", "name", "trigger_id", "code", "secrets", "configuration", "created_at", "updated_at")
                    .values(SQLBind(id), SQLBind(name), SQLBind(trigger), SQLBind(code),
                            SQLBind(JSONValue.object(secrets).jsonText()), SQLBind(JSONValue.object(configuration).jsonText()),
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
        try await store.transaction { db in
            try await db.update("actions").set("name", to: name).set("code", to: code)
                .set("secrets", to: JSONValue.object(secrets).jsonText())
                .set("configuration", to: JSONValue.object(configuration).jsonText()).set("updated_at", to: now)
                .where("id", .equal, id).run()
        }
        return try await get(id)
    }

    public func delete(_ id: String) async throws {
        _ = try await get(id)
        try await store.transaction { db in try await db.delete(from: "actions").where("id", .equal, id).run() }
    }

    /// Makes the current draft the live version.
    public func deploy(_ id: String, runner: ActionRunner) async throws -> ActionRecord {
        let current = try await get(id)
        try Self.checkCode(current.code, runner: runner)
        let now = Timestamp.string(clock.now())
        try await store.transaction { db in
            try await db.update("actions").set("deployed_code", to: current.code)
                .set("deployed_version", to: current.deployedVersion + 1).set("updated_at", to: now)
                .where("id", .equal, id).run()
        }
        return try await get(id)
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

    static func record(_ row: any SQLRow) throws -> ActionRecord {
        let secrets = try row.jsonObject("secrets")
        return ActionRecord(
            id: try row.string("id"), name: try row.string("name"), trigger: try row.string("trigger_id"),
            code: try row.string("code"), deployedCode: try row.optionalString("deployed_code"),
            deployedVersion: try row.integer("deployed_version"), secretNames: Array(secrets.keys), secrets: secrets,
            configuration: try row.jsonObject("configuration"), createdAt: try row.string("created_at"),
            updatedAt: try row.string("updated_at"))
    }
}
