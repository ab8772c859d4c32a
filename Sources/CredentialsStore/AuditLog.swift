import CredentialsCore

/// The audit trail: one row per change, written in the change's own transaction.
public struct AuditLog {
    let db: Database
    let cache: ReadCache
    public init(_ db: Database) { self.init(db, cache: ReadCache.of(db)) }
    init(_ db: Database, cache: ReadCache) {
        self.db = db
        self.cache = cache
    }

    /// A row's seq is at least its time in milliseconds times this, and more than the seq before
    /// it: the log stays in the order it was written, and the rows at or after a time start at
    /// that time's seq (schema version 7).
    public static let seqPerMillisecond: Int64 = 1024

    /// `detail` is a JSON object's UTF-8 text, made by the caller; it never holds a password or hash.
    /// Call inside the change's own `db.write`; outside one it takes its own, since the seq must be
    /// read and used under the write lock.
    public func append(at millis: Int64, actorID: String?, action: String, targetID: String?, detail: [UInt8] = Array("{}".utf8)) throws {
        guard db.isInTransaction else {
            return try db.write { try append(at: millis, actorID: actorID, action: action, targetID: targetID, detail: detail) }
        }
        // Nothing was added since this connection's own last row, when the cache still has it.
        let last = try cache.lastAuditSeq ?? db.scalarInt("SELECT coalesce(max(seq), 0) FROM audit_log") ?? 0
        let (timeSeq, overflow) = millis.multipliedReportingOverflow(by: Self.seqPerMillisecond)
        let seq = overflow ? last + 1 : max(last + 1, timeSeq)
        try db.append("INSERT INTO audit_log (seq, at, actor_id, action, target_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                   seq, Timestamp.format(millis: millis), SQLValue.optional(actorID), action, SQLValue.optional(targetID), SQLValue.utf8(detail))
        cache.wroteAudit(seq: seq)
    }
}
