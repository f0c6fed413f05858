import Foundation
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

@Suite struct FormEncodingTests {
    @Test func decodesPercentEscapesAndPlus() {
        let fields = FormEncoding.decode("a=1&b=x+y%2Fz&c=%E2%9C%93&a=2&empty=&bad=%G1&=novalue")
        #expect(fields["a"] == "1")
        #expect(fields["b"] == "x y/z")
        #expect(fields["c"] == "✓")
        #expect(fields["empty"] == "")
        #expect(fields["bad"] == "")
        #expect(fields.count == 5)
    }
}
