import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore

/// JSON responses written the project's one way (sorted keys, unescaped slashes).
public enum JSONResponse {
    /// JSONValue writes itself (sorted keys, no escaped slashes, as ``JSONCoding/encoder``) several times faster than
    /// JSONEncoder walks it through Codable: a page of 100 users went from most of a request's time to a little.
    /// Marked `throws` only so that call sites read alike for every value.
    public static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        text(value.jsonText(), status: status, headers: headers)
    }

    public static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok,
                            headers: HTTPFields = [:]) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return text(String(decoding: data, as: UTF8.self), status: status, headers: headers)
    }

    public static func text(_ json: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = fields[.cacheControl] ?? "no-store"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    public static func empty(status: HTTPResponse.Status = .noContent) -> Response {
        Response(status: status)
    }
}

/// Reading request bodies with a size limit, as JSON or as an HTML form.
public enum BodyReader {
    /// The default cap on a request body; Auth0's Management API refuses bodies larger than this too.
    public static let defaultLimit = 64 * 1024

    public static func bytes(_ request: Request, limit: Int = defaultLimit) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge(limit)
        }
    }

    /// A JSON body. The content type must say JSON, and the text must parse.
    public static func json(_ request: Request, limit: Int = defaultLimit) async throws -> JSONValue {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw DomainError(.invalidInput, code: "invalid_content_type",
                              "Content-Type must be application/json (got \(contentType.isEmpty ? "none" : contentType))")
        }
        let buffer = try await bytes(request, limit: limit)
        do {
            return try JSONValue.parse(bytes: Array(buffer: buffer))
        } catch {
            throw DomainError.invalidBody("Invalid request payload JSON format")
        }
    }

    /// `application/x-www-form-urlencoded` fields, decoded as query strings are.
    public static func form(_ request: Request, limit: Int = defaultLimit) async throws -> RequestParameters {
        let buffer = try await bytes(request, limit: limit)
        return try RequestParameters(urlEncoded: Substring(String(buffer: buffer)), maximumLength: limit)
    }

    /// Whether the body is declared as an HTML form.
    public static func isForm(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
    }

    static func tooLarge(_ limit: Int) -> DomainError {
        DomainError(.payloadTooLarge, code: "payload_too_large", "Request body is larger than \(limit) bytes")
    }
}

extension HTTPField.Name {
    public static let pragma = HTTPField.Name("Pragma")!
    public static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    public static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}

/// Files a module ships in its resources (pages, scripts, styles), read once at start.
public enum BundledFile {
    /// The file `name` (with its extension) in `subdirectory` of `bundle`; a missing file is an error at start, not a
    /// 404 later.
    public static func load(_ name: String, subdirectory: String, from bundle: Bundle) throws -> ByteBuffer {
        let file = URL(fileURLWithPath: name)
        guard let url = bundle.url(forResource: file.deletingPathExtension().lastPathComponent, withExtension: file.pathExtension,
                                   subdirectory: subdirectory),
              let data = FileManager.default.contents(atPath: url.path)
        else { throw DomainError(.unavailable, code: "resource_missing", "\(subdirectory)/\(name) is missing from the resources") }
        return ByteBuffer(bytes: data)
    }
}
