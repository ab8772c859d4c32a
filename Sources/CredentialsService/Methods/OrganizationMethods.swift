import CredentialsCore
import CredentialsStore
import JSONRPC

/// `settings.*` and `audit.list` (`notifications.*`: NotificationMethods and DigestMethods).
enum OrganizationMethods {
    static let settingsSchema: Schema = .named("Settings", .object([
        expiringWindowDays, approvalsRequired,
    ]))
    static let auditEntrySchema: Schema = .named("AuditEntry", .object([
        Property("id", .string()), Property("at", UserJSON.timestamp), Property("actorId", .nullable(.string())),
        Property("action", .string(), "The method that made the change (or session.login, session.locked, ...)."),
        Property("targetId", .nullable(.string())), Property("detail", .object([], additional: true), "What changed; never a password, hash, media bytes or credential field value."),
    ]))

    static let expiringWindowDays = Property("expiringWindowDays", .integer(0...365), "Days before expiry a credential counts as expiring.")
    static let approvalsRequired = Property("approvalsRequired", .boolean, "When false, new versions start approved.")
    static let actorID = Property.optional("actorId", CredentialJSON.id)
    static let since = Property.optional("since", UserJSON.timestamp, "Entries at or after this instant.")

    static let all: [Method] = [
        Method("settings.get", summary: "The organization's settings.", effect: .reads, access: .ready, result: "settings", settingsSchema) { ctx, _ in
            json(try ctx.settings())
        },
        Method("settings.update", summary: "Changes the organization's settings; every computed status follows at once. Admin.", effect: .changes, idempotent: true,
               access: .admin,
               params: [expiringWindowDays.notRequired.described(nil), approvalsRequired.notRequired.described(nil)],
               result: "settings", settingsSchema, errors: [ErrorDoc(.forbidden, "forbidden")], run: updateSettings),
        Method("audit.list", summary: "Every change, in the order it was made, filtered by actor and time. Admin.", effect: .reads,
               access: .admin,
               params: [actorID, since] + Page.params,
               result: "page", Page.schema("AuditPage", of: auditEntrySchema), errors: [ErrorDoc(.forbidden, "forbidden")] + Page.errors,
               run: auditList),
    ]

    static func json(_ s: OrgSettings) -> JSON {
        ["expiringWindowDays": .int(s.expiringWindowDays), "approvalsRequired": .bool(s.approvalsRequired)]
    }

    static func updateSettings(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let s: OrgSettings = try ctx.write {
            let store = ctx.store.organization
            let before = try store.settings()
            var s = before
            if let w = p.int(expiringWindowDays) { s.expiringWindowDays = w }
            if let a = p.bool(approvalsRequired) { s.approvalsRequired = a }
            if s == before { return s }
            try store.save(s)
            ctx.settingsChanged()
            var changes = JSONObject()
            if s.expiringWindowDays != before.expiringWindowDays {
                changes["expiringWindowDays"] = ["from": .int(before.expiringWindowDays), "to": .int(s.expiringWindowDays)]
            }
            if s.approvalsRequired != before.approvalsRequired {
                changes["approvalsRequired"] = ["from": .bool(before.approvalsRequired), "to": .bool(s.approvalsRequired)]
            }
            try ctx.audit("settings.update", target: nil, actor: actor.id, detail: .object(changes))
            return s
        }
        return json(s)
    }

    static func auditList(_ ctx: Context, _ p: Params) throws -> JSON {
        let page = try Page(p, key: .seq, seal: ctx.cursorSeal("audit.list"))
        if let since = p.string(since), Timestamp.parse(since) == nil {
            throw DomainError.invalidField(Self.since.name, "must be an RFC 3339 UTC timestamp such as 2026-01-01T00:00:00.000Z")
        }
        let after = try page.after.map { key -> Int64 in
            guard let n = Int64(key) else { throw Page.invalidCursor }
            return n
        }
        let (entries, more) = try ctx.store.auditLog.list(actorID: p.string(actorID), since: p.string(since), afterSeq: after, limit: page.limit)
        let items: [JSON] = entries.map { e in
            ["id": .string(String(e.seq)), "at": .string(e.at), "actorId": .optional(e.actorID), "action": .string(e.action),
             "targetId": .optional(e.targetID), "detail": (try? JSONParser.parseValue(e.detail)) ?? [:]]
        }
        return page.result(items, lastKey: entries.last.map { String($0.seq) }, more: more)
    }
}
