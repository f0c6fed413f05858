import Foundation
import SQLiteNIO

/// The ClickHouse functions Tinybird pipes use most, as SQLite functions, so common pipes run unchanged on the
/// embedded engine. Dates are ClickHouse-formatted text (`2026-11-21`, `2026-11-21 10:30:00`), always UTC.
enum ClickHouseFunctions {
    static var all: [SQLiteCustomFunction] {
        scalar + aggregates + AggregateStates.functions
    }

    static func parts(_ value: SQLiteData) -> CalendarText.Parts? {
        switch value {
        case .text(let text): CalendarText.parse(text)
        case .integer(let seconds): CalendarText.dateTime(fromUnix: Double(seconds)).flatMap(CalendarText.parse)
        case .float(let seconds): CalendarText.dateTime(fromUnix: seconds).flatMap(CalendarText.parse)
        default: nil
        }
    }

    static func dateFunction(_ name: String, _ transform: @escaping @Sendable (CalendarText.Parts) -> (any SQLiteDataConvertible)?) -> SQLiteCustomFunction {
        SQLiteCustomFunction(name, argumentCount: nil, pure: true) { arguments in
            guard let first = arguments.first, let parts = parts(first) else { return nil }
            return transform(parts)
        }
    }

    static func truthy(_ value: SQLiteData?) -> Bool {
        switch value {
        case .integer(let n)?: n != 0
        case .float(let n)?: n != 0
        case .text(let text)?: !text.isEmpty && text != "0"
        default: false
        }
    }

    static func text(_ value: SQLiteData) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let n): String(n)
        case .float(let n): n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .blob(let buffer): String(buffer: buffer)
        case .null: nil
        }
    }

    static let scalar: [SQLiteCustomFunction] = [
        dateFunction("toDate") { CalendarText.date($0) },
        dateFunction("toDateTime") { CalendarText.dateTime($0) },
        dateFunction("toStartOfDay") { var p = $0; p.hour = 0; p.minute = 0; p.second = 0; return CalendarText.dateTime(p) },
        dateFunction("toStartOfHour") { var p = $0; p.minute = 0; p.second = 0; return CalendarText.dateTime(p) },
        dateFunction("toStartOfMinute") { var p = $0; p.second = 0; return CalendarText.dateTime(p) },
        dateFunction("toStartOfMonth") { var p = $0; p.day = 1; return CalendarText.date(p) },
        dateFunction("toStartOfYear") { var p = $0; p.day = 1; p.month = 1; return CalendarText.date(p) },
        // ClickHouse's default week mode 0: weeks start on Sunday. 1970-01-01 was a Thursday (day 0).
        dateFunction("toStartOfWeek") { parts in
            let day = CalendarText.dayNumber(parts)
            let weekday = ((day + 4) % 7 + 7) % 7  // 0 = Sunday
            return CalendarText.date(CalendarText.parts(fromDayNumber: day - weekday))
        },
        dateFunction("toYYYYMM") { $0.year * 100 + $0.month },
        dateFunction("toYYYYMMDD") { $0.year * 10_000 + $0.month * 100 + $0.day },
        dateFunction("toYear") { $0.year },
        dateFunction("toMonth") { $0.month },
        dateFunction("toHour") { $0.hour },
        dateFunction("toUnixTimestamp") { CalendarText.dayNumber($0) * 86_400 + $0.hour * 3600 + $0.minute * 60 + $0.second },
        SQLiteCustomFunction("now", argumentCount: 0, pure: false) { _ in
            CalendarText.dateTime(fromUnix: Date().timeIntervalSince1970)
        },
        SQLiteCustomFunction("today", argumentCount: 0, pure: false) { _ in
            CalendarText.dateTime(fromUnix: Date().timeIntervalSince1970).map { String($0.prefix(10)) }
        },
        SQLiteCustomFunction("if", argumentCount: 3, pure: true) { arguments in
            convertible(truthy(arguments[0]) ? arguments[1] : arguments[2])
        },
        SQLiteCustomFunction("multiIf", argumentCount: nil, pure: true) { arguments in
            var index = 0
            while index + 1 < arguments.count {
                if truthy(arguments[index]) { return convertible(arguments[index + 1]) }
                index += 2
            }
            return index < arguments.count ? convertible(arguments[index]) : nil
        },
        SQLiteCustomFunction("concat", argumentCount: nil, pure: true) { arguments in
            arguments.compactMap(text).joined()
        },
        SQLiteCustomFunction("toString", argumentCount: 1, pure: true) { arguments in text(arguments[0]) },
        SQLiteCustomFunction("toInt32", argumentCount: 1, pure: true) { arguments in integer(arguments[0]) },
        SQLiteCustomFunction("toInt64", argumentCount: 1, pure: true) { arguments in integer(arguments[0]) },
        SQLiteCustomFunction("toUInt64", argumentCount: 1, pure: true) { arguments in integer(arguments[0]) },
        SQLiteCustomFunction("toFloat64", argumentCount: 1, pure: true) { arguments in float(arguments[0]) },
        SQLiteCustomFunction("toFloat32", argumentCount: 1, pure: true) { arguments in float(arguments[0]) },
        SQLiteCustomFunction("empty", argumentCount: 1, pure: true) { arguments in (text(arguments[0]) ?? "").isEmpty ? 1 : 0 },
        SQLiteCustomFunction("notEmpty", argumentCount: 1, pure: true) { arguments in (text(arguments[0]) ?? "").isEmpty ? 0 : 1 },
    ]

    /// A value handed back unchanged from a function's arguments.
    static func convertible(_ value: SQLiteData) -> (any SQLiteDataConvertible)? {
        switch value {
        case .integer(let n): n
        case .float(let n): n
        case .text(let text): text
        case .blob(let buffer): buffer
        case .null: nil
        }
    }

    /// Truncates toward zero; a value that does not fit (or is not a number) is NULL rather than a trap.
    static func integer(_ value: SQLiteData) -> Int? {
        switch value {
        case .integer(let n): n
        case .float(let n): Int(exactly: n.rounded(.towardZero))
        case .text(let text): Int(text.trimmingCharacters(in: .whitespaces)) ?? Double(text).flatMap { Int(exactly: $0.rounded(.towardZero)) }
        default: nil
        }
    }

    static func float(_ value: SQLiteData) -> Double? {
        switch value {
        case .integer(let n): Double(n)
        case .float(let n): n
        case .text(let text): Double(text.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    struct CountIf: SQLiteCustomAggregate {
        var count = 0
        mutating func step(_ values: [SQLiteData]) throws { if truthy(values.first) { count += 1 } }
        func finalize() throws -> (any SQLiteDataConvertible)? { count }
    }

    struct SumIf: SQLiteCustomAggregate {
        var sum = AggregateStates.NumericSum()
        mutating func step(_ values: [SQLiteData]) throws {
            guard values.count == 2, truthy(values[1]) else { return }
            try sum.step([values[0]])
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { try sum.finalize() }
    }

    struct AvgIf: SQLiteCustomAggregate {
        var sum = 0.0
        var count = 0
        mutating func step(_ values: [SQLiteData]) throws {
            guard values.count == 2, truthy(values[1]), let n = float(values[0]) else { return }
            sum += n
            count += 1
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { count == 0 ? Double.nan : sum / Double(count) }
    }

    /// `uniq` is approximate in ClickHouse; here both are exact (a set of the values seen).
    struct Uniq: SQLiteCustomAggregate {
        var seen = Set<String>()
        mutating func step(_ values: [SQLiteData]) throws {
            guard !values.contains(.null) else { return }
            seen.insert(values.map { "\($0)" }.joined(separator: "\u{1F}"))
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { seen.count }
    }

    static let aggregates: [SQLiteCustomFunction] = [
        SQLiteCustomFunction("countIf", argumentCount: 1, pure: true, aggregate: CountIf.self),
        SQLiteCustomFunction("sumIf", argumentCount: 2, pure: true, aggregate: SumIf.self),
        SQLiteCustomFunction("avgIf", argumentCount: 2, pure: true, aggregate: AvgIf.self),
        SQLiteCustomFunction("uniq", argumentCount: nil, pure: true, aggregate: Uniq.self),
        SQLiteCustomFunction("uniqExact", argumentCount: nil, pure: true, aggregate: Uniq.self),
    ]
}
