import TesseraCore

/// A user of the directory as UserHub's Admin API shows it. The profile holds UserHub's own field names
/// (`displayName`, `email`, …), already checked by ``UserFields``; the state follows from `disabled` and deletion.
public struct DirectoryUser: Sendable, Equatable {
    public enum State: String, Sendable {
        case active = "ACTIVE", disabled = "DISABLED", pendingDeletion = "PENDING_DELETION"
    }

    public var id: String
    public var uniqueId: String?
    public var profile: [String: JSONValue]
    public var createTime: String
    public var updateTime: String
    public var deleteTime: String?
    public var accounts: [Account] = []
    /// What the user's JSON carries: FULL (a single user) has the account connections, BASIC (lists by default) not.
    public var view: View = .full

    public enum View: String, Sendable { case basic = "BASIC", full = "FULL" }

    public var isDeleted: Bool { deleteTime != nil }
    public var state: State {
        if isDeleted { return .pendingDeletion }
        return profile["disabled"] == .bool(true) ? .disabled : .active
    }

    /// The user's link to one connection's user (`externalId` there), with what was last pulled from it.
    public struct Account: Sendable, Equatable {
        public var connection: ConnectionSummary
        public var externalId: String
        public var profile: [String: JSONValue]
        public var pullTime: String?
        public var pushTime: String?
        public var createTime: String
        public var updateTime: String
    }

    /// UserHub's JSON for the user (the `FULL` view: every field it has).
    public var wire: JSONValue {
        var fields = profile
        fields["id"] = .string(id)
        fields["state"] = .string(state.rawValue)
        if let uniqueId { fields["uniqueId"] = .string(uniqueId) }
        fields["disabled"] = .bool(profile["disabled"] == .bool(true))
        if view == .full { fields["accountConnections"] = .array(accounts.map(\.wire)) }
        fields["createTime"] = .string(createTime)
        fields["updateTime"] = .string(updateTime)
        if let deleteTime { fields["deleteTime"] = .string(deleteTime) }
        fields["view"] = .string(view.rawValue)
        return .object(fields)
    }
}

/// What a user's account shows of its connection.
public struct ConnectionSummary: Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var type: String
    public var state: String

    var wire: JSONValue {
        ["id": .string(id), "displayName": .string(displayName), "type": .string(type), "state": .string(state)]
    }
}

extension DirectoryUser.Account {
    var wire: JSONValue {
        var fields = profile.filter { UserFields.accountFields.contains($0.key) }
        fields["connection"] = connection.wire
        fields["externalId"] = .string(externalId)
        fields["state"] = "ACTIVE"
        if let pullTime { fields["pullTime"] = .string(pullTime) }
        if let pushTime { fields["pushTime"] = .string(pushTime) }
        fields["createTime"] = .string(createTime)
        fields["updateTime"] = .string(updateTime)
        return .object(fields)
    }
}
