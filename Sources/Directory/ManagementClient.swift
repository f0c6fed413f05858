import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import TesseraCore

/// One outbound HTTP exchange, small enough to fake in tests.
public struct OutboundRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [String: String] = [:]
    public var body: Data?
}

public struct OutboundResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    var json: JSONValue? { try? JSONValue.parse(String(decoding: body, as: UTF8.self)) }
}

/// How the directory reaches a provider; `URLSessionTransport` in the server, a fake in tests.
public protocol OutboundTransport: Sendable {
    func send(_ request: OutboundRequest) async throws -> OutboundResponse
}

public struct URLSessionTransport: OutboundTransport {
    /// A page of users is a few hundred KiB; an export file of a large tenant is what needs room.
    let maximumBodyBytes: Int

    public init(maximumBodyBytes: Int = 256 << 20) {
        self.maximumBodyBytes = maximumBodyBytes
    }

    public func send(_ request: OutboundRequest) async throws -> OutboundResponse {
        guard let url = URL(string: request.url) else { throw DirectoryError(.invalidArgument, "Not a URL: \(request.url)") }
        var urlRequest = URLRequest(url: url, timeoutInterval: 30)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let (data, response) = try await BoundedDownload.run(urlRequest, limit: maximumBodyBytes, timeout: 30)
        guard let http = response as? HTTPURLResponse else { throw DirectoryError(.unavailable, "No HTTP response from \(url.host ?? "")") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return OutboundResponse(status: http.statusCode, headers: headers, body: data)
    }
}

/// Auth0's Management API as the directory uses it, with a connection's machine-to-machine credentials: a cached
/// client-credentials token, and patience with the source: `429` waits for `Retry-After` (or
/// `X-RateLimit-Reset`), `5xx` and network failures back off exponentially, both a bounded number of times.
public actor ManagementClient {
    let connection: Connection
    let transport: any OutboundTransport
    let clock: TesseraClock
    let sleep: @Sendable (Double) async throws -> Void
    let logger: Logger
    private var token: (value: String, expires: Date)?
    /// How many times a request is tried before the source counts as failing: 8 for syncing, fewer where a person
    /// waits for the answer (a connection test).
    let maxAttempts: Int

    public init(connection: Connection, transport: any OutboundTransport, clock: TesseraClock = .system, logger: Logger,
                maxAttempts: Int = 8,
                sleep: @escaping @Sendable (Double) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }) {
        self.maxAttempts = maxAttempts
        self.connection = connection
        self.transport = transport
        self.clock = clock
        self.logger = logger
        self.sleep = sleep
    }

    /// `GET /api/v2/<path>`; nil for 404. Other refusals are ``DirectoryError``s that say what the source said.
    public func get(_ path: String, query: [(String, String)] = []) async throws -> JSONValue? {
        try await send("GET", path, query: query)
    }

    /// `POST /api/v2/<path>` with a JSON body; nil for 404.
    public func post(_ path: String, _ body: JSONValue) async throws -> JSONValue? {
        try await send("POST", path, body: body)
    }

    private func send(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil) async throws -> JSONValue? {
        var components = URLComponents(string: connection.baseURL + "/api/v2/" + path)
        if !query.isEmpty { components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        guard let url = components?.url?.absoluteString else { throw DirectoryError.invalid("domain", "Cannot build a URL for \(path)") }
        let what = "\(method) /api/v2/\(path)"
        var refreshed = false
        for attempt in 1...maxAttempts {
            let bearer = try await accessToken()
            var headers = ["Authorization": "Bearer \(bearer)", "Accept": "application/json"]
            if body != nil { headers["Content-Type"] = "application/json" }
            let request = OutboundRequest(method: method, url: url, headers: headers, body: body.map { Data($0.jsonText().utf8) })
            guard let response = try await exchange(request, attempt: attempt) else { continue }
            switch response.status {
            case 200..<300:
                guard let json = response.json else { throw DirectoryError(.unavailable, "\(connection.domain) answered \(what) with no JSON", reason: "SOURCE_BAD_RESPONSE") }
                return json
            case 404: return nil
            case 401 where !refreshed:
                token = nil
                refreshed = true
            default:
                throw Self.refusal(response, what: what, domain: connection.domain)
            }
        }
        throw DirectoryError(.unavailable, "\(connection.domain) kept failing \(what) after \(maxAttempts) attempts", reason: "SOURCE_UNAVAILABLE")
    }

    /// A file at a URL that carries its own authorization (an export job's `location`): no bearer token is sent,
    /// since the URL may point at another host (Auth0's are pre-signed storage URLs).
    public func download(_ url: String) async throws -> Data {
        for attempt in 1...maxAttempts {
            guard let response = try await exchange(OutboundRequest(method: "GET", url: url), attempt: attempt) else { continue }
            switch response.status {
            case 200..<300: return response.body
            default: throw Self.refusal(response, what: "the export file's download", domain: connection.domain)
            }
        }
        throw DirectoryError(.unavailable, "\(connection.domain)'s export file kept failing", reason: "SOURCE_UNAVAILABLE")
    }

    /// A client-credentials token for the Management API audience (`https://<domain>/api/v2/`), reused until a minute
    /// before it expires.
    func accessToken() async throws -> String {
        if let token, token.expires > clock.now() { return token.value }
        let body: JSONValue = ["grant_type": "client_credentials", "client_id": .string(connection.clientId),
                               "client_secret": .string(connection.clientSecret), "audience": .string(connection.baseURL + "/api/v2/")]
        for attempt in 1...maxAttempts {
            let request = OutboundRequest(method: "POST", url: connection.baseURL + "/oauth/token",
                                          headers: ["Content-Type": "application/json"], body: Data(body.jsonText().utf8))
            guard let response = try await exchange(request, attempt: attempt) else { continue }
            switch response.status {
            case 200:
                guard let value = response.json?.objectValue?["access_token"]?.stringValue else {
                    throw DirectoryError(.unavailable, "\(connection.domain)/oauth/token answered without an access_token", reason: "SOURCE_BAD_RESPONSE")
                }
                let lifetime = response.json?.objectValue?["expires_in"]?.numberValue ?? 3600
                token = (value, clock.now().addingTimeInterval(max(lifetime - 60, 30)))
                return value
            default: throw Self.refusal(response, what: "the client-credentials grant", domain: connection.domain)
            }
        }
        throw DirectoryError(.unavailable, "\(connection.domain)/oauth/token kept failing", reason: "SOURCE_UNAVAILABLE")
    }

    /// One try: the response, or nil after waiting out a network failure, a `429` or a `5xx` (throwing once
    /// `attempt` was the last).
    private func exchange(_ request: OutboundRequest, attempt: Int) async throws -> OutboundResponse? {
        let response: OutboundResponse
        do {
            response = try await transport.send(request)
        } catch let error as DirectoryError {
            throw error
        } catch {
            try await backOff(attempt, because: "network: \(error.localizedDescription)")
            return nil
        }
        switch response.status {
        case 429:
            try await waitForRateLimit(response, attempt)
            return nil
        case 500...:
            try await backOff(attempt, because: "status \(response.status)")
            return nil
        default:
            return response
        }
    }

    private func waitForRateLimit(_ response: OutboundResponse, _ attempt: Int) async throws {
        guard attempt < maxAttempts else {
            throw DirectoryError(.resourceExhausted, "\(connection.domain) kept answering 429", reason: "SOURCE_RATE_LIMITED")
        }
        var wait = Double(response.headers["retry-after"] ?? "") ?? 0
        if wait == 0, let reset = Double(response.headers["x-ratelimit-reset"] ?? "") {
            wait = reset - clock.now().timeIntervalSince1970
        }
        wait = min(max(wait, 0.1), 60)
        logger.notice("directory source rate-limited", metadata: ["connection": "\(connection.id)", "wait_s": "\(wait)"])
        try await sleep(wait)
    }

    private func backOff(_ attempt: Int, because reason: String) async throws {
        guard attempt < maxAttempts else {
            throw DirectoryError(.unavailable, "\(connection.domain) is failing (\(reason))", reason: "SOURCE_UNAVAILABLE")
        }
        let wait = min(0.1 * pow(2, Double(attempt - 1)), 10)
        logger.notice("directory source failing, backing off", metadata: ["connection": "\(connection.id)", "reason": "\(reason)", "wait_s": "\(wait)"])
        try await sleep(wait)
    }

    static func refusal(_ response: OutboundResponse, what: String, domain: String) -> DirectoryError {
        let object = response.json?.objectValue
        let said = object?["message"]?.stringValue ?? object?["error_description"]?.stringValue ?? object?["error"]?.stringValue ?? "no detail"
        return DirectoryError(.failedPrecondition, "\(domain) refused \(what) with \(response.status): \(said)", reason: "SOURCE_REFUSED")
    }
}
