import CredentialsCore
import CredentialsStore
import JSONRPC

/// `teams.follow` and `teams.unfollow`: a follower hears of the expiry reminders of
/// a team's members (notifications.due) and reads its digest (notifications.digest). Any admin
/// may follow any team; a support user only a team they are a member of, since a team they are
/// not in is not theirs to watch. Following for someone else changes what they are sent, so it
/// needs what managing that user needs (Protocol/README.md §6, who may call what).
enum TeamFollowMethods {
    static let followingSchema: Schema = .named("TeamFollowing", .object([
        Property("teamId", .string()), Property("userId", .string()),
        Property("following", .boolean, "Whether the user follows the team now."),
    ]))
    static let params = [TeamMethods.teamID, NotificationMethods.userID]
    static let errors = [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]

    static let all: [Method] = [
        Method("teams.follow", summary: "Follows a team: the follower hears of its members' expiry reminders. No change if already following.", effect: .changes, idempotent: true,
               description: "Any admin may follow any team; a support user only a team they are a member of. Following for another user (userId) needs an admin who may manage that user.",
               access: .ready, params: params, result: "following", followingSchema, errors: errors) { s, p in try follow(s, p, true) },
        Method("teams.unfollow", summary: "Stops following a team. No change if not following.", effect: .changes, idempotent: true,
               description: "One's own, always; another user's (userId) needs an admin who may manage that user.",
               access: .ready, params: params, result: "following", followingSchema, errors: errors) { s, p in try follow(s, p, false) },
    ]

    static func follow(_ ctx: Context, _ p: Params, _ following: Bool) throws -> JSON {
        let actor = try ctx.user
        let team = try TeamMethods.find(ctx, p.required(TeamMethods.teamID), withMembers: false)
        let userID = p.string(NotificationMethods.userID) ?? actor.id
        if userID != actor.id { try UserRules.requireAdmin(actor) }  // before saying whether the user exists
        let target = userID == actor.id ? actor : try UserMethods.find(ctx, userID).user
        try check(ctx, actor: actor, target: target, teamID: team.id, following)
        try ctx.write {
            // Again, on the user as committed: a demotion in between may have made them a
            // support user of another team.
            if userID != actor.id, let committed = try ctx.store.users.find(id: userID)?.user {
                try check(ctx, actor: actor, target: committed, teamID: team.id, following)
            }
            if try ctx.store.teams.setFollowing(teamID: team.id, userID: userID, following) {
                try ctx.audit(following ? "teams.follow" : "teams.unfollow", target: team.id, actor: actor.id,
                                  detail: ["userId": .string(userID)])
            }
        }
        return ["teamId": .string(team.id), "userId": .string(userID), "following": .bool(following)]
    }

    static func check(_ ctx: Context, actor: User, target: User, teamID: String, _ following: Bool) throws {
        if target.id != actor.id { try UserRules.checkManage(actor: actor, target: target) }
        if following, target.role != .admin, try !ctx.store.teams.isMember(teamID: teamID, userID: target.id) {
            throw DomainError.forbidden(target.id == actor.id ? "A support user may follow only a team they are a member of"
                                                              : "That support user is not a member of the team, so cannot follow it")
        }
    }
}
