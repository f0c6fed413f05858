import TesseraCore

/// A piece of HTML. Interpolating a `String` escapes it; only another `HTML` goes in as markup, so a name an API
/// returns (a user called `<script>`, a pipe description, a chart title) can never become markup by accident.
public struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var markup: String

    public init(stringLiteral value: String) { markup = value }
    public init(stringInterpolation: Interpolation) { markup = stringInterpolation.markup }
    init(trusted markup: String) { self.markup = markup }

    public var description: String { markup }

    public struct Interpolation: StringInterpolationProtocol {
        var markup = ""
        public init(literalCapacity: Int, interpolationCount: Int) { markup.reserveCapacity(literalCapacity + 16 * interpolationCount) }
        public mutating func appendLiteral(_ literal: String) { markup += literal }
        public mutating func appendInterpolation(_ text: String) { markup += HTML.escape(text) }
        public mutating func appendInterpolation(_ text: String?) { markup += HTML.escape(text ?? "") }
        public mutating func appendInterpolation(_ number: Int) { markup += String(number) }
        public mutating func appendInterpolation(_ html: HTML) { markup += html.markup }
        public mutating func appendInterpolation(_ parts: [HTML]) { for part in parts { markup += part.markup } }
        /// A JSON value as the text a person reads: strings bare, everything else as compact JSON.
        public mutating func appendInterpolation(_ value: JSONValue?) { markup += HTML.escape(value?.displayText ?? "") }
    }

    public static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    public static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        HTML(trusted: parts.map(\.markup).joined(separator: separator.markup))
    }
}

extension JSONValue {
    /// A field of an object, `nil` for anything else.
    subscript(_ key: String) -> JSONValue? { objectValue?[key] }

    var displayText: String {
        switch self {
        case .string(let text): text
        case .null: ""
        case .number(let number) where number == number.rounded() && abs(number) < 1e15: String(Int(number))
        default: jsonText()
        }
    }

    var boolValue: Bool? { if case .bool(let value) = self { value } else { nil } }

    /// Indented JSON with sorted keys, for the editors.
    var prettyText: String {
        let encoder = JSONCoding.encoder
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return jsonText() }
        return String(decoding: data, as: UTF8.self)
    }
}
