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
        tasks.append(Task { [self] in
            let result: Result<String, any Error>
            do { result = .success(try await Self.perform(request)) } catch { result = .failure(error) }
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
        guard !isLinkLocal(url.host ?? "") else {
            throw DomainError.invalidBody("fetch may not reach link-local addresses (169.254.0.0/16, fe80::/10) or cloud metadata services")
        }
        var headers: [String: String] = [:]
        for (name, value) in fields["headers"]?.objectValue ?? [:] { headers[name] = value.stringValue ?? value.jsonText() }
        return Request(url: url, method: fields["method"]?.stringValue ?? "GET", headers: headers,
                       body: fields["body"]?.stringValue)
    }

    /// Link-local addresses are where cloud metadata services (and their credentials) live; an action has no business
    /// there. IPv4 literals are read as the resolver reads them (decimal, hex and octal forms included). Loopback and
    /// private networks stay reachable: a self-hosted GraphQL engine on localhost is the seeds' everyday setup.
    static func isLinkLocal(_ rawHost: String) -> Bool {
        let host = rawHost.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
        if ["metadata", "metadata.google.internal", "metadata.goog"].contains(host) { return true }
        var v4 = in_addr()
        if inet_aton(host, &v4) != 0 {
            return UInt32(bigEndian: v4.s_addr) >> 16 == 0xA9FE
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return mapped && bytes[12] == 169 && bytes[13] == 254
    }

    static func perform(_ request: Request) async throws -> String {
        var urlRequest = URLRequest(url: request.url, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        if let body = request.body { urlRequest.httpBody = Data(body.utf8) }
        let (data, response) = try await BoundedDownload.run(urlRequest, limit: maximumBodyBytes, timeout: timeout)
        let http = response as? HTTPURLResponse
        var headers: [String: JSONValue] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] {
            headers[String(describing: name).lowercased()] = .string(String(describing: value))
        }
        let status = http?.statusCode ?? 0
        return JSONValue.object([
            "url": .string(response.url?.absoluteString ?? request.url.absoluteString),
            "status": .number(Double(status)),
            "statusText": .string(HTTPURLResponse.localizedString(forStatusCode: status)),
            "headers": .object(headers),
            "body": .string(String(decoding: data, as: UTF8.self)),
        ]).jsonText()
    }
}

/// One request whose body is read as it arrives and cut off past `limit` bytes, with a total (not idle) time
/// limit: a huge or endless response costs at most `limit` bytes of memory and `timeout` seconds.
final class BoundedDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let limit: Int
    private let lock = NSLock()
    private var data = Data()
    private var response: URLResponse?
    private var continuation: CheckedContinuation<(Data, URLResponse), any Error>?
    private var tooLarge = false

    private init(limit: Int) {
        self.limit = limit
    }

    static func run(_ request: URLRequest, limit: Int, timeout: TimeInterval) async throws -> (Data, URLResponse) {
        let download = BoundedDownload(limit: limit)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration, delegate: download, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                download.lock.withLock { download.continuation = continuation }
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { self.response = response }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive chunk: Data) {
        let over = lock.withLock { () -> Bool in
            data.append(chunk)
            if data.count > limit { tooLarge = true }
            return tooLarge
        }
        if over { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = lock.withLock { () -> (CheckedContinuation<(Data, URLResponse), any Error>?, Result<(Data, URLResponse), any Error>) in
            defer { self.continuation = nil }
            if tooLarge { return (self.continuation, .failure(DomainError.invalidBody("response larger than \(limit) bytes"))) }
            if let error { return (self.continuation, .failure(error)) }
            guard let response else { return (self.continuation, .failure(DomainError.invalidBody("no response"))) }
            return (self.continuation, .success((data, response)))
        }
        continuation?.resume(with: result)
    }
}
