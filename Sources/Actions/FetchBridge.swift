import CJavaScriptCore
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TesseraCore

/// Outbound HTTP for actions (`fetch`, `require('node-fetch')`). Requests run as Swift tasks; their results
/// come back through this mailbox to the one thread that owns the JavaScript context, which waits on it.
/// A lock and a semaphore (not an actor) because that thread is a blocking-pool thread that must block.
final class FetchMailbox: @unchecked Sendable {
    struct Completion {
        let id: Int
        let result: Result<String, any Error>
    }

    static let threadKey = "tessera.actions.fetch"
    static let timeout: TimeInterval = 10
    static let maximumBodyBytes = 1 << 20
    static let maximumRequests = 20

    private let lock = NSLock()
    private let signal = DispatchSemaphore(value: 0)
    private var completions: [Completion] = []
    private var promises: [Int: (resolve: JSObjectRef, reject: JSObjectRef)] = [:]
    private var nextID = 0
    private var started = 0
    private var tasks: [Task<Void, Never>] = []
    /// Where this execution's requests may go; set on the JavaScript thread before the action runs.
    var outbound: (policy: OutboundPolicy, resolver: OutboundPolicy.Resolver) = (OutboundPolicy(), OutboundPolicy.systemResolver)
    static let maximumRedirects = 5

    var pending: Int { promises.count }

    /// Called on the JavaScript thread from the native `fetch`: starts the request, returns its promise.
    func start(_ requestJSON: String, context: JSContextRef) throws -> JSObjectRef {
        guard started < Self.maximumRequests else {
            throw DomainError.invalidBody("an action may make at most \(Self.maximumRequests) requests per execution")
        }
        let request = try Self.request(from: requestJSON)
        var resolve: JSObjectRef?, reject: JSObjectRef?, exception: JSValueRef?
        guard let promise = JSObjectMakeDeferredPromise(context, &resolve, &reject, &exception), let resolve, let reject else {
            throw DomainError(.unavailable, code: "promise_failed", "could not create a promise")
        }
        JSValueProtect(context, resolve)
        JSValueProtect(context, reject)
        let id = nextID
        nextID += 1
        started += 1
        promises[id] = (resolve, reject)
        let outbound = self.outbound
        tasks.append(Task { [self] in
            let result: Result<String, any Error>
            do { result = .success(try await Self.perform(request, outbound: outbound)) } catch { result = .failure(error) }
            lock.withLock { completions.append(Completion(id: id, result: result)) }
            signal.signal()
        })
        return promise
    }

    /// Waits (on the JavaScript thread) for the next completion and settles its promise. False on timeout.
    func settleNext(context: JSContextRef, until deadline: Date) -> Bool {
        let wait = DispatchTime.now() + max(0, deadline.timeIntervalSinceNow)
        guard signal.wait(timeout: wait) == .success else { return false }
        let ready = lock.withLock { () -> [Completion] in
            defer { completions.removeAll() }
            return completions
        }
        for completion in ready {
            guard let promise = promises.removeValue(forKey: completion.id) else { continue }
            let value: JSValueRef
            let target: JSObjectRef
            switch completion.result {
            case .success(let json):
                let text = JSString(json)
                value = JSValueMakeString(context, text.ref)
                target = promise.resolve
            case .failure(let error):
                let message = JSString("FetchError: \(error)")
                var argument: JSValueRef? = JSValueMakeString(context, message.ref)
                value = JSObjectMakeError(context, 1, &argument, nil)
                target = promise.reject
            }
            var arguments: [JSValueRef?] = [value]
            JSObjectCallAsFunction(context, target, nil, 1, &arguments, nil)
            JSValueUnprotect(context, promise.resolve)
            JSValueUnprotect(context, promise.reject)
        }
        return true
    }

    /// Ends the execution's requests: unfinished ones are cancelled, and their promises let go of the context.
    func releaseAll(context: JSContextRef) {
        for task in tasks { task.cancel() }
        tasks.removeAll()
        for promise in promises.values {
            JSValueUnprotect(context, promise.resolve)
            JSValueUnprotect(context, promise.reject)
        }
        promises.removeAll()
    }

    struct Request: Sendable {
        let url: URL
        let method: String
        let headers: [String: String]
        let body: String?
    }

    static func request(from json: String) throws -> Request {
        let fields = try JSONValue.parse(json).objectValue ?? [:]
        guard let text = fields["url"]?.stringValue, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host != nil
        else { throw DomainError.invalidBody("fetch needs an absolute http(s) URL") }
        var headers: [String: String] = [:]
        for (name, value) in fields["headers"]?.objectValue ?? [:] { headers[name] = value.stringValue ?? value.jsonText() }
        return Request(url: url, method: fields["method"]?.stringValue ?? "GET", headers: headers,
                       body: fields["body"]?.stringValue)
    }

    /// Follows redirects itself (at most five), so every hop is checked against the policy on the addresses its host
    /// resolves to. A plain `http` hop connects to the address that was checked (the Host header keeps the name), so a
    /// second, different DNS answer cannot slip in between the check and the connection; an `https` hop connects by name,
    /// and the certificate, which must be valid for that name, stands in for the check.
    static func perform(_ request: Request, outbound: (policy: OutboundPolicy, resolver: OutboundPolicy.Resolver)) async throws -> String {
        var url = request.url, method = request.method, body = request.body
        for hop in 0...maximumRedirects {
            guard let host = url.host, let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
                throw DomainError.invalidBody("fetch followed a redirect to \(url.absoluteString), which is not an http(s) URL")
            }
            let addresses = try await outbound.policy.addresses(for: url, resolver: outbound.resolver)
            var target = url
            var headers = request.headers
            // IPv4 first: a dual-stack name's IPv6 answer may have no listener (a loopback server on 127.0.0.1 only).
            if scheme == "http", let address = addresses.first(where: \.isIPv4) ?? addresses.first, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) {
                components.host = address.isIPv4 ? address.description : "[\(address.description)]"
                target = components.url ?? url
                headers = headers.filter { $0.key.lowercased() != "host" }
                headers["Host"] = url.port.map { "\(host):\($0)" } ?? host
            }
            var urlRequest = URLRequest(url: target, timeoutInterval: timeout)
            urlRequest.httpMethod = method
            for (name, value) in headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
            if let body { urlRequest.httpBody = Data(body.utf8) }
            let (data, response) = try await BoundedDownload.run(urlRequest, limit: maximumBodyBytes, timeout: timeout)
            let http = response as? HTTPURLResponse
            let status = http?.statusCode ?? 0
            if [301, 302, 303, 307, 308].contains(status), let location = http?.value(forHTTPHeaderField: "Location"),
               let next = URL(string: location, relativeTo: url)?.absoluteURL {
                guard hop < maximumRedirects else { throw DomainError.invalidBody("fetch stopped after \(maximumRedirects) redirects") }
                if status == 303 || ([301, 302].contains(status) && method.uppercased() == "POST") {
                    method = "GET"
                    body = nil
                }
                url = next
                continue
            }
            var fields: [String: JSONValue] = [:]
            for (name, value) in http?.allHeaderFields ?? [:] {
                fields[String(describing: name).lowercased()] = .string(String(describing: value))
            }
            return JSONValue.object([
                "url": .string(url.absoluteString),
                "status": .number(Double(status)),
                "statusText": .string(HTTPURLResponse.localizedString(forStatusCode: status)),
                "headers": .object(fields),
                "body": .string(String(decoding: data, as: UTF8.self)),
            ]).jsonText()
        }
        throw DomainError.invalidBody("fetch stopped after \(maximumRedirects) redirects")
    }
}
