import Logging

/// The one path by which log metadata leaves the process (``JSONLogHandler`` applies it to every line, whatever its
/// level or source). The database drivers log each statement's bind values at trace (SQLKit's `binds`), and
/// PostgresNIO logs its wire messages, connection state and actions: bind values carry client secrets, workspace admin
/// tokens, password hashes and Action secrets as they are saved, and a startup message carries the database password.
/// Those values are reduced to their shapes (kind and length), so a trace log still shows what ran, with what sizes,
/// and never with what values.
public enum LogRedaction {
    /// Metadata keys whose values are query parameters or protocol payloads.
    public static let payloadKeys: Set<String> = [
        "binds", "psql_binds", "psql_message", "psql_message_payload", "psql_connection_state", "psql_connection_action",
    ]

    public static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var redacted = metadata
        for key in metadata.keys where payloadKeys.contains(key) {
            redacted[key] = metadata[key].map(shape)
        }
        return redacted
    }

    /// A value's kind and size without its content: `<12 chars>`, arrays and dictionaries element by element.
    public static func shape(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): .string("<\(text.count) chars>")
        case .stringConvertible(let convertible): .string("<\(convertible.description.count) chars>")
        case .array(let items): .array(items.map(shape))
        case .dictionary(let fields): .dictionary(fields.mapValues(shape))
        }
    }
}
