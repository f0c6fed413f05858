import Foundation
import Hummingbird
import TesseraCore

/// What a request says, read one way for every route: its query string, path parameters and credentials.
extension Request {
    /// The query string's parameters (see ``RequestParameters``). Throws a client error for a malformed or oversize
    /// query, which each API family answers in its own shape.
    public var query: RequestParameters {
        get throws(DomainError) {
            guard let text = uri.query else { return RequestParameters() }
            return try RequestParameters(urlEncoded: Substring(text))
        }
    }

    /// The token of an `Authorization: Bearer …` header, if there is one (the scheme is case-insensitive).
    public var bearerToken: String? {
        guard let header = headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// A bearer header, else `?token=`: how Tinybird's API and embeddable pages take a token (an iframe cannot send
    /// headers). The header wins when both are there.
    public func bearerOrQueryToken(_ query: RequestParameters) -> String? {
        bearerToken ?? query["token"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A cookie's value, nil when absent or empty.
    public func cookie(_ name: String) -> String? {
        guard let value = cookies[name]?.value, !value.isEmpty else { return nil }
        return value
    }

    /// `Authorization: Basic base64(id:secret)` (RFC 7617, with RFC 6749 §2.3.1's form-encoding of both parts).
    /// Nil without such a header; throws `unauthenticated` for one that cannot be read.
    public var basicCredentials: BasicCredentials? {
        get throws(DomainError) {
            guard let header = headers[.authorization], header.lowercased().hasPrefix("basic ") else { return nil }
            guard let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else {
                throw DomainError(.unauthenticated, code: "invalid_client", "Malformed Basic authorization header")
            }
            let id = String(text[..<colon]), secret = String(text[text.index(after: colon)...])
            return BasicCredentials(id: id.removingPercentEncoding ?? id, secret: secret.removingPercentEncoding ?? secret)
        }
    }
}

public struct BasicCredentials: Sendable, Equatable {
    public let id: String
    public let secret: String
}

extension RequestContext {
    /// A path parameter, percent-decoded (user ids such as `auth0|abc` arrive as `auth0%7Cabc`, Tinybird's
    /// `admin%20token` as it is). A missing parameter or a malformed escape is a client error.
    public func pathParameter(_ name: String) throws(DomainError) -> String {
        guard let raw = parameters.get(name) else {
            throw DomainError.invalidQuery("The path parameter \(name) is missing")
        }
        guard let decoded = raw.removingPercentEncoding else {
            throw DomainError.invalidQuery("Malformed percent-encoding in the path")
        }
        return decoded
    }

    /// A path parameter that may end in a custom method (`usr_123:undelete`, Google's AIP-136 form): the value,
    /// percent-decoded, and the method when the text after the last `:` is one of `verbs` (a `:` inside the value
    /// stays part of it).
    public func customMethodPathParameter(_ name: String, verbs: Set<String>) throws(DomainError) -> (value: String, verb: String?) {
        guard let raw = parameters.get(name) else {
            throw DomainError.invalidQuery("The path parameter \(name) is missing")
        }
        var value = Substring(raw)
        var verb: String?
        if let colon = raw.lastIndex(of: ":"), verbs.contains(String(raw[raw.index(after: colon)...])) {
            verb = String(raw[raw.index(after: colon)...])
            value = raw[..<colon]
        }
        guard let decoded = value.removingPercentEncoding else {
            throw DomainError.invalidQuery("Malformed percent-encoding in the path")
        }
        return (decoded, verb)
    }
}
