import TesseraCore

/// Auth0's user JSON as the directory's profile: `name` → displayName (else nickname, else email), `picture` →
/// imageUrl, `blocked` → disabled, `phone_number`, `email_verified`, `created_at` → signupTime. Values the
/// directory would refuse from a client (a phone number that is not E.164) are left out rather than failing the
/// import.
enum Auth0Mapping {
    static func externalId(_ user: JSONValue) -> String? {
        user.objectValue?["user_id"]?.stringValue
    }

    static func profile(_ user: JSONValue) -> [String: JSONValue] {
        let fields = user.objectValue ?? [:]
        var candidate: [String: JSONValue] = [:]
        if let name = fields["name"]?.stringValue ?? fields["nickname"]?.stringValue ?? fields["email"]?.stringValue {
            candidate["displayName"] = .string(String(name.prefix(200)))
        }
        if let email = fields["email"]?.stringValue { candidate["email"] = .string(email) }
        if case .bool(let verified)? = fields["email_verified"] { candidate["emailVerified"] = .bool(verified) }
        if let phone = fields["phone_number"]?.stringValue { candidate["phoneNumber"] = .string(phone) }
        if case .bool(let verified)? = fields["phone_verified"] { candidate["phoneNumberVerified"] = .bool(verified) }
        if let picture = fields["picture"]?.stringValue { candidate["imageUrl"] = .string(picture) }
        if let created = fields["created_at"]?.stringValue { candidate["signupTime"] = .string(created) }
        candidate["disabled"] = .bool(fields["blocked"] == .bool(true))
        var profile: [String: JSONValue] = [:]
        for (name, value) in candidate {
            if let checked = (try? UserFields.change(.object([name: value])))?.profile[name] ?? nil { profile[name] = checked }
        }
        return profile
    }
}
