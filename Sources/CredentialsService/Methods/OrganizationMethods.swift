import CredentialsCore
import CredentialsStore
import JSONRPC

/// `settings.*`, `notifications.*` and `audit.list`.
enum OrganizationMethods {
    static let settingsSchema: Schema = .named("Settings", .object([
        Property("expiringWindowDays", .integer(0...365), "Days before expiry a credential counts as expiring."),
        Property("approvalsRequired", .boolean, "When false, new versions start approved."),
    ]))
    static let notificationSettingsSchema: Schema = .named("NotificationSettings", .object([
        Property("userId", .string()), Property("enabled", .boolean),
        Property("daysBefore", .array(.integer(1...Reminders.maxDaysBefore)), "Reminder offsets in days before expiry, largest first."),
    ]))
    /// One record for both kinds of reminder, told apart by `kind`: a credential's carries
    /// `credentialId`, `version`, `typeName` and `expirationDate`; an API token's (`token_expiring`)
    /// carries `tokenId`, `tokenName` and `expiresAt` (TokenReminders).
    static let reminderSchema: Schema = .named("Reminder", .object([
        Property("id", .string(), "Opaque; pass to notifications.markSent."),
        Property("kind", .oneOf(["upcoming", "expired", "token_expiring"]), "upcoming and expired: a credential's; token_expiring: an API token's."),
        Property("credentialId", .string(), required: false), Property("version", .integer(minimum: 1, maximum: nil), required: false),
        Property("typeName", .string(), required: false), Property("expirationDate", CredentialJSON.date, required: false),
        Property("tokenId", .string(), required: false), Property("tokenName", .string(), required: false),
        Property("expiresAt", UserJSON.timestamp, required: false, "When the token stops working."),
        Property("userId", .string()), Property("email", .string()),
        Property("daysBefore", .nullable(.integer(1...Reminders.maxDaysBefore)), "The offset; null for the expired reminder."),
        Property("dueDate", CredentialJSON.date, "expirationDate - daysBefore (up to 365 days before 1000-01-01), or the day after expiry for the expired reminder."),
    ]))
    static let auditEntrySchema: Schema = .named("AuditEntry", .object([
        Property("id", .string()), Property("at", UserJSON.timestamp), Property("actorId", .nullable(.string())),
        Property("action", .string(), "The method that made the change (or session.login, session.locked, ...)."),
        Property("targetId", .nullable(.string())), Property("detail", .object([], additional: true), "What changed; never a password, hash, media bytes or credential field value."),
    ]))

    static let all: [Method] = [
        Method("settings.get", summary: "The organization's settings.", access: .ready, result: "settings", settingsSchema) { service, _ in
            json(try service.orgSettings())
        },
        Method("settings.update", summary: "Changes the organization's settings; every computed status follows at once. Admin.",
               access: .ready,
               params: [.optional("expiringWindowDays", .integer(0...365)), .optional("approvalsRequired", .boolean)],
               result: "settings", settingsSchema, errors: [ErrorDoc(.forbidden, "forbidden")], run: updateSettings),
        Method("notifications.getSettings", summary: "A user's expiry reminder settings (default: enabled, 30, 7 and 1 days before).",
               description: "One's own, or an admin for anyone.",
               access: .ready, params: [.optional("userId", CredentialJSON.id, "Default: the caller.")],
               result: "settings", notificationSettingsSchema, errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]) { service, p in
            let userID = try reminderOwner(service, p)
            let s = try OrganizationStore(service.db).notificationSettings(userID: userID)
            return notificationJSON(userID, s.enabled, s.daysBefore)
        },
        Method("notifications.updateSettings", summary: "Changes a user's expiry reminder settings. One's own, or an admin for anyone.",
               access: .ready,
               params: [.optional("userId", CredentialJSON.id), .optional("enabled", .boolean),
                        .optional("daysBefore", .array(.integer(1...Reminders.maxDaysBefore), maxItems: Reminders.maxOffsets, unique: true))],
               result: "settings", notificationSettingsSchema, errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")],
               run: updateNotificationSettings),
        Method("notifications.due", summary: "Expiry reminders due by asOf and not yet marked sent, oldest due first. Admin.",
               description: "Only the latest version of each credential counts; before expiry, one reminder per offset d once expirationDate - d <= asOf; after expiry, one expired reminder instead. Users with reminders off, and deactivated users, get none.",
               access: .ready, params: [CredentialJSON.asOf, .optional("limit", .integer(1...10_000), "At most this many (default 1000); mark them sent and ask again for more.")],
               result: "due", CredentialJSON.items("DueReminders", reminderSchema), errors: [ErrorDoc(.forbidden, "forbidden")], run: due),
        Method("notifications.markSent", summary: "Marks reminders sent, so each is due once. Admin.",
               access: .ready, params: [Property("ids", .array(.string(minLength: 1, maxLength: 200), minItems: 1, maxItems: 10_000, unique: true))],
               result: "marked", .named("Marked", .object([Property("marked", .integer(minimum: 0, maximum: nil), "How many were not marked before.")])),
               errors: [ErrorDoc(.forbidden, "forbidden")], run: markSent),
        Method("audit.list", summary: "Every change, in the order it was made, filtered by actor and time. Admin.",
               access: .ready,
               params: [.optional("actorId", CredentialJSON.id), .optional("since", UserJSON.timestamp, "Entries at or after this instant.")] + Page.params,
               result: "page", Page.schema("AuditPage", of: auditEntrySchema), errors: [ErrorDoc(.forbidden, "forbidden")] + Page.errors,
               run: auditList),
    ]

    static func json(_ s: OrgSettings) -> JSON {
        ["expiringWindowDays": .int(s.expiringWindowDays), "approvalsRequired": .bool(s.approvalsRequired)]
    }

    static func updateSettings(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        let s: OrgSettings = try service.write {
            let store = OrganizationStore(service.db)
            let before = try store.settings()
            var s = before
            if let w = p.int("expiringWindowDays") { s.expiringWindowDays = w }
            if let a = p.bool("approvalsRequired") { s.approvalsRequired = a }
            if s == before { return s }
            try store.save(s)
            service.settingsOfRequest = nil
            var changes = JSONObject()
            if s.expiringWindowDays != before.expiringWindowDays {
                changes["expiringWindowDays"] = ["from": .int(before.expiringWindowDays), "to": .int(s.expiringWindowDays)]
            }
            if s.approvalsRequired != before.approvalsRequired {
                changes["approvalsRequired"] = ["from": .bool(before.approvalsRequired), "to": .bool(s.approvalsRequired)]
            }
            try service.audit("settings.update", target: nil, actor: actor.id, detail: .object(changes))
            return s
        }
        return json(s)
    }

    static func notificationJSON(_ userID: String, _ enabled: Bool, _ days: [Int]) -> JSON {
        ["userId": .string(userID), "enabled": .bool(enabled), "daysBefore": .array(days.sorted(by: >).map { .int($0) })]
    }

    /// Whose reminder settings: one's own, or anyone's for an admin; changing another user's
    /// needs what managing that user needs (contract §14).
    static func reminderOwner(_ service: Service, _ p: Params, changing: Bool = false) throws -> String {
        let actor = try service.requireActor()
        let userID = p.string("userId") ?? actor.id
        if userID != actor.id {
            try UserRules.requireAdmin(actor)
            let target = try UserMethods.find(service, userID).user
            if changing { try UserRules.checkManage(actor: actor, target: target) }
        }
        return userID
    }

    static func updateNotificationSettings(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        let userID = try reminderOwner(service, p, changing: true)
        let (enabled, days): (Bool, [Int]) = try service.write {
            if userID != actor.id, let target = try UserStore(service.db).find(id: userID)?.user {
                try UserRules.checkManage(actor: actor, target: target)  // again, on the row as committed
            }
            let store = OrganizationStore(service.db)
            let before = try store.notificationSettings(userID: userID)
            let enabled = p.bool("enabled") ?? before.enabled
            let days = p["daysBefore"]?.arrayValue?.compactMap(\.intValue).sorted(by: >) ?? before.daysBefore
            if enabled != before.enabled || days != before.daysBefore {
                try store.saveNotificationSettings(userID: userID, enabled: enabled, daysBefore: days)
                try service.audit("notifications.updateSettings", target: userID, actor: actor.id,
                                  detail: ["enabled": .bool(enabled), "daysBefore": .array(days.map { .int($0) })])
            }
            return (enabled, days)
        }
        return notificationJSON(userID, enabled, days)
    }

    static func reminderID(_ c: OrganizationStore.ReminderCandidate, _ o: Reminders.Offset) -> String {
        "\(c.credentialID):\(c.version):\(o.key)"
    }

    static func due(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        // Only credentials the caller may view (contract §14): a reminder names the holder, the
        // type and the expiry, as credentials.get would.
        let visibility = Visibility(actor)
        let clock = try CredentialMethods.expiryClock(service, p)
        let limit = p.int("limit") ?? 1000
        let store = OrganizationStore(service.db)
        // The last expiration any reminder can be due for by asOf (ending at 9999-12-31).
        let until = clock.asOf.windowEnd(days: try store.largestOffset())
        var items: [(due: CalendarDate, json: JSON)] = []
        var after: (String, String)? = nil
        // Candidates come in expiration order; read them in pages until enough reminders are found.
        // Most candidates give a reminder, so the first page is about `limit` long, the next ones 1000.
        var pageSize = min(1000, limit + 10)
        scan: while true {
            let page = try store.reminderCandidates(asOf: clock.asOf, until: until, after: after, limit: pageSize, visibility: visibility)
            for c in page {
                for (offset, dueOn) in Reminders.due(expiration: c.expiration, offsets: c.daysBefore, asOf: clock.asOf)
                where !c.sent.contains(offset.key) {
                    var daysBefore: JSON = .null
                    if case .daysBefore(let d) = offset { daysBefore = .int(d) }
                    items.append((dueOn, [
                        "id": .string(reminderID(c, offset)), "credentialId": .string(c.credentialID), "version": .int(c.version),
                        "userId": .string(c.userID), "email": .string(c.email), "typeName": .string(c.typeName),
                        "expirationDate": .string(c.expiration.description), "kind": offset == .expired ? "expired" : "upcoming",
                        "daysBefore": daysBefore, "dueDate": .string(dueOn.description),
                    ]))
                }
                if items.count >= limit { break scan }
            }
            guard page.count == pageSize, let last = page.last else { break }
            after = (last.expiration.description, last.credentialID)
            pageSize = 1000
        }
        items += try TokenReminders.due(service, asOf: clock.asOf)
        let ordered = items.enumerated().sorted { ($0.element.due, $0.offset) < ($1.element.due, $1.offset) }.prefix(limit)
        return ["items": .array(ordered.map(\.element.json))]
    }

    static func markSent(_ service: Service, _ p: Params) throws -> JSON {
        let actor = try service.requireActor()
        try UserRules.requireAdmin(actor)
        let ids = p["ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var parsed: [(String, Int, String)] = []
        var tokenIDs: [(index: Int, id: (tokenID: String, days: Int))] = []
        for (i, id) in ids.enumerated() {
            if let t = TokenReminders.parse(id) {
                tokenIDs.append((i, t))
                continue
            }
            let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let v = Int(parts[1]), v >= 1, String(v) == parts[1], Reminders.Offset(key: parts[2]) != nil else {
                throw DomainError.invalidField("ids[\(i)]", "is not a reminder id from notifications.due")
            }
            parsed.append((parts[0], v, parts[2]))
        }
        let marked: Int = try service.write {
            let credentials = CredentialStore(service.db)
            let store = OrganizationStore(service.db)
            var marked = 0
            for (i, (credentialID, version, offset)) in parsed.enumerated() {
                // Only an id notifications.due could give (for some asOf): the latest version (only
                // it has reminders), and one of its holder's offsets or `expired` of a credential
                // that expires. Anything else would cancel reminders nobody was ever shown.
                guard let c = try credentials.find(id: credentialID), version == c.versionCount, c.latest.expirationDate != nil,
                      CredentialAccess.canView(actor, ownerID: c.userID, latestApproval: c.latest.approval.status) else {
                    throw DomainError.invalidField("ids[\(i)]", "names no reminder of a credential's latest version")
                }
                if case .daysBefore(let d)? = Reminders.Offset(key: offset), !(try store.notificationSettings(userID: c.userID).daysBefore.contains(d)) {
                    throw DomainError.invalidField("ids[\(i)]", "names an offset the holder has no reminder for")
                }
                if try store.markSent(credentialID: credentialID, version: version, offset: offset, at: service.now, by: actor.id) { marked += 1 }
            }
            for t in tokenIDs where try TokenReminders.markSent(service, t.id, index: t.index, by: actor.id) { marked += 1 }
            try service.audit("notifications.markSent", target: nil, actor: actor.id, detail: ["marked": .int(marked), "ids": .array(ids.map(JSON.string))])
            return marked
        }
        return ["marked": .int(marked)]
    }

    static func auditList(_ service: Service, _ p: Params) throws -> JSON {
        try UserRules.requireAdmin(try service.requireActor())
        let page = try Page(p, key: .seq, seal: service.cursorSeal("audit.list"))
        if let since = p.string("since"), Timestamp.parse(since) == nil {
            throw DomainError.invalidField("since", "must be an RFC 3339 UTC timestamp such as 2026-01-01T00:00:00.000Z")
        }
        let after = try page.after.map { key -> Int64 in
            guard let n = Int64(key) else { throw Page.invalidCursor }
            return n
        }
        let (entries, more) = try AuditLog(service.db).list(actorID: p.string("actorId"), since: p.string("since"), afterSeq: after, limit: page.limit)
        let items: [JSON] = entries.map { e in
            ["id": .string(String(e.seq)), "at": .string(e.at), "actorId": .optional(e.actorID), "action": .string(e.action),
             "targetId": .optional(e.targetID), "detail": (try? JSONParser.parseValue(e.detail)) ?? [:]]
        }
        return page.result(items, lastKey: entries.last.map { String($0.seq) }, more: more)
    }
}
