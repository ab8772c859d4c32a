import CredentialsCore

/// Failed sign-ins to emails that have no account (Protocol/README.md §6, who may call what). They are counted and locked
/// out exactly like an account's own (`LoginThrottle`), so the answers never tell whether an
/// email exists. One row per email tried: each costs the one trying a full PBKDF2 derivation,
/// which bounds how fast the table can grow; an account made for the email later starts clean.
public struct LoginThrottleStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    /// A key as it is stored. What someone types at sign-in may be longer than any email's key
    /// can be (`UserFields.maxEmailKeyBytes`), up to the params' limits; such a key is kept as
    /// its SHA-256 instead, the same for the same text, since PostgreSQL's B-tree refuses an
    /// index row over 2,704 bytes (that sign-in was answered `storage_error` there instead of
    /// `invalid_credentials`). An email's own key is always kept as it is, so `forget` finds it.
    static func stored(_ emailKey: String) -> String {
        emailKey.utf8.count <= UserFields.maxEmailKeyBytes ? emailKey : "sha256:" + Digest.sha256Hex(Array(emailKey.utf8))
    }

    public func counters(emailKey: String) throws -> (failures: Int, lockedUntil: Int64?) {
        try db.first("SELECT failed_logins, locked_until FROM login_throttle WHERE email_key = ?", Self.stored(emailKey)) {
            (Int($0.int(0)), $0.isNull(1) ? nil : $0.int(1))
        } ?? (0, nil)
    }

    public func save(emailKey: String, failures: Int, lockedUntil: Int64?) throws {
        try db.run("""
            INSERT INTO login_throttle (email_key, failed_logins, locked_until) VALUES (?, ?, ?)
            ON CONFLICT (email_key) DO UPDATE SET failed_logins = excluded.failed_logins, locked_until = excluded.locked_until
            """,
                   Self.stored(emailKey), failures, SQLValue.optional(lockedUntil))
    }

    /// When an account takes the email: its own counters rule from then on.
    public func forget(emailKey: String) throws {
        try db.run("DELETE FROM login_throttle WHERE email_key = ?", Self.stored(emailKey))
    }
}
