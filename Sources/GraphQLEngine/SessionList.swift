import Foundation
import TesseraCore

/// The values of a session variable used as a list (`{"id": {"_in": "X-Hasura-Allowed-Ids"}}`).
///
/// Hasura reads such a variable as a PostgreSQL array literal (`{1,2}`, sent as a header or a string claim). A JWT
/// claim may also be a JSON array, which Hasura refuses (graphql-engine#1902, #9153) and Tessera takes as it is; a
/// single value is a list of one.
enum SessionList {
    static func items(_ raw: JSONValue, name: String) throws(HasuraError) -> [JSONValue] {
        switch raw {
        case .array(let items): return items
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("{") else { return [raw] }
            guard let items = arrayLiteral(trimmed) else {
                throw HasuraError("parse-failed", "session variable \"\(name)\": malformed array literal: \(text)")
            }
            return items
        default: return [raw]
        }
    }

    /// A one-dimensional PostgreSQL array literal: `{a,"b c","d\"e",NULL}`; nil when it is not one.
    static func arrayLiteral(_ text: String) -> [JSONValue]? {
        let characters = Array(text)
        guard characters.first == "{", characters.last == "}" else { return nil }
        var items: [JSONValue] = []
        var index = 1
        let end = characters.count - 1
        func skipSpaces() { while index < end, characters[index] == " " { index += 1 } }
        skipSpaces()
        if index == end { return [] }
        while index <= end {
            skipSpaces()
            guard index < end else { return nil }
            var item = ""
            if characters[index] == "\"" {
                index += 1
                while index < end, characters[index] != "\"" {
                    if characters[index] == "\\" { index += 1; guard index < end else { return nil } }
                    item.append(characters[index])
                    index += 1
                }
                guard index < end else { return nil }
                index += 1
                items.append(.string(item))
            } else {
                while index < end, characters[index] != ",", characters[index] != "{", characters[index] != "\"" {
                    item.append(characters[index])
                    index += 1
                }
                let value = item.trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty else { return nil }
                items.append(value.uppercased() == "NULL" ? .null : .string(value))
            }
            skipSpaces()
            if index == end { return items }
            guard characters[index] == "," else { return nil }
            index += 1
        }
        return nil
    }
}
