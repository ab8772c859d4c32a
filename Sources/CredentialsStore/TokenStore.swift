import CredentialsCore

/// API tokens in SQLite (schema 9). The secret is never stored: its SHA-256 digest is, under a
/// unique index, so signing in is one lookup by digest.
public struct TokenStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    static let columns = "id, user_id, name, hint, created_at, expires_at, last_used_at, revoked_at"

    static func token(_ r: Row) -> APIToken {
        APIToken(id: r.text(0), userID: r.text(1), name: r.text(2), hint: r.text(3), createdAt: r.int(4), expiresAt: r.int(5),
                 lastUsedAt: r.isNull(6) ? nil : r.int(6), revokedAt: r.isNull(7) ? nil : r.int(7))
    }

    public func insert(_ t: APIToken, digest: [UInt8]) throws {
        try db.run("INSERT INTO api_tokens (\(Self.columns), digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   t.id, t.userID, t.name, t.hint, t.createdAt, t.expiresAt, SQLValue.optional(t.lastUsedAt),
                   SQLValue.optional(t.revokedAt), digest)
    }

    public func find(id: String) throws -> APIToken? {
        try db.first("SELECT \(Self.columns) FROM api_tokens WHERE id = ?", id, map: Self.token)
    }

    /// The token whose secret has this digest, with the digest as stored, for a constant-time
    /// comparison on top of the index lookup.
    public func find(digest: [UInt8]) throws -> (token: APIToken, digest: [UInt8])? {
        try db.first("SELECT \(Self.columns), digest FROM api_tokens WHERE digest = ?", digest) { (Self.token($0), $0.blob(8)) }
    }

    /// One page of a user's tokens in creation order, after `afterID`.
    public func list(userID: String, afterID: String?, limit: Int) throws -> (tokens: [APIToken], more: Bool) {
        var tokens = try db.all("SELECT \(Self.columns) FROM api_tokens WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
                                userID, afterID ?? "", limit + 1, map: Self.token)
        let more = tokens.count > limit
        if more { tokens.removeLast() }
        return (tokens, more)
    }

    public func revoke(id: String, at millis: Int64) throws {
        try db.run("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", millis, id)
    }

    public func markUsed(id: String, at millis: Int64) throws {
        try db.run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", millis, id)
    }

    /// A token that may need a reminder: not revoked, expiring before `until`, its owner an active
    /// admin; with the offsets already marked sent.
    public struct ReminderCandidate: Equatable, Sendable {
        public var token: APIToken
        public var email: String
        public var sent: Set<String>
    }

    public func reminderCandidates(expiringBefore until: Int64, after: Int64) throws -> [ReminderCandidate] {
        try db.all("""
            SELECT t.id, t.user_id, t.name, t.hint, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, u.email,
                   (SELECT group_concat(offset_key) FROM token_reminders_sent s WHERE s.token_id = t.id)
            FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.role = 'admin' AND u.status = 'active'
            WHERE t.revoked_at IS NULL AND t.expires_at > ? AND t.expires_at <= ?
            ORDER BY t.expires_at, t.id
            """, after, until) { r in
            ReminderCandidate(token: Self.token(r), email: r.text(8),
                              sent: Set((r.optionalText(9) ?? "").split(separator: ",").map(String.init)))
        }
    }

    /// Marks a token's reminder sent; false when it already was.
    public func markSent(tokenID: String, offset: String, at millis: Int64, by actorID: String) throws -> Bool {
        try db.run("INSERT INTO token_reminders_sent (token_id, offset_key, sent_at, sent_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   tokenID, offset, millis, actorID) > 0
    }
}
