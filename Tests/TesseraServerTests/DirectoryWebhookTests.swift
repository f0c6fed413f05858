import Crypto
import Foundation
import Testing
import Directory
import TesseraCore

/// A webhook endpoint in memory: records what it is sent, and answers 500 while told to.
actor WebhookReceiver: OutboundTransport {
    var received: [OutboundRequest] = []
    var failing = 0

    func fail(_ times: Int) { failing = times }

    nonisolated func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await record(request)
    }

    private func record(_ request: OutboundRequest) throws -> OutboundResponse {
        received.append(request)
        if failing > 0 {
            failing -= 1
            return OutboundResponse(status: 500, body: Data("down".utf8))
        }
        return OutboundResponse(status: 200, body: Data("{}".utf8))
    }
}

@Suite struct DirectoryWebhookTests {
    static let secret = "whsec-test-0123456789abcdef"

    /// What the official SDKs check: hex HMAC-SHA256 of "<timestamp>.<body>".
    static func verified(_ request: OutboundRequest) -> Bool {
        guard let timestamp = request.headers["UserHub-Timestamp"], let body = request.body else { return false }
        var message = Data(timestamp.utf8)
        message.append(UInt8(ascii: "."))
        message.append(body)
        let expected = Hex.encode(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8))))
        return request.headers["UserHub-Signature"] == expected
    }

    static func event(_ request: OutboundRequest) throws -> [String: JSONValue] {
        try #require(try JSONValue.parse(String(decoding: request.body ?? Data(), as: UTF8.self)).objectValue)
    }

    @Test(arguments: StoreKind.available)
    func changesAreSentSignedInOrderAndRetriedUntilReceived(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { _ in
            let receiver = WebhookReceiver()
            let directory = Directory(store: harness.services.store, clock: harness.clock.clock, transport: receiver, logger: Harness.logger)
            // A user from before the endpoint existed is not sent: an endpoint starts from now.
            _ = try await directory.users.create(try UserFields.change(["displayName": "Before"]))
            harness.clock.advance(seconds: 1)
            try await directory.webhooks.save(Webhook(id: "wh_app", url: "https://app.example/userhub", signingSecret: Self.secret))
            #expect(throws: DirectoryError.self) {
                try Webhook(id: "wh_bad", url: "ftp://app.example/", signingSecret: Self.secret).validated()
            }
            harness.clock.advance(seconds: 1)
            let ann = try await directory.users.create(try UserFields.change(["displayName": "Ann", "email": "ann@example.com"]))
            harness.clock.advance(seconds: 1)
            let bob = try await directory.users.create(try UserFields.change(["displayName": "Bob"]))
            // Changes younger than the settle time wait for the next round.
            await directory.delivery.deliverDue()
            #expect(await receiver.received.isEmpty)
            harness.clock.advance(seconds: 3)
            await directory.delivery.deliverDue()
            let first = await receiver.received
            #expect(first.count == 2)
            for request in first {
                #expect(request.method == "POST" && request.url == "https://app.example/userhub")
                #expect(request.headers["UserHub-Action"] == "events.handle" && request.headers["Content-Type"] == "application/json")
                #expect(Self.verified(request), "signature")
            }
            let annEvent = try Self.event(first[0])
            #expect(annEvent["type"] == "users.changed" && annEvent["time"] == .string(ann.updateTime))
            #expect(annEvent["usersChanged"]?.objectValue?["user"]?.objectValue?["id"] == .string(ann.id))
            #expect(annEvent["usersChanged"]?.objectValue?["user"]?.objectValue?["email"] == "ann@example.com")
            #expect(try Self.event(first[1])["usersChanged"]?.objectValue?["user"]?.objectValue?["id"] == .string(bob.id))

            // A deletion while the endpoint is down: retried with backoff, never skipped, the same event id each time.
            await receiver.fail(2)
            _ = try await directory.users.delete(.id(ann.id))
            harness.clock.advance(seconds: 3)
            await directory.delivery.deliverDue()
            await directory.delivery.deliverDue()  // not due yet: one try so far
            #expect(await receiver.received.count == 3)
            let failed = try await directory.webhooks.list()[0].state
            #expect(failed.attempts == 1 && failed.lastError?.contains("status 500") == true && failed.delivered == 2)
            harness.clock.advance(seconds: 1)
            await directory.delivery.deliverDue()
            harness.clock.advance(seconds: 2)
            await directory.delivery.deliverDue()
            let all = await receiver.received
            #expect(all.count == 5)
            let ids = try all.suffix(3).map { try Self.event($0)["id"] }
            #expect(Set(ids).count == 1, "a retry is the same event")
            #expect(try Self.event(all[4])["usersChanged"]?.objectValue?["user"]?.objectValue?["state"] == "PENDING_DELETION")
            let state = try await directory.webhooks.list()[0].state
            #expect(state.attempts == 0 && state.lastError == nil && state.delivered == 3 && state.cursorId == ann.id)
            // Nothing new: nothing sent.
            harness.clock.advance(seconds: 5)
            await directory.delivery.deliverDue()
            #expect(await receiver.received.count == 5)
        }
    }
}
