import Foundation
import Logging
import Testing
import Directory
import TesseraCore

/// An Auth0 tenant in memory, speaking the Management API calls the importer makes: checkpoint paging (as Tessera
/// offers it) or Auth0's offset pages (refused past 1,000 users, as Auth0 does), the users-export job (pending once,
/// then a gzipped NDJSON file at a pre-signed URL), one user by id, and failures on demand (429 with Retry-After, 500).
actor FakeAuth0: OutboundTransport {
    var users: [String: JSONValue] = [:]
    var checkpoint: Bool
    var failures: [Int] = []
    var requests: [String] = []
    var exportPolls = 0
    /// Whether a request for the export file carried an Authorization header (it must not: the URL authorizes).
    var downloadHadAuthorization = false

    init(count: Int, checkpoint: Bool) {
        self.checkpoint = checkpoint
        for index in 0..<count { users["auth0|\(1000 + index)"] = Self.user(index) }
    }

    static func user(_ index: Int, name: String? = nil) -> JSONValue {
        ["user_id": .string("auth0|\(1000 + index)"), "email": .string("person\(index)@example.com"), "email_verified": .bool(index % 2 == 0),
         "name": .string(name ?? "Person \(index)"), "picture": "https://cdn.example/p.png", "created_at": "2024-01-02T03:04:05.000Z",
         "phone_number": index % 3 == 0 ? "+12125550100" : "not a phone"]
    }

    func set(_ id: String, _ user: JSONValue?) { users[id] = user }
    func fail(_ statuses: [Int]) { failures = statuses }
    /// Every request fails with `status` until ``recover()``.
    func failAll(_ status: Int?) { failingStatus = status }
    func recover() { failingStatus = nil }
    var failingStatus: Int?

    nonisolated func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        try await answer(request)
    }

    private func answer(_ request: OutboundRequest) throws -> OutboundResponse {
        requests.append("\(request.method) \(request.url)")
        if let status = failingStatus ?? (failures.isEmpty ? nil : failures.removeFirst()) {
            return OutboundResponse(status: status, headers: status == 429 ? ["retry-after": "2"] : [:], body: Data(#"{"message":"try later"}"#.utf8))
        }
        let url = URLComponents(string: request.url)!
        let query = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        if url.path == "/oauth/token" { return json(["access_token": "fake-token", "expires_in": 86400]) }
        let sorted = users.keys.sorted()
        if url.path == "/api/v2/jobs/users-exports", request.method == "POST" {
            return json(["id": "job_fake", "type": "users_export", "status": "pending", "format": "json"])
        }
        if url.path == "/api/v2/jobs/job_fake" {
            exportPolls += 1
            guard exportPolls > 1 else { return json(["id": "job_fake", "type": "users_export", "status": "processing"]) }
            return json(["id": "job_fake", "type": "users_export", "status": "completed",
                         "location": "https://storage.example/exports/job_fake.json.gz?X-Signature=abc"])
        }
        if url.host == "storage.example" {
            downloadHadAuthorization = request.headers["Authorization"] != nil
            let writer = try GzipWriter()
            var file = writer.compress(Array(sorted.map { users[$0]!.jsonText() + "\n" }.joined().utf8))
            file += writer.finish()
            return OutboundResponse(status: 200, headers: ["content-type": "application/gzip"], body: Data(file))
        }
        if url.path == "/api/v2/users" {
            if let take = query["take"].flatMap(Int.init) {
                guard checkpoint else { return OutboundResponse(status: 400, body: Data(#"{"message":"Query validation error: 'Additional properties not allowed: take'"}"#.utf8)) }
                let after = query["from"]
                let page = sorted.filter { after == nil || $0 > after! }.prefix(take)
                var body: [String: JSONValue] = ["users": .array(page.map { users[$0]! })]
                if page.count == take, let last = page.last, last != sorted.last { body["next"] = .string(last) }
                return json(.object(body))
            }
            let page = Int(query["page"] ?? "0")!, perPage = Int(query["per_page"] ?? "50")!
            guard (page + 1) * perPage <= 1000 else {
                return OutboundResponse(status: 400, body: Data(#"{"message":"You can only page through the first 1000 records."}"#.utf8))
            }
            let slice = Array(sorted.dropFirst(page * perPage).prefix(perPage)).map { users[$0]! }
            if query["include_totals"] == "true" { return json(["users": .array(slice), "total": .number(Double(users.count))]) }
            return json(.array(slice))
        }
        let id = String(url.path.dropFirst("/api/v2/users/".count)).removingPercentEncoding!
        guard let user = users[id] else { return OutboundResponse(status: 404, body: Data(#"{"message":"The user does not exist."}"#.utf8)) }
        return json(user)
    }

    private func json(_ value: JSONValue) -> OutboundResponse {
        OutboundResponse(status: 200, headers: ["content-type": "application/json"], body: Data(value.jsonText().utf8))
    }
}

/// Sleeps the importer asked for, without waiting.
actor Sleeps {
    var seconds: [Double] = []
    func add(_ value: Double) { seconds.append(value) }
}

@Suite struct DirectoryImportTests {
    static func directory(_ harness: Harness, _ source: FakeAuth0, sleeps: Sleeps = Sleeps()) -> Directory {
        Directory(store: harness.services.store, clock: harness.clock.clock, transport: source, logger: Harness.logger,
                  sleep: { await sleeps.add($0) })
    }

    static let connection = Connection(id: "conn_test", displayName: "Auth0", domain: "tenant.example.auth0.com",
                                       clientId: "client", clientSecret: "secret")

    @Test(arguments: StoreKind.available, [true, false])
    func aFullPassImportsEveryoneAndResyncsSeeChanges(_ kind: StoreKind, checkpoint: Bool) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { _ in
            let source = FakeAuth0(count: checkpoint ? 250 : 230, checkpoint: checkpoint)
            let directory = Self.directory(harness, source)
            try await directory.connections.save(Self.connection)
            #expect(try await directory.importer.test("conn_test").state == .active)
            let state = try await directory.importer.sync("conn_test")
            #expect(state.lastPassUsers == (checkpoint ? 250 : 230) && state.pass == nil)
            var all: [DirectoryUser] = []
            var query = UserQuery()
            query.pageSize = 100
            query.order = .email
            var pages = 0
            repeat {
                let page = try await directory.users.list(query)
                all += page.users
                pages += 1
                guard let token = page.nextPageToken else { break }
                query = try UserQuery(parameters: ["pageSize": "100", "orderBy": "email asc", "pageToken": token])
            } while pages < 10
            #expect(all.count == (checkpoint ? 250 : 230))
            let first = try await directory.users.user(.account(externalId: "auth0|1000", connectionId: "conn_test"))
            #expect(first.profile["displayName"] == "Person 0" && first.profile["imageUrl"] == "https://cdn.example/p.png")
            #expect(first.profile["phoneNumber"] == "+12125550100" && first.profile["emailVerified"] == .bool(true))
            #expect(first.accounts.first?.externalId == "auth0|1000" && first.accounts.first?.connection.type == "AUTH0")
            let second = try await directory.users.user(.account(externalId: "auth0|1001", connectionId: "conn_test"))
            #expect(second.profile["phoneNumber"] == nil, "an invalid phone number from the source is left out")
            // Changes at the source: a rename, a block, a deletion. The next pass sees all three; nobody is duplicated.
            await source.set("auth0|1000", FakeAuth0.user(0, name: "Renamed"))
            var blocked = FakeAuth0.user(1).objectValue!
            blocked["blocked"] = .bool(true)
            await source.set("auth0|1001", .object(blocked))
            await source.set("auth0|1002", nil)
            _ = try await directory.importer.sync("conn_test")
            #expect(try await directory.users.user(first.id == "" ? .id("x") : .id(first.id)).profile["displayName"] == "Renamed")
            #expect(try await directory.users.user(.id(second.id)).state == .disabled)
            #expect(try await directory.users.user(.account(externalId: "auth0|1002", connectionId: "conn_test")).state == .pendingDeletion)
            var everyone = UserQuery()
            everyone.pageSize = 100
            everyone.showDeleted = true
            var total = 0
            var next: String? = nil
            repeat {
                if let next { everyone = try UserQuery(parameters: ["pageSize": "100", "showDeleted": "true", "pageToken": next]) }
                let page = try await directory.users.list(everyone)
                total += page.users.count
                next = page.nextPageToken
            } while next != nil
            #expect(total == (checkpoint ? 250 : 230))
        }
    }

    /// Past Auth0's 1,000-user ceiling for offset pages, a pass reads the users-export job's file.
    @Test(arguments: StoreKind.available)
    func aLargeAuth0TenantIsReadThroughAnExportJob(_ kind: StoreKind) async throws {
        let harness = try await Harness.make(kind)
        try await harness.test { _ in
            let source = FakeAuth0(count: 1_234, checkpoint: false)
            let sleeps = Sleeps()
            let directory = Self.directory(harness, source, sleeps: sleeps)
            try await directory.connections.save(Self.connection)
            let state = try await directory.importer.sync("conn_test")
            #expect(state.lastPassUsers == 1_234 && state.pass == nil && state.lastError == nil)
            let requests = await source.requests
            #expect(requests.contains("POST https://tenant.example.auth0.com/api/v2/jobs/users-exports"))
            #expect(!requests.contains { $0.contains("page=10") }, "no offset page past the ceiling was asked for")
            let polls = await source.exportPolls, authorized = await source.downloadHadAuthorization
            #expect(polls == 2 && !authorized)
            #expect(await sleeps.seconds.first == 1, "the job was polled after a pause")
            let count = try await harness.services.store.read { db in try await db.raw("SELECT COUNT(*) AS n FROM directory_accounts").first()!.decode(column: "n", as: Int.self) }
            #expect(count == 1_234)
            let last = try await directory.users.user(.account(externalId: "auth0|2233", connectionId: "conn_test"))
            #expect(last.profile["displayName"] == "Person 1233")
        }
    }

    @Test func aPassSurvivesRateLimitsAndFailuresAndResumesAfterACrash() async throws {
        let harness = try await Harness.make()
        try await harness.test { _ in
            let source = FakeAuth0(count: 420, checkpoint: true)
            let sleeps = Sleeps()
            let directory = Self.directory(harness, source, sleeps: sleeps)
            try await directory.connections.save(Self.connection)
            await source.fail([429, 500, 503, 429])
            // Stopped after the second page (as by kill -9: nothing after the saved page runs), then resumed.
            struct Crash: Error {}
            await #expect(throws: Crash.self) {
                try await directory.importer.sync("conn_test") { state in if state.done >= 200 { throw Crash() } }
            }
            #expect(await sleeps.seconds.contains(2), "Retry-After was honoured")
            let stopped = try await directory.connections.connection("conn_test").sync
            #expect(stopped.pass != nil && stopped.done == 200 && stopped.cursor != nil)
            // A source that keeps failing ends the pass with its error: kept for resuming, but not running. It fails until
            // told otherwise, rather than a counted number of times: a request the crashed pass still had in flight
            // could use counted failures up (seen under a loaded full run).
            await source.failAll(500)
            await #expect(throws: DirectoryError.self) { try await directory.importer.sync("conn_test") }
            let failed = try await directory.connections.connection("conn_test").sync
            #expect(!failed.isRunning && failed.lastError != nil && failed.done == 200)
            await source.recover()
            let resumed = try await directory.importer.sync("conn_test")
            #expect(resumed.lastPassUsers == 420 && resumed.pass == nil && resumed.lastError == nil)
            let count = try await harness.services.store.read { db in try await db.raw("SELECT COUNT(*) AS n FROM directory_accounts").first()!.decode(column: "n", as: Int.self) }
            #expect(count == 420)
        }
    }

    @Test func oneUserIsPulledOnSignIn() async throws {
        let harness = try await Harness.make()
        try await harness.test { _ in
            let source = FakeAuth0(count: 3, checkpoint: true)
            let directory = Self.directory(harness, source)
            try await directory.connections.save(Self.connection)
            let user = try await directory.importer.pull(externalId: "auth0|1002", connectionId: "conn_test")
            #expect(user.profile["email"] == "person2@example.com" && user.accounts.count == 1)
            await source.set("auth0|1002", FakeAuth0.user(2, name: "Signed In"))
            await directory.sync.enqueuePull(externalId: "auth0|1002", connectionId: "conn_test")
            await directory.sync.drain()
            #expect(try await directory.users.user(.id(user.id)).profile["displayName"] == "Signed In")
            await #expect(throws: DirectoryError.self) { try await directory.importer.pull(externalId: "auth0|nobody", connectionId: "conn_test") }
        }
    }
}
