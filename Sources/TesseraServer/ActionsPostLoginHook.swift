import Actions
import Foundation
import Identity
import IdentityManagement
import Logging
import TesseraCore
import TesseraStore

/// The post-login flow: runs the deployed actions bound to `post-login`, in order, each seeing the previous
/// ones' metadata changes; adds their claims to the tokens; writes metadata once at the end; and ends the
/// sign-in with `access_denied` if one denies, throws or times out.
public struct ActionsPostLoginHook: PostLoginHook {
    let actions: ActionStore
    let store: Store
    let users: Users
    let roles: Roles
    let authenticationMethods: AuthenticationMethods
    let geo: GeoLocation
    let runner: ActionRunner?
    let cache: ActionCache
    let issuer: String
    let clock: TesseraClock
    let logger: Logger
    /// Auth0 stops a post-login flow after 20 s in all.
    static let flowTimeLimit = 20.0
    static let maximumClaimBytes = 100 * 1024

    public init(services: TesseraServices) {
        actions = services.actions
        store = services.store
        users = services.tenant.users
        roles = services.tenant.roles
        authenticationMethods = services.tenant.authenticationMethods
        geo = services.geo
        runner = try? ActionRunner(userHubBaseURL: services.userHubBaseURL)
        cache = ActionCache(clock: services.clock)
        issuer = services.configuration.issuer
        clock = services.clock
        logger = Logger(label: "tessera.actions")
    }

    public func run(_ context: PostLoginContext) async throws -> PostLoginResult {
        let flow = try await actions.flow(ActionStore.postLogin)
        guard !flow.isEmpty else { return PostLoginResult() }
        return try await runFlow(flow, from: 0, resuming: false, context: context, result: PostLoginResult(), report: [])
    }

    /// Goes on from the Action that redirected: its `onContinuePostLogin`, then the Actions after it.
    public func resume(_ context: PostLoginContext, from pause: JSONValue) async throws -> PostLoginResult {
        let fields = pause.objectValue ?? [:]
        let flow = try await actions.flow(ActionStore.postLogin)
        guard let actionID = fields["action"]?.stringValue, let index = flow.firstIndex(where: { $0.id == actionID }) else {
            return try await deny("The Action that redirected this sign-in is no longer bound to the post-login flow", [])
        }
        return try await runFlow(flow, from: index, resuming: true, context: context, result: PostLoginResult(stored: fields["result"]),
                                 report: fields["report"]?.arrayValue ?? [])
    }

    /// Runs `flow` from `start` (the first one's `onContinuePostLogin` when `resuming`), until the end, a denial, or an
    /// Action that redirects. Metadata changes are written when the flow ends or pauses, with the execution record.
    private func runFlow(_ flow: [BoundAction], from start: Int, resuming: Bool, context: PostLoginContext,
                         result initial: PostLoginResult, report initialReport: [JSONValue]) async throws -> PostLoginResult {
        guard let runner else { throw PostLoginDenied("The Actions runtime is unavailable") }
        var user = context.user
        var result = initial
        var report = initialReport
        var appMetadataChanges: [String: JSONValue] = [:], userMetadataChanges: [String: JSONValue] = [:]
        let roleNames = try await roles.roles(ofUser: user.userID).map(\.name)
        let factors = try await authenticationMethods.enrolledProviders(userID: user.userID)
        let geoip = await geo.country(of: context.ip)
        let deadline = Date().addingTimeInterval(Self.flowTimeLimit)
        let outbound = try await actions.outboundPolicy().reaching(own: issuer)
        for (index, action) in flow.enumerated().dropFirst(start) {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return try await deny("The post-login flow ran longer than 20 s", report) }
            let continuing = resuming && index == start
            let execution: ActionExecution
            let started = Date(), clock = ContinuousClock.now
            let timing: () -> Timing = { Timing(started: started, elapsed: ContinuousClock.now - clock) }
            do {
                execution = try await runner.run(
                    code: action.code, event: event(context, user: user, roles: roleNames, factors: factors, geoip: geoip, action: action,
                                                               continuing: continuing),
                    cache: await cache.snapshot(action.id), timeLimit: remaining, outbound: outbound,
                    handler: continuing ? .resume : .execute, invocation: invocation(context, continuing: continuing))
            } catch let error as ActionError {
                report.append(Self.entry(action, logs: Self.logs(of: error), error: "\(error)", timing: timing()))
                return try await deny(action.masking("Action \(action.name) failed: \(Self.summary(error))"), report)
            }
            let ran = timing()
            await cache.apply(action.id, writes: execution.cacheWrites)
            var warnings: [String] = []
            for (name, value) in execution.idTokenClaims {
                if ReservedClaims.names.contains(name) { warnings.append("dropped reserved ID token claim \(name)") }
                else { result.idTokenClaims[name] = value }
            }
            for (name, value) in execution.accessTokenClaims {
                if ReservedClaims.names.contains(name) { warnings.append("dropped reserved access token claim \(name)") }
                else { result.accessTokenClaims[name] = value }
            }
            result.addedScopes += execution.addedScopes
            result.removedScopes += execution.removedScopes
            if let multifactor = execution.multifactor {
                result.multifactor = MultifactorRequirement(provider: multifactor.provider, allowRememberBrowser: multifactor.allowRememberBrowser)
            }
            result.recordedMethods += execution.recordedMethods.filter { !result.recordedMethods.contains($0) }
            appMetadataChanges.merge(execution.appMetadata) { $1 }
            userMetadataChanges.merge(execution.userMetadata) { $1 }
            for (key, value) in execution.appMetadata { if value == .null { user.appMetadata[key] = nil } else { user.appMetadata[key] = value } }
            for (key, value) in execution.userMetadata { if value == .null { user.userMetadata[key] = nil } else { user.userMetadata[key] = value } }
            report.append(Self.entry(action, logs: execution.logs, error: nil, warnings: warnings, timing: ran))
            if let reason = execution.revokeSession {
                return try await deny(action.masking(reason), report, revokesSession: true)
            }
            if let reason = execution.denyReason {
                return try await deny(action.masking(reason), report)
            }
            if let redirect = execution.redirect {
                try await commit(user: user, app: appMetadataChanges, user: userMetadataChanges, report: report, status: "suspended",
                                 batch: context.batch)
                result.pause = PostLoginPause(url: redirect.url, query: redirect.query, resume: .object([
                    "action": .string(action.id), "result": result.stored, "report": .array(report),
                ]))
                return result
            }
        }
        let claimBytes = JSONValue.object(result.idTokenClaims).jsonText().utf8.count + JSONValue.object(result.accessTokenClaims).jsonText().utf8.count
        guard claimBytes <= Self.maximumClaimBytes else {
            return try await deny("Custom claims total \(claimBytes) bytes, more than the 100 KB allowed", report)
        }
        try await commit(user: user, app: appMetadataChanges, user: userMetadataChanges, report: report, status: "final",
                         batch: context.batch)
        return result
    }

    /// Writes the flow's metadata changes and its execution record together: in the sign-in's batch when it has one
    /// (then the whole sign-in commits once), else in a transaction of their own.
    private func commit(user: User, app: [String: JSONValue], user userChanges: [String: JSONValue], report: [JSONValue],
                        status: String, batch: WriteBatch?) async throws {
        let record = actions.executionRecord(trigger: ActionStore.postLogin, status: status, results: .array(report))
        var patch: UserPatch?
        if !app.isEmpty || !userChanges.isEmpty {
            var changes = UserPatch()
            if !app.isEmpty { changes.appMetadata = .merge(app) }
            if !userChanges.isEmpty { changes.userMetadata = .merge(userChanges) }
            patch = changes
        }
        let users = self.users, userID = user.userID, metadata = patch
        let write: WriteBatch.Step = { db in
            if let metadata { _ = try await users.update(userID, metadata, in: db) }
            try await record.write(db)
        }
        if let batch { await batch.add(write) } else { try await store.transaction(write) }
    }

    private func deny(_ reason: String, _ report: [JSONValue], revokesSession: Bool = false) async throws -> PostLoginResult {
        let id = try await actions.recordExecution(trigger: ActionStore.postLogin, status: "denied", results: .array(report))
        logger.notice("post-login flow denied a sign-in", metadata: ["execution": .string(id), "reason": .string(reason)])
        throw PostLoginDenied(reason, revokesSession: revokesSession)
    }

    /// What `api.redirect` needs to know of this sign-in.
    func invocation(_ context: PostLoginContext, continuing: Bool) -> JSONValue {
        var fields: [String: JSONValue] = ["canRedirect": .bool(context.canRedirect), "issuerHost": .string(issuerHost),
                                           "issuer": .string(issuer)]
        if continuing, let state = context.continuation?.state { fields["continueState"] = .string(state) }
        return .object(fields)
    }

    /// The issuer's host as Auth0 names its domain in a session token's `iss`: `tenant.example.com` or `127.0.0.1:8080`.
    var issuerHost: String {
        guard let url = URL(string: issuer), let host = url.host else { return issuer }
        return url.port.map { "\(host):\($0)" } ?? host
    }

    /// Auth0's post-login `event`, with `user.id` as an alias of `user.user_id` (seed 000 reads it).
    func event(_ context: PostLoginContext, user: User, roles: [String], factors: [String], geoip: JSONValue? = nil,
               action: BoundAction, continuing: Bool = false) -> JSONValue {
        var profile = user.profile
        profile["id"] = .string(user.userID)
        var transaction: [String: JSONValue] = [
            "requested_scopes": .array(context.scopes.map(JSONValue.string)), "protocol": .string(context.protocolName),
            "locale": .string("en"),
        ]
        transaction["acr_values"] = .array([])
        var query: [String: JSONValue] = [:]
        if let request = context.request {
            transaction["redirect_uri"] = .string(request.redirectURI)
            transaction["response_mode"] = .string(request.responseMode)
            if let state = request.state { transaction["state"] = .string(state) }
            query = Self.query(of: request)
        }
        var body: [String: JSONValue] = [:]
        var method = "GET"
        // Back at /continue, the request is the one that came back: its query (and form body, for a POST).
        if continuing, let continuation = context.continuation {
            query = continuation.query.filter { !Self.strippedParameters.contains($0.key) }.mapValues(JSONValue.string)
            body = continuation.body.filter { !Self.strippedParameters.contains($0.key) }.mapValues(JSONValue.string)
            method = continuation.method
        }
        var requestFields: [String: JSONValue] = [
            "ip": .string(context.ip), "method": .string(method), "hostname": .string(URL(string: issuer)?.host ?? "localhost"),
            "language": .string("en"), "query": .object(query), "body": .object(body),
        ]
        if let userAgent = context.userAgent { requestFields["user_agent"] = .string(userAgent) }
        if let geoip { requestFields["geoip"] = geoip }
        // The session's methods (`pwd` when the password was given, `mfa` once a code was), or a password just now.
        let methods = context.session?.methods ?? [SignInMethod(name: "pwd", time: Int(clock.now().timeIntervalSince1970))]
        profile["multifactor"] = .array(factors.map(JSONValue.string))
        var event: [String: JSONValue] = [
            "user": .object(profile),
            "authorization": .object(["roles": .array(roles.map(JSONValue.string))]),
            "client": .object(["client_id": .string(context.client.clientID), "name": .string(context.client.name),
                               "metadata": .object(context.client.clientMetadata)]),
            "connection": .object(["id": .string("con_tessera_database"), "name": .string(user.connection),
                                   "strategy": .string("auth0"), "metadata": .object([:])]),
            "request": .object(requestFields),
            "authentication": .object(["methods": .array(methods.map { method in
                .object(["name": .string(method.name),
                         "timestamp": .string(Timestamp.string(Date(timeIntervalSince1970: TimeInterval(method.time))))])
            })]),
            "transaction": .object(transaction),
            "tenant": .object(["id": .string("tessera")]),
            "stats": .object(["logins_count": .number(Double(user.loginsCount))]),
            "secrets": .object(action.secrets),
            "configuration": .object(action.configuration),
        ]
        if let audience = context.audience { event["resource_server"] = .object(["identifier": .string(audience)]) }
        if let session = context.session { event["session"] = .object(["id": .string(session.id)]) }
        return .object(event)
    }

    /// What Auth0 strips from `event.request` before an Action sees it: credentials a form or a client may carry.
    static let strippedParameters: Set<String> = ["password", "client_secret", "code_verifier", "refresh_token", "code", "csrf"]

    /// The `/authorize` parameters as Auth0's `event.request.query` shows them. Nothing secret travels there (PKCE
    /// sends only the challenge), so nothing needs stripping.
    static func query(of request: AuthorizationRequest) -> [String: JSONValue] {
        var query: [String: JSONValue] = [
            "client_id": .string(request.clientID), "redirect_uri": .string(request.redirectURI), "response_type": "code",
            "response_mode": .string(request.responseMode), "scope": .string(request.scopes.joined(separator: " ")),
        ]
        let optional: [(String, String?)] = [
            ("state", request.state), ("nonce", request.nonce), ("audience", request.audience), ("prompt", request.prompt),
            ("login_hint", request.loginHint), ("screen_hint", request.screenHint), ("code_challenge", request.codeChallenge),
            ("code_challenge_method", request.codeChallengeMethod), ("max_age", request.maxAge.map(String.init)),
        ]
        for (name, value) in optional { if let value { query[name] = .string(value) } }
        return query
    }

    /// One action's part of the execution record. Secret values are masked wherever they appear, so a stray
    /// `console.log(event.secrets)` does not put them in the execution log.
    /// When an Action ran and for how long: Auth0's `started_at`/`ended_at`, and Tessera's `duration_ms` (the console's
    /// latency picture), measured on a monotonic clock.
    struct Timing {
        let started: Date
        let elapsed: Duration

        var milliseconds: Double { Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15 }
    }

    static func entry(_ action: BoundAction, logs: [ActionLog], error: String?, warnings: [String] = [], timing: Timing? = nil) -> JSONValue {
        let mask = action.masking
        var fields: [String: JSONValue] = [
            "action_name": .string(action.name),
            "logs": .array(logs.map { .string(mask("\($0.level): \($0.message)")) } + warnings.map { .string("warn: \($0)") }),
        ]
        if let timing {
            fields["started_at"] = .string(Timestamp.string(timing.started))
            fields["ended_at"] = .string(Timestamp.string(timing.started.addingTimeInterval(timing.milliseconds / 1000)))
            fields["duration_ms"] = .number((timing.milliseconds * 1000).rounded() / 1000)
        }
        if let error { fields["error"] = .string(mask(error)) }
        return .object(fields)
    }

    static func logs(of error: ActionError) -> [ActionLog] {
        if case .failed(_, let logs) = error { return logs }
        return []
    }

    static func summary(_ error: ActionError) -> String {
        switch error {
        case .failed(let message, _): String(message.split(separator: "\n").first ?? "error")
        default: "\(error)"
        }
    }
}
