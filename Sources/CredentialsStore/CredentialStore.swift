import CredentialsCore

/// One event of a credential's activity trail: who changed one version when, and every field
/// it changed. `changes` is a JSON array text of `{field, from, to}` made by the service.
public struct ActivityEvent: Equatable, Sendable {
    public var version: Int
    public var at: Int64
    public var actorID: String?
    public var changes: String

    public init(version: Int, at: Int64, actorID: String?, changes: String) {
        self.version = version
        self.at = at
        self.actorID = actorID
        self.changes = changes
    }
}

/// What a confirmed delete would remove.
public struct DeletePreview: Equatable, Sendable {
    public var versions: Int
    public var mediaFiles: Int
    public var mediaBytes: Int
    public var activityEntries: Int
}

/// Credential types, credentials, versions, media and activity in SQLite.
public struct CredentialStore {
    let db: Database
    /// Where a credential's type name comes from (`find`): the store's, or the connection's own.
    let cache: ReadCache
    public init(_ db: Database, cache: ReadCache? = nil) { self.db = db; self.cache = cache ?? ReadCache.of(db) }

    // MARK: Types

    static let typeColumns = "id, name, description, requires_expiration, archived, created_at, updated_at"

    static func type(_ r: Row) -> CredentialType {
        CredentialType(id: r.text(0), name: r.text(1), description: r.text(2), requiresExpiration: r.bool(3), archived: r.bool(4),
                       createdAt: r.int(5), updatedAt: r.int(6))
    }

    public func insertType(_ t: CredentialType) throws {
        try db.run("INSERT INTO credential_types (id, name, name_key, description, requires_expiration, archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   t.id, t.name, t.name.lowercased(), t.description, t.requiresExpiration, t.archived, t.createdAt, t.updatedAt)
    }

    public func updateType(_ t: CredentialType) throws {
        try db.run("UPDATE credential_types SET name = ?, name_key = ?, description = ?, requires_expiration = ?, archived = ?, updated_at = ? WHERE id = ?",
                   t.name, t.name.lowercased(), t.description, t.requiresExpiration, t.archived, t.updatedAt, t.id)
    }

    public func findType(id: String) throws -> CredentialType? {
        try db.first("SELECT \(Self.typeColumns) FROM credential_types WHERE id = ?", id, map: Self.type)
    }

    public func findType(name: String) throws -> CredentialType? {
        try db.first("SELECT \(Self.typeColumns) FROM credential_types WHERE name_key = ?", name.lowercased(), map: Self.type)
    }

    public func typeNameTaken(_ name: String, except id: String? = nil) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM credential_types WHERE name_key = ? AND id IS DISTINCT FROM ?", name.lowercased(), id) ?? 0 > 0
    }

    public func listTypes(includeArchived: Bool, afterID: String?, limit: Int) throws -> (types: [CredentialType], more: Bool) {
        var types = try db.all("SELECT \(Self.typeColumns) FROM credential_types WHERE id > ? AND (? OR archived = 0) ORDER BY id LIMIT ?",
                               afterID ?? "", includeArchived, limit + 1, map: Self.type)
        let more = types.count > limit
        if more { types.removeLast() }
        return (types, more)
    }

    // MARK: Credentials and versions

    static let versionColumns = "v.number, v.issue_date, v.expiration_date, v.document_number, v.approval_status, v.reviewed_by, v.reviewed_at, v.review_reason, v.created_by, v.created_at"

    /// A version from the ten `versionColumns` starting at `at`, without its media.
    static func version(_ r: Row, at o: Int32 = 0) -> CredentialVersion {
        CredentialVersion(
            number: Int(r.int(o)), issueDate: CalendarDate(r.text(o + 1)) ?? CalendarDate(daysSinceEpoch: 0),
            expirationDate: r.optionalText(o + 2).flatMap(CalendarDate.init), documentNumber: r.optionalText(o + 3), media: [],
            approval: Approval(status: ApprovalStatus(rawValue: r.text(o + 4)) ?? .pending, reviewedBy: r.optionalText(o + 5),
                               reviewedAt: r.isNull(o + 6) ? nil : r.int(o + 6), reason: r.optionalText(o + 7)),
            createdBy: r.text(o + 8), createdAt: r.int(o + 9))
    }

    /// A list's rows: each credential with its latest version and its type's name; column 17
    /// says whether that version has media, so a page asks for the media of those that have
    /// some only (most have none; on PostgreSQL each query is a round trip to the server).
    static let credentialSelect = """
        SELECT c.id, c.user_id, c.type_id, t.name, c.version_count, c.created_at, c.updated_at, \(versionColumns),
        EXISTS (SELECT 1 FROM media m WHERE m.credential_id = c.id AND m.version = c.version_count)
        FROM credentials c JOIN credential_types t ON t.id = c.type_id
        JOIN credential_versions v ON v.credential_id = c.id AND v.number = c.version_count
        """

    func credential(_ r: Row) -> Credential {
        Credential(id: r.text(0), userID: r.text(1), typeID: r.text(2), typeName: r.text(3), versionCount: Int(r.int(4)),
                   latest: Self.version(r, at: 7), createdAt: r.int(5), updatedAt: r.int(6))
    }

    // Built once: a statement's SQL text is its cache key, hashed on every run.
    /// One credential with its latest version, as `credentialSelect` gives it but for two things
    /// that made `credentials.get` a fifth slower: the type's name comes from the read cache (a
    /// group reads a type once, not two B-tree lookups a credential), and column 17 says whether
    /// the version has media, so the media query runs only when it has (most have none).
    static let byID = """
        SELECT c.id, c.user_id, c.type_id, '', c.version_count, c.created_at, c.updated_at, \(versionColumns),
        EXISTS (SELECT 1 FROM media m WHERE m.credential_id = c.id AND m.version = c.version_count)
        FROM credentials c
        JOIN credential_versions v ON v.credential_id = c.id AND v.number = c.version_count
        WHERE c.id = ?
        """
    static let versionByNumber = "SELECT \(versionColumns) FROM credential_versions v WHERE v.credential_id = ? AND v.number = ?"
    static let versionsNewestFirst = "SELECT \(versionColumns) FROM credential_versions v WHERE v.credential_id = ? ORDER BY v.number DESC"

    /// A credential with its latest version and that version's media.
    public func find(id: String) throws -> Credential? {
        guard var (c, hasMedia) = try db.first(Self.byID, id, map: { (credential($0), $0.bool(17)) }) else { return nil }
        c.typeName = try cache.credentialType(c.typeID) { try findType(id: c.typeID) }?.name ?? ""
        if hasMedia { c.latest.media = try media(credentialID: c.id, version: c.versionCount) }
        return c
    }

    public func version(credentialID: String, number: Int) throws -> CredentialVersion? {
        guard var v = try db.first(Self.versionByNumber, credentialID, number, map: { Self.version($0) }) else { return nil }
        v.media = try media(credentialID: credentialID, version: number)
        return v
    }

    /// Every version, newest first, each with its media.
    public func versions(credentialID: String) throws -> [CredentialVersion] {
        var all = try db.all(Self.versionsNewestFirst, credentialID, map: { Self.version($0) })
        for i in all.indices { all[i].media = try media(credentialID: credentialID, version: all[i].number) }
        return all
    }

    /// Inserts a credential with its first version. `createdChanges` is the UTF-8 text of the JSON
    /// array of `{field, from, to}` the version's creation made (its activity entries), or nil.
    public func insertCredential(id: String, userID: String, typeID: String, first: CredentialVersion, createdChanges: [UInt8]? = nil) throws {
        try db.append("INSERT INTO credentials (id, user_id, type_id, version_count, latest_expiration, latest_approval, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)",
                   id, userID, typeID, SQLValue.optional(first.expirationDate?.description), first.approval.status.rawValue, first.createdAt, first.createdAt)
        try insertVersionRow(credentialID: id, first, createdChanges: createdChanges)
    }

    /// What a renewal replaces: the version count, and the latest version's expiration and
    /// approval as the credential's row holds them. Read it under the write lock.
    public struct Latest: Equatable, Sendable {
        public var versionCount: Int
        public var expiration: String?
        public var approval: String

        public init(versionCount: Int, expiration: String?, approval: String) {
            self.versionCount = versionCount
            self.expiration = expiration
            self.approval = approval
        }
    }

    public func latest(credentialID: String) throws -> Latest? {
        try db.first("SELECT version_count, latest_expiration, latest_approval FROM credentials WHERE id = ?", credentialID) {
            Latest(versionCount: Int($0.int(0)), expiration: $0.optionalText(1), approval: $0.text(2))
        }
    }

    /// A credential's own row, without its versions: all a renewal needs to check access and
    /// append (the version it replaces is not in its answer). One row read, not three.
    public struct Summary: Sendable {
        public var id: String
        public var userID: String
        public var typeID: String
        public var latest: Latest
        public var createdAt: Int64
        /// The write transaction it was read in, if any (`latestUnderLock`).
        var readInTransaction: Int?
    }

    public func summary(id: String) throws -> Summary? {
        let transaction = db.isInTransaction ? db.transactionSerial : nil
        return try db.first("SELECT id, user_id, type_id, version_count, latest_expiration, latest_approval, created_at FROM credentials WHERE id = ?", id) {
            Summary(id: $0.text(0), userID: $0.text(1), typeID: $0.text(2),
                    latest: Latest(versionCount: Int($0.int(3)), expiration: $0.optionalText(4), approval: $0.text(5)), createdAt: $0.int(6),
                    readInTransaction: transaction)
        }
    }

    /// The latest version of `summary`'s credential as the write lock finds it: call inside
    /// `write`. Read under the lock, two renewals cannot take the same number. When the summary
    /// was itself read in this write transaction (a group's later request), it is what the
    /// lock finds: no other process can have written since, and this request wrote nothing to it
    /// in between, so it is not read again.
    public func latestUnderLock(_ summary: Summary) throws -> Latest? {
        if let t = summary.readInTransaction, t == db.transactionSerial, db.isInTransaction { return summary.latest }
        return try latest(credentialID: summary.id)
    }

    /// Appends `v` (number `latest.versionCount + 1`) and makes it the latest. Of
    /// latest_expiration and latest_approval only those that change are written: each is in
    /// indexes that SQLite rewrites whenever the column is set, even to the value it holds
    /// (setting both cost a renewal 3.5 times what setting neither did).
    public func insertVersion(credentialID: String, _ v: CredentialVersion, replacing latest: Latest, updatedAt: Int64, createdChanges: [UInt8]? = nil) throws {
        assert(v.number == latest.versionCount + 1, "a renewal takes the next number")
        try insertVersionRow(credentialID: credentialID, v, createdChanges: createdChanges)
        let expiration = v.expirationDate?.description, approval = v.approval.status.rawValue
        switch (expiration != latest.expiration, approval != latest.approval) {
        case (false, false):
            try db.run("UPDATE credentials SET version_count = ?, updated_at = ? WHERE id = ?", v.number, updatedAt, credentialID)
        case (true, false):
            try db.run("UPDATE credentials SET version_count = ?, updated_at = ?, latest_expiration = ? WHERE id = ?",
                       v.number, updatedAt, SQLValue.optional(expiration), credentialID)
        case (false, true):
            try db.run("UPDATE credentials SET version_count = ?, updated_at = ?, latest_approval = ? WHERE id = ?",
                       v.number, updatedAt, approval, credentialID)
        case (true, true):
            try db.run("UPDATE credentials SET version_count = ?, updated_at = ?, latest_expiration = ?, latest_approval = ? WHERE id = ?",
                       v.number, updatedAt, SQLValue.optional(expiration), approval, credentialID)
        }
    }

    private func insertVersionRow(credentialID: String, _ v: CredentialVersion, createdChanges: [UInt8]?) throws {
        // The creation stands after every event written so far (the write lock is held), and
        // before the next one: half a step after the last event's seq.
        try db.append("""
            INSERT INTO credential_versions (credential_id, number, issue_date, expiration_date, document_number, approval_status,
                                             reviewed_by, reviewed_at, review_reason, created_by, created_at, created_changes, created_seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 0.5 FROM credential_events))
            """, credentialID, v.number, v.issueDate.description, SQLValue.optional(v.expirationDate?.description), SQLValue.optional(v.documentNumber),
                   v.approval.status.rawValue, SQLValue.optional(v.approval.reviewedBy), SQLValue.optional(v.approval.reviewedAt),
                   SQLValue.optional(v.approval.reason), v.createdBy, v.createdAt, createdChanges.map(SQLValue.utf8) ?? .null)
    }

    /// Writes the dates, document number and approval of an existing version; the credential's
    /// summary follows when it is the latest.
    public func updateVersion(credentialID: String, _ v: CredentialVersion, updatedAt: Int64) throws {
        try db.run("""
            UPDATE credential_versions SET issue_date = ?, expiration_date = ?, document_number = ?, approval_status = ?,
                   reviewed_by = ?, reviewed_at = ?, review_reason = ?
            WHERE credential_id = ? AND number = ?
            """, v.issueDate.description, v.expirationDate?.description, v.documentNumber, v.approval.status.rawValue,
                   v.approval.reviewedBy, v.approval.reviewedAt, v.approval.reason, credentialID, v.number)
        try db.run("""
            UPDATE credentials SET
                latest_expiration = CASE WHEN version_count = ? THEN ? ELSE latest_expiration END,
                latest_approval = CASE WHEN version_count = ? THEN ? ELSE latest_approval END,
                updated_at = ?
            WHERE id = ?
            """, v.number, v.expirationDate?.description, v.number, v.approval.status.rawValue, updatedAt, credentialID)
    }

    /// Records that the credential changed (its media, say) without touching its versions.
    public func touch(credentialID: String, at: Int64) throws {
        try db.run("UPDATE credentials SET updated_at = ? WHERE id = ?", at, credentialID)
    }

    // MARK: Media

    static func mediaFile(_ r: Row) -> MediaFile {
        MediaFile(id: r.text(0), fileName: r.text(1), contentType: r.text(2), byteCount: Int(r.int(3)), sha256: r.text(4))
    }

    static let mediaOfVersion = "SELECT id, file_name, content_type, byte_count, sha256 FROM media WHERE credential_id = ? AND version = ? ORDER BY id"

    public func media(credentialID: String, version: Int) throws -> [MediaFile] {
        try db.all(Self.mediaOfVersion, credentialID, version, map: Self.mediaFile)
    }

    public func insertMedia(credentialID: String, version: Int, _ m: MediaFile, bytes: [UInt8], at: Int64) throws {
        try db.append("INSERT INTO media (id, credential_id, version, file_name, content_type, byte_count, sha256, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   m.id, credentialID, version, m.fileName, m.contentType, m.byteCount, m.sha256, at, bytes)
    }

    public func deleteMedia(id: String) throws {
        try db.run("DELETE FROM media WHERE id = ?", id)
    }

    /// A media file with the credential and version it belongs to, and its bytes.
    public func mediaWithBytes(id: String) throws -> (file: MediaFile, credentialID: String, version: Int, bytes: [UInt8])? {
        try db.first("SELECT id, file_name, content_type, byte_count, sha256, credential_id, version, bytes FROM media WHERE id = ?", id) { r in
            (Self.mediaFile(r), r.text(5), Int(r.int(6)), r.blob(7))
        }
    }

    // MARK: Activity

    /// Appends an event: `changes` is the UTF-8 text of its JSON array of `{field, from, to}`.
    public func appendActivity(credentialID: String, version: Int, at: Int64, actorID: String?, changes: [UInt8]) throws {
        try db.append("INSERT INTO credential_events (credential_id, version, at, actor_id, changes) VALUES (?, ?, ?, ?, ?)",
                   credentialID, version, at, actorID, SQLValue.utf8(changes))
    }

    /// The trail's events, newest first; of one version when `version` is given. A version's
    /// creation is kept in its row (`created_changes`), the later changes in `credential_events`.
    public func activity(credentialID: String, version: Int?) throws -> [ActivityEvent] {
        try db.all("""
            SELECT version, at, actor_id, changes FROM (
                SELECT number AS version, created_at AS at, created_by AS actor_id, created_changes AS changes, created_seq AS seq
                FROM credential_versions WHERE credential_id = ?1 AND created_changes IS NOT NULL AND (CAST(?2 AS INTEGER) IS NULL OR number = ?2)
                UNION ALL
                SELECT version, at, actor_id, changes, seq FROM credential_events WHERE credential_id = ?1 AND (CAST(?2 AS INTEGER) IS NULL OR version = ?2)) AS trail
            ORDER BY seq DESC, version DESC
            """, credentialID, version) { r in
            ActivityEvent(version: Int(r.int(0)), at: r.int(1), actorID: r.optionalText(2), changes: r.text(3))
        }
    }

    // MARK: Delete

    public func deletePreview(credentialID: String) throws -> DeletePreview {
        let versions = try db.scalarInt("SELECT count(*) FROM credential_versions WHERE credential_id = ?", credentialID) ?? 0
        let media = try db.first("SELECT count(*), coalesce(sum(byte_count), 0) FROM media WHERE credential_id = ?", credentialID) { ($0.int(0), $0.int(1)) }
        let activity = try db.scalarInt("""
            SELECT (SELECT coalesce(sum(json_array_length(changes)), 0) FROM credential_events WHERE credential_id = ?1)
                 + (SELECT coalesce(sum(json_array_length(created_changes)), 0) FROM credential_versions WHERE credential_id = ?1)
            """, credentialID) ?? 0
        return DeletePreview(versions: Int(versions), mediaFiles: Int(media?.0 ?? 0), mediaBytes: Int(media?.1 ?? 0), activityEntries: Int(activity))
    }

    /// Removes the credential and, by cascade, its versions, media and activity.
    public func delete(credentialID: String) throws {
        try db.run("DELETE FROM credentials WHERE id = ?", credentialID)
    }
}
