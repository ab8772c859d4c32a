import CredentialsCore
import CredentialsStore
import JSONRPC

/// `tokens.*`: API tokens, so scripts and hosts sign in without a password (Protocol/README.md §6, API tokens).
/// Signing in with one is `session.login {token}` (SessionMethods) or `CREDENTIALS_RPC_TOKEN`.
enum TokenMethods {
    static let schema: Schema = .named("Token", .object([
        Property("id", .string()), Property("userId", .string()), Property("name", .string()),
        Property("hint", .string(minLength: 4, maxLength: 4), "The secret's last four characters."),
        Property("status", .oneOf(["active", "expired", "revoked"])),
        Property("createdAt", UserJSON.timestamp), Property("expiresAt", UserJSON.timestamp),
        Property("lastUsedAt", .nullable(UserJSON.timestamp), "The last sign-in with it."),
        Property("revokedAt", .nullable(UserJSON.timestamp)),
    ]))

    static let tokenID = Property("tokenId", .string(minLength: 1, maxLength: 100))
    static let name = Property("name", .string(minLength: 1, maxLength: TokenRules.maxNameLength), "What the token is for, 1 to 100 characters.")
    static let expiresInDays = Property.optional("expiresInDays", .integer(TokenRules.expiryDays), "Days until it expires (default 365).")
    static let owner = UserJSON.userID.notRequired.described("Whose (default: the caller's); another user's for admins.")

    static let all: [Method] = [
        Method("tokens.create", summary: "Makes an API token for the caller and shows its secret, once. Active admins only.", effect: .changes,
               description: "The secret is crpc_ followed by 43 URL-safe characters from 32 bytes of OpenSSL's CSPRNG; only its SHA-256 digest is kept, and no other answer, log line or audit row ever holds it. Several tokens may be active at once, so rotation needs no downtime.",
               access: .admin,
               params: [name, expiresInDays],
               result: "created", .named("CreatedToken", .object([
                   Property("token", schema),
                   Property("secret", .string(minLength: TokenSecret.length, maxLength: TokenSecret.length), "Shown here only: store it now."),
               ])),
               errors: [ErrorDoc(.forbidden, "forbidden")], run: create),
        Method("tokens.list", summary: "API tokens, in creation order: one's own, or an admin's view of any user's.", effect: .reads,
               access: .ready, params: [owner] + Page.params,
               result: "page", Page.schema("TokenPage", of: schema),
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")] + Page.errors, run: list),
        Method("tokens.revoke", summary: "Revokes a token: its sessions end in every process at their next call.", effect: .destroys, idempotent: true,
               description: "One's own, or another user's as an admin who holds every permission that user has. Revoking a revoked token returns it unchanged.",
               access: .ready, params: [tokenID], result: "token", schema,
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")], run: revoke),
    ]

    static func encode(_ t: APIToken, now: Int64) -> JSON {
        [
            "id": .string(t.id), "userId": .string(t.userID), "name": .string(t.name), "hint": .string(t.hint),
            "status": .string(t.status(at: now).rawValue),
            "createdAt": .string(Timestamp.format(millis: t.createdAt)), "expiresAt": .string(Timestamp.format(millis: t.expiresAt)),
            "lastUsedAt": .optional(t.lastUsedAt.map(Timestamp.format(millis:))),
            "revokedAt": .optional(t.revokedAt.map(Timestamp.format(millis:))),
        ]
    }

    static func create(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        try ctx.refuseInTokenSession("make tokens")
        let name = try UserFields.name(p.required(Self.name), field: Self.name.name, max: TokenRules.maxNameLength)
        // A secret pasted as a name would be shown to every admin, in lists and the audit log.
        if TokenSecret.holdsSecret(name) { throw DomainError.invalidField(Self.name.name, "must not hold a token's secret") }
        let now = ctx.now
        let secret = TokenSecret.make(from: ctx.deps.secretBytes(TokenSecret.randomByteCount))
        let token = APIToken(id: ctx.deps.newID("tok"), userID: actor.id, name: name, hint: TokenSecret.hint(secret),
                             createdAt: now, expiresAt: TokenRules.expiry(createdAt: now, days: p.int(expiresInDays) ?? TokenRules.defaultExpiryDays))
        try ctx.write {
            try ctx.store.tokens.insert(token, digest: TokenSecret.digest(secret))
            try ctx.audit("tokens.create", target: token.id, actor: actor.id,
                              detail: ["name": .string(name), "expiresAt": .string(Timestamp.format(millis: token.expiresAt))])
        }
        return ["token": encode(token, now: now), "secret": .string(secret)]
    }

    static func list(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let page = try Page(p, key: .id(prefix: "tok"), seal: ctx.cursorSeal("tokens.list"))
        let userID = p.string(owner) ?? actor.id
        if userID != actor.id {
            try UserRules.requireAdmin(actor)
            _ = try UserMethods.find(ctx, userID)
        }
        let now = ctx.now
        let (tokens, more) = try ctx.store.tokens.list(userID: userID, afterID: page.after, limit: page.limit)
        return page.result(tokens.map { encode($0, now: now) }, lastKey: tokens.last?.id, more: more)
    }

    static func revoke(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let id = try p.required(tokenID)
        let now = ctx.now
        let token: APIToken = try ctx.write {
            let store = ctx.store.tokens
            // Another user's token is not even visible to a support user.
            guard var t = try store.find(id: id), t.userID == actor.id || actor.role == .admin else {
                throw DomainError.notFound("No token \(id.prefix(100))")
            }
            if t.userID != actor.id, let owner = try ctx.store.users.find(id: t.userID)?.user {
                try UserRules.checkManage(actor: actor, target: owner)
            }
            if t.revokedAt != nil { return t }
            try store.revoke(id: t.id, at: now)
            try ctx.audit("tokens.revoke", target: t.id, actor: actor.id, detail: ["userId": .string(t.userID)])
            t.revokedAt = now
            return t
        }
        return encode(token, now: now)
    }
}
