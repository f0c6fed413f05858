import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore

/// JSON responses written the project's one way (sorted keys, unescaped slashes).
public enum JSONResponse {
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

    /// `application/x-www-form-urlencoded` fields; a repeated field keeps its first value.
    public static func form(_ request: Request, limit: Int = defaultLimit) async throws -> [String: String] {
        let buffer = try await bytes(request, limit: limit)
        return FormEncoding.decode(String(buffer: buffer))
    }

    static func tooLarge(_ limit: Int) -> DomainError {
        DomainError(.payloadTooLarge, code: "payload_too_large", "Request body is larger than \(limit) bytes")
    }
}

public enum FormEncoding {
    public static func decode(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(parts[0]), !name.isEmpty else { continue }
            let value = parts.count > 1 ? unescape(parts[1]) ?? "" : ""
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }

    /// `+` is a space and `%XX` a byte; a malformed escape makes the whole field unreadable.
    private static func unescape(_ part: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(part.utf8.count)
        var iterator = part.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension Request {
    /// The token of an `Authorization: Bearer …` header, if there is one.
    public var bearerToken: String? {
        guard let header = headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// The query parameters, each name with its first value, decoded as a form is (`+` is a space),
    /// which is how browsers, requests and authlib encode them.
    public var queryDictionary: [String: String] {
        FormEncoding.decode(uri.query ?? "")
    }

    /// A query parameter by name (the first, when repeated).
    public func query(_ name: String) -> String? {
        queryDictionary[name]
    }
}

extension HTTPField.Name {
    public static let pragma = HTTPField.Name("Pragma")!
    public static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    public static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
