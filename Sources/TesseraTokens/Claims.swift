import Foundation
import JWTKit
import TesseraCore

/// A JWT payload as an open JSON object: tokens carry standard and custom claims side by side.
/// Times are whole seconds (`exp`, `iat`), never fractional.
public struct ClaimSet: JWTPayload, Equatable {
    public var claims: [String: JSONValue]

    public init(_ claims: [String: JSONValue] = [:]) {
        self.claims = claims
    }

    public init(from decoder: any Decoder) throws {
        claims = try [String: JSONValue](from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try claims.encode(to: encoder)
    }

    public subscript(name: String) -> JSONValue? {
        get { claims[name] }
        set { claims[name] = newValue }
    }

    public func string(_ name: String) -> String? { claims[name]?.stringValue }

    public func seconds(_ name: String) -> Int? {
        if case .number(let value)? = claims[name], value.isFinite { return Int(value) }
        return nil
    }

    /// `aud` as a list, whether the token wrote a string or an array.
    public var audiences: [String] {
        switch claims["aud"] {
        case .string(let value)?: [value]
        case .array(let values)?: values.compactMap(\.stringValue)
        default: []
        }
    }

    public var scopes: [String] {
        (string("scope") ?? "").split(separator: " ").map(String.init)
    }

    /// Signature checks happen in jwt-kit; time, issuer and audience in ``TokenVerifier``, where the policy lives.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension JSONValue {
    public static func seconds(_ date: Date) -> JSONValue { .number(date.timeIntervalSince1970.rounded(.down)) }
}
