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
        // Redirects to `?to=`, for the redirect checks.
        router.get("bounce") { request, _ -> Response in
            Response(status: .found, headers: [.location: request.uri.queryParameters.get("to") ?? "/"])
        }
        router.get("echo-host") { request, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: request.head.authority ?? "")))
        }
        // The directory's :event endpoint, for seed 003's UserHub action: records the path too, and answers 500 or
        // never (within the test) for the connections named `conn_broken` and `conn_slow`.
        router.post("admin/v1/users/:user") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            var headers: [String: String] = ["path": request.uri.path]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            receiver.requests.withLock { $0.append((headers, text)) }
            if request.uri.path.contains("conn_broken") { return Response(status: .internalServerError) }
            if request.uri.path.contains("conn_slow") { try await Task.sleep(for: .seconds(5)) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        // What Tessera's own /oauth/token answers a wrong client secret: Linux Foundation takes it for a challenge.
        router.get("challenge") { _, _ -> Response in
            Response(status: .unauthorized, headers: [.wwwAuthenticate: #"Basic realm="receiver""#],
                     body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_client"}"#)))
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
                .replacingOccurrences(of: "http://127.0.0.1:8080/v1/graphql", with: base + "/v1/graphql")
                .replacingOccurrences(of: "demo-hasura-admin-secret-change-me", with: "admin-secret-123")
            let runner = try ActionRunner()
            try runner.checkRequires(code)
            let event = ActionEvent.merged(ActionEvent.samplePostLogin, with: [:], secrets: [:], configuration: [:])
            let execution = try await runner.run(code: code, event: event, outbound: Self.loopback)
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

    /// Seed 003's UserHub Action, byte for byte: it reports the sign-in to the directory (`SIGNUP` on a first login),
    /// and a failing or silent directory never fails the sign-in.
    @Test func seedUserHubActionReportsTheSignIn() async throws {
        try await withReceiver { base, receiver in
            let code = try seedCode("userhub.js")
            let runner = try ActionRunner(userHubBaseURL: base)
            try runner.checkRequires(code)
            func run(connection: String, logins: Int) async throws -> ActionExecution {
                var event = ActionEvent.merged(ActionEvent.samplePostLogin, with: [:],
                                               secrets: ["API_KEY": "userhub_admin_key-0123456789abcdefghij", "CONNECTION_ID": .string(connection)],
                                               configuration: [:]).objectValue!
                event["stats"] = ["logins_count": .number(Double(logins))]
                return try await runner.run(code: code, event: .object(event), outbound: Self.loopback)
            }
            _ = try await run(connection: "conn_tessera", logins: 1)
            _ = try await run(connection: "conn_tessera", logins: 7)
            let requests = receiver.requests.withLock { $0 }
            #expect(requests.map(\.headers["path"]) == [
                "/admin/v1/users/auth0%7C5f7c8ec7c33c6c004bbafe82@conn_tessera:event", "/admin/v1/users/auth0%7C5f7c8ec7c33c6c004bbafe82@conn_tessera:event"])
            #expect(requests.map(\.body) == [#"{"type":"SIGNUP"}"#, #"{"type":"SIGNIN"}"#])
            #expect(requests.first?.headers["authorization"] == "Bearer userhub_admin_key-0123456789abcdefghij")
            #expect(requests.first?.headers["userhub-api-version"] == "2025-05-01")
            let broken = try await run(connection: "conn_broken", logins: 3)
            #expect(broken.logs.contains { $0.message.contains("the directory answered 500") })
            let slow = try await run(connection: "conn_slow", logins: 3)
            #expect(slow.logs.contains { $0.message.contains("no answer within 2.5 s") })
            await #expect(throws: (any Error).self) {
                _ = try await runner.run(code: #"const { UserHubActions } = require("@userhub/auth0-actions"); exports.onExecutePostLogin = async (event) => { new UserHubActions({}); };"#,
                                         event: ActionEvent.samplePostLogin)
            }
        }
    }

    /// What the tests' receiver needs: loopback, named.
    static let loopback = OutboundPolicy(allow: ["127.0.0.1", "localhost"])

    @Test func fetchIsBoundedAndFailsClearly() async throws {
        try await withReceiver { base, _ in
            let runner = try ActionRunner()
            let event = ActionEvent.samplePostLogin
            await #expect(throws: ActionError.timedOut(seconds: 1)) {
                try await runner.run(code: "exports.onExecutePostLogin = async () => { await fetch('\(base)/slow'); };",
                                     event: event, timeLimit: 1, outbound: Self.loopback)
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
                """, event: event, outbound: Self.loopback)
            #expect(status.idTokenClaims["status"] == .number(404) && status.idTokenClaims["ok"] == .bool(false))
            // A 401 with WWW-Authenticate is an answer like any other, at once (it used to hang until the time limit).
            let challenged = try await runner.run(code: """
                exports.onExecutePostLogin = async (event, api) => {
                  api.idToken.setCustomClaim('status', (await fetch('\(base)/challenge')).status);
                };
                """, event: event, timeLimit: 5, outbound: Self.loopback)
            #expect(challenged.idTokenClaims["status"] == .number(401))
            do {
                _ = try await runner.run(code: "exports.onExecutePostLogin = async () => { await (await fetch('\(base)/huge')).text(); };",
                                         event: event, outbound: Self.loopback)
                Issue.record("an 8 MiB body was read")
            } catch let error as ActionError {
                #expect(error.description.contains("larger than 1048576 bytes"), "\(error)")
            }
        }
    }

    /// `require('axios')` as Actions use it: JSON in and out, params, a refusal with `response`, a timeout, an instance.
    @Test func axiosSpeaksTheCommonAPIOverFetch() async throws {
        try await withReceiver { base, receiver in
            let runner = try ActionRunner()
            let execution = try await runner.run(code: """
                const axios = require('axios');
                exports.onExecutePostLogin = async (event, api) => {
                  const posted = await axios.post('\(base)/v1/graphql', { query: 'mutation' }, { headers: { 'x-hasura-admin-secret': 's' } });
                  api.idToken.setCustomClaim('posted', [posted.status, posted.data.data.insert_users_one.userId]);
                  const text = await axios.get('\(base)/echo-host', { params: { a: 'b c', skip: undefined } });
                  api.idToken.setCustomClaim('text', typeof text.data);
                  try { await axios.get('\(base)/missing'); } catch (error) {
                    api.idToken.setCustomClaim('refused', [axios.isAxiosError(error), error.message, error.response.status, error.code]);
                  }
                  const client = axios.create({ baseURL: '\(base)', timeout: 300 });
                  try { await client.get('/slow'); } catch (error) { api.idToken.setCustomClaim('timeout', [error.code, error.message]); }
                  const accepted = await axios.get('\(base)/missing', { validateStatus: () => true });
                  api.idToken.setCustomClaim('accepted', accepted.status);
                };
                """, event: ActionEvent.samplePostLogin, timeLimit: 10, outbound: Self.loopback)
            #expect(execution.idTokenClaims["posted"] == [200, "x"])
            #expect(execution.idTokenClaims["text"] == "string")
            #expect(execution.idTokenClaims["refused"] == [true, "Request failed with status code 404", 404, "ERR_BAD_REQUEST"])
            #expect(execution.idTokenClaims["timeout"] == ["ECONNABORTED", "timeout of 300ms exceeded"])
            #expect(execution.idTokenClaims["accepted"] == 404)
            let sent = try #require(receiver.requests.withLock { $0.first })
            #expect(sent.body == #"{"query":"mutation"}"#)
            #expect(sent.headers["content-type"] == "application/json" && sent.headers["x-hasura-admin-secret"] == "s")
        }
    }

    /// Node's web globals around fetch: Headers, FormData (sent as multipart), URLSearchParams bodies, AbortController.
    @Test func fetchTakesHeadersFormDataAndAbortSignals() async throws {
        try await withReceiver { base, receiver in
            let runner = try ActionRunner()
            let execution = try await runner.run(code: """
                exports.onExecutePostLogin = async (event, api) => {
                  const form = new FormData();
                  form.append('email', event.user.email);
                  form.append('note', 'a "quoted" value');
                  const headers = new Headers({ 'X-Trace': 'one' });
                  headers.append('x-trace', 'two');
                  await fetch('\(base)/v1/graphql', { method: 'POST', body: form, headers });
                  await fetch('\(base)/v1/graphql', { method: 'POST', body: new URLSearchParams({ a: 'b c' }) });
                  const early = new AbortController();
                  early.abort();
                  const results = [];
                  try { await fetch('\(base)/slow', { signal: early.signal }); } catch (e) { results.push(e.name); }
                  const late = new AbortController();
                  setTimeout(() => late.abort(), 50);
                  // /slow answers after 5 s: an AbortError here means the abort, not the answer, settled the fetch.
                  try { await fetch('\(base)/slow', { signal: late.signal }); } catch (e) { results.push(e.name); }
                  api.idToken.setCustomClaim('aborts', results);
                  api.idToken.setCustomClaim('headers', [headers.get('X-TRACE'), headers.has('x-trace'), Array.from(headers.keys())]);
                };
                """, event: ActionEvent.samplePostLogin, timeLimit: 10, outbound: Self.loopback)
            #expect(execution.idTokenClaims["aborts"] == ["AbortError", "AbortError"])
            #expect(execution.idTokenClaims["headers"] == ["one, two", true, ["x-trace"]])
            let sent = receiver.requests.withLock { $0 }
            #expect(sent.count == 2)
            let form = try #require(sent.first)
            let contentType = try #require(form.headers["content-type"])
            #expect(contentType.hasPrefix("multipart/form-data; boundary="))
            let boundary = String(contentType.dropFirst("multipart/form-data; boundary=".count))
            #expect(form.body == "--\(boundary)\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nj+smith@example.com\r\n" +
                    "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\na \"quoted\" value\r\n--\(boundary)--\r\n")
            #expect(form.headers["x-trace"] == "one, two")
            #expect(sent[1].body == "a=b+c" && sent[1].headers["content-type"] == "application/x-www-form-urlencoded;charset=UTF-8")
        }
    }

    /// Names are judged by what they resolve to: a fake resolver stands for a hostile DNS.
    @Test func namesAreCheckedOnTheirResolvedAddresses() async throws {
        let answers: [String: String] = ["loop.test": "127.0.0.1", "meta.test": "169.254.169.254", "mapped.test": "::ffff:169.254.169.254",
                                         "nat64.test": "64:ff9b::a9fe:a9fe", "private.test": "10.0.0.5", "aws6.test": "fd00:ec2::254",
                                         "public.test": "93.184.216.34", "zero.test": "0.0.0.0"]
        let resolver: OutboundPolicy.Resolver = { host in answers[host].flatMap(IPAddress.init).map { [$0] } ?? [] }
        let open = OutboundPolicy()
        #expect(try await open.addresses(for: "public.test", resolver: resolver).map(\.description) == ["93.184.216.34"])
        for host in ["loop.test", "private.test"] {
            await #expect(throws: DomainError.self, "\(host) is loopback or private") { try await open.addresses(for: host, resolver: resolver) }
            #expect(try await OutboundPolicy(allow: [host]).addresses(for: host, resolver: resolver).count == 1, "named, \(host) may go")
            await #expect(throws: DomainError.self, "* names no private host") { try await OutboundPolicy(allow: ["*"]).addresses(for: host, resolver: resolver) }
        }
        for host in ["meta.test", "mapped.test", "nat64.test", "aws6.test", "zero.test", "169.254.169.254", "[fe80::1]", "metadata.google.internal"] {
            do {
                _ = try await OutboundPolicy(allow: [host, "*"]).addresses(for: host, resolver: resolver)
                Issue.record("\(host) passed")
            } catch let error as DomainError {
                #expect(error.message.contains("never reachable") || error.message.contains("metadata"), "\(host): \(error.message)")
            }
        }
        let listed = OutboundPolicy(allow: ["*.example.com", "api.partner.test"])
        await #expect(throws: DomainError.self) { try await listed.addresses(for: "public.test", resolver: resolver) }
        await #expect(throws: DomainError.self) { try await listed.addresses(for: "example.com", resolver: resolver) }
        #expect(try await listed.addresses(for: "a.example.com", resolver: { _ in [IPAddress("93.184.216.34")!] }).count == 1)
        #expect(OutboundPolicy.pattern("API.partner.test".lowercased(), matches: "api.partner.test"))
    }

    /// Every redirect hop is checked; a plain-http hop connects to the checked address with the name in Host.
    @Test func redirectsAreCheckedAndHostsPinned() async throws {
        try await withReceiver { base, _ in
            let runner = try ActionRunner()
            let port = base.split(separator: ":").last.map(String.init) ?? ""
            func claim(_ url: String, outbound: OutboundPolicy) async throws -> JSONValue? {
                try await runner.run(code: """
                    exports.onExecutePostLogin = async (event, api) => {
                      const res = await fetch('\(url)');
                      api.idToken.setCustomClaim('answer', res.status + ' ' + (await res.text()));
                    };
                    """, event: ActionEvent.samplePostLogin, outbound: outbound).idTokenClaims["answer"]
            }
            #expect(try await claim("http://localhost:\(port)/echo-host", outbound: Self.loopback) == .string("200 localhost:\(port)"))
            #expect(try await claim("\(base)/bounce?to=%2Fecho-host", outbound: Self.loopback) == .string("200 127.0.0.1:\(port)"))
            for target in ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/"] {
                do {
                    _ = try await claim("\(base)/bounce?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", outbound: Self.loopback)
                    Issue.record("a redirect to \(target) was followed")
                } catch let error as ActionError {
                    #expect(error.description.contains("may not reach"), "\(error)")
                }
            }
            do {
                _ = try await claim("\(base)/echo-host", outbound: OutboundPolicy())
                Issue.record("loopback was reached without being named")
            } catch let error as ActionError {
                #expect(error.description.contains("outbound.allow"), "\(error)")
            }
        }
    }
}
