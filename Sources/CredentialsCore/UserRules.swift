/// Who may do what to users, and the invariants that protect the organization.
public enum UserRules {
    /// Managing users, teams and settings is for admins; some of it for admins holding one
    /// permission besides (`holding`), named in the refusal. The method table applies it.
    public static func requireAdmin(_ actor: User, holding permission: Permission? = nil, to what: String = "do this") throws(DomainError) {
        guard actor.role == .admin else { throw .forbidden("Only admins may \(what)") }
        if let permission, !actor.permissions.has(permission) {
            throw .forbidden("Only an admin with \(permission.rawValue) may \(what)")
        }
    }

    /// An admin may hand out only permissions they hold themselves: otherwise an admin could mint
    /// a second account with more rights and sign in as it.
    public static func checkGrant(actor: User, granting: Permissions, over previous: Permissions = .none) throws(DomainError) {
        let added = Permissions(mask: granting.mask & ~previous.mask)
        guard added.isSubset(of: actor.permissions) else {
            let names = Permission.allCases.filter { added.has($0) && !actor.permissions.has($0) }.map(\.rawValue)
            throw .forbidden("You cannot grant permissions you do not hold: \(names.joined(separator: ", "))")
        }
    }

    /// Changing another user (`users.update`, `users.resetPassword`, `users.deactivate`,
    /// `users.reactivate`, revoking their tokens) needs every permission that user holds, before
    /// and after the change: otherwise an admin with permissions deselected could reset the
    /// password of an admin who has more and sign in as them, promote a support user who holds
    /// more, or lock out the admins above them (Protocol/README.md §6, who may call what). Acting on oneself is ruled by the
    /// self-rules (`checkUpdate`) instead.
    public static func checkManage(actor: User, target before: User, after: User? = nil) throws(DomainError) {
        try requireAdmin(actor)
        guard actor.id != before.id else { return }
        let held = Permissions(mask: before.permissions.mask | (after?.permissions.mask ?? 0))
        guard held.isSubset(of: actor.permissions) else {
            let names = Permission.allCases.filter { held.has($0) && !actor.permissions.has($0) }.map(\.rawValue)
            throw .forbidden("You can manage only users whose permissions you hold too; this one has \(names.joined(separator: ", "))")
        }
    }

    /// `users.update`: nobody raises their own role or permissions; the last active admin stays
    /// an admin; another user only within `checkManage`.
    public static func checkUpdate(actor: User, target: User, role: Role?, permissions: Permissions?,
                                   activeAdmins: Int) throws(DomainError) {
        try requireAdmin(actor)
        var after = target
        if let permissions { after.permissions = permissions }
        try checkManage(actor: actor, target: target, after: after)
        if let permissions, actor.id == target.id && !permissions.isSubset(of: target.permissions) {
            throw .forbidden("You cannot raise your own permissions")
        }
        if let role, role != target.role {
            if actor.id == target.id && role == .admin { throw .forbidden("You cannot raise your own role") }
            if target.isActiveAdmin && role != .admin && activeAdmins <= 1 {
                throw .conflict(reason: "last_admin", message: "The last active admin cannot be demoted")
            }
        }
    }

    /// No change to a user leaves the organization without an active admin holding a permission
    /// that some active admin held before: since an admin grants only what they hold, nobody
    /// could ever grant it again (deactivating or demoting the one full admin beside limited
    /// ones would lose it for good). `othersHold`: what the other active admins hold together.
    public static func checkKeepsEveryPermission(before: User, after: User, othersHold: Permissions) throws(DomainError) {
        let had = before.isActiveAdmin ? before.permissions.mask : 0
        let has = after.isActiveAdmin ? after.permissions.mask : 0
        let lost = Permissions(mask: had & ~has & ~othersHold.mask)
        guard lost == .none else {
            let names = Permission.allCases.filter { lost.has($0) }.map(\.rawValue)
            throw .conflict(reason: "last_admin", message: "No other active admin holds \(names.joined(separator: ", ")): it could never be granted again")
        }
    }

    /// `users.deactivate`: the last active admin cannot be deactivated.
    public static func checkDeactivate(actor: User, target: User, activeAdmins: Int) throws(DomainError) {
        try checkManage(actor: actor, target: target)
        if target.isActiveAdmin && activeAdmins <= 1 {
            throw .conflict(reason: "last_admin", message: "The last active admin cannot be deactivated")
        }
    }
}

/// Sign-in throttling: five failures in a row lock the account for fifteen minutes.
public enum LoginThrottle {
    public static let maxFailures = 5
    public static let lockMillis: Int64 = 15 * 60 * 1000

    public static func isLocked(until lockedUntil: Int64?, now: Int64) -> Bool {
        guard let lockedUntil else { return false }
        return now < lockedUntil
    }

    /// The counters after one more failure. `locked` is true when this failure locks the account.
    public static func afterFailure(failures: Int, lockedUntil: Int64?, now: Int64) -> (failures: Int, lockedUntil: Int64?, locked: Bool) {
        // A lock that has run out starts a fresh count.
        let previous = lockedUntil.map { now >= $0 } == true ? 0 : failures
        let count = previous + 1
        if count >= maxFailures { return (0, now + lockMillis, true) }
        return (count, nil, false)
    }
}
