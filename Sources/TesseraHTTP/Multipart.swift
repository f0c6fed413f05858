import Foundation
import Hummingbird
import NIOCore
import TesseraCore

/// One part of a `multipart/form-data` body (RFC 7578): its field name, the file name it was sent with, and its bytes.
public struct MultipartPart: Sendable, Equatable {
    public let name: String
    public let filename: String?
    public let contentType: String?
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Reads `multipart/form-data` bodies, as `curl -F` and Tinybird's `tb datasource append` send files.
public enum Multipart {
    /// The `boundary` parameter of a `multipart/form-data` content type, if it is one.
    public static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(value.utf8.count) ? value : nil
            }
        }
        return nil
    }

    /// The parts between `--boundary` lines. A body without its closing delimiter, or a part without headers, is a
    /// client error rather than a silently shorter upload.
    public static func parts(_ body: [UInt8], boundary: String, maximumParts: Int = 100) throws(DomainError) -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        guard var start = body.firstRange(of: delimiter)?.upperBound else { throw malformed("no opening boundary") }
        var parts: [MultipartPart] = []
        while true {
            // After a delimiter: `--` closes the body, CRLF opens a part.
            if body[start...].starts(with: Array("--".utf8)) { return parts }
            guard body[start...].starts(with: crlf) else { throw malformed("a boundary line must end with CRLF") }
            start += 2
            guard let next = body[start...].firstRange(of: crlf + delimiter) else { throw malformed("no closing boundary") }
            guard parts.count < maximumParts else { throw malformed("more than \(maximumParts) parts") }
            parts.append(try part(Array(body[start..<next.lowerBound])))
            start = next.upperBound
        }
    }

    static let crlf: [UInt8] = [13, 10]

    static func part(_ bytes: [UInt8]) throws(DomainError) -> MultipartPart {
        guard let split = bytes.firstRange(of: crlf + crlf) else { throw malformed("a part has no header section") }
        let headers = String(decoding: bytes[..<split.lowerBound], as: UTF8.self)
        var name: String?, filename: String?, contentType: String?
        for line in headers.components(separatedBy: "\r\n") {
            let field = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard field.count == 2 else { continue }
            switch field[0].lowercased() {
            case "content-disposition":
                name = parameter("name", in: field[1])
                filename = parameter("filename", in: field[1])
            case "content-type":
                contentType = field[1]
            default: continue
            }
        }
        guard let name else { throw malformed("a part has no name in its Content-Disposition") }
        return MultipartPart(name: name, filename: filename, contentType: contentType, body: Array(bytes[split.upperBound...]))
    }

    static func parameter(_ key: String, in disposition: String) -> String? {
        for item in disposition.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == key {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    static func malformed(_ detail: String) -> DomainError {
        DomainError.invalidBody("Malformed multipart/form-data body: \(detail)")
    }
}

extension BodyReader {
    /// A `multipart/form-data` body's parts, or nil when the body is not multipart.
    public static func multipart(_ request: Request, limit: Int = defaultLimit) async throws -> [MultipartPart]? {
        guard let boundary = Multipart.boundary(of: request.headers[.contentType]) else { return nil }
        return try Multipart.parts(Array(buffer: try await bytes(request, limit: limit)), boundary: boundary)
    }
}
