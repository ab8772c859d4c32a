import CredentialsCore
import CredentialsStore
import JSONRPC

/// `users.*`: integration users. Admins manage; every signed-in user may view.
enum UserMethods {
    static let all: [Method] = [
        Method("users.add", summary: "Adds a user who must change the temporary password at first sign-in. Admin only.", effect: .changes,
               description: "Permissions are all on unless deselected. An admin can grant only permissions they hold.",
               access: .admin,
               params: [UserParams.email, UserParams.firstName, UserParams.lastName, UserParams.role, UserParams.permissions,
                        UserParams.temporaryPassword],
               result: "user", UserJSON.schema,
               errors: [ErrorDoc(.invalidParams, "password_policy"), ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.conflict, "email_taken")],
               run: add),
        Method("users.get", summary: "One user.", effect: .reads, access: .ready, params: [UserJSON.userID],
               result: "user", UserJSON.schema, errors: [ErrorDoc(.notFound, "not_found")]) { ctx, p in
            UserJSON.encode(try find(ctx, p.required(UserJSON.userID)).user)
        },
        Method("users.list", summary: "Users in creation order, filtered by role, status and a name or email substring.", effect: .reads,
               access: .ready,
               params: [UserParams.role.notRequired, UserParams.status, UserParams.query]
                   + Page.params,
               result: "page", Page.schema("UserPage", of: UserJSON.schema), errors: Page.errors, run: list),
        Method("users.update", summary: "Changes a user's names, role or permissions. Admin only.", effect: .changes, idempotent: true,
               description: "permissions names only the permissions to change. Nobody raises their own role or permissions; the last active admin cannot be demoted. Another user can be changed only by an admin who holds every permission that user has, before and after the change.",
               access: .admin,
               params: [UserJSON.userID, UserParams.firstName.notRequired, UserParams.lastName.notRequired, UserParams.role.notRequired,
                        UserParams.permissions],
               result: "user", UserJSON.schema,
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found"), ErrorDoc(.conflict, "last_admin")],
               run: update),
        Method("users.deactivate", summary: "Deactivates a user and ends their sessions everywhere. Admin only.", effect: .destroys, idempotent: true,
               description: "Only by an admin who holds every permission the user has.",
               access: .admin, params: [UserJSON.userID], result: "user", UserJSON.schema,
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found"), ErrorDoc(.conflict, "last_admin")]) { s, p in
            try setStatus(s, p, .deactivated)
        },
        Method("users.reactivate", summary: "Reactivates a user and clears any sign-in lock. Admin only.", effect: .changes, idempotent: true,
               description: "Only by an admin who holds every permission the user has.",
               access: .admin, params: [UserJSON.userID], result: "user", UserJSON.schema,
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")]) { s, p in
            try setStatus(s, p, .active)
        },
        Method("users.resetPassword", summary: "Sets a new temporary password, to be changed at next sign-in. Admin only.", effect: .changes,
               description: "Ends the user's sessions everywhere and clears any sign-in lock. Only by an admin who holds every permission the user has.",
               access: .admin, params: [UserJSON.userID, UserParams.temporaryPassword],
               result: "user", UserJSON.schema,
               errors: [ErrorDoc(.invalidParams, "password_policy"), ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")],
               run: resetPassword),
        Method("users.invitation", summary: "A ready invitation to sign in, for the admin to send. Admin only.", effect: .reads,
               description: "Names who invited them and the email to sign in with, and says the temporary password must be changed at first sign-in. Never contains the password.",
               access: .admin, params: [UserJSON.userID],
               result: "invitation", .named("Invitation", .object([Property("to", .string()), Property("subject", .string()), Property("body", .string())])),
               errors: [ErrorDoc(.forbidden, "forbidden"), ErrorDoc(.notFound, "not_found")], run: invitation),
    ]

    static func find(_ ctx: Context, _ id: String) throws -> UserRecord {
        guard let r = try ctx.store.users.find(id: id) else { throw DomainError.notFound("No user \(id.prefix(100))") }
        return r
    }

    static func add(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let password = try p.required(UserParams.temporaryPassword)
        let (email, first, last) = try identity(p, passwordField: UserParams.temporaryPassword)
        let permissions = Permissions.applying(UserJSON.permissionChoices(p[UserParams.permissions]), to: .all)
        try UserRules.checkGrant(actor: actor, granting: permissions)
        let users = ctx.store.users
        if try users.emailTaken(email.key) { throw emailTaken }
        let hash = ctx.passwords.hash(password)  // slow: outside the write lock
        let now = ctx.now
        let user = User(id: ctx.deps.newID("usr"), email: email.email, firstName: first, lastName: last,
                        role: Role(rawValue: try p.required(UserParams.role))!, permissions: permissions, status: .active,
                        mustChangePassword: true, createdAt: now, updatedAt: now)
        try ctx.write {
            if try users.emailTaken(email.key) { throw emailTaken }
            try users.insert(UserRecord(user: user, passwordHash: hash))
            try ctx.store.loginThrottle.forget(emailKey: email.key)
            try ctx.audit("users.add", target: user.id, actor: actor.id,
                              detail: ["email": .string(user.email), "role": .string(user.role.rawValue),
                                       "permissions": UserJSON.permissions(user.permissions)])
        }
        return UserJSON.encode(user)
    }

    static let emailTaken = DomainError.conflict(reason: "email_taken", message: "Another user has this email")

    static func list(_ ctx: Context, _ p: Params) throws -> JSON {
        let page = try Page(p, key: .id(prefix: "usr"), seal: ctx.cursorSeal("users.list"))
        let filter = UserFilter(role: p.string(UserParams.role).flatMap(Role.init(rawValue:)),
                                status: p.string(UserParams.status).flatMap(UserStatus.init(rawValue:)), query: p.string(UserParams.query))
        let (users, more) = try ctx.store.users.list(filter, afterID: page.after, limit: page.limit)
        return page.result(users.map(UserJSON.encode), lastKey: users.last?.id, more: more)
    }

    static func update(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let id = try p.required(UserJSON.userID)
        var issues: [FieldIssue] = []
        func optionalName(_ field: Property) -> String? {
            guard let raw = p.string(field) else { return nil }
            return collect(&issues) { () throws(DomainError) in try UserFields.name(raw, field: field.name) }
        }
        let first = optionalName(UserParams.firstName)
        let last = optionalName(UserParams.lastName)
        if !issues.isEmpty { throw DomainError.invalid(reason: "invalid_params", fields: issues) }
        let now = ctx.now
        let user: User = try ctx.write {
            let users = ctx.store.users
            var r = try find(ctx, id)
            let before = r.user
            let role = p.string(UserParams.role).flatMap(Role.init(rawValue:))
            let permissions = p.has(UserParams.permissions)
                ? Permissions.applying(UserJSON.permissionChoices(p[UserParams.permissions]), to: before.permissions) : nil
            try UserRules.checkUpdate(actor: actor, target: before, role: role, permissions: permissions,
                                      activeAdmins: try users.activeAdminCount())
            if let first { r.user.firstName = first }
            if let last { r.user.lastName = last }
            if let role { r.user.role = role }
            if let permissions { r.user.permissions = permissions }
            try UserRules.checkKeepsEveryPermission(before: before, after: r.user, othersHold: users.permissionsOfOtherActiveAdmins(than: id))
            let changes = changeSet(before, r.user)
            if changes.isEmpty { return before }
            r.user.updatedAt = now
            try users.update(r)
            if before.isActiveAdmin && !r.user.isActiveAdmin { try users.endTokenSessions(id: id) }
            try ctx.audit("users.update", target: id, actor: actor.id, detail: .object(changes))
            return r.user
        }
        return UserJSON.encode(user)
    }

    /// `{field: {from, to}}` for every field that differs.
    static func changeSet(_ a: User, _ b: User) -> JSONObject {
        var o = JSONObject()
        // As bytes: String's == is canonical equivalence, so an NFD name changed to NFC would be "no change".
        func note(_ name: String, _ x: JSON, _ y: JSON) { if JSONWriter.encode(x) != JSONWriter.encode(y) { o[name] = ["from": x, "to": y] } }
        note("firstName", .string(a.firstName), .string(b.firstName))
        note("lastName", .string(a.lastName), .string(b.lastName))
        note("role", .string(a.role.rawValue), .string(b.role.rawValue))
        note("permissions", UserJSON.permissions(a.permissions), UserJSON.permissions(b.permissions))
        note("status", .string(a.status.rawValue), .string(b.status.rawValue))
        return o
    }

    static func setStatus(_ ctx: Context, _ p: Params, _ status: UserStatus) throws -> JSON {
        let actor = try ctx.user
        let id = try p.required(UserJSON.userID)
        let now = ctx.now
        let user: User = try ctx.write {
            let users = ctx.store.users
            var r = try find(ctx, id)
            try UserRules.checkManage(actor: actor, target: r.user)
            if r.user.status == status { return r.user }
            if status == .deactivated {
                try UserRules.checkDeactivate(actor: actor, target: r.user, activeAdmins: try users.activeAdminCount())
                var after = r.user
                after.status = .deactivated
                try UserRules.checkKeepsEveryPermission(before: r.user, after: after, othersHold: users.permissionsOfOtherActiveAdmins(than: id))
                r.sessionEpoch += 1  // ends their sessions in every process
            } else {
                r.failedLogins = 0
                r.lockedUntil = nil
            }
            r.user.status = status
            r.user.updatedAt = now
            try users.update(r)
            if status == .deactivated { try users.endTokenSessions(id: id) }
            try ctx.audit(status == .deactivated ? "users.deactivate" : "users.reactivate", target: id, actor: actor.id)
            return r.user
        }
        return UserJSON.encode(user)
    }

    static func resetPassword(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let id = try p.required(UserJSON.userID)
        let password = try p.required(UserParams.temporaryPassword)
        if id == actor.id { try ctx.refuseInTokenSession("reset its owner's password") }
        // Checked before the slow hash to refuse early, and again on the row as committed.
        try UserRules.checkManage(actor: actor, target: find(ctx, id).user)
        try UserFields.checkPassword(password, field: UserParams.temporaryPassword.name)
        let hash = ctx.passwords.hash(password)
        let now = ctx.now
        let user: User = try ctx.write {
            var r = try find(ctx, id)
            try UserRules.checkManage(actor: actor, target: r.user)
            r.passwordHash = hash
            r.user.mustChangePassword = true
            r.user.updatedAt = now
            r.failedLogins = 0
            r.lockedUntil = nil
            r.sessionEpoch += 1  // ends their sessions in every process
            try ctx.store.users.update(r)
            try ctx.audit("users.resetPassword", target: id, actor: actor.id)
            return r.user
        }
        return UserJSON.encode(user)
    }

    static func invitation(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        let u = try find(ctx, p.required(UserJSON.userID)).user
        let body = """
            Hello \(u.firstName),

            \(actor.firstName) \(actor.lastName) (\(actor.email)) has invited you to credentials-rpc as \(u.role == .admin ? "an admin" : "a support user").

            Sign in with this email address: \(u.email)
            Use the temporary password you were given separately. You will be asked to change it when you first sign in.
            """
        return ["to": .string(u.email), "subject": "Your credentials-rpc account", "body": .string(body)]
    }
}
