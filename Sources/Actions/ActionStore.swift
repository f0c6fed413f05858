import Foundation
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// A deployed action bound to a trigger, with what it runs with.
public struct BoundAction: Sendable, Equatable {
    public let id: String
    public let name: String
    public let code: String
    public let secrets: [String: JSONValue]
    public let configuration: [String: JSONValue]

    /// `text` with this action's secret values (of four characters or more) replaced, so a stray
    /// `console.log(event.secrets)` or an error quoting one never carries it into a log, record or response.
    public func masking(_ text: String) -> String {
        SecretMask.apply(to: text, secrets: secrets)
    }
}

public enum SecretMask {
    /// Replaces each secret as written and as JSON escapes it (`console.log(event.secrets)` prints a PEM key's
    /// newlines as `\n`), longest first so a secret inside another is not half-masked.
    public static func apply(to text: String, secrets: [String: JSONValue]) -> String {
        let values = secrets.values.compactMap(\.stringValue).filter { $0.count >= 4 }
        let forms = Set(values + values.map { String(JSONValue.string($0).jsonText().dropFirst().dropLast()) })
        return forms.sorted { $0.count > $1.count }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[secret]") }
    }

    public static func apply(to value: JSONValue, secrets: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let text): .string(apply(to: text, secrets: secrets))
        case .array(let items): .array(items.map { apply(to: $0, secrets: secrets) })
        case .object(let fields): .object(fields.mapValues { apply(to: $0, secrets: secrets) })
        default: value
        }
    }
}

public struct ExecutionRecord: Sendable {
    public let id: String
    let trigger: String
    let status: String
    let results: String
    let createdAt: String

    public func write(_ db: any SQLDatabase) async throws {
        try await db.insert(into: "action_executions").columns("id", "trigger_id", "status", "results", "created_at")
            .values(SQLBind(id), SQLBind(trigger), SQLBind(status), SQLBind(results), SQLBind(createdAt)).run()
    }
}

/// Actions as data: code, write-only secrets, configuration, deployed versions, and trigger bindings.
public struct ActionStore: Sendable {
    public static let postLogin = "post-login"
    let store: Store
    let clock: TesseraClock
    let sealer: SecretSealer
    /// Every sign-in reads its trigger's flow and the outbound policy; deploying or binding drops the copies.
    let cachedFlows: RowCache<String, [BoundAction]>
    let cachedPolicy: RowCache<String, OutboundPolicy>

    public init(store: Store, clock: TesseraClock = .system, sealer: SecretSealer = .plain) {
        self.store = store
        self.clock = clock
        self.sealer = sealer
        cachedFlows = RowCache(.actions, of: store, clock: clock)
        cachedPolicy = RowCache(.actions, of: store, clock: clock)
    }

    func sealSecrets(_ secrets: [String: JSONValue]) throws -> String {
        try sealer.seal(JSONValue.object(secrets).jsonText())
    }

    func openSecrets(_ row: any SQLRow) throws -> [String: JSONValue] {
        try JSONValue.parse(try sealer.open(try row.string("secrets"))).objectValue ?? [:]
    }

    public enum Change: Sendable, Equatable { case created, updated, unchanged }

    /// Creates or updates an action by name and deploys it (the tenant file's way: what the file says is live).
    /// Syntax is checked first, so broken code never becomes a deployed version.
    public func deploy(name: String, trigger: String, code: String, secrets: [String: JSONValue],
                       configuration: [String: JSONValue], runner: ActionRunner) async throws -> Change {
        guard trigger == Self.postLogin else {
            throw DomainError.invalidBody("Unsupported trigger \(trigger); Tessera runs post-login actions")
        }
        do {
            try runner.checkSyntax(code)
            try runner.checkRequires(code)
        } catch let error as ActionError {
            throw DomainError.invalidBody("action \(name): \(error)")
        }
        let now = Timestamp.string(clock.now())
        let secretsText = try sealSecrets(secrets), configurationText = JSONValue.object(configuration).jsonText()
        return try await store.transaction(changing: .actions) { db in
            if let row = try await db.select().columns("*").from("actions").where("name", .equal, name).first() {
                // Sealing is randomized, so secrets are compared opened.
                let same = try row.optionalString("deployed_code") == code && (try openSecrets(row)) == secrets
                    && (try row.string("configuration")) == configurationText && (try row.string("trigger_id")) == trigger
                if same { return .unchanged }
                let version = try row.integer("deployed_version") + 1
                try await db.update("actions").set("code", to: code).set("deployed_code", to: code)
                    .set("deployed_version", to: version)
                    .set("secrets", to: secretsText).set("configuration", to: configurationText)
                    .set("trigger_id", to: trigger).set("updated_at", to: now)
                    .where("name", .equal, name).run()
                try await Self.recordVersion(db, action: try row.string("id"), number: version, code: code, at: now)
                return .updated
            }
            let id = RandomToken.identifier(prefix: "act", bytes: 12)
            try await db.insert(into: "actions")
                .columns("id", "name", "trigger_id", "code", "deployed_code", "deployed_version", "secrets", "configuration",
                         "created_at", "updated_at")
                .values(SQLBind(id), SQLBind(name), SQLBind(trigger),
                        SQLBind(code), SQLBind(code), SQLBind(1), SQLBind(secretsText), SQLBind(configurationText),
                        SQLBind(now), SQLBind(now))
                .run()
            try await Self.recordVersion(db, action: id, number: 1, code: code, at: now)
            return .created
        }
    }

    /// Binds actions (by name, in order) to a trigger, replacing the previous flow. Returns whether it changed.
    public func bind(trigger: String, names: [String]) async throws -> Bool {
        try await store.transaction(changing: .actions) { db in
            var ids: [String] = []
            for name in names {
                guard let row = try await db.select().columns("id", "deployed_code").from("actions").where("name", .equal, name).first(),
                      try row.optionalString("deployed_code") != nil
                else { throw DomainError.notFound("No deployed action is named \(name)", code: "inexistent_action") }
                ids.append(try row.string("id"))
            }
            let current = try await db.select().column("action_id").from("action_bindings").where("trigger_id", .equal, trigger)
                .orderBy("position").all().map { try $0.string("action_id") }
            guard current != ids else { return false }
            try await db.delete(from: "action_bindings").where("trigger_id", .equal, trigger).run()
            for (position, id) in ids.enumerated() {
                try await db.insert(into: "action_bindings").columns("trigger_id", "position", "action_id")
                    .values(SQLBind(trigger), SQLBind(position), SQLBind(id)).run()
            }
            return true
        }
    }

    static let outboundSetting = "actions.outbound"

    /// Where Actions' `fetch` may go, as the tenant file last said (no list: public addresses only).
    public func outboundPolicy() async throws -> OutboundPolicy {
        try await cachedPolicy.value(Self.outboundSetting) { try await readOutboundPolicy() } ?? OutboundPolicy()
    }

    private func readOutboundPolicy() async throws -> OutboundPolicy {
        try await store.read { db in
            guard let row = try await db.select().columns("value").from("tenant_settings")
                .where("name", .equal, Self.outboundSetting).first() else { return OutboundPolicy() }
            let value = try JSONValue.parse(try row.string("value"))
            return OutboundPolicy(allow: value.objectValue?["allow"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// Saves the policy; false when it was already so.
    public func setOutboundPolicy(_ policy: OutboundPolicy) async throws -> Bool {
        guard try await outboundPolicy() != policy else { return false }
        let value = JSONValue.object(["allow": .array(policy.allow.map(JSONValue.string))]).jsonText()
        let now = Timestamp.string(clock.now())
        try await store.transaction(changing: .actions) { db in
            try await db.delete(from: "tenant_settings").where("name", .equal, Self.outboundSetting).run()
            try await db.insert(into: "tenant_settings").columns("name", "value", "updated_at")
                .values(SQLBind(Self.outboundSetting), SQLBind(value), SQLBind(now)).run()
        }
        return true
    }

    /// The deployed actions bound to a trigger, in flow order.
    public func flow(_ trigger: String) async throws -> [BoundAction] {
        try await cachedFlows.value(trigger) { try await readFlow(trigger) } ?? []
    }

    private func readFlow(_ trigger: String) async throws -> [BoundAction] {
        try await store.read { db in
            try await db.raw("""
                SELECT a.id, a.name, a.deployed_code, a.secrets, a.configuration
                FROM action_bindings b JOIN actions a ON a.id = b.action_id
                WHERE b.trigger_id = \(bind: trigger) AND a.deployed_code IS NOT NULL
                ORDER BY b.position
                """).all().map { row in
                BoundAction(id: try row.string("id"), name: try row.string("name"), code: try row.string("deployed_code"),
                            secrets: try openSecrets(row), configuration: try row.jsonObject("configuration"))
            }
        }
    }

    static func recordVersion(_ db: any SQLDatabase, action: String, number: Int, code: String, at now: String) async throws {
        try await db.insert(into: "action_versions").columns("id", "action_id", "number", "code", "created_at")
            .values(SQLBind(ActionVersion.id(action: action, number: number)), SQLBind(action), SQLBind(number),
                    SQLBind(code), SQLBind(now))
            .run()
    }

    /// Keeps an execution's results and logs (never its secrets) for `/api/v2/actions/executions/{id}`.
    @discardableResult
    public func recordExecution(trigger: String, status: String, results: JSONValue) async throws -> String {
        try await save(executionRecord(trigger: trigger, status: status, results: results))
    }

    @discardableResult
    public func save(_ record: ExecutionRecord) async throws -> String {
        try await store.transaction { db in try await record.write(db) }
        return record.id
    }

    /// An execution record to write inside another transaction (the flow's metadata update).
    public func executionRecord(trigger: String, status: String, results: JSONValue) -> ExecutionRecord {
        ExecutionRecord(id: RandomToken.identifier(prefix: "exe", bytes: 12), trigger: trigger, status: status,
                        results: results.jsonText(), createdAt: Timestamp.string(clock.now()))
    }

    /// The newest executions first, for the console's list (Auth0 has no such endpoint; Tessera adds it).
    public func recentExecutions(limit: Int) async throws -> [JSONValue] {
        try await store.read { db in
            try await db.select().columns("*").from("action_executions").orderBy("created_at", .descending)
                .limit(max(1, min(limit, 100))).all().map(Self.executionWire)
        }
    }

    static func executionWire(_ row: any SQLRow) throws -> JSONValue {
        .object(["id": .string(try row.string("id")), "trigger_id": .string(try row.string("trigger_id")),
                 "status": .string(try row.string("status")), "results": try row.json("results"),
                 "created_at": .string(try row.string("created_at"))])
    }

    public func execution(_ id: String) async throws -> JSONValue? {
        try await store.read { db in
            try await db.select().columns("*").from("action_executions").where("id", .equal, id).first().map(Self.executionWire)
        }
    }
}
