import CredentialsCore
import CredentialsStore
import JSONRPC

/// `notifications.*` but the digest (DigestMethods): reminder settings, the reminders due and
/// who should hear of each, and marking them sent once per recipient.
enum NotificationMethods {
    static let notificationSettingsSchema: Schema = .named("NotificationSettings", .object([
        Property("userId", .string()), Property("enabled", .boolean, "The user's reminders of their own credentials."),
        Property("daysBefore", .array(.integer(1...Reminders.maxDaysBefore)), "Reminder offsets in days before expiry, largest first."),
        Property("followedTeamIds", .array(.string()), "The teams this user follows (teams.follow), in id order: they hear of their members' reminders."),
    ]))
    static let recipientSchema: Schema = .named("ReminderRecipient", .object([
        Property("userId", .string()), Property("email", .string()),
        Property("reason", .oneOf(["holder", "team_follower"]), "holder: the credential's (or token's) own user; team_follower: a follower of a team the holder is in."),
        Property("teamId", .string(), required: false, "For a team_follower: the first team by id through which they follow the holder."),
    ]))
    /// One record for both kinds of reminder, told apart by `kind`: a credential's carries
    /// `credentialId`, `version`, `typeName` and `expirationDate`; an API token's (`token_expiring`)
    /// carries `tokenId`, `tokenName` and `expiresAt` (TokenReminders). `userId` and `email` are
    /// the holder's; `recipient` is who should hear of it.
    static let reminderSchema: Schema = .named("Reminder", .object([
        Property("id", .string(), "Opaque; pass to notifications.markSent. One per reminder and recipient."),
        Property("kind", .oneOf(["upcoming", "expired", "token_expiring"]), "upcoming and expired: a credential's; token_expiring: an API token's."),
        Property("credentialId", .string(), required: false), Property("version", .integer(minimum: 1, maximum: nil), required: false),
        Property("typeName", .string(), required: false), Property("expirationDate", CredentialJSON.date, required: false),
        Property("tokenId", .string(), required: false), Property("tokenName", .string(), required: false),
        Property("expiresAt", UserJSON.timestamp, required: false, "When the token stops working."),
        Property("userId", .string(), "The holder's."), Property("email", .string(), "The holder's."),
        Property("daysBefore", .nullable(.integer(1...Reminders.maxDaysBefore)), "The offset; null for the expired reminder."),
        Property("dueDate", CredentialJSON.date, "expirationDate - daysBefore (up to 365 days before 1000-01-01), or the day after expiry for the expired reminder."),
        Property("recipient", recipientSchema, "Who should hear of it."),
    ]))
    static let settingsErrors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]

    static let userID = UserJSON.userID.notRequired.described("Default: the caller.")
    static let enabled = Property.optional("enabled", .boolean)
    static let daysBefore = Property.optional("daysBefore", .array(.integer(1...Reminders.maxDaysBefore), maxItems: Reminders.maxOffsets, unique: true))
    static let limit = Property.optional("limit", .integer(1...10_000), "At most this many (default 1000); mark them sent and ask again for more.")
    static let ids = Property("ids", .array(.string(minLength: 1, maxLength: 200), minItems: 1, maxItems: 10_000, unique: true))

    static let all: [Method] = [
        Method("notifications.getSettings", summary: "A user's expiry reminder settings (default: enabled, 30, 7 and 1 days before) and the teams they follow.", effect: .reads,
               description: "One's own, or an admin for anyone.",
               access: .ready, params: [userID],
               result: "settings", notificationSettingsSchema, errors: settingsErrors) { ctx, p in
            let userID = try reminderOwner(ctx, p)
            let s = try ctx.store.organization.notificationSettings(userID: userID)
            return try notificationJSON(ctx, userID, s.enabled, s.daysBefore)
        },
        Method("notifications.updateSettings", summary: "Changes a user's expiry reminder settings. One's own, or an admin for anyone.", effect: .changes, idempotent: true,
               access: .ready,
               params: [userID.described(nil), enabled, daysBefore],
               result: "settings", notificationSettingsSchema, errors: settingsErrors, run: updateSettings),
        Method("notifications.due", summary: "Expiry reminders due by asOf and not yet marked sent, one per recipient, oldest due first. Admin.", effect: .reads,
               description: "Only the latest version of each credential counts; before expiry, one reminder per offset d of the holder's once expirationDate - d <= asOf; after expiry, one expired reminder instead. Recipients: the holder while their reminders are on, and each active follower of a team the holder is in who may view the credential. Deactivated holders' credentials give none.",
               access: .admin, params: [CredentialJSON.asOf, limit],
               result: "due", CredentialJSON.items("DueReminders", reminderSchema), errors: [ErrorDoc(.forbidden, "forbidden")], run: due),
        Method("notifications.markSent", summary: "Marks reminders sent to their recipients, so each is due once per recipient. Admin.", effect: .changes, idempotent: true,
               access: .admin, params: [ids],
               result: "marked", .named("Marked", .object([Property("marked", .integer(minimum: 0, maximum: nil), "How many were not marked before.")])),
               errors: [ErrorDoc(.forbidden, "forbidden")], run: markSent),
    ]

    static func notificationJSON(_ ctx: Context, _ userID: String, _ enabled: Bool, _ days: [Int]) throws -> JSON {
        ["userId": .string(userID), "enabled": .bool(enabled), "daysBefore": .array(days.sorted(by: >).map { .int($0) }),
         "followedTeamIds": .array(try ctx.store.teams.followedTeamIDs(userID: userID).map(JSON.string))]
    }

    /// Whose reminder settings: one's own, or anyone's for an admin; changing another user's
    /// needs what managing that user needs (Protocol/README.md §6, who may call what).
    static func reminderOwner(_ ctx: Context, _ p: Params, changing: Bool = false) throws -> String {
        let actor = try ctx.user
        let userID = p.string(userID) ?? actor.id
        if userID != actor.id {
            try UserRules.requireAdmin(actor)
            let target = try UserMethods.find(ctx, userID).user
            if changing { try UserRules.checkManage(actor: actor, target: target) }
        }
        return userID
    }

    static func updateSettings(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let userID = try reminderOwner(ctx, p, changing: true)
        let (enabled, days): (Bool, [Int]) = try ctx.write {
            if userID != actor.id, let target = try ctx.store.users.find(id: userID)?.user {
                try UserRules.checkManage(actor: actor, target: target)  // again, on the row as committed
            }
            let store = ctx.store.organization
            let before = try store.notificationSettings(userID: userID)
            let enabled = p.bool(Self.enabled) ?? before.enabled
            let days = p[daysBefore]?.arrayValue?.compactMap(\.intValue).sorted(by: >) ?? before.daysBefore
            if enabled != before.enabled || days != before.daysBefore {
                try store.saveNotificationSettings(userID: userID, enabled: enabled, daysBefore: days)
                try ctx.audit("notifications.updateSettings", target: userID, actor: actor.id,
                                  detail: ["enabled": .bool(enabled), "daysBefore": .array(days.map { .int($0) })])
            }
            return (enabled, days)
        }
        return try notificationJSON(ctx, userID, enabled, days)
    }

    static func due(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        // Only credentials the caller may view (Protocol/README.md §6, who may call what): a reminder names the holder, the
        // type and the expiry, as credentials.get would. That holds for every recipient.
        let visibility = Visibility(actor)
        let clock = try CredentialMethods.expiryClock(ctx, p)
        let limit = p.int(Self.limit) ?? 1000
        let store = ctx.store.organization
        // The last expiration any reminder can be due for by asOf (ending at 9999-12-31).
        let until = clock.asOf.windowEnd(days: try store.largestOffset())
        var items: [(due: CalendarDate, json: JSON)] = []
        var after: (String, String)? = nil
        // Candidates come in expiration order; read them in pages until enough reminders are found.
        // Most candidates give a reminder, so the first page is about `limit` long, the next ones 1000.
        var pageSize = min(1000, limit + 10)
        var followers = FollowerCache(store: store)
        scan: while true {
            let page = try store.reminderCandidates(asOf: clock.asOf, until: until, after: after, limit: pageSize, visibility: visibility)
            for (i, c) in page.enumerated() {
                let heard = try followers.of(page, at: i).filter { $0.mayHear(of: c.approval) }
                // Per offset: the holder first, then the followers in user id order.
                for (offset, dueOn) in Reminders.due(expiration: c.expiration, offsets: c.daysBefore, asOf: clock.asOf) {
                    if c.holderEnabled && !c.isSent(offset.key, to: nil) {
                        items.append((dueOn, item(c, offset, dueOn, follower: nil,
                                                  recipient: ["userId": .string(c.userID), "email": .string(c.email), "reason": "holder"])))
                    }
                    for f in heard where !c.isSent(offset.key, to: f.userID) {
                        items.append((dueOn, item(c, offset, dueOn, follower: f.userID, recipient: [
                            "userId": .string(f.userID), "email": .string(f.email), "reason": "team_follower", "teamId": .string(f.teamID),
                        ])))
                    }
                }
                if items.count >= limit { break scan }
            }
            guard page.count == pageSize, let last = page.last else { break }
            after = (last.expiration.description, last.credentialID)
            pageSize = 1000
        }
        // A token's reminder is for its owner: the holder (TokenReminders writes the rest).
        items += try TokenReminders.due(ctx, asOf: clock.asOf).map { t in
            guard case .object(var o) = t.json else { return t }
            o["recipient"] = ["userId": o["userId"] ?? .null, "email": o["email"] ?? .null, "reason": "holder"]
            return (t.due, .object(o))
        }
        let ordered = items.enumerated().sorted { ($0.element.due, $0.offset) < ($1.element.due, $1.offset) }.prefix(limit)
        return ["items": .array(ordered.map(\.element.json))]
    }

    /// One credential reminder for one recipient. The holder's id is the one clients have always
    /// had; a follower's adds their user id.
    static func item(_ c: OrganizationStore.ReminderCandidate, _ offset: Reminders.Offset, _ dueOn: CalendarDate,
                     follower: String?, recipient: JSON) -> JSON {
        var daysBefore: JSON = .null
        if case .daysBefore(let d) = offset { daysBefore = .int(d) }
        return [
            "id": .string(ReminderID(credentialID: c.credentialID, version: c.version, offset: offset.key, recipientID: follower).text),
            "credentialId": .string(c.credentialID), "version": .int(c.version),
            "userId": .string(c.userID), "email": .string(c.email), "typeName": .string(c.typeName),
            "expirationDate": .string(c.expiration.description), "kind": offset == .expired ? "expired" : "upcoming",
            "daysBefore": daysBefore, "dueDate": .string(dueOn.description), "recipient": recipient,
        ]
    }

    static func markSent(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let ids = p[Self.ids]?.arrayValue?.compactMap(\.stringValue) ?? []
        var parsed: [(index: Int, id: ReminderID)] = []
        var tokenIDs: [(index: Int, id: (tokenID: String, days: Int))] = []
        for (i, id) in ids.enumerated() {
            if let t = TokenReminders.parse(id) {
                tokenIDs.append((i, t))
            } else if let r = ReminderID(id) {
                parsed.append((i, r))
            } else {
                throw DomainError.invalidField("ids[\(i)]", "is not a reminder id from notifications.due")
            }
        }
        let marked: Int = try ctx.write {
            // A refused id rolls the whole request back (its transaction, or its group, which
            // then runs again one by one): nothing is marked.
            let store = ctx.store.organization
            var marked = 0
            for (i, r) in parsed {
                try check(ctx, actor, r, index: i)
                let new = if let recipient = r.recipientID {
                    try store.markSent(credentialID: r.credentialID, version: r.version, offset: r.offset, recipientID: recipient,
                                       at: ctx.now, by: actor.id)
                } else {
                    try store.markSent(credentialID: r.credentialID, version: r.version, offset: r.offset, at: ctx.now, by: actor.id)
                }
                if new { marked += 1 }
            }
            for t in tokenIDs where try TokenReminders.markSent(ctx, t.id, index: t.index, by: actor.id) { marked += 1 }
            try ctx.audit("notifications.markSent", target: nil, actor: actor.id, detail: ["marked": .int(marked), "ids": .array(ids.map(JSON.string))])
            return marked
        }
        return ["marked": .int(marked)]
    }

    /// Only an id notifications.due could give (for some asOf): the latest version (only it has
    /// reminders), one of its holder's offsets or `expired` of a credential that expires, which
    /// the caller may view; for a follower's, one who hears of it now. Anything else would
    /// cancel reminders nobody was ever shown.
    static func check(_ ctx: Context, _ actor: User, _ r: ReminderID, index i: Int) throws {
        guard let c = try ctx.store.credentials.find(id: r.credentialID), r.version == c.versionCount, c.latest.expirationDate != nil,
              CredentialAccess.canView(actor, ownerID: c.userID, latestApproval: c.latest.approval.status) else {
            throw DomainError.invalidField("ids[\(i)]", "names no reminder of a credential's latest version")
        }
        let store = ctx.store.organization
        if case .daysBefore(let d)? = Reminders.Offset(key: r.offset), !(try store.notificationSettings(userID: c.userID).daysBefore.contains(d)) {
            throw DomainError.invalidField("ids[\(i)]", "names an offset the holder has no reminder for")
        }
        if let recipient = r.recipientID {
            guard recipient != c.userID, let f = try store.reminderFollower(holderID: c.userID, followerID: recipient),
                  f.mayHear(of: c.latest.approval.status) else {
                throw DomainError.invalidField("ids[\(i)]", "names no follower of the holder's teams who hears of this reminder")
            }
        }
    }
}

/// The followers of candidates' holders, read as the scan reaches them: the teams of the
/// holders of the next 100 candidates in one query, and the followers of each team not met yet
/// in another (both joins of team_members or team_followers by key). A request meets each team's
/// followers once, however many of its members' credentials it lists, and a page of 1,000
/// candidates costs nothing past the ones that fill the limit.
struct FollowerCache {
    typealias Follower = OrganizationStore.ReminderFollower
    let store: OrganizationStore
    var holders: [String: [Follower]] = [:]
    var teams: [String: [Follower]] = [:]
    static let ahead = 100

    mutating func of(_ page: [OrganizationStore.ReminderCandidate], at i: Int) throws -> [Follower] {
        let holder = page[i].userID
        if let f = holders[holder] { return f }
        let cached = holders
        let next = Set(page[i..<min(i + Self.ahead, page.count)].map(\.userID).filter { cached[$0] == nil })
        let teamsOf = try store.teams(ofHolders: next)
        let knownTeams = teams
        let newTeams = Set(teamsOf.values.joined().filter { knownTeams[$0] == nil })
        let found = try store.followers(ofTeams: newTeams)
        for t in newTeams { teams[t] = found[t] ?? [] }
        for h in next {
            // Teams in id order, so a follower of several keeps the first; never the holder.
            var seen: [String: Follower] = [:]
            for t in teamsOf[h] ?? [] {
                for f in teams[t] ?? [] where f.userID != h && seen[f.userID] == nil { seen[f.userID] = f }
            }
            holders[h] = seen.values.sorted { $0.userID < $1.userID }
        }
        return holders[holder] ?? []
    }
}

/// A credential reminder's id: `<credentialId>:<version>:<offset>` for its holder (as it always
/// was), `<credentialId>:<version>:<offset>:<recipientUserId>` for a follower. Parsed strictly:
/// numbers as the service writes them, a known offset key.
struct ReminderID: Equatable {
    var credentialID: String
    var version: Int
    var offset: String
    var recipientID: String?

    init(credentialID: String, version: Int, offset: String, recipientID: String?) {
        (self.credentialID, self.version, self.offset, self.recipientID) = (credentialID, version, offset, recipientID)
    }

    init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4, !parts[0].isEmpty, let v = Int(parts[1]), v >= 1, String(v) == parts[1],
              Reminders.Offset(key: parts[2]) != nil else { return nil }
        if parts.count == 4 && parts[3].isEmpty { return nil }
        self.init(credentialID: parts[0], version: v, offset: parts[2], recipientID: parts.count == 4 ? parts[3] : nil)
    }

    var text: String {
        let base = "\(credentialID):\(version):\(offset)"
        return recipientID.map { "\(base):\($0)" } ?? base
    }
}
