import Foundation
import HTTPTypes
import Logging
import Testing
import TesseraHTTP
@testable import TesseraCore

@Suite struct JSONTests {
    @Test func parsesWhatFoundationParsesAndWritesItBack() throws {
        let text = #"{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"d\"\\\/\n\u00e9\ud83d\ude00"},"e":"https://x/y","n":0}"#
        let value = try JSONValue.parse(text)
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(value.objectValue?["b"]?.objectValue?["c"]?.stringValue == (foundation?["b"] as? [String: Any])?["c"] as? String)
        #expect(value.jsonText() == #"{"a":[1,2.5,-300,true,false,null],"b":{"c":"d\"\\/\né😀"},"e":"https://x/y","n":0}"#)
        #expect(try JSONValue.parse(value.jsonText()) == value)
    }

    /// Strings without escapes are taken straight from the input (ASCII unvalidated, the rest validated); strings with
    /// escapes, in part or whole, go the long way. Both must read the same.
    @Test func readsStringsWithAndWithoutEscapesAlike() throws {
        let cases: [(String, String)] = [(#""plain""#, "plain"), (#""Cádiz 😀""#, "Cádiz 😀"), (#""a\nb""#, "a\nb"),
                                         (#""Cá\"diz""#, "Cá\"diz"), (#""""#, ""), ("\"line\u{2028}sep\"", "line\u{2028}sep")]
        for (text, expected) in cases { #expect(try JSONValue.parse(text).stringValue == expected, "\(text)") }
        #expect(throws: (any Error).self) { try JSONValue.parse(bytes: [0x22, 0x61, 0xFF, 0x62, 0x22]) }
        #expect(throws: (any Error).self) { try JSONValue.parse(bytes: [0x22, 0xC3, 0x22]) }
        #expect(throws: (any Error).self) { try JSONValue.parse(bytes: [0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":}", "01", "1.", "\"\\x\"", "\"a", "tru", "{} x", "\"\u{01}\"", "\"\\ud800\"", "1e999", "{\"a\" 1}"])
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(text) }
    }

    @Test func capsNestingDepth() throws {
        #expect(throws: (any Error).self) { try JSONValue.parse(String(repeating: "[", count: 10_000)) }
        _ = try JSONValue.parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60))
    }

    @Test func escapesControlCharactersAndLineSeparators() {
        #expect(JSONValue.string("a\u{01}b\u{2028}").jsonText() == #""a\u0001b\u2028""#)
        #expect(JSONValue.number(42).jsonText() == "42")
        #expect(JSONValue.number(0.5).jsonText() == "0.5")
    }
}

@Suite struct Base64URLTests {
    @Test(arguments: 0..<12)
    func roundTripsEveryLength(_ length: Int) {
        let data = Data((0..<length).map { UInt8(($0 * 97 + 13) % 256) })
        let encoded = data.base64URLEncoded()
        let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(encoded == expected)
        #expect(Data(base64URLEncoded: encoded) == data)
    }

    @Test func refusesPaddingAndForeignCharacters() {
        #expect(Data(base64URLEncoded: "YQ==") == nil)
        #expect(Data(base64URLEncoded: "a b") == nil)
    }
}

/// The one decoder every route uses for query strings and form bodies.
@Suite struct RequestParametersTests {
    @Test func decodesPercentEscapesAndPlusAndKeepsRepeatedNames() throws {
        let parameters = try RequestParameters(urlEncoded: "a=1&b=x+y%2Fz&c=%E2%9C%93&a=2&empty=&=novalue&plus=%2B&space=%20")
        #expect(parameters["a"] == "1")
        #expect(parameters.all("a") == ["1", "2"])
        #expect(parameters["b"] == "x y/z")
        #expect(parameters["c"] == "✓")
        #expect(parameters["empty"] == "")
        #expect(parameters["plus"] == "+")
        #expect(parameters["space"] == " ")
        #expect(parameters.pairs.count == 7)
        #expect(parameters.firstValues.count == 6)
        #expect(parameters.removing(["a", "b"]).firstValues.keys.sorted() == ["c", "empty", "plus", "space"])
    }

    @Test(arguments: ["bad=%G1", "cut=%4", "%zz=1", "bytes=%FF%FE"])
    func refusesMalformedEscapes(_ text: String) {
        #expect(throws: DomainError.self) { try RequestParameters(urlEncoded: Substring(text)) }
    }

    @Test func limitsLengthAndCount() throws {
        let long = String(repeating: "a", count: RequestParameters.maximumQueryLength + 1)
        #expect { try RequestParameters(urlEncoded: Substring(long)) } throws: { ($0 as? DomainError)?.kind == .uriTooLong }
        let many = (0...RequestParameters.maximumCount).map { "k\($0)=1" }.joined(separator: "&")
        #expect { try RequestParameters(urlEncoded: Substring(many)) } throws: { ($0 as? DomainError)?.kind == .invalidInput }
        let most = (1...RequestParameters.maximumCount).map { "k\($0)=1" }.joined(separator: "&")
        #expect(try RequestParameters(urlEncoded: Substring(most)).pairs.count == RequestParameters.maximumCount)
    }

    @Test func encodesWhatItDecodes() throws {
        let parameters = try RequestParameters(urlEncoded: "q=SELECT+1+%2B+1&name=%C3%A9t%C3%A9&x=a%26b%3Dc")
        #expect(try RequestParameters(urlEncoded: Substring(parameters.urlEncoded)) == parameters)
    }
}

@Suite struct MultipartTests {
    @Test func readsPartsWithTheirNamesAndFiles() throws {
        #expect(Multipart.boundary(of: "multipart/form-data; boundary=\"abc\"") == "abc")
        #expect(Multipart.boundary(of: "multipart/form-data; charset=utf-8; boundary=xyz") == "xyz")
        #expect(Multipart.boundary(of: "application/json") == nil)
        #expect(Multipart.boundary(of: "multipart/form-data") == nil)
        let body = "preamble\r\n--abc\r\nContent-Disposition: form-data; name=\"csv\"; filename=\"rows.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            + "a,b\r\n1,2\r\n--abc\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n--not the boundary\r\n--abc--\r\nepilogue"
        let parts = try Multipart.parts(Array(body.utf8), boundary: "abc")
        #expect(parts.map(\.name) == ["csv", "note"])
        #expect(parts[0].filename == "rows.csv" && parts[0].contentType == "text/csv" && parts[0].text == "a,b\r\n1,2")
        #expect(parts[1].filename == nil && parts[1].text == "--not the boundary")
    }

    @Test(arguments: ["no delimiter at all", "--abc\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever closed",
                      "--abc\r\nContent-Disposition: form-data\r\n\r\nx\r\n--abc--", "--abc\r\nx\r\n--abc--", "--abcX"])
    func refusesMalformedBodies(_ body: String) {
        #expect(throws: DomainError.self) { try Multipart.parts(Array(body.utf8), boundary: "abc") }
    }
}

@Suite struct TrustedProxiesTests {
    @Test(arguments: ["nope", "10.0.0.0/33", "::1/129", "10.0.0.0/x", "300.1.1.1"])
    func refusesWhatIsNotAnAddressOrCIDR(_ list: String) {
        #expect(throws: DomainError.self) { try TrustedProxies(list) }
    }

    @Test func matchesAddressesAndNetworksIPv4MappedIncluded() throws {
        let proxies = try TrustedProxies("10.0.0.0/8, 192.168.1.7, ::1, fd00::/8")
        for address in ["10.1.2.3", "::ffff:10.1.2.3", "192.168.1.7", "::1", "fd12::1"] { #expect(proxies.trusts(address), "\(address)") }
        for address in ["11.0.0.1", "192.168.1.8", "::2", "fe80::1", "unknown", ""] { #expect(!proxies.trusts(address), "\(address)") }
        #expect(!TrustedProxies.none.trusts("127.0.0.1"))
    }

    @Test func readsTheNearestUntrustedHopFromTrustedPeersOnly() throws {
        let proxies = try TrustedProxies("127.0.0.1, 10.0.0.0/8")
        func client(_ peer: String, _ fields: [(String, String)]) -> String {
            var headers = HTTPFields()
            for (name, value) in fields { headers[HTTPField.Name(name)!] = value }
            return proxies.clientAddress(peer: peer, headers: headers)
        }
        #expect(client("203.0.113.9", [("X-Forwarded-For", "1.2.3.4")]) == "203.0.113.9", "an untrusted peer's header is ignored")
        #expect(client("127.0.0.1", []) == "127.0.0.1")
        #expect(client("127.0.0.1", [("X-Forwarded-For", "203.0.113.7")]) == "203.0.113.7")
        #expect(client("127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.0.0.2")]) == "203.0.113.7",
                "the rightmost untrusted hop, not what the client wrote on the left")
        #expect(client("127.0.0.1", [("X-Forwarded-For", "198.51.100.1:443")]) == "198.51.100.1")
        #expect(client("127.0.0.1", [("X-Forwarded-For", "garbage")]) == "127.0.0.1")
        #expect(client("127.0.0.1", [("Forwarded", #"for=192.0.2.60;proto=http;by=10.0.0.1, for="[2001:db8::17]:4711""#)]) == "2001:db8::17")
        #expect(client("127.0.0.1", [("Forwarded", "for=unknown"), ("X-Forwarded-For", "203.0.113.7")]) == "127.0.0.1",
                "Forwarded wins over X-Forwarded-For, and an unknown hop ends the walk")
    }
}

@Suite struct LogRedactionTests {
    @Test func reducesBindsAndWireMessagesToTheirShapes() {
        let metadata: Logger.Metadata = [
            "sql": "INSERT INTO t VALUES ($1, $2)", "binds": .array(["the-admin-token", .stringConvertible(42)]),
            "psql_message": "DataRow(secret)", "psql_binds": .dictionary(["a": "s3cret"]), "path": "/v0/sql",
        ]
        let redacted = LogRedaction.redact(metadata)
        #expect(redacted["sql"] == "INSERT INTO t VALUES ($1, $2)" && redacted["path"] == "/v0/sql")
        #expect(redacted["binds"] == .array(["<15 chars>", "<2 chars>"]))
        #expect(redacted["psql_message"] == "<15 chars>" && redacted["psql_binds"] == .dictionary(["a": "<6 chars>"]))
    }
}

@Suite struct TimestampTests {
    /// Times read from text are binary fractions a hair below what was written: they must come back as written.
    @Test(arguments: ["2024-05-01T10:00:00.188Z", "2024-05-01T10:00:00.000Z", "1999-12-31T23:59:59.999Z", "2026-01-02T03:04:05.007Z"])
    func writesBackTheMillisecondsItRead(_ text: String) throws {
        let date = try Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        #expect(Timestamp.string(date) == text)
    }

    @Test func roundsToTheNearestMillisecond() {
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1.9996)) == "1970-01-01T00:00:02.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1.0004)) == "1970-01-01T00:00:01.000Z")
    }
}
