import CredentialsCore

/// Organization settings and reminder settings (the reminders themselves: ReminderStore.swift).
public struct OrganizationStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    public func settings() throws -> OrgSettings {
        try db.first("SELECT expiring_window_days, approvals_required FROM org_settings WHERE id = 1") {
            OrgSettings(expiringWindowDays: Int($0.int(0)), approvalsRequired: $0.bool(1))
        } ?? OrgSettings()
    }

    public func save(_ s: OrgSettings) throws {
        try db.run("UPDATE org_settings SET expiring_window_days = ?, approvals_required = ? WHERE id = 1", s.expiringWindowDays, s.approvalsRequired)
    }

    /// A user's reminder settings: enabled, and the offsets in days (largest first).
    public func notificationSettings(userID: String) throws -> (enabled: Bool, daysBefore: [Int]) {
        try db.first("SELECT enabled, days_before FROM notification_settings WHERE user_id = ?", userID) {
            ($0.bool(0), Self.offsets($0.text(1)))
        } ?? (true, Reminders.defaultDaysBefore)
    }

    public func saveNotificationSettings(userID: String, enabled: Bool, daysBefore: [Int]) throws {
        try db.run("INSERT INTO notification_settings (user_id, enabled, days_before) VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET enabled = excluded.enabled, days_before = excluded.days_before",
                   userID, enabled, daysBefore.map(String.init).joined(separator: ","))
    }

    static func offsets(_ text: String) -> [Int] { text.split(separator: ",").compactMap { Int($0) } }
}

/// A team: members and the credential types it requires.
public struct Team: Equatable, Sendable {
    public var id: String
    public var name: String
    public var memberIDs: [String]
    public var requiredTypeIDs: [String]
    public var createdAt: Int64
    public var updatedAt: Int64
}

public struct TeamStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    public func insert(id: String, name: String, at: Int64) throws {
        try db.run("INSERT INTO teams (id, name, name_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", id, name, name.lowercased(), at, at)
    }

    public func nameTaken(_ name: String) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM teams WHERE name_key = ?", name.lowercased()) ?? 0 > 0
    }

    /// A team; `withMembers: false` leaves `memberIDs` empty, for callers that read members themselves.
    public func find(id: String, withMembers: Bool = true) throws -> Team? {
        guard var t = try db.first("SELECT id, name, created_at, updated_at FROM teams WHERE id = ?", id, map: {
            Team(id: $0.text(0), name: $0.text(1), memberIDs: [], requiredTypeIDs: [], createdAt: $0.int(2), updatedAt: $0.int(3))
        }) else { return nil }
        if withMembers {
            t.memberIDs = try db.all("SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id", id) { $0.text(0) }
        }
        t.requiredTypeIDs = try db.all("SELECT type_id FROM team_required_types WHERE team_id = ? ORDER BY type_id", id) { $0.text(0) }
        return t
    }

    public func list(afterID: String?, limit: Int) throws -> (teams: [Team], more: Bool) {
        let ids = try db.all("SELECT id FROM teams WHERE id > ? ORDER BY id LIMIT ?", afterID ?? "", limit + 1) { $0.text(0) }
        let teams = try ids.prefix(limit).compactMap { try find(id: $0) }
        return (teams, ids.count > limit)
    }

    /// Adds (`true`) or removes a member; returns whether anything changed.
    public func setMember(teamID: String, userID: String, _ member: Bool, at: Int64) throws -> Bool {
        let changed = member
            ? try db.run("INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", teamID, userID)
            : try db.run("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID)
        if changed > 0 { try touch(teamID, at) }
        return changed > 0
    }

    public func setRequiredTypes(teamID: String, typeIDs: [String], at: Int64) throws {
        try db.run("DELETE FROM team_required_types WHERE team_id = ?", teamID)
        for t in typeIDs { try db.run("INSERT INTO team_required_types (team_id, type_id) VALUES (?, ?)", teamID, t) }
        try touch(teamID, at)
    }

    func touch(_ teamID: String, _ at: Int64) throws {
        try db.run("UPDATE teams SET updated_at = ? WHERE id = ?", at, teamID)
    }

    /// Whether any team requires the type (then it cannot be archived).
    public func typeRequired(_ typeID: String) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM team_required_types WHERE type_id = ?", typeID) ?? 0 > 0
    }

    /// The types required of a user by all their teams, with names, in name order.
    public func requiredTypes(userID: String) throws -> [(id: String, name: String)] {
        try db.all("""
            SELECT DISTINCT t.id, t.name FROM team_members m
            JOIN team_required_types r ON r.team_id = m.team_id JOIN credential_types t ON t.id = r.type_id
            WHERE m.user_id = ? ORDER BY t.name, t.id
            """, userID) { ($0.text(0), $0.text(1)) }
    }

    /// The latest approval and expiration of one credential of the types a compliance check asks
    /// about: `typeIndex` is the type's position in the list asked for. `ID` is the credential's
    /// id: a String, or where its UTF-8 is in a member's `text`.
    public struct Holding<ID> {
        public var typeIndex: Int
        public var credentialID: ID
        public var approval: ApprovalStatus
        public var expiration: CalendarDate?
    }

    /// A team member as a report names them, with their holdings of the report's types. Their
    /// text (id, email, names, credential ids) is UTF-8 in `text`, and the fields say where: one
    /// value serves member after member, so a report of thousands makes no String per field.
    public struct MemberHoldings {
        public internal(set) var text: [UInt8] = []
        public internal(set) var id = 0..<0, email = 0..<0, firstName = 0..<0, lastName = 0..<0
        public internal(set) var holdings: [Holding<Range<Int>>] = []
    }

    /// Members in user id order (the primary key's), no sort; credentials from the index alone.
    static func memberHoldingsSQL(types: Int) -> String {
        let marks = types == 0 ? "NULL" : Array(repeating: "?", count: types).joined(separator: ", ")
        return "SELECT u.id, c.type_id, c.id, c.latest_approval, c.latest_expiration, u.email, u.first_name, u.last_name "
            + "FROM team_members m JOIN users u ON u.id = m.user_id "
            + "LEFT JOIN credentials c INDEXED BY credentials_user ON c.user_id = m.user_id AND c.type_id IN (\(marks)) "
            + "WHERE m.team_id = ? ORDER BY m.user_id"
    }

    /// Every member of a team with their holdings of `typeIDs`, one member at a time (a team can
    /// have thousands), in one pass: each member's credentials come from their `credentials_user`
    /// entries alone (the index covers them). Rows are matched to members and types by their bytes.
    public func forEachMember(teamID: String, typeIDs: [String], _ body: (MemberHoldings) throws -> Void) throws {
        let typeKeys = typeIDs.map { Array($0.utf8) }
        var m = MemberHoldings(), started = false
        try db.query(Self.memberHoldingsSQL(types: typeIDs.count), typeIDs + [teamID]) { r in
            if !started || !r.text(0, equals: m.text[m.id]) {
                if started { try body(m) }
                started = true
                m.text.removeAll(keepingCapacity: true)
                m.holdings.removeAll(keepingCapacity: true)
                m.id = r.appendText(0, to: &m.text)
                m.email = r.appendText(5, to: &m.text)
                m.firstName = r.appendText(6, to: &m.text)
                m.lastName = r.appendText(7, to: &m.text)
            }
            guard let typeIndex = r.text(1, in: typeKeys) else { return }
            m.holdings.append(Holding(typeIndex: typeIndex, credentialID: r.appendText(2, to: &m.text),
                                      approval: Self.approval(r, 3), expiration: r.calendarDate(4)))
        }
        if started { try body(m) }
    }

    /// The latest approval and expiration of each of a user's credentials of the given types.
    public func holdings(userID: String, typeIDs: [String]) throws -> [Holding<String>] {
        guard !typeIDs.isEmpty else { return [] }
        let typeKeys = typeIDs.map { Array($0.utf8) }
        var out: [Holding<String>] = []
        let marks = typeIDs.map { _ in "?" }.joined(separator: ", ")
        try db.query("SELECT type_id, id, latest_approval, latest_expiration FROM credentials INDEXED BY credentials_user WHERE user_id = ? AND type_id IN (\(marks))",
                     [userID] + typeIDs) { r in
            guard let typeIndex = r.text(0, in: typeKeys) else { return }
            out.append(Holding(typeIndex: typeIndex, credentialID: r.text(1), approval: Self.approval(r, 2), expiration: r.calendarDate(3)))
        }
        return out
    }

    private static func approval(_ r: Row, _ i: Int32) -> ApprovalStatus {
        r.text(i, equals: "approved") ? .approved : r.text(i, equals: "rejected") ? .rejected : .pending
    }
}

extension AuditLog {
    static let listAll = """
        SELECT seq, at, actor_id, action, target_id, detail FROM audit_log
        WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?
        """
    static let listByActor = """
        SELECT seq, at, actor_id, action, target_id, detail FROM audit_log
        WHERE actor_id = ? AND seq > ? AND at >= ? ORDER BY seq LIMIT ?
        """

    public struct Entry: Equatable, Sendable {
        public var seq: Int64
        public var at: String
        public var actorID: String?
        public var action: String
        public var targetID: String?
        public var detail: String
    }

    /// Entries in the order they were written, after `afterSeq`, by `actorID`, at or after `since`
    /// (a service timestamp). Every row's seq is at least its time's milliseconds times
    /// `seqPerMillisecond`, so the rows at or after `since` start at that seq: each shape is a
    /// range of the primary key or of audit_log_actor, never a scan of the log. `at >= since`
    /// still drops rows written while the clock stood behind an earlier one.
    public func list(actorID: String?, since: String?, afterSeq: Int64?, limit: Int) throws -> (entries: [Entry], more: Bool) {
        var after = afterSeq ?? 0
        if let since, let millis = Timestamp.parse(since) {
            let (start, overflow) = millis.multipliedReportingOverflow(by: Self.seqPerMillisecond)
            if !overflow { after = max(after, start - 1) }
        }
        let map = { (r: Row) in
            Entry(seq: r.int(0), at: r.text(1), actorID: r.optionalText(2), action: r.text(3), targetID: r.optionalText(4), detail: r.text(5))
        }
        var entries = if let actorID {
            try db.all(Self.listByActor, actorID, after, since ?? "", limit + 1, map: map)
        } else {
            try db.all(Self.listAll, after, since ?? "", limit + 1, map: map)
        }
        let more = entries.count > limit
        if more { entries.removeLast() }
        return (entries, more)
    }
}
