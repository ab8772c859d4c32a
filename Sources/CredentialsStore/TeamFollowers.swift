import CredentialsCore

/// Who follows which team, and the digest of a follower's teams: what their members
/// hold that expires soon or has expired.
extension TeamStore {
    /// Starts (`true`) or ends following; returns whether anything changed.
    public func setFollowing(teamID: String, userID: String, _ following: Bool) throws -> Bool {
        let changed = following
            ? try db.run("INSERT INTO team_followers (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", teamID, userID)
            : try db.run("DELETE FROM team_followers WHERE team_id = ? AND user_id = ?", teamID, userID)
        return changed > 0
    }

    public func isFollowing(teamID: String, userID: String) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM team_followers WHERE team_id = ? AND user_id = ?", teamID, userID) ?? 0 > 0
    }

    public func isMember(teamID: String, userID: String) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID) ?? 0 > 0
    }

    /// The ids of the teams a user follows, in id order (what they asked for, whether or not it
    /// gives them anything now: see ReminderStore's eligible followers).
    public func followedTeamIDs(userID: String) throws -> [String] {
        try db.all("SELECT team_id FROM team_followers WHERE user_id = ? ORDER BY team_id", userID) { $0.text(0) }
    }

    /// The teams a user follows, by name (case-insensitive, in code point order), then id.
    public func followedTeams(userID: String) throws -> [(id: String, name: String)] {
        try db.all("""
            SELECT t.id, t.name FROM team_followers f JOIN teams t ON t.id = f.team_id
            WHERE f.user_id = ? ORDER BY t.name_key, t.id
            """, userID) { ($0.text(0), $0.text(1)) }
    }

    /// One credential in a digest: a member's, with its latest version's expiration and approval.
    public struct DigestItem: Equatable, Sendable {
        public var teamID: String
        public var credentialID: String
        public var userID: String
        public var email: String
        public var firstName: String
        public var lastName: String
        public var typeName: String
        public var expiration: CalendarDate
        public var approval: ApprovalStatus
    }

    /// The query of `digest`, `visible` the caller's condition on `c`.
    static func digestSQL(visible: String) -> String {
        """
        SELECT f.team_id, c.id, u.id, u.email, u.first_name, u.last_name, ct.name, c.latest_expiration, c.latest_approval
        FROM team_followers f
        JOIN teams tm ON tm.id = f.team_id
        JOIN team_members m ON m.team_id = f.team_id
        JOIN users u ON u.id = m.user_id AND u.status = 'active'
        JOIN credentials c INDEXED BY credentials_user ON c.user_id = m.user_id
        JOIN credential_types ct ON ct.id = c.type_id
        WHERE f.user_id = ? AND c.latest_expiration IS NOT NULL AND c.latest_expiration <= ? AND \(visible)
        ORDER BY tm.name_key, tm.id, c.latest_expiration, c.id
        LIMIT ?
        """
    }

    /// The credentials of the active members of every team `followerID` follows whose latest
    /// version expires on or before `until` (so the expired ones too), that `visibility` lets
    /// the caller see: by team (name, then id), then expiration, then credential id; at most
    /// `limit`. One query: each member's credentials come from the `credentials_user` index.
    public func digest(followerID: String, until: CalendarDate, visibility: Visibility, limit: Int) throws -> [DigestItem] {
        var out: [DigestItem] = []
        let visible = visibility.condition()
        let args: [SQLBindable] = [followerID, until.description] + (visible?.args ?? []) + [limit]
        try db.query(Self.digestSQL(visible: visible?.sql ?? "TRUE"), args) { r in
            guard let expiration = r.calendarDate(7) else { return }
            out.append(DigestItem(teamID: r.text(0), credentialID: r.text(1), userID: r.text(2), email: r.text(3), firstName: r.text(4),
                                  lastName: r.text(5), typeName: r.text(6), expiration: expiration,
                                  approval: ApprovalStatus(rawValue: r.text(8)) ?? .pending))
        }
        return out
    }
}
