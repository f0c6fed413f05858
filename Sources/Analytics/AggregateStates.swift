import Foundation
import NIOCore
import SQLiteNIO

/// The aggregate functions whose partial states the embedded engine keeps (`AggregateFunction(f, T)` columns,
/// written by `fState`, finished by `fMerge`), as Tinybird's materialized views use them.
public enum AggregateFunction: String, Sendable, CaseIterable {
    case count, sum, avg, uniq, uniqExact, min, max, any, anyLast

    /// The functions `SimpleAggregateFunction` takes: their state is a plain value.
    var isSimple: Bool { [.sum, .min, .max, .any, .anyLast].contains(self) }

    /// How a state is stored: counts and sums as numbers, averages and distinct sets as blobs (``AggregateStates``),
    /// the rest as the argument's own value.
    func stateAffinity(_ argument: ColumnType?) -> String {
        switch self {
        case .count: "INTEGER"
        case .avg, .uniq, .uniqExact: "BLOB"
        case .sum, .min, .max, .any, .anyLast: argument?.sqliteAffinity ?? ""
        }
    }

    /// SQL that combines a stored state (`existing`) with a new one (`incoming`) of the same group, as ClickHouse's
    /// background merges do; NULL stands for "no state yet" on either side.
    func mergeExpression(existing: String, incoming: String) -> String {
        switch self {
        case .count, .sum: "coalesce(\(existing), 0) + coalesce(\(incoming), 0)"
        case .min: "CASE WHEN \(incoming) IS NULL OR \(incoming) >= \(existing) THEN \(existing) ELSE \(incoming) END"
        case .max: "CASE WHEN \(incoming) IS NULL OR \(incoming) <= \(existing) THEN \(existing) ELSE \(incoming) END"
        case .any: "coalesce(\(existing), \(incoming))"
        case .anyLast: "coalesce(\(incoming), \(existing))"
        case .avg: "\(AggregateStates.mergeAverageStates)(\(existing), \(incoming))"
        case .uniq, .uniqExact: "\(AggregateStates.mergeDistinctStates)(\(existing), \(incoming))"
        }
    }
}

/// The `-State` and `-Merge` combinators as SQLite functions. An average's state is its sum and count (16 bytes); a
/// distinct count's state is the sorted set of its values' 64-bit FNV-1a hashes (8 bytes each), so merging states is a
/// set union and the count stays exact while hashes do not collide (ClickHouse's `uniq` is approximate; this is not).
enum AggregateStates {
    static let mergeAverageStates = "tessera_merge_avg_states"
    static let mergeDistinctStates = "tessera_merge_uniq_states"

    static var functions: [SQLiteCustomFunction] {
        [
            SQLiteCustomFunction("countState", argumentCount: nil, pure: true, aggregate: CountState.self),
            SQLiteCustomFunction("countMerge", argumentCount: 1, pure: true, aggregate: NumericSum.self),
            SQLiteCustomFunction("sumState", argumentCount: 1, pure: true, aggregate: NumericSum.self),
            SQLiteCustomFunction("sumMerge", argumentCount: 1, pure: true, aggregate: NumericSum.self),
            SQLiteCustomFunction("avgState", argumentCount: 1, pure: true, aggregate: AverageState.self),
            SQLiteCustomFunction("avgMerge", argumentCount: 1, pure: true, aggregate: AverageMerge.self),
            SQLiteCustomFunction("minState", argumentCount: 1, pure: true, aggregate: Extreme<Smallest>.self),
            SQLiteCustomFunction("minMerge", argumentCount: 1, pure: true, aggregate: Extreme<Smallest>.self),
            SQLiteCustomFunction("maxState", argumentCount: 1, pure: true, aggregate: Extreme<Largest>.self),
            SQLiteCustomFunction("maxMerge", argumentCount: 1, pure: true, aggregate: Extreme<Largest>.self),
            SQLiteCustomFunction(mergeAverageStates, argumentCount: 2, pure: true) { arguments in
                let (sum, count) = average(arguments[0]) ?? (0, 0)
                let (otherSum, otherCount) = average(arguments[1]) ?? (0, 0)
                return averageState(sum: sum + otherSum, count: count + otherCount)
            },
            SQLiteCustomFunction(mergeDistinctStates, argumentCount: 2, pure: true) { arguments in
                distinctState(union(hashes(arguments[0]), hashes(arguments[1])))
            },
        ] + ["uniq", "uniqExact"].flatMap { name in [
            SQLiteCustomFunction(name + "State", argumentCount: nil, pure: true, aggregate: DistinctState.self),
            SQLiteCustomFunction(name + "Merge", argumentCount: 1, pure: true, aggregate: DistinctMerge.self),
        ] }
    }

    // MARK: encodings

    static func averageState(sum: Double, count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(sum.bitPattern, endianness: .little)
        buffer.writeInteger(Int64(count), endianness: .little)
        return buffer
    }

    static func average(_ value: SQLiteData) -> (sum: Double, count: Int)? {
        guard case .blob(var buffer) = value, buffer.readableBytes == 16,
              let bits = buffer.readInteger(endianness: .little, as: UInt64.self),
              let count = buffer.readInteger(endianness: .little, as: Int64.self) else { return nil }
        return (Double(bitPattern: bits), Int(count))
    }

    static func distinctState(_ sortedHashes: [UInt64]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(sortedHashes.count * 8)
        for hash in sortedHashes { buffer.writeInteger(hash, endianness: .little) }
        return buffer
    }

    static func hashes(_ value: SQLiteData) -> [UInt64] {
        guard case .blob(var buffer) = value else { return [] }
        var hashes: [UInt64] = []
        hashes.reserveCapacity(buffer.readableBytes / 8)
        while let hash = buffer.readInteger(endianness: .little, as: UInt64.self) { hashes.append(hash) }
        return hashes
    }

    /// The union of two sorted, duplicate-free lists, sorted.
    static func union(_ left: [UInt64], _ right: [UInt64]) -> [UInt64] {
        var merged: [UInt64] = []
        merged.reserveCapacity(left.count + right.count)
        var i = 0, j = 0
        while i < left.count, j < right.count {
            if left[i] < right[j] { merged.append(left[i]); i += 1 }
            else if right[j] < left[i] { merged.append(right[j]); j += 1 }
            else { merged.append(left[i]); i += 1; j += 1 }
        }
        merged.append(contentsOf: left[i...])
        merged.append(contentsOf: right[j...])
        return merged
    }

    /// FNV-1a over a type tag and the value's bytes: stable across processes (Swift's `Hasher` is seeded per run,
    /// and states outlive the process that wrote them).
    static func hash(_ values: [SQLiteData]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        for value in values {
            switch value {
            case .integer(let n): mix([1]); withUnsafeBytes(of: Int64(n).littleEndian) { mix($0) }
            case .float(let n):
                // 3.0 and 3 are one value to a SQL comparison; hash them alike.
                if let exact = Int64(exactly: n) { mix([1]); withUnsafeBytes(of: exact.littleEndian) { mix($0) } }
                else { mix([2]); withUnsafeBytes(of: n.bitPattern.littleEndian) { mix($0) } }
            case .text(let text): mix([3]); mix(text.utf8)
            case .blob(let buffer): mix([4]); mix(buffer.readableBytesView)
            case .null: mix([0])
            }
            mix([0x1F])
        }
        return hash
    }

    // MARK: aggregates

    struct CountState: SQLiteCustomAggregate {
        var count = 0
        mutating func step(_ values: [SQLiteData]) throws { if values.first != .null { count += 1 } }
        func finalize() throws -> (any SQLiteDataConvertible)? { count }
    }

    /// A sum that stays an integer while every value is one (ClickHouse sums integers as integers), and treats NULL
    /// as absent; a sum of nothing is 0, as in ClickHouse.
    struct NumericSum: SQLiteCustomAggregate {
        var integerSum = 0
        var floatSum = 0.0
        var sawFloat = false
        mutating func step(_ values: [SQLiteData]) throws {
            switch values.first {
            case .integer(let n)?: integerSum &+= n
            case let other?: if let n = ClickHouseFunctions.float(other) { floatSum += n; sawFloat = true }
            case nil: break
            }
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { sawFloat ? Double(integerSum) + floatSum : integerSum }
    }

    struct AverageState: SQLiteCustomAggregate {
        var sum = 0.0
        var count = 0
        mutating func step(_ values: [SQLiteData]) throws {
            guard let first = values.first, first != .null, let n = ClickHouseFunctions.float(first) else { return }
            sum += n
            count += 1
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { averageState(sum: sum, count: count) }
    }

    struct AverageMerge: SQLiteCustomAggregate {
        var sum = 0.0
        var count = 0
        mutating func step(_ values: [SQLiteData]) throws {
            guard let first = values.first, let state = average(first) else { return }
            sum += state.sum
            count += state.count
        }
        /// ClickHouse's average of nothing is NaN, which JSON carries as null.
        func finalize() throws -> (any SQLiteDataConvertible)? { count == 0 ? Double.nan : sum / Double(count) }
    }

    struct DistinctState: SQLiteCustomAggregate {
        var seen = Set<UInt64>()
        mutating func step(_ values: [SQLiteData]) throws {
            guard !values.isEmpty, !values.contains(.null) else { return }
            seen.insert(hash(values))
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { distinctState(seen.sorted()) }
    }

    struct DistinctMerge: SQLiteCustomAggregate {
        var seen = Set<UInt64>()
        mutating func step(_ values: [SQLiteData]) throws {
            guard let first = values.first else { return }
            seen.formUnion(hashes(first))
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { seen.count }
    }

    /// Orders as SQLite does across storage classes: NULL, numbers, text, blobs.
    static func precedes(_ left: SQLiteData, _ right: SQLiteData) -> Bool {
        func rank(_ value: SQLiteData) -> Int {
            switch value {
            case .null: 0
            case .integer, .float: 1
            case .text: 2
            case .blob: 3
            }
        }
        switch (left, right) {
        case (.text(let a), .text(let b)): return a < b
        case (.integer(let a), .integer(let b)): return a < b
        case (.integer, .float), (.float, .integer), (.float, .float):
            return (ClickHouseFunctions.float(left) ?? 0) < (ClickHouseFunctions.float(right) ?? 0)
        default: return rank(left) < rank(right)
        }
    }

    /// Which of two values `min` or `max` keeps.
    protocol Preference { static func prefers(_ candidate: SQLiteData, over best: SQLiteData) -> Bool }
    enum Smallest: Preference { static func prefers(_ candidate: SQLiteData, over best: SQLiteData) -> Bool { precedes(candidate, best) } }
    enum Largest: Preference { static func prefers(_ candidate: SQLiteData, over best: SQLiteData) -> Bool { precedes(best, candidate) } }

    struct Extreme<Kept: Preference>: SQLiteCustomAggregate {
        var best: SQLiteData = .null
        mutating func step(_ values: [SQLiteData]) throws {
            guard let value = values.first, value != .null else { return }
            if best == .null || Kept.prefers(value, over: best) { best = value }
        }
        func finalize() throws -> (any SQLiteDataConvertible)? { ClickHouseFunctions.convertible(best) }
    }
}
