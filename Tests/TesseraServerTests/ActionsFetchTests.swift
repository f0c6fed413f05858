@testable import Actions
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TesseraCore

/// Records what reaches it: the stand-in for the GraphQL engine that seed 004's sync action calls.
final class Receiver: Sendable {
    let requests = Mutex<[(headers: [String: String], body: String)]>([])
}

@Suite struct ActionsFetchTests {
    /// Runs `body` with a loopback HTTP server answering POST /v1/graphql, and its base URL.
    func withReceiver(_ body: @Sendable (String, Receiver) async throws -> Void) async throws {
        let receiver = Receiver()
        let router = Router()
        router.post("v1/graphql") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            receiver.requests.withLock { $0.append((headers, text)) }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"data":{"insert_users_one":{"userId":"x"}}}"#)))
        }
        // Streams 8 MiB, far past the 1 MiB a fetch may read.
        router.get("huge") { _, _ -> Response in
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            return Response(status: .ok, body: .init { writer in
                for _ in 0..<128 { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
        }
        router.get("slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(5))
            return Response(status: .ok)
        }
        let port = Mutex<Int>(0)
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  port.withLock { $0 = channel.localAddress?.port ?? 0 }
                                  ready.continuation.yield()
                              }, logger: Logger(label: "receiver"))
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "receiver"))
        let server = Task { try await group.run() }
        for await _ in ready.stream { break }
        do {
            try await body("http://127.0.0.1:\(port.withLock { $0 })", receiver)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await server.result
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = await server.result
    }

    @Test func seedSyncActionPostsItsMutation() async throws {
        try await withReceiver { base, receiver in
            // As the seed says: "replace the admin_secret and url with your values".
            let code = try seedCode("hasura-sync-users.js")
                .replacingOccurrences(of: "https://your-hasura-url.hasura.app/v1/graphql", with: base + "/v1/graphql")
                .replacingOccurrences(of: "YOUR_HASURA_GRAPHQL_ADMIN_SECRET", with: "admin-secret-123")
            let runner = try ActionRunner()
            try runner.checkRequires(code)
            let event = ActionEvent.merged(ActionEvent.samplePostLogin, with: [:], secrets: [:], configuration: [:])
            let execution = try await runner.run(code: code, event: event)
            let requests = receiver.requests.withLock { $0 }
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            #expect(request.headers["x-hasura-admin-secret"] == "admin-secret-123")
            #expect(request.headers["content-type"] == "application/json")
            let body = try JSONValue.parse(request.body).objectValue ?? [:]
            #expect(body["query"]?.stringValue?.contains("insert_users_one") == true)
            #expect(body["variables"] == .object(["userId": .string("auth0|5f7c8ec7c33c6c004bbafe82"), "userName": .null]))
            #expect(execution.logs.first?.message.hasPrefix("Response {\"data\"") == true)
        }
    }

    @Test func fetchIsBoundedAndFailsClearly() async throws {
        try await withReceiver { base, _ in
            let runner = try ActionRunner()
            let event = ActionEvent.samplePostLogin
            await #expect(throws: ActionError.timedOut(seconds: 1)) {
                try await runner.run(code: "exports.onExecutePostLogin = async () => { await fetch('\(base)/slow'); };",
                                     event: event, timeLimit: 1)
            }
            for target in ["http://169.254.169.254/latest/meta-data/", "http://2852039166/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/",
                           "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/", "http://metadata.google.internal/computeMetadata/v1/"] {
                do {
                    _ = try await runner.run(code: "exports.onExecutePostLogin = async () => { await fetch('\(target)'); };", event: event)
                    Issue.record("\(target) was fetched")
                } catch let error as ActionError {
                    #expect(error.description.contains("link-local"), "\(target): \(error)")
                }
            }
            #expect(!FetchMailbox.isLinkLocal("127.0.0.1") && !FetchMailbox.isLinkLocal("10.0.0.5") && !FetchMailbox.isLinkLocal("example.com"))
            do {
                _ = try await runner.run(code: "exports.onExecutePostLogin = async () => { await fetch('file:///etc/passwd'); };", event: event)
                Issue.record("file:// was fetched")
            } catch let error as ActionError {
                #expect(error.description.contains("http(s)"))
            }
            let status = try await runner.run(code: """
                exports.onExecutePostLogin = async (event, api) => {
                  const res = await fetch('\(base)/missing');
                  api.idToken.setCustomClaim('status', res.status);
                  api.idToken.setCustomClaim('ok', res.ok);
                };
                """, event: event)
            #expect(status.idTokenClaims["status"] == .number(404) && status.idTokenClaims["ok"] == .bool(false))
            do {
                _ = try await runner.run(code: "exports.onExecutePostLogin = async () => { await (await fetch('\(base)/huge')).text(); };",
                                         event: event)
                Issue.record("an 8 MiB body was read")
            } catch let error as ActionError {
                #expect(error.description.contains("larger than 1048576 bytes"), "\(error)")
            }
        }
    }
}
