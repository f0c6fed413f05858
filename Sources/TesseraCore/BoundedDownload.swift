import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One outbound request whose body is read as it arrives and cut off past `limit` bytes, with a total (not idle)
/// time limit: a huge or endless response costs at most `limit` bytes of memory and `timeout` seconds. Every
/// outbound call Tessera makes (Actions' `fetch`, JWKS, the directory's Management API client, webhooks) goes
/// through it.
///
/// Two things differ from `URLSession.shared.data(for:)`, on purpose:
/// - redirects come back as responses; callers that follow them check each hop first;
/// - a `401` carrying `WWW-Authenticate` comes back as that `401`. Linux Foundation turns such an answer into an
///   authentication challenge, and its default handling never completes the task (the request hangs until its
///   timeout); refusing the challenge cancels the task instead, so the refused response is kept and returned.
public final class BoundedDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let limit: Int
    private let lock = NSLock()
    private var data = Data()
    private var response: URLResponse?
    private var challengedResponse: URLResponse?
    private var continuation: CheckedContinuation<(Data, URLResponse), any Error>?
    private var tooLarge = false

    private init(limit: Int) {
        self.limit = limit
    }

    public static func run(_ request: URLRequest, limit: Int, timeout: TimeInterval) async throws -> (Data, URLResponse) {
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

    public func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                           newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                           completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        lock.withLock { challengedResponse = challenge.failureResponse }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                           completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock { self.response = response }
        completionHandler(.allow)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive chunk: Data) {
        let over = lock.withLock { () -> Bool in
            data.append(chunk)
            if data.count > limit { tooLarge = true }
            return tooLarge
        }
        if over { dataTask.cancel() }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let (continuation, result) = lock.withLock { () -> (CheckedContinuation<(Data, URLResponse), any Error>?, Result<(Data, URLResponse), any Error>) in
            defer { self.continuation = nil }
            if tooLarge { return (self.continuation, .failure(DomainError.invalidBody("response larger than \(limit) bytes"))) }
            if let challengedResponse { return (self.continuation, .success((data, challengedResponse))) }
            if let error { return (self.continuation, .failure(error)) }
            guard let response else { return (self.continuation, .failure(DomainError.invalidBody("no response"))) }
            return (self.continuation, .success((data, response)))
        }
        continuation?.resume(with: result)
    }
}
