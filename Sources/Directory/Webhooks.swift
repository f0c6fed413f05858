import Crypto
import Foundation
import Logging
import SQLKit
import TesseraCore
import TesseraStore
import TesseraTokens

/// An endpoint that receives the directory's `users.changed` events, signed as UserHub signs its webhooks.
public struct Webhook: Sendable, Equatable {
    public var id: String
    public var url: String
    public var signingSecret: String

    public init(id: String, url: String, signingSecret: String) {
        self.id = id
        self.url = url
        self.signingSecret = signingSecret
    }

    /// Plain ids, http(s) URLs only, secrets long enough to be keys.
    public func validated() throws -> Webhook {
        guard (1...64).contains(id.utf8.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw DirectoryError.invalid("id", "A webhook id is 1 to 64 letters, digits, _ or -")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", components.host?.isEmpty == false else {
            throw DirectoryError.invalid("url", "A webhook URL must be an http(s) URL")
        }
        guard signingSecret.utf8.count >= 16 else {
            throw DirectoryError.invalid("signingSecret", "A webhook signing secret must have at least 16 characters")
        }
        return self
    }

    /// UserHub's signature: hex HMAC-SHA256 of `"<timestamp>.<body>"` with the signing secret.
    public static func signature(secret: String, timestamp: String, body: Data) -> String {
        var message = Data(timestamp.utf8)
        message.append(UInt8(ascii: "."))
        message.append(body)
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))))
    }
}

/// Where an endpoint's deliveries stand: the last user change it received (update time, then id), and the retry
/// state of the one it is waiting to receive.
public struct WebhookState: Sendable, Equatable {
    public var cursorTime: String
    public var cursorId: String
    public var attempts: Int
    public var nextAttemptTime: String?
    public var lastError: String?
    public var lastDeliveryTime: String?
    public var delivered: Int
}

/// Webhooks in the main store; signing secrets sealed with the master key when one is set.
public struct WebhookStore: Sendable {
    let store: Store
    let clock: TesseraClock
    let sealer: SecretSealer

    /// Creates or updates an endpoint; a new one starts from now (it is not sent the directory's history).
    /// Returns whether anything changed.
    @discardableResult
    public func save(_ webhook: Webhook) async throws -> Bool {
        let webhook = try webhook.validated()
        let now = Timestamp.string(clock.now())
        return try await store.transaction { db in
            if let existing = try await Self.find(webhook.id, in: db, sealer: sealer) {
                guard existing.webhook != webhook else { return false }
                try await db.update("directory_webhooks").set("url", to: webhook.url)
                    .set("signing_secret", to: try sealer.seal(webhook.signingSecret)).set("update_time", to: now)
                    .where("id", .equal, webhook.id).run()
                return true
            }
            try await db.insert(into: "directory_webhooks")
                .columns("id", "url", "signing_secret", "cursor_time", "cursor_id", "attempts", "delivered", "create_time", "update_time")
                .values(SQLBind(webhook.id), SQLBind(webhook.url), SQLBind(try sealer.seal(webhook.signingSecret)), SQLBind(now), SQLBind(""),
                        SQLBind(0), SQLBind(0), SQLBind(now), SQLBind(now))
                .run()
            return true
        }
    }

    public func list() async throws -> [(webhook: Webhook, state: WebhookState)] {
        try await store.read { db in
            try await db.select().columns("*").from("directory_webhooks").orderBy("create_time").all().map { try Self.decode($0, sealer: sealer) }
        }
    }

    public func remove(_ id: String) async throws {
        try await store.transaction { db in try await db.delete(from: "directory_webhooks").where("id", .equal, id).run() }
    }

    static func find(_ id: String, in db: any SQLDatabase, sealer: SecretSealer) async throws -> (webhook: Webhook, state: WebhookState)? {
        try await db.select().columns("*").from("directory_webhooks").where("id", .equal, id).first().map { try decode($0, sealer: sealer) }
    }

    static func decode(_ row: any SQLRow, sealer: SecretSealer) throws -> (webhook: Webhook, state: WebhookState) {
        (Webhook(id: try row.string("id"), url: try row.string("url"), signingSecret: try sealer.open(try row.string("signing_secret"))),
         WebhookState(cursorTime: try row.string("cursor_time"), cursorId: try row.string("cursor_id"), attempts: try row.integer("attempts"),
                      nextAttemptTime: try row.optionalString("next_attempt_time"), lastError: try row.optionalString("last_error"),
                      lastDeliveryTime: try row.optionalString("last_delivery_time"), delivered: try row.integer("delivered")))
    }
}

/// Sends every change of a directory user to every webhook, in the order of the changes, at least once: an
/// endpoint's cursor moves past a user only after the endpoint answered 2xx, and a failure is retried with backoff
/// (1 s doubling to 5 min, for as long as it takes) before anything after it is sent. Several changes to one user
/// before it is sent arrive as one event with the user as it is then. A purged user sends nothing more (its deletion
/// was sent). With several instances on one PostgreSQL store, each delivers: receivers see an event id twice.
public actor WebhookDelivery {
    let store: Store
    let webhooks: WebhookStore
    let transport: any OutboundTransport
    let clock: TesseraClock
    let logger: Logger
    private var loop: Task<Void, Never>?

    /// Changes younger than this wait a round: a transaction that wrote an earlier update time may not have committed.
    static let settle: TimeInterval = 2
    static let batch = 100
    static let maximumBackoff: Double = 300

    init(store: Store, webhooks: WebhookStore, transport: any OutboundTransport, clock: TesseraClock, logger: Logger) {
        self.store = store
        self.webhooks = webhooks
        self.transport = transport
        self.clock = clock
        self.logger = logger
    }

    public func start(every interval: Duration = .seconds(1)) {
        guard loop == nil else { return }
        loop = Task {
            while !Task.isCancelled {
                await self.deliverDue()
                try? await Task.sleep(for: interval)
            }
        }
    }

    public func stop() async {
        loop?.cancel()
        await loop?.value
        loop = nil
    }

    /// One round: each endpoint due gets the changes after its cursor, until one fails or none is left.
    public func deliverDue() async {
        let endpoints: [(webhook: Webhook, state: WebhookState)]
        do { endpoints = try await webhooks.list() } catch {
            logger.error("directory webhooks: cannot read the endpoints", metadata: ["error": "\(error)"])
            return
        }
        for (webhook, state) in endpoints where !Task.isCancelled {
            if let next = state.nextAttemptTime, next > Timestamp.string(clock.now()) { continue }
            do {
                try await deliver(webhook, from: state)
            } catch {
                logger.error("directory webhook round failed", metadata: ["webhook": "\(webhook.id)", "error": "\(error)"])
            }
        }
    }

    private func deliver(_ webhook: Webhook, from start: WebhookState) async throws {
        var state = start
        while !Task.isCancelled {
            let horizon = Timestamp.string(clock.now().addingTimeInterval(-Self.settle))
            let cursor = (time: state.cursorTime, id: state.cursorId)
            let users = try await store.read { db in
                let rows = try await db.select().columns("*").from("directory_users")
                    .where(SQLQueryString("(update_time > \(bind: cursor.time) OR (update_time = \(bind: cursor.time) AND id > \(bind: cursor.id)))"))
                    .where("update_time", .lessThanOrEqual, horizon)
                    .orderBy("update_time").orderBy("id").limit(Self.batch).all()
                var users = try rows.map(DirectoryStore.decode)
                // One query for the whole batch's accounts, not one per user.
                let accounts = try await DirectoryStore.accounts(of: users.map(\.id), in: db)
                for index in users.indices {
                    users[index].accounts = accounts[users[index].id] ?? []
                    users[index].view = .full
                }
                return users
            }
            guard !users.isEmpty else { return }
            for user in users {
                if let failure = await send(user, to: webhook) {
                    let attempts = state.attempts + 1
                    let wait = min(pow(2, Double(attempts - 1)), Self.maximumBackoff)
                    let next = Timestamp.string(clock.now().addingTimeInterval(wait))
                    logger.warning("directory webhook delivery failed", metadata: [
                        "webhook": "\(webhook.id)", "user": "\(user.id)", "attempts": "\(attempts)", "retry_in_s": "\(wait)", "error": "\(failure)"])
                    try await store.transaction { db in
                        try await db.update("directory_webhooks").set("attempts", to: attempts).set("next_attempt_time", to: next)
                            .set("last_error", to: failure).where("id", .equal, webhook.id).run()
                    }
                    return
                }
                state.cursorTime = user.updateTime
                state.cursorId = user.id
                state.attempts = 0
                let now = Timestamp.string(clock.now())
                try await store.transaction { db in
                    try await db.update("directory_webhooks").set("cursor_time", to: user.updateTime).set("cursor_id", to: user.id)
                        .set("attempts", to: 0).set("next_attempt_time", to: SQLLiteral.null).set("last_error", to: SQLLiteral.null)
                        .set("last_delivery_time", to: now).set("delivered", to: SQLRaw("delivered + 1"))
                        .where("id", .equal, webhook.id).run()
                }
            }
        }
    }

    /// One POST; nil when the endpoint answered 2xx, else what went wrong.
    private func send(_ user: DirectoryUser, to webhook: Webhook) async -> String? {
        let body = Data(Self.event(for: user).jsonText().utf8)
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let request = OutboundRequest(method: "POST", url: webhook.url, headers: [
            "Content-Type": "application/json", "User-Agent": "Tessera-Directory", "UserHub-Action": "events.handle",
            "UserHub-Timestamp": timestamp,
            "UserHub-Signature": Webhook.signature(secret: webhook.signingSecret, timestamp: timestamp, body: body),
        ], body: body)
        do {
            let response = try await transport.send(request)
            guard (200..<300).contains(response.status) else {
                return "status \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// UserHub's event envelope. The id is the change's (user and update time), so a retried delivery has the same
    /// id and receivers can drop repeats.
    static func event(for user: DirectoryUser) -> JSONValue {
        let digest = SHA256.hash(data: Data((user.id + "@" + user.updateTime).utf8))
        return [
            "id": .string("evt_" + Hex.encode(digest).prefix(24)), "time": .string(user.updateTime), "type": "users.changed",
            "usersChanged": ["user": user.wire],
        ]
    }
}
