/// How a path names a user: UserHub's id (`usr_…`), an account at a connection (`auth0|123@conn_…`), or the
/// client's own `uniqueId`.
public enum UserIdentifier: Sendable, Equatable {
    case id(String)
    case account(externalId: String, connectionId: String)
    case uniqueId(String)

    public init(_ text: String) throws(DirectoryError) {
        guard !text.isEmpty, text.utf8.count <= 1_024 else {
            throw DirectoryError.invalid("userId", "The user identifier must be 1 to 1024 characters")
        }
        if text.hasPrefix("usr_") {
            self = .id(text)
        } else if let at = text.lastIndex(of: "@"), text[text.index(after: at)...].hasPrefix("conn_") {
            let externalId = String(text[..<at])
            guard !externalId.isEmpty else {
                throw DirectoryError.invalid("userId", "The external id before @ is empty")
            }
            self = .account(externalId: externalId, connectionId: String(text[text.index(after: at)...]))
        } else if text.contains("@") {
            throw DirectoryError.invalid("userId", "An <externalId>@<connectionId> identifier needs a connection id starting with conn_")
        } else if UserFields.isUniqueId(text) {
            self = .uniqueId(text)
        } else {
            throw DirectoryError.invalid("userId", "Not a user identifier: use usr_…, <externalId>@conn_…, or a uniqueId")
        }
    }
}
