/// Splits SQL written by people (migrations, `run_sql`) into statements, since drivers run one at a time: on `;`
/// outside quotes, comments, PostgreSQL dollar quotes and SQLite trigger bodies (`BEGIN … END`).
enum SQLScript {
    static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Character] = []
        let characters = Array(script)
        var index = 0
        var blockDepth = 0
        func flush() {
            let text = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { statements.append(text) }
            current.removeAll(keepingCapacity: true)
            blockDepth = 0
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "'", "\"", "`":
                // Quoted text or identifier; a doubled quote is an escaped one.
                current.append(character)
                index += 1
                while index < characters.count {
                    current.append(characters[index])
                    if characters[index] == character {
                        if index + 1 < characters.count, characters[index + 1] == character {
                            current.append(characters[index + 1])
                            index += 2
                            continue
                        }
                        break
                    }
                    index += 1
                }
                index += 1
            case "-" where index + 1 < characters.count && characters[index + 1] == "-":
                while index < characters.count, characters[index] != "\n" { index += 1 }
            case "/" where index + 1 < characters.count && characters[index + 1] == "*":
                index += 2
                while index + 1 < characters.count, !(characters[index] == "*" && characters[index + 1] == "/") { index += 1 }
                index += 2
            case "$":
                // $tag$ … $tag$ (PostgreSQL function bodies).
                var end = index + 1
                while end < characters.count, characters[end] == "_" || characters[end].isLetter || characters[end].isNumber { end += 1 }
                if end < characters.count, characters[end] == "$" {
                    let tag = Array(characters[index...end])
                    current.append(contentsOf: tag)
                    index = end + 1
                    while index < characters.count {
                        if characters[index] == "$", index + tag.count <= characters.count, Array(characters[index..<index + tag.count]) == tag {
                            current.append(contentsOf: tag)
                            index += tag.count
                            break
                        }
                        current.append(characters[index])
                        index += 1
                    }
                } else {
                    current.append(character)
                    index += 1
                }
            case ";" where blockDepth == 0:
                flush()
                index += 1
            default:
                if character.isLetter, index == 0 || !(characters[index - 1].isLetter || characters[index - 1] == "_") {
                    var end = index
                    while end < characters.count, characters[end].isLetter || characters[end] == "_" { end += 1 }
                    let word = String(characters[index..<end]).uppercased()
                    let soFar = String(current).uppercased()
                    if word == "BEGIN", soFar.contains("TRIGGER"), soFar.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("CREATE") {
                        blockDepth += 1
                    } else if word == "CASE", blockDepth > 0 {
                        blockDepth += 1
                    } else if word == "END", blockDepth > 0 {
                        blockDepth -= 1
                    }
                    current.append(contentsOf: characters[index..<end])
                    index = end
                } else {
                    current.append(character)
                    index += 1
                }
            }
        }
        flush()
        return statements
    }

    /// Whether a statement answers rows (SQLite cannot say so when none come back).
    static func returnsRows(_ statement: String) -> Bool {
        let head = statement.prefix(12).uppercased()
        return ["SELECT", "WITH", "VALUES", "PRAGMA", "EXPLAIN", "SHOW", "TABLE"].contains { head.hasPrefix($0) }
            || statement.uppercased().contains("RETURNING")
    }
}
