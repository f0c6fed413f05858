import CJavaScriptCore
import Crypto
import _CryptoExtras
import Foundation
import NIOPosix
import TesseraCore

/// A console line an action wrote.
public struct ActionLog: Sendable, Equatable {
    public let level: String
    public let message: String
}

/// What one execution of a post-login action asked for. Nothing is applied here: the caller decides.
public struct ActionExecution: Sendable, Equatable {
    public var idTokenClaims: [String: JSONValue] = [:]
    public var accessTokenClaims: [String: JSONValue] = [:]
    public var appMetadata: [String: JSONValue] = [:]
    public var userMetadata: [String: JSONValue] = [:]
    public var denyReason: String?
    public var addedScopes: [String] = []
    public var removedScopes: [String] = []
    public var logs: [ActionLog] = []
    /// `api.cache` writes: a new entry, or nil for a delete.
    public var cacheWrites: [String: ActionCache.Entry?] = [:]
    /// `api.redirect.sendUserTo(url, {query})`: where the browser goes before the flow goes on.
    public var redirect: Redirect?
    /// `api.multifactor.enable(provider, {allowRememberBrowser})`.
    public var multifactor: Multifactor?
    /// `api.session.revoke(reason)`: the sign-in is denied with this reason and the session ends.
    public var revokeSession: String?
    /// `api.authentication.recordMethod(url)`: methods the Action vouches the user completed.
    public var recordedMethods: [String] = []

    public struct Redirect: Sendable, Equatable {
        public let url: String
        public let query: [String: String]
    }

    public struct Multifactor: Sendable, Equatable {
        public let provider: String
        public let allowRememberBrowser: Bool
    }
}

/// Which of an Action's exports runs: the post-login handler, or the one that resumes after a redirect.
public enum ActionHandler: String, Sendable {
    case execute = "onExecutePostLogin"
    case resume = "onContinuePostLogin"
}

public enum ActionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The code does not parse; reported at deploy time with its position.
    case syntax(message: String, line: Int, column: Int)
    /// The code threw or its promise rejected.
    case failed(message: String, logs: [ActionLog])
    /// The code ran past its time limit.
    case timedOut(seconds: Double)

    public var description: String {
        switch self {
        case .syntax(let message, let line, let column): "\(message) (line \(line), column \(column))"
        case .failed(let message, _): message
        case .timedOut(let seconds): "the action ran longer than \(seconds) s and was stopped"
        }
    }
}

/// Runs Auth0-style post-login actions on JavaScriptCore: a fresh context per execution, a time limit,
/// a small Node-like runtime (`require('jsonwebtoken')`, `console`), no file system, processes or environment.
public struct ActionRunner: Sendable {
    let runtimeSource: String
    /// What `require` resolves; anything else fails when the action is deployed.
    public static let builtinModules = ["jsonwebtoken", "node-fetch", "crypto", "@userhub/auth0-actions", "axios", "jwt-decode", "auth0",
                                              "jose", "ipaddr.js", "buffer", "url", "querystring"]
    /// The module a dependency names, without its version: `jsonwebtoken@9` is `jsonwebtoken`, and a scoped package
    /// keeps its scope (`@userhub/auth0-actions@1.2` is `@userhub/auth0-actions`).
    public static func moduleName(ofDependency dependency: String) -> String {
        let scoped = dependency.hasPrefix("@")
        let body = scoped ? dependency.dropFirst() : Substring(dependency)
        let name = body.split(separator: "@", maxSplits: 1).first.map(String.init) ?? String(body)
        return scoped ? "@" + name : name
    }

    /// Node's core modules are also named `node:<name>` (`node:crypto`).
    static func withoutNodePrefix(_ name: String) -> String {
        let bare = name.hasPrefix("node:") ? String(name.dropFirst(5)) : name
        return Self.nodeCoreModules.contains(bare) ? bare : name
    }

    static let nodeCoreModules: Set<String> = ["crypto", "buffer", "url", "querystring"]

    /// What the runtime knows of its host: where `@userhub/auth0-actions` reports sign-ins (Tessera's own
    /// directory, or `USERHUB_API_URL`).
    let host: JSONValue

    public init(userHubBaseURL: String? = nil) throws {
        guard let url = Bundle.module.url(forResource: "runtime", withExtension: "js"),
              let source = try? String(contentsOf: url, encoding: .utf8)
        else { throw DomainError(.unavailable, code: "actions_runtime_missing", "the Actions runtime (runtime.js) is missing") }
        runtimeSource = source
        host = .object(userHubBaseURL.map { ["userhubBaseURL": .string($0)] } ?? [:])
    }

    /// Refuses, before the action is ever run, `require('x')` of a module the runtime does not provide and calls to
    /// parts of Auth0's `api` that Tessera does not have: such an Action fails at deploy, naming what is missing,
    /// never halfway through someone's sign-in.
    public func checkRequires(_ code: String) throws {
        let pattern = /require\(\s*["'`]([^"'`]+)["'`]\s*\)/
        for match in code.matches(of: pattern) where !Self.builtinModules.contains(Self.withoutNodePrefix(String(match.1))) {
            throw ActionError.failed(
                message: "Cannot find module '\(match.1)': Tessera Actions provide \(Self.builtinModules.joined(separator: ", "))",
                logs: [])
        }
        for match in code.matches(of: /\bapi\s*\.\s*([A-Za-z]+)\s*\.\s*([A-Za-z]+)/) {
            let name = "api.\(match.1).\(match.2)"
            if let reason = Self.unsupportedAPI[name] {
                throw ActionError.failed(message: "\(name) is not available in Tessera Actions: \(reason)", logs: [])
            }
        }
        if code.contains("AuthenticationClient"), code.contains("auth0") {
            throw ActionError.failed(message: "auth0's AuthenticationClient is not available in Tessera Actions: the auth0 module provides ManagementClient", logs: [])
        }
    }

    /// Auth0's post-login `api` methods Tessera does not provide, and why.
    static let unsupportedAPI: [String: String] = [
        "api.authentication.challengeWith": "factors are chosen with api.multifactor.enable (authenticator apps)",
        "api.authentication.challengeWithAny": "factors are chosen with api.multifactor.enable (authenticator apps)",
        "api.authentication.enrollWith": "enrolment happens on the hosted page that api.multifactor.enable leads to",
        "api.authentication.enrollWithAny": "enrolment happens on the hosted page that api.multifactor.enable leads to",
        "api.authentication.setPrimaryUser": "account linking is not supported",
        "api.samlResponse.setAttribute": "Tessera does not speak SAML",
        "api.samlResponse.setAudience": "Tessera does not speak SAML",
        "api.samlResponse.setIssuer": "Tessera does not speak SAML",
        "api.samlResponse.setRecipient": "Tessera does not speak SAML",
        "api.session.setExpiresAt": "session lifetimes are fixed (7 days)",
        "api.session.setIdleExpiresAt": "session lifetimes are fixed (7 days)",
        "api.session.setMetadata": "sessions carry no metadata",
        "api.session.deleteMetadata": "sessions carry no metadata",
        "api.session.evictMetadata": "sessions carry no metadata",
        "api.prompt.render": "Forms are not supported: redirect to your own page with api.redirect.sendUserTo",
        "api.transaction.setResultUrl": "not supported",
        "api.refreshToken.revoke": "refresh tokens are revoked through /oauth/revoke",
        "api.refreshToken.setExpiresAt": "refresh token lifetimes are fixed",
        "api.refreshToken.setIdleExpiresAt": "refresh token lifetimes are fixed",
    ]

    /// Parses `code` without running it: what deploying an action checks.
    public func checkSyntax(_ code: String) throws {
        try JSContextScope.with(timeLimit: 5) { scope in try scope.checkSyntax(code) }
    }

    /// Runs `exports.onExecutePostLogin(event, api)` on a blocking-pool thread and returns what it asked for.
    /// `cache` is the action's `api.cache` entries; what the action writes comes back in `cacheWrites`.
    /// `outbound` is where its `fetch` may go (see ``OutboundPolicy``).
    /// `invocation` is what the `api` needs beyond the event: `canRedirect`, `issuerHost`, and when resuming the
    /// `continueState` a returned token must name.
    public func run(code: String, event: JSONValue, cache: [String: ActionCache.Entry] = [:],
                    timeLimit: Double = 20, outbound: OutboundPolicy = OutboundPolicy(),
                    resolver: @escaping OutboundPolicy.Resolver = OutboundPolicy.systemResolver,
                    handler: ActionHandler = .execute, invocation: JSONValue = .object([:])) async throws -> ActionExecution {
        let runtime = runtimeSource
        var fields = self.host.objectValue ?? [:]
        fields["invocation"] = invocation
        let host = JSONValue.object(fields)
        let snapshot = JSONValue.object(cache.mapValues { .object(["value": .string($0.value), "expires_at": .number(Double($0.expiresAt))]) })
        return try await NIOThreadPool.singleton.runIfActive {
            try JSContextScope.with(timeLimit: timeLimit) { scope in
                scope.mailbox.outbound = (outbound, resolver)
                return try scope.run(runtime: runtime, code: code, event: event, cache: snapshot, host: host, timeLimit: timeLimit,
                                     handler: handler)
            }
        }
    }
}

/// The JavaScriptCore virtual machine (context group) of one blocking-pool thread. Executions on that thread
/// share it, each in a fresh global context, so isolation holds while parsed code (the runtime prelude, a
/// flow's actions) is reused from the VM's code cache instead of being compiled again every time.
final class ThreadEngine {
    static let key = "tessera.actions.engine"
    let group = JSContextGroupCreate()
    var executions = 0

    static var current: ThreadEngine {
        if let engine = Thread.current.threadDictionary[key] as? ThreadEngine { return engine }
        let engine = ThreadEngine()
        Thread.current.threadDictionary[key] = engine
        return engine
    }
}

/// One global context, alive for one execution on one thread.
final class JSContextScope {
    let engine: ThreadEngine
    let context: JSGlobalContextRef
    let mailbox = FetchMailbox()
    /// Collect garbage every so many executions, so a busy thread's heap stays flat.
    static let collectEvery = 256

    private init(timeLimit: Double) {
        engine = ThreadEngine.current
        context = JSGlobalContextCreateInGroup(engine.group, nil)
        JSContextGroupSetExecutionTimeLimit(engine.group, timeLimit, { _, _ in true }, nil)
    }

    deinit {
        engine.executions += 1
        if engine.executions % Self.collectEvery == 0 { JSGarbageCollect(context) }
        JSGlobalContextRelease(context)
    }

    /// The native `fetch` finds this execution's mailbox through the thread, since C callbacks capture nothing.
    static func with<Result>(timeLimit: Double, _ body: (JSContextScope) throws -> Result) throws -> Result {
        let scope = JSContextScope(timeLimit: timeLimit)
        Thread.current.threadDictionary[FetchMailbox.threadKey] = scope.mailbox
        defer { Thread.current.threadDictionary.removeObject(forKey: FetchMailbox.threadKey) }
        return try body(scope)
    }

    func checkSyntax(_ code: String) throws {
        var exception: JSValueRef?
        let script = JSString(code), url = JSString("action.js")
        if !JSCheckScriptSyntax(context, script.ref, url.ref, 1, &exception) {
            throw syntaxError(exception)
        }
    }

    func run(runtime: String, code: String, event: JSONValue, cache: JSONValue, host: JSONValue, timeLimit: Double,
             handler: ActionHandler) throws -> ActionExecution {
        let started = Date()
        // Whatever happens (a throw at the top level, a timeout), pending fetches release their hold on the context.
        defer { mailbox.releaseAll(context: context) }
        installNatives()
        try setGlobal("__cacheSnapshot", json: cache)
        try setGlobal("__host", json: host)
        try evaluate(runtime, url: "tessera-runtime.js")
        try evaluate("var exports = {}; var module = { exports: exports };", url: "tessera-module.js")
        try checkSyntax(code)
        do {
            try evaluate(code, url: "action.js")
            try setGlobal("__event", json: event)
            let name = handler.rawValue
            try evaluate("__tessera.run(module.exports.\(name) || exports.\(name), __event, '\(name)')", url: "tessera-run.js")
            let deadline = started.addingTimeInterval(timeLimit)
            let settled = try runEventLoop(until: deadline, timeLimit: timeLimit)
            let execution = try outcome()
            if let error = settled["error"]?.stringValue {
                throw ActionError.failed(message: error, logs: execution.logs)
            }
            guard settled["settled"] == .bool(true) else {
                throw ActionError.failed(message: "the action awaited something that never settled", logs: execution.logs)
            }
            return execution
        } catch let error as ActionError {
            if case .failed = error, Date().timeIntervalSince(started) >= timeLimit * 0.99 {
                throw ActionError.timedOut(seconds: timeLimit)
            }
            throw error
        }
    }

    /// While the handler awaits requests or timers, settles requests as they complete and fires timers as they
    /// fall due, until its promise settles, nothing is left to wait for, or the deadline passes.
    private func runEventLoop(until deadline: Date, timeLimit: Double) throws -> [String: JSONValue] {
        var settled = try state()
        while settled["settled"] != .bool(true) {
            // Checked on every pass: timers that keep re-arming at 0 ms must not spin past the limit either.
            guard Date() < deadline else { throw ActionError.timedOut(seconds: timeLimit) }
            let timer = settled["timer"]?.numberValue.flatMap { $0 >= 0 ? $0 / 1000 : nil }
            guard mailbox.pending > 0 || timer != nil else { break }
            if let timer, timer <= 0 {
                try evaluate("__tessera.fireTimers()", url: "tessera-timers.js")
            } else {
                let wake = timer.map { min(deadline, Date().addingTimeInterval($0)) } ?? deadline
                if mailbox.pending > 0 {
                    if !mailbox.settleNext(context: context, until: wake), wake >= deadline { throw ActionError.timedOut(seconds: timeLimit) }
                } else {
                    guard wake < deadline else { throw ActionError.timedOut(seconds: timeLimit) }
                    Thread.sleep(until: wake)
                }
            }
            settled = try state()
        }
        return settled
    }

    private func state() throws -> [String: JSONValue] {
        let text = string(try evaluate("__tessera.stateJSON()", url: "tessera-state.js")) ?? "{}"
        guard let state = (try? JSONValue.parse(text))?.objectValue else {
            throw ActionError.failed(message: "the action's state could not be read", logs: [])
        }
        return state
    }

    private func outcome() throws -> ActionExecution {
        let value = try evaluate("__tessera.outcomeJSON()", url: "tessera-outcome.js")
        // A claim nested past the parser's depth limit (or otherwise unreadable) fails the action, not the request.
        guard let text = string(value), let outcome = (try? JSONValue.parse(text))?.objectValue else {
            throw ActionError.failed(message: "the action's results could not be read (claims nested too deeply?)", logs: [])
        }
        func object(_ key: String) -> [String: JSONValue] { outcome[key]?.objectValue ?? [:] }
        func strings(_ key: String) -> [String] {
            if case .array(let items)? = outcome[key] { return items.compactMap(\.stringValue) }
            return []
        }
        var logs: [ActionLog] = []
        if case .array(let items)? = outcome["logs"] {
            logs = items.compactMap { item in
                guard let fields = item.objectValue, let level = fields["level"]?.stringValue,
                      let message = fields["message"]?.stringValue else { return nil }
                return ActionLog(level: level, message: message)
            }
        }
        var cacheWrites: [String: ActionCache.Entry?] = [:]
        for (key, value) in object("cacheWrites") {
            if let fields = value.objectValue, let text = fields["value"]?.stringValue,
               let expires = fields["expires_at"]?.numberValue.flatMap({ Int64(exactly: $0.rounded(.down)) }) {
                cacheWrites[key] = ActionCache.Entry(value: text, expiresAt: expires)
            } else {
                cacheWrites[key] = .some(nil)
            }
        }
        var execution = ActionExecution(
            idTokenClaims: object("idToken"), accessTokenClaims: object("accessToken"),
            appMetadata: object("appMetadata"), userMetadata: object("userMetadata"),
            denyReason: outcome["deny"]?.stringValue, addedScopes: strings("addScopes"),
            removedScopes: strings("removeScopes"), logs: logs, cacheWrites: cacheWrites)
        if let redirect = outcome["redirect"]?.objectValue, let url = redirect["url"]?.stringValue {
            execution.redirect = .init(url: url, query: (redirect["query"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
        }
        if let multifactor = outcome["multifactor"]?.objectValue, let provider = multifactor["provider"]?.stringValue {
            execution.multifactor = .init(provider: provider, allowRememberBrowser: multifactor["allowRememberBrowser"] == .bool(true))
        }
        execution.revokeSession = outcome["revokeSession"]?.stringValue
        execution.recordedMethods = strings("recordedMethods")
        return execution
    }

    @discardableResult
    private func evaluate(_ source: String, url: String) throws -> JSValueRef {
        var exception: JSValueRef?
        let script = JSString(source), name = JSString(url)
        guard let value = JSEvaluateScript(context, script.ref, nil, name.ref, 1, &exception), exception == nil else {
            throw ActionError.failed(message: describe(exception), logs: [])
        }
        return value
    }

    private func syntaxError(_ exception: JSValueRef?) -> ActionError {
        .syntax(message: describe(exception), line: property(exception, "line").flatMap { Int(exactly: $0.rounded(.down)) } ?? 0,
                column: property(exception, "column").flatMap { Int(exactly: $0.rounded(.down)) } ?? 0)
    }

    private func describe(_ exception: JSValueRef?) -> String {
        guard let exception else { return "unknown error" }
        var text = string(exception) ?? "unknown error"
        if let line = property(exception, "line").flatMap({ Int(exactly: $0.rounded(.down)) }) { text += " (line \(line))" }
        return text
    }

    private func property(_ value: JSValueRef?, _ name: String) -> Double? {
        guard let value, let object = JSValueToObject(context, value, nil) else { return nil }
        let key = JSString(name)
        guard let property = JSObjectGetProperty(context, object, key.ref, nil), JSValueIsNumber(context, property) else { return nil }
        return JSValueToNumber(context, property, nil)
    }

    func string(_ value: JSValueRef?) -> String? {
        guard let value, let copy = JSValueToStringCopy(context, value, nil) else { return nil }
        defer { JSStringRelease(copy) }
        return JSString.swiftString(copy)
    }


    private func setGlobal(_ name: String, _ value: JSValueRef) {
        let key = JSString(name)
        JSObjectSetProperty(context, JSContextGetGlobalObject(context), key.ref, value, JSPropertyAttributes(kJSPropertyAttributeNone), nil)
    }

    private func setGlobal(_ name: String, json: JSONValue) throws {
        let text = JSString(json.jsonText())
        guard let value = JSValueMakeFromJSONString(context, text.ref) else {
            throw ActionError.failed(message: "\(name) could not be built", logs: [])
        }
        setGlobal(name, value)
    }

    /// The runtime's native helpers: HMAC JWS signing and verification, and base64url decoding.
    private func installNatives() {
        let natives: JSObjectRef = JSObjectMake(context, nil, nil)
        func add(_ name: String, _ callback: JSObjectCallAsFunctionCallback) {
            let key = JSString(name)
            JSObjectSetProperty(context, natives, key.ref, JSObjectMakeFunctionWithCallback(context, key.ref, callback),
                                JSPropertyAttributes(kJSPropertyAttributeReadOnly), nil)
        }
        add("jwsSign") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let (alg, secret, header, payload) = (try call.string(0), try call.string(1), try call.string(2), try call.string(3))
                let input = Data(header.utf8).base64URLEncoded() + "." + Data(payload.utf8).base64URLEncoded()
                return .string(input + "." + (try ActionJWS.sign(alg: alg, key: secret, input: input)))
            }
        }
        add("jwsVerify") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let (alg, secret, token) = (try call.string(0), try call.string(1), try call.string(2))
                let parts = token.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 3 else { return .bool(false) }
                return .bool(try ActionJWS.verify(alg: alg, key: secret, input: parts[0] + "." + parts[1], signature: String(parts[2])))
            }
        }
        add("jwsVerifyJWK") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let (alg, modulus, exponent, token) = (try call.string(0), try call.string(1), try call.string(2), try call.string(3))
                let parts = token.split(separator: ".", omittingEmptySubsequences: false)
                guard parts.count == 3 else { return .bool(false) }
                return .bool(try ActionJWS.verify(alg: alg, modulus: modulus, exponent: exponent, input: parts[0] + "." + parts[1],
                                                  signature: String(parts[2])))
            }
        }
        add("base64urlDecode") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                guard let data = Data(base64URLEncoded: try call.string(0)), let text = String(data: data, encoding: .utf8) else {
                    throw DomainError.invalidBody("invalid base64url")
                }
                return .string(text)
            }
        }
        add("randomBytes") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let size = min(65_536, max(0, Int(try call.string(0)) ?? 0))
                return .string(Hex.encode(RandomToken.bytes(size)))
            }
        }
        add("digest") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let data = try Digests.bytes(fromHex: try call.string(1))
                return .string(try Digests.digest(try call.string(0), data))
            }
        }
        add("hmac") { context, _, _, count, arguments, exception in
            NativeCall(context: context, count: count, arguments: arguments, exception: exception).respond { call in
                let key = try Digests.bytes(fromHex: try call.string(1)), data = try Digests.bytes(fromHex: try call.string(2))
                return .string(try Digests.hmac(try call.string(0), key: key, data))
            }
        }
        add("fetch") { context, _, _, count, arguments, exception in
            let call = NativeCall(context: context, count: count, arguments: arguments, exception: exception)
            do {
                guard let context, let mailbox = Thread.current.threadDictionary[FetchMailbox.threadKey] as? FetchMailbox else {
                    throw DomainError(.unavailable, code: "fetch_unavailable", "fetch is not available here")
                }
                return try mailbox.start(try call.string(0), context: context)
            } catch {
                return call.respond { _ in throw error }
            }
        }
        setGlobal("__native", natives)
    }
}

/// Arguments and result of a native function called from JavaScript.
struct NativeCall {
    enum Result { case string(String), bool(Bool) }

    let context: JSContextRef?
    let count: Int
    let arguments: UnsafePointer<JSValueRef?>?
    let exception: UnsafeMutablePointer<JSValueRef?>?

    func string(_ index: Int) throws -> String {
        guard index < count, let value = arguments?[index], let copy = JSValueToStringCopy(context, value, nil) else {
            throw DomainError.invalidBody("argument \(index + 1) is missing")
        }
        defer { JSStringRelease(copy) }
        return JSString.swiftString(copy)
    }

    func respond(_ body: (NativeCall) throws -> Result) -> JSValueRef? {
        do {
            switch try body(self) {
            case .string(let text):
                let value = JSString(text)
                return JSValueMakeString(context, value.ref)
            case .bool(let flag):
                return JSValueMakeBoolean(context, flag)
            }
        } catch {
            let message = JSString("\(error)")
            var argument: JSValueRef? = JSValueMakeString(context, message.ref)
            exception?.pointee = JSObjectMakeError(context, 1, &argument, nil)
            return JSValueMakeUndefined(context)
        }
    }
}

/// Signatures for `jsonwebtoken`: HMAC with a shared secret (HS256/384/512) or RSA PKCS#1 v1.5 with a PEM key
/// (RS256/384/512). The runtime has already matched the key's kind to the algorithm.
enum ActionJWS {
    static func sign(alg: String, key: String, input: some StringProtocol) throws -> String {
        let data = Data(input.utf8)
        switch alg {
        case "HS256", "HS384", "HS512":
            return Data(try hmac(alg, key: SymmetricKey(data: Data(key.utf8)), data)).base64URLEncoded()
        case "RS256", "RS384", "RS512":
            let privateKey: _RSA.Signing.PrivateKey
            do { privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: key) } catch {
                throw DomainError.invalidBody("secretOrPrivateKey is not a valid PEM RSA private key")
            }
            return try privateKey.signature(for: digest(alg, data), padding: .insecurePKCS1v1_5).rawRepresentation.base64URLEncoded()
        default:
            throw DomainError.invalidBody("unsupported algorithm \(alg)")
        }
    }

    static func verify(alg: String, key: String, input: some StringProtocol, signature: String) throws -> Bool {
        guard let signatureBytes = Data(base64URLEncoded: signature) else { return false }
        let data = Data(input.utf8)
        switch alg {
        case "HS256", "HS384", "HS512":
            let expected = try hmac(alg, key: SymmetricKey(data: Data(key.utf8)), data)
            return expected.count == signatureBytes.count && zip(expected, signatureBytes).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
        case "RS256", "RS384", "RS512":
            let publicKey: _RSA.Signing.PublicKey
            if let key = try? _RSA.Signing.PublicKey(pemRepresentation: key) { publicKey = key }
            else if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: key) { publicKey = key.publicKey }
            else { throw DomainError.invalidBody("secretOrPublicKey is not a valid PEM RSA key") }
            return publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signatureBytes),
                                              for: try digest(alg, data), padding: .insecurePKCS1v1_5)
        default:
            return false
        }
    }

    /// RS256/384/512 with a public key given as a JWK's `n` and `e` (base64url), as `jose` verifies against a JWKS.
    static func verify(alg: String, modulus: String, exponent: String, input: some StringProtocol, signature: String) throws -> Bool {
        guard ["RS256", "RS384", "RS512"].contains(alg) else { return false }
        guard let n = Data(base64URLEncoded: modulus), let e = Data(base64URLEncoded: exponent),
              let signatureBytes = Data(base64URLEncoded: signature) else { return false }
        let publicKey: _RSA.Signing.PublicKey
        do { publicKey = try _RSA.Signing.PublicKey(n: n, e: e) } catch { throw DomainError.invalidBody("the JWK is not a usable RSA key") }
        return publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signatureBytes),
                                          for: try digest(alg, Data(input.utf8)), padding: .insecurePKCS1v1_5)
    }

    private static func hmac(_ alg: String, key: SymmetricKey, _ data: Data) throws -> [UInt8] {
        switch alg {
        case "HS256": Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case "HS384": Array(HMAC<SHA384>.authenticationCode(for: data, using: key))
        default: Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    private static func digest(_ alg: String, _ data: Data) throws -> any Digest {
        switch alg {
        case "RS256": SHA256.hash(data: data)
        case "RS384": SHA384.hash(data: data)
        default: SHA512.hash(data: data)
        }
    }
}

/// A JSStringRef owned by Swift, released when it goes away.
final class JSString {
    let ref: JSStringRef

    init(_ text: String) {
        ref = text.withCString { JSStringCreateWithUTF8CString($0) }
    }

    deinit {
        JSStringRelease(ref)
    }

    static func swiftString(_ string: JSStringRef) -> String {
        let size = JSStringGetMaximumUTF8CStringSize(string)
        var buffer = [CChar](repeating: 0, count: size)
        _ = JSStringGetUTF8CString(string, &buffer, size)
        return String(cString: buffer)
    }
}

/// Hashes and HMACs for the Actions `crypto` module, by Node's algorithm names.
enum Digests {
    static func bytes(fromHex hex: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let byte = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else {
                throw DomainError.invalidBody("invalid hex")
            }
            bytes.append(byte)
        }
        return bytes
    }

    static func digest(_ algorithm: String, _ data: [UInt8]) throws -> String {
        switch algorithm.lowercased() {
        case "sha256": Hex.encode(SHA256.hash(data: data))
        case "sha384": Hex.encode(SHA384.hash(data: data))
        case "sha512": Hex.encode(SHA512.hash(data: data))
        case "sha1": Hex.encode(Insecure.SHA1.hash(data: data))
        case "md5": Hex.encode(Insecure.MD5.hash(data: data))
        default: throw DomainError.invalidBody("Digest method not supported: \(algorithm)")
        }
    }

    static func hmac(_ algorithm: String, key: [UInt8], _ data: [UInt8]) throws -> String {
        let key = SymmetricKey(data: key)
        switch algorithm.lowercased() {
        case "sha256": return Hex.encode(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case "sha384": return Hex.encode(HMAC<SHA384>.authenticationCode(for: data, using: key))
        case "sha512": return Hex.encode(HMAC<SHA512>.authenticationCode(for: data, using: key))
        case "sha1": return Hex.encode(HMAC<Insecure.SHA1>.authenticationCode(for: data, using: key))
        default: throw DomainError.invalidBody("Invalid HMAC algorithm: \(algorithm)")
        }
    }
}
