import CredentialsCore
import CredentialsStore
import JSONRPC

/// `notifications.digest`: for an admin, in one call, what the members of the teams
/// they follow hold that expires within the next `days` days, or has expired, as a compliance
/// manager reviews it. Bounded, so one call stays one answer of a known size.
enum DigestMethods {
    /// The most items one digest holds, over all its teams; past it the answer says `truncated`.
    static let maxItems = 10_000
    static let defaultDays = 30

    static let itemSchema: Schema = .named("DigestItem", .object([
        Property("credentialId", .string()), Property("userId", .string()), Property("email", .string()),
        Property("firstName", .string()), Property("lastName", .string()), Property("typeName", .string()),
        Property("expirationDate", CredentialJSON.date, "The latest version's."),
        Property("expiryStatus", CredentialJSON.expiryStatus, "As credentials.get computes it for asOf, with the organization's expiring window."),
        Property("approvalStatus", CredentialJSON.approvalStatus, "The latest version's."),
    ]))
    static let teamSchema: Schema = .named("DigestTeam", .object([
        Property("teamId", .string()), Property("teamName", .string()),
        Property("items", .array(itemSchema), "By expiration date, then credential id."),
    ]))
    static let digestSchema: Schema = .named("Digest", .object([
        Property("asOf", CredentialJSON.date), Property("days", .integer(1...365)),
        Property("truncated", .boolean, "True when the digest stopped at \(maxItems) items; the teams after the cut show fewer items, or none."),
        Property("teams", .array(teamSchema), "Every team the caller follows, by name (case-insensitive), then id."),
    ]))

    static let days = Property.optional("days", .integer(1...365), "The window after asOf (default \(defaultDays)).")

    static let all: [Method] = [
        Method("notifications.digest", summary: "For the teams the caller follows: their members' credentials that expire within days of asOf, or have expired. Admin.", effect: .reads,
               description: "Latest versions of active members' credentials whose expiration date is on or before asOf + days (expired ones included), of those the caller may view; at most \(maxItems) items in all.",
               access: .admin,
               params: [days, CredentialJSON.asOf],
               result: "digest", digestSchema, errors: [ErrorDoc(.forbidden, "forbidden")], run: digest),
    ]

    static func digest(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let clock = try CredentialMethods.expiryClock(ctx, p)
        let days = p.int(Self.days) ?? defaultDays
        let store = ctx.store.teams
        let teams = try store.followedTeams(userID: actor.id)
        var rows = try store.digest(followerID: actor.id, until: clock.asOf.windowEnd(days: days), visibility: Visibility(actor),
                                    limit: maxItems + 1)
        let truncated = rows.count > maxItems
        if truncated { rows.removeLast(rows.count - maxItems) }
        var byTeam: [String: [JSON]] = [:]
        for r in rows {
            byTeam[r.teamID, default: []].append([
                "credentialId": .string(r.credentialID), "userId": .string(r.userID), "email": .string(r.email),
                "firstName": .string(r.firstName), "lastName": .string(r.lastName), "typeName": .string(r.typeName),
                "expirationDate": .string(r.expiration.description),
                "expiryStatus": .string(ExpiryStatus.of(expiration: r.expiration, asOf: clock.asOf, windowDays: clock.windowDays).rawValue),
                "approvalStatus": .string(r.approval.rawValue),
            ])
        }
        return ["asOf": .string(clock.asOf.description), "days": .int(days), "truncated": .bool(truncated),
                "teams": .array(teams.map { t in ["teamId": .string(t.id), "teamName": .string(t.name), "items": .array(byTeam[t.id] ?? [])] })]
    }
}
