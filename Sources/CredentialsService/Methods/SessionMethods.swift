import CredentialsCore
import CredentialsStore
import JSONRPC

/// `setup.createAdmin` and `session.*`: bootstrap, sign-in, sign-out, whoami, password change.
enum SessionMethods {
    /// Sign-in takes any text up to 1,000 characters as the email: an unknown or malformed one
    /// gets the same answer, in the same time, as a wrong password.
    static let loginEmail = Property.optional("email", .string(maxLength: 1000), "With password.")
    static let loginPassword = Property.optional("password", .string(maxLength: 1000))
    static let token = Property.optional("token", .string(maxLength: 1000), "An API token's secret (crpc_...), instead of email and password.")
    static let currentPassword = Property("currentPassword", .string(maxLength: 1000))
    static let newPassword = Property("newPassword", UserJSON.password)

    static let all: [Method] = [
        Method("setup.createAdmin", summary: "Creates the first admin; only while the database has no user.", effect: .changes,
               description: "The first admin needs no password change. Afterwards: -32004 already_initialized. Does not sign in.",
               access: .open,
               params: [UserParams.email, UserParams.firstName, UserParams.lastName, UserParams.password],
               result: "user", UserJSON.schema,
               errors: [ErrorDoc(.invalidParams, "password_policy"), ErrorDoc(.conflict, "already_initialized")],
               run: createAdmin),
        Method("session.login", summary: "Signs this connection in, with email and password or with an API token.", effect: .changes,
               description: "Either email and password, or token (from tokens.create), not both. Unknown email and wrong password give the same invalid_credentials and take the same time. Five failures in a row lock the account for 15 minutes (locked_out). A token that is unknown, revoked or whose owner is no longer an active admin is invalid_token; an expired one token_expired. A token session acts with its owner's current permissions and is not held at password_change_required.",
               access: .open,
               params: [loginEmail, loginPassword, token],
               result: "session", UserJSON.sessionSchema,
               errors: [ErrorDoc(.unauthenticated, "invalid_credentials"), ErrorDoc(.unauthenticated, "locked_out"),
                        ErrorDoc(.unauthenticated, "account_deactivated"), ErrorDoc(.unauthenticated, "invalid_token"),
                        ErrorDoc(.unauthenticated, "token_expired")],
               run: login),
        Method("session.logout", summary: "Signs this connection out (also when not signed in).", effect: .changes, idempotent: true, access: .open,
               result: "signedOut", .named("SignedOut", .object([Property("signedOut", .boolean)]))) { ctx, _ in
            if let s = ctx.connection.session {
                try ctx.write { try ctx.audit("session.logout", target: s.userID, actor: s.userID) }
            }
            ctx.connection.session = nil
            return ["signedOut": true]
        },
        Method("session.whoami", summary: "The signed-in user.", effect: .reads, access: .signedIn,
               result: "session", UserJSON.sessionSchema) { ctx, _ in
            UserJSON.session(try ctx.user, held: ctx.connection.session?.tokenID == nil)
        },
        Method("session.changePassword", summary: "Changes the signed-in user's password and clears mustChangePassword.", effect: .changes,
               description: "Refuses the current password as the new one. Ends the user's sessions in other processes.",
               access: .signedIn,
               params: [currentPassword, newPassword],
               result: "session", UserJSON.sessionSchema,
               errors: [ErrorDoc(.invalidParams, "password_policy"), ErrorDoc(.unauthenticated, "invalid_credentials"),
                        ErrorDoc(.unauthenticated, "locked_out")],
               run: changePassword),
    ]

    static func createAdmin(_ ctx: Context, _ p: Params) throws -> JSON {
        let password = try p.required(UserParams.password)
        let (email, first, last) = try identity(p, passwordField: UserParams.password)
        if try ctx.store.users.count() > 0 { throw alreadyInitialized }
        let hash = ctx.passwords.hash(password)  // slow: outside the write lock
        let now = ctx.now
        let user = User(id: ctx.deps.newID("usr"), email: email.email, firstName: first, lastName: last, role: .admin,
                        permissions: .all, status: .active, mustChangePassword: false, createdAt: now, updatedAt: now)
        try ctx.write {
            let users = ctx.store.users
            if try users.count() > 0 { throw alreadyInitialized }
            try users.insert(UserRecord(user: user, passwordHash: hash))
            try ctx.store.loginThrottle.forget(emailKey: email.key)
            try ctx.audit("setup.createAdmin", target: user.id, actor: nil, detail: ["email": .string(user.email)])
        }
        return UserJSON.encode(user)
    }

    static let alreadyInitialized = DomainError.conflict(reason: "already_initialized", message: "The database already has users; sign in instead")

    static let invalidCredentials = DomainError.unauthenticated(reason: "invalid_credentials", message: "Wrong email or password")
    static let lockedOut = DomainError.unauthenticated(
        reason: "locked_out", message: "Too many failed sign-ins: the account is locked for \(LoginThrottle.lockMillis / 60_000) minutes")

    static func login(_ ctx: Context, _ p: Params) throws -> JSON {
        if let secret = p.string(token) {
            if p.has(loginEmail) || p.has(loginPassword) {
                throw DomainError.invalidField(token.name, "sign in with a token or with email and password, not both")
            }
            return UserJSON.session(try signIn(ctx, token: secret), held: false)
        }
        var missing: [FieldIssue] = []
        for field in [loginEmail, loginPassword] where !p.has(field) { missing.append(FieldIssue(field.name, "is required (or give token instead)")) }
        if !missing.isEmpty { throw DomainError.invalid(reason: "invalid_params", fields: missing) }
        let password = try p.required(loginPassword)
        let typed = try p.required(loginEmail)
        let emailKey = (try? UserFields.email(typed, toFind: true))?.key
        guard let key = emailKey, let found = try findAccount(ctx, typed: typed, key: key) else {
            ctx.passwords.verifyNothing(password)  // the same cost as a wrong password
            // Counted like any other failure, a malformed address too (by its folded text, which
            // no well-formed address folds to), so no answer depends on what was typed.
            throw try recordUnknownFailure(ctx, emailKey: emailKey ?? TextRules.emailKey(typed))
        }
        // Always one full verification, whatever the account's state, so timing tells nothing.
        let matches = ctx.passwords.verify(password, against: found.passwordHash)
        let upgraded = matches && ctx.passwords.needsUpgrade(found.passwordHash) ? ctx.passwords.hash(password) : nil
        let now = ctx.now
        let outcome: Result<UserRecord, DomainError> = try ctx.write {
            let users = ctx.store.users
            guard var r = try users.find(id: found.user.id) else { return .failure(invalidCredentials) }
            if LoginThrottle.isLocked(until: r.lockedUntil, now: now) { return .failure(lockedOut) }
            guard matches else { return .failure(try recordFailure(ctx, r, now: now, action: "session.loginFailed", actor: nil)) }
            if r.user.status == .deactivated {
                return .failure(.unauthenticated(reason: "account_deactivated", message: "This account is deactivated"))
            }
            if r.failedLogins != 0 || r.lockedUntil != nil || upgraded != nil {
                r.failedLogins = 0
                r.lockedUntil = nil
                if let upgraded { r.passwordHash = upgraded }
                try users.update(r)
            }
            try ctx.audit("session.login", target: r.user.id, actor: r.user.id)
            return .success(r)
        }
        let record = try outcome.get()
        ctx.connection.session = SessionState(userID: record.user.id, epoch: record.sessionEpoch)
        return UserJSON.session(record.user)
    }

    /// Signs the connection in with an API token's secret, or throws `invalid_token` /
    /// `token_expired` and leaves it as it was. The digest is computed and looked up for any
    /// string, well-formed or not, so the time taken says nothing about how close it came.
    static func signIn(_ ctx: Context, token secret: String) throws -> User {
        let digest = TokenSecret.digest(secret)
        let now = ctx.now
        let outcome: Result<(User, APIToken, Int64), DomainError> = try ctx.write {
            let tokens = ctx.store.tokens
            guard let found = try tokens.find(digest: digest), TokenSecret.isWellFormed(secret),
                  TokenSecret.digestsEqual(found.digest, digest) else { return .failure(TokenRules.invalidToken) }
            let current = try ctx.store.users.session(id: found.token.userID)
            if let refusal = TokenRules.refusal(found.token, owner: current?.user, now: now) { return .failure(refusal) }
            guard let owner = current?.user, let tokenEpoch = current?.tokenEpoch else { return .failure(TokenRules.invalidToken) }
            try tokens.markUsed(id: found.token.id, at: now)
            try ctx.audit("session.login", target: owner.id, actor: owner.id, detail: ["tokenId": .string(found.token.id)])
            return .success((owner, found.token, tokenEpoch))
        }
        let (owner, token, tokenEpoch) = try outcome.get()
        ctx.connection.session = SessionState(userID: owner.id, epoch: tokenEpoch, tokenID: token.id)
        return owner
    }

    /// Counts one more wrong password (inside the caller's write) and says what to answer.
    static func recordFailure(_ ctx: Context, _ r: UserRecord, now: Int64, action: String, actor: String?) throws -> DomainError {
        let next = LoginThrottle.afterFailure(failures: r.failedLogins, lockedUntil: r.lockedUntil, now: now)
        try ctx.store.users.updateLoginCounters(id: r.user.id, failedLogins: next.failures, lockedUntil: next.lockedUntil)
        try ctx.audit(next.locked ? "session.locked" : action, target: r.user.id, actor: actor)
        return next.locked ? lockedOut : invalidCredentials
    }

    /// The account for a typed address: by its folded key; but an account made before schema 8
    /// whose folded key another account took kept its old, lowercased key (migration 8), and the
    /// exact form it was made with still finds it first.
    static func findAccount(_ ctx: Context, typed: String, key: String) throws -> UserRecord? {
        let users = ctx.store.users
        let legacy = UserFields.keyBeforeSchema8(typed)
        if !legacy.utf8.elementsEqual(key.utf8), let old = try users.find(emailKey: legacy) { return old }
        return try users.find(emailKey: key)
    }

    /// A wrong sign-in to an email with no account, counted and locked exactly as an account's
    /// (Protocol/README.md §6, who may call what): the same answers, in the same order, after the same work (one write).
    static func recordUnknownFailure(_ ctx: Context, emailKey: String) throws -> DomainError {
        let now = ctx.now
        return try ctx.write {
            let throttle = ctx.store.loginThrottle
            let c = try throttle.counters(emailKey: emailKey)
            if LoginThrottle.isLocked(until: c.lockedUntil, now: now) { return lockedOut }
            let next = LoginThrottle.afterFailure(failures: c.failures, lockedUntil: c.lockedUntil, now: now)
            try throttle.save(emailKey: emailKey, failures: next.failures, lockedUntil: next.lockedUntil)
            // The email typed is not recorded: people type passwords into the email field.
            try ctx.audit(next.locked ? "session.locked" : "session.loginFailed", target: nil, actor: nil,
                              detail: ["unknownEmail": true])
            return next.locked ? lockedOut : invalidCredentials
        }
    }

    static func changePassword(_ ctx: Context, _ p: Params) throws -> JSON {
        let actor = try ctx.user
        try ctx.refuseInTokenSession("change the password")
        let current = try p.required(currentPassword)
        let new = try p.required(newPassword)
        if new == current {
            throw DomainError.invalidField(newPassword.name, "must differ from the current password", reason: "password_policy")
        }
        try UserFields.checkPassword(new, field: newPassword.name)
        guard let found = try ctx.store.users.find(id: actor.id) else { throw invalidCredentials }
        let matches = ctx.passwords.verify(current, against: found.passwordHash)
        let hash = matches ? ctx.passwords.hash(new) : ""
        let now = ctx.now
        let outcome: Result<UserRecord, DomainError> = try ctx.write {
            let users = ctx.store.users
            guard var r = try users.find(id: actor.id) else { return .failure(invalidCredentials) }
            if LoginThrottle.isLocked(until: r.lockedUntil, now: now) { return .failure(lockedOut) }
            guard matches else {
                return .failure(try recordFailure(ctx, r, now: now, action: "session.changePasswordFailed", actor: r.user.id))
            }
            r.passwordHash = hash
            r.user.mustChangePassword = false
            r.user.updatedAt = now
            r.failedLogins = 0
            r.lockedUntil = nil
            r.sessionEpoch += 1
            try users.update(r)
            try ctx.audit("session.changePassword", target: r.user.id, actor: r.user.id)
            return .success(r)
        }
        let record = try outcome.get()
        ctx.connection.session = SessionState(userID: record.user.id, epoch: record.sessionEpoch)
        return UserJSON.session(record.user)
    }
}

/// The email and names of a new user, and the password policy on `passwordField`: every failing
/// field reported at once (`password_policy` when only the password failed).
func identity(_ p: Params, passwordField: Property) throws -> (email: (email: String, key: String), first: String, last: String) {
    var issues: [FieldIssue] = []
    let email = collect(&issues) { () throws(DomainError) in try UserFields.email(p.required(UserParams.email)) }
    let first = collect(&issues) { () throws(DomainError) in try UserFields.name(p.required(UserParams.firstName), field: UserParams.firstName.name) }
    let last = collect(&issues) { () throws(DomainError) in try UserFields.name(p.required(UserParams.lastName), field: UserParams.lastName.name) }
    let passwordProblems = UserFields.passwordProblems(try p.required(passwordField), field: passwordField.name)
    if issues.isEmpty && passwordProblems.isEmpty, let email, let first, let last { return (email, first, last) }
    throw DomainError.invalid(reason: issues.isEmpty ? "password_policy" : "invalid_params", fields: issues + passwordProblems)
}

/// Runs a field check, collecting its issues instead of stopping at the first.
func collect<T>(_ issues: inout [FieldIssue], _ body: () throws(DomainError) -> T) -> T? {
    do { return try body() } catch {
        if case .invalid(_, let fields) = error { issues.append(contentsOf: fields) }
        return nil
    }
}


extension Service {
    /// Signs the process in with `CREDENTIALS_RPC_TOKEN` before its first request. Nil when
    /// signed in; else the reason (`invalid_token`, `token_expired`, a storage fault), never the
    /// secret: the caller says it on stderr and serves signed out.
    public func signIn(token secret: String) -> String? {
        do {
            _ = try SessionMethods.signIn(context(caller: nil), token: secret)
            return nil
        } catch let e as DomainError {
            return e.rpcError.reason
        } catch let e as StorageFailure {
            return e.fault.rawValue
        } catch {
            return "internal_error"
        }
    }
}
