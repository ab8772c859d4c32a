import CredentialsCore
import CredentialsStore
import JSONRPC

/// Expiry reminders for API tokens (Protocol/README.md §6, API tokens, as Certn does for its keys): an active admin's
/// token expiring within 30, 7 or 1 days is due once per offset in `notifications.due`, marked
/// with `notifications.markSent` like a credential's. Every admin sees them, as every admin may
/// list any user's tokens. An item says it is a token (`kind: "token_expiring"`), whose, and when
/// it expires; never the secret.
enum TokenReminders {
    /// `<tokenId>:token:<days>`: a credential's reminder id has a version number in the middle.
    static func id(_ tokenID: String, _ days: Int) -> String { "\(tokenID):token:\(days)" }

    /// The token and offset a reminder id names, or nil when it is not a token's.
    static func parse(_ id: String) -> (tokenID: String, days: Int)? {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "token", let d = Int(parts[2]), TokenRules.reminderOffsets.contains(d),
              String(d) == parts[2] else { return nil }
        return (String(parts[0]), d)
    }

    /// The token reminders due at `asOf` and not yet marked sent, each with its due date.
    static func due(_ ctx: Context, asOf: CalendarDate) throws -> [(due: CalendarDate, json: JSON)] {
        let largest = TokenRules.reminderOffsets.max() ?? 0
        // Tokens expiring after asOf's day begins and before the last offset's window closes.
        let from = Int64(asOf.daysSinceEpoch) * 86_400_000
        let until = Int64(asOf.daysSinceEpoch + largest + 1) * 86_400_000
        var out: [(due: CalendarDate, json: JSON)] = []
        for c in try ctx.store.tokens.reminderCandidates(expiringBefore: until, after: from) {
            for (days, dueDate) in TokenRules.dueReminders(c.token, asOf: asOf) where !c.sent.contains(String(days)) {
                out.append((dueDate, [
                    "id": .string(id(c.token.id, days)), "kind": "token_expiring", "tokenId": .string(c.token.id),
                    "tokenName": .string(c.token.name), "userId": .string(c.token.userID), "email": .string(c.email),
                    "expiresAt": .string(Timestamp.format(millis: c.token.expiresAt)), "daysBefore": .int(days),
                    "dueDate": .string(dueDate.description),
                ]))
            }
        }
        return out
    }

    /// Marks one token reminder sent (inside the caller's write); false when it already was.
    /// Only a reminder the token offers (`TokenRules.reminderDay`: not revoked, an offset whose
    /// day falls in its life) can be marked, so none is cancelled that could never be shown.
    static func markSent(_ ctx: Context, _ id: (tokenID: String, days: Int), index: Int, by actorID: String) throws -> Bool {
        guard let token = try ctx.store.tokens.find(id: id.tokenID), TokenRules.reminderDay(token, days: id.days) != nil else {
            throw DomainError.invalidField("ids[\(index)]", "names no reminder a token offers")
        }
        return try ctx.store.tokens.markSent(tokenID: id.tokenID, offset: String(id.days), at: ctx.now, by: actorID)
    }
}
