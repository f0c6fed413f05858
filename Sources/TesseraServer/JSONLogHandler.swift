import Foundation
import Logging
import TesseraCore

/// One JSON object per line on standard error: easy for people to read and for log shippers to parse. Every line's
/// metadata goes through ``LogRedaction`` first, so no level (trace included) writes a bind value or a wire message.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message, explicit = event.metadata
        var fields: [String: JSONValue] = [
            "ts": .string(Timestamp.string(Date())), "level": .string(level.rawValue),
            "logger": .string(label), "msg": .string(message.description),
        ]
        for (key, value) in LogRedaction.redact(metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 })) {
            fields[key] = .string(value.description)
        }
        FileHandle.standardError.write(Data((JSONValue.object(fields).jsonText() + "\n").utf8))
    }
}
