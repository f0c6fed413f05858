import Foundation
import SQLiteNIO
import TesseraCore

/// A ClickHouse column type as Tinybird writes it in a `.datasource` schema, and how its values are checked
/// on the way in and stored in the embedded engine (SQLite): integers and booleans as INTEGER, floats as REAL,
/// dates and date-times as ClickHouse-formatted TEXT (which sorts in time order), arrays as JSON TEXT.
public indirect enum ColumnType: Sendable, Equatable, CustomStringConvertible {
    case string
    case integer(bits: Int, signed: Bool)
    case float(bits: Int)
    case bool
    case date
    case dateTime
    case dateTime64(precision: Int)
    case nullable(ColumnType)
    case lowCardinality(ColumnType)
    case array(ColumnType)
    /// `AggregateFunction(f, T)`: a partial aggregate (`sumState(x)`) that `sumMerge` finishes; written by materialized
    /// views, merged per sorting key by `AggregatingMergeTree`.
    case aggregateState(AggregateFunction, argument: ColumnType?)
    /// `SimpleAggregateFunction(f, T)`: a plain `T` value that merging engines combine with `f`.
    case simpleAggregate(AggregateFunction, ColumnType)

    public var description: String {
        switch self {
        case .string: "String"
        case .integer(let bits, let signed): "\(signed ? "Int" : "UInt")\(bits)"
        case .float(let bits): "Float\(bits)"
        case .bool: "Bool"
        case .date: "Date"
        case .dateTime: "DateTime"
        case .dateTime64(let precision): "DateTime64(\(precision))"
        case .nullable(let inner): "Nullable(\(inner))"
        case .lowCardinality(let inner): "LowCardinality(\(inner))"
        case .array(let inner): "Array(\(inner))"
        case .aggregateState(let function, let argument):
            "AggregateFunction(\(function.rawValue)\(argument.map { ", \($0)" } ?? ""))"
        case .simpleAggregate(let function, let inner): "SimpleAggregateFunction(\(function.rawValue), \(inner))"
        }
    }

    /// The type with `LowCardinality` and `Nullable` wrappers removed.
    var base: ColumnType {
        switch self {
        case .nullable(let inner), .lowCardinality(let inner), .simpleAggregate(_, let inner): inner.base
        default: self
        }
    }

    var isNullable: Bool {
        switch self {
        case .nullable: true
        case .lowCardinality(let inner), .simpleAggregate(_, let inner): inner.isNullable
        default: false
        }
    }

    var sqliteAffinity: String {
        switch base {
        case .integer, .bool: "INTEGER"
        case .float: "REAL"
        case .aggregateState(let function, let argument): function.stateAffinity(argument)
        default: "TEXT"
        }
    }

    public static func parse(_ text: String) throws -> ColumnType {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func inner(_ prefix: String) -> String? {
            guard trimmed.hasPrefix(prefix + "("), trimmed.hasSuffix(")") else { return nil }
            return String(trimmed.dropFirst(prefix.count + 1).dropLast())
        }
        if let inside = inner("Nullable") { return .nullable(try parse(inside)) }
        if let inside = inner("LowCardinality") { return .lowCardinality(try parse(inside)) }
        if let inside = inner("Array") { return .array(try parse(inside)) }
        if let inside = inner("AggregateFunction") {
            let (function, arguments) = try aggregateParts(inside, in: trimmed)
            guard arguments.count <= 1 else { throw DomainError.invalidBody("\(trimmed): one argument type is supported") }
            return .aggregateState(function, argument: arguments.first)
        }
        if let inside = inner("SimpleAggregateFunction") {
            let (function, arguments) = try aggregateParts(inside, in: trimmed)
            guard arguments.count == 1, function.isSimple else {
                throw DomainError.invalidBody("\(trimmed): SimpleAggregateFunction takes sum, min, max, any or anyLast and one type")
            }
            return .simpleAggregate(function, arguments[0])
        }
        if let inside = inner("DateTime64") {
            let precision = Int(inside.split(separator: ",").first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 3
            return .dateTime64(precision: precision)
        }
        if trimmed.hasPrefix("DateTime(") { return .dateTime }  // DateTime('UTC'): the zone is not kept
        switch trimmed {
        case "String", "UUID": return .string
        case "Bool", "Boolean": return .bool
        case "Date", "Date32": return .date
        case "DateTime": return .dateTime
        case "DateTime64": return .dateTime64(precision: 3)
        case "Float32": return .float(bits: 32)
        case "Float64": return .float(bits: 64)
        default:
            for (prefix, signed) in [("UInt", false), ("Int", true)] where trimmed.hasPrefix(prefix) {
                if let bits = Int(trimmed.dropFirst(prefix.count)), [8, 16, 32, 64].contains(bits) {
                    return .integer(bits: bits, signed: signed)
                }
            }
            throw DomainError.invalidBody("Unsupported type \(trimmed): use String, Int8…Int64, UInt8…UInt64, Float32/64, Bool, Date, DateTime, DateTime64, Nullable(…), LowCardinality(…) or Array(…)")
        }
    }

    /// `sum, Float64` → (.sum, [Float64]); commas inside a type's parentheses belong to it.
    static func aggregateParts(_ inside: String, in whole: String) throws -> (AggregateFunction, [ColumnType]) {
        var parts: [String] = [], current = "", depth = 0
        for character in inside {
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            if character == ",", depth == 0 { parts.append(current); current = "" } else { current.append(character) }
        }
        parts.append(current)
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        guard let function = AggregateFunction(rawValue: name) else {
            throw DomainError.invalidBody("\(whole): the embedded engine keeps states of \(AggregateFunction.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
        }
        return (function, try parts.dropFirst().map { try parse($0) })
    }

    /// A value that does not fit the column, with the reason a quarantined row records.
    public struct Mismatch: Error, Sendable, Equatable {
        public let reason: String
    }

    /// Checks a JSON value against the type and returns what the engine stores.
    public func storable(_ value: JSONValue?) throws(Mismatch) -> SQLiteData {
        guard let value, value != .null else {
            if isNullable { return .null }
            throw Mismatch(reason: "is missing and the column is not Nullable")
        }
        switch base {
        case .string:
            if case .string(let text) = value { return .text(text) }
            if case .number = value { return .text(value.jsonText()) }
            if case .bool(let flag) = value { return .text(flag ? "true" : "false") }
            throw Mismatch(reason: "expected String, got \(value.jsonText().prefix(40))")
        case .integer(let bits, let signed):
            let number: Double
            switch value {
            case .number(let n): number = n
            case .string(let text): guard let n = Double(text) else { throw Mismatch(reason: "expected \(base), got \"\(text.prefix(40))\"") }; number = n
            default: throw Mismatch(reason: "expected \(base), got \(value.jsonText().prefix(40))")
            }
            guard number.rounded() == number, let integer = Int64(exactly: number) else {
                throw Mismatch(reason: "expected \(base), got \(value.jsonText().prefix(40))")
            }
            guard Self.fits(integer, bits: bits, signed: signed) else { throw Mismatch(reason: "\(integer) is out of range for \(base)") }
            return .integer(Int(integer))
        case .float:
            switch value {
            case .number(let n): return .float(n)
            case .string(let text): if let n = Double(text) { return .float(n) }
            default: break
            }
            throw Mismatch(reason: "expected \(base), got \(value.jsonText().prefix(40))")
        case .bool:
            switch value {
            case .bool(let flag): return .integer(flag ? 1 : 0)
            case .number(let n) where n == 0 || n == 1: return .integer(Int(n))
            case .string(let text) where ["true", "false", "1", "0"].contains(text.lowercased()):
                return .integer(["true", "1"].contains(text.lowercased()) ? 1 : 0)
            default: throw Mismatch(reason: "expected Bool, got \(value.jsonText().prefix(40))")
            }
        case .date, .dateTime, .dateTime64:
            guard let text = value.stringValue ?? value.numberValue.flatMap({ CalendarText.dateTime(fromUnix: $0) }),
                  let parsed = CalendarText.parse(text)
            else { throw Mismatch(reason: "expected \(base) like \(base == .date ? "2026-11-21" : "2026-11-21 10:30:00"), got \(value.jsonText().prefix(40))") }
            return .text(base == .date ? CalendarText.date(parsed) : CalendarText.dateTime(parsed))
        case .array(let element):
            guard case .array(let items) = value else { throw Mismatch(reason: "expected \(base), got \(value.jsonText().prefix(40))") }
            for item in items { _ = try element.storable(item) }
            return .text(value.jsonText())
        case .aggregateState:
            throw Mismatch(reason: "an \(base) column is written by a materialized view (with \(base.stateFunctionName)), not by appends")
        case .nullable, .lowCardinality, .simpleAggregate:
            return .null  // unreachable: `base` removed the wrappers
        }
    }

    /// Checks a CSV field (text) against the type.
    public func storable(csv field: String) throws(Mismatch) -> SQLiteData {
        if field.isEmpty || field == "\\N" {
            if isNullable { return .null }
            if base == .string { return .text("") }
        }
        switch base {
        case .string: return .text(field)
        case .array:
            guard let parsed = try? JSONValue.parse(field.replacingOccurrences(of: "'", with: "\"")) else {
                throw Mismatch(reason: "expected \(base), got \(field.prefix(40))")
            }
            return try storable(parsed)
        default:
            return try storable(.string(field))
        }
    }

    /// The `-State` function that writes an `AggregateFunction` column, for messages.
    var stateFunctionName: String {
        if case .aggregateState(let function, _) = self { return function.rawValue + "State" }
        return ""
    }

    static func fits(_ value: Int64, bits: Int, signed: Bool) -> Bool {
        if signed {
            if bits == 64 { return true }
            let limit = Int64(1) << (bits - 1)
            return value >= -limit && value < limit
        }
        if value < 0 { return false }
        return bits == 64 || value < (Int64(1) << bits)
    }
}

/// Dates and date-times in ClickHouse's text form, always UTC.
enum CalendarText {
    struct Parts: Equatable {
        var year, month, day, hour, minute, second: Int
    }

    /// Accepts `2026-11-21`, `2026-11-21 10:30:00`, `2026-11-21T10:30:00(.sss)(Z)` and unix seconds.
    static func parse(_ text: String) -> Parts? {
        let bytes = Array(text.utf8)
        if !bytes.isEmpty, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }), bytes.count >= 9, let seconds = Double(text) {
            return dateTime(fromUnix: seconds).flatMap(parse)
        }
        guard bytes.count >= 10, bytes[4] == 45, bytes[7] == 45 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var parts = Parts(year: year, month: month, day: day, hour: 0, minute: 0, second: 0)
        if bytes.count == 10 { return parts }
        guard bytes.count >= 19, bytes[10] == 32 || bytes[10] == 84, bytes[13] == 58, bytes[16] == 58,
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              hour < 24, minute < 60, second < 60
        else { return nil }
        let rest = bytes[19...]
        // Fractions and a UTC designator are accepted; other offsets are not, rather than silently shifted.
        var index = rest.startIndex
        if index < rest.endIndex, rest[index] == 46 {
            index += 1
            while index < rest.endIndex, rest[index] >= 48 && rest[index] <= 57 { index += 1 }
        }
        if index < rest.endIndex, rest[index] == 90 { index += 1 }
        guard index == rest.endIndex else { return nil }
        parts.hour = hour
        parts.minute = minute
        parts.second = second
        return parts
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Formatted by hand: `String(format:)` cost a quarter of NDJSON ingestion's time (BENCHMARKS.md, issue 11).
    static func date(_ parts: Parts) -> String {
        var text = ""
        text.reserveCapacity(10)
        append(parts.year, width: 4, to: &text); text.append("-")
        append(parts.month, width: 2, to: &text); text.append("-")
        append(parts.day, width: 2, to: &text)
        return text
    }

    static func dateTime(_ parts: Parts) -> String {
        var text = date(parts)
        text.reserveCapacity(19)
        text.append(" "); append(parts.hour, width: 2, to: &text)
        text.append(":"); append(parts.minute, width: 2, to: &text)
        text.append(":"); append(parts.second, width: 2, to: &text)
        return text
    }

    /// A non-negative number, zero-padded to `width` digits.
    private static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text.append(String(repeating: "0", count: width - digits.count)) }
        text.append(digits)
    }

    /// Unix seconds as ClickHouse text; nil outside years 0001–9999 (or for NaN and infinity), which a `time_t`
    /// conversion would otherwise trap on.
    static func dateTime(fromUnix seconds: Double) -> String? {
        guard seconds.isFinite, seconds > -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        var time = time_t(seconds.rounded(.down))
        var broken = tm()
        gmtime_r(&time, &broken)
        return dateTime(Parts(year: Int(broken.tm_year) + 1900, month: Int(broken.tm_mon) + 1, day: Int(broken.tm_mday),
                              hour: Int(broken.tm_hour), minute: Int(broken.tm_min), second: Int(broken.tm_sec)))
    }

    /// Days since 1970-01-01 (civil calendar), for week arithmetic.
    static func dayNumber(_ parts: Parts) -> Int {
        let y = parts.month <= 2 ? parts.year - 1 : parts.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (parts.month + 9) % 12
        let doy = (153 * mp + 2) / 5 + parts.day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func parts(fromDayNumber days: Int) -> Parts {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return Parts(year: yoe + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day, hour: 0, minute: 0, second: 0)
    }
}
