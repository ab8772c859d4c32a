import CredentialsCore

/// Expiry reminders and who hears of them: the holder (when their reminders are on) and the
/// followers of the holder's teams. A holder's marks live in reminders_sent, a
/// follower's in reminders_sent_to, one row per (reminder, recipient).
extension OrganizationStore {
    /// A credential's latest version whose reminders may be due, with what a reminder needs.
    public struct ReminderCandidate: Equatable, Sendable {
        public var credentialID: String
        public var version: Int
        public var userID: String
        public var email: String
        public var typeName: String
        public var expiration: CalendarDate
        public var daysBefore: [Int]
        /// The latest version's approval: a follower hears only of what they may view.
        public var approval: ApprovalStatus
        /// Whether the holder's own reminders are on (else only followers hear of it).
        public var holderEnabled: Bool
        /// Offsets marked sent to the holder.
        public var sent: Set<String>
        /// `"<recipientId> <offset>"` of each mark sent to a follower.
        public var sentTo: Set<String>

        /// Whether this reminder was marked sent to the holder (`recipient` nil) or to a follower.
        public func isSent(_ offset: String, to recipient: String?) -> Bool {
            guard let recipient else { return sent.contains(offset) }
            return sentTo.contains("\(recipient) \(offset)")
        }
    }

    /// A follower who hears of a holder's reminders, through the first team (by id) that makes
    /// them one.
    public struct ReminderFollower: Equatable, Sendable {
        public var userID: String
        public var email: String
        public var teamID: String
        public var permissions: Permissions

        /// Protocol/README.md §8, Reminders, as `CredentialAccess.canView` for someone who is not the holder: a
        /// follower is told only of credentials they could open themselves.
        public func mayHear(of approval: ApprovalStatus) -> Bool {
            permissions.has(CredentialAccess.permissionToSeeOthers(approval))
        }
    }

    /// The followers of the teams the holder `m.user_id` is in who hear of that holder's
    /// reminders: active, not the holder (their own reminders follow their own settings), and a
    /// support user only for a team they are a member of (they may follow only such a team; one
    /// who has left it hears nothing from it until they are back). The holder is `holder`.
    /// `from` names the rows `m` is joined to, when the holder comes from another table.
    /// The order is fixed (CROSS JOIN) and `fu.status` kept off its index: without statistics
    /// SQLite would otherwise read every active user through users_status, for every holder.
    static func eligibleFollowers(holder: String, from: String = "team_members m") -> String {
        """
        FROM \(from) CROSS JOIN team_followers f ON f.team_id = m.team_id
        CROSS JOIN users fu ON fu.id = f.user_id AND +fu.status = 'active'
        WHERE m.user_id = \(holder) AND f.user_id <> m.user_id
          AND (fu.role = 'admin' OR EXISTS (SELECT 1 FROM team_members fm WHERE fm.team_id = f.team_id AND fm.user_id = f.user_id))
        """
    }

    /// `CredentialAccess.permissionToSeeOthers` as masks, for the query.
    static let viewReportsMask = Permissions.applying([CredentialAccess.permissionToSeeOthers(.approved): true], to: .none).mask
    static let viewApplicationsMask = Permissions.applying([CredentialAccess.permissionToSeeOthers(.pending): true], to: .none).mask

    /// An eligible follower of the holder of credential `c` who may view it (`mayHear`).
    static let followerOfCredential = eligibleFollowers(holder: "c.user_id")
        + " AND fu.permissions & (CASE WHEN c.latest_approval = 'approved' THEN \(viewReportsMask) ELSE \(viewApplicationsMask) END) != 0"

    /// The query of `reminderCandidates`, `visible` the caller's condition on `c`: a walk of
    /// `index` (credentials_expiration, in its order) whatever the values, so planned once; for a
    /// caller who sees only their own credentials, their few from credentials_user, sorted
    /// (walking the expiration index for them read every due credential of the store: 260-506 ms
    /// at 222,000 credentials).
    static func candidatesSQL(visible: String, index: String) -> String {
        Database.planOnce + """
        SELECT c.id, c.version_count, c.user_id, u.email, t.name, c.latest_expiration, coalesce(n.days_before, ?),
               (SELECT group_concat(offset_key) FROM reminders_sent r WHERE r.credential_id = c.id AND r.version = c.version_count),
               coalesce(n.enabled, 1), c.latest_approval,
               (SELECT group_concat(s.recipient_id || ' ' || s.offset_key) FROM reminders_sent_to s
                WHERE s.credential_id = c.id AND s.version = c.version_count)
        FROM credentials c INDEXED BY \(index)
        JOIN users u ON u.id = c.user_id AND u.status = 'active'
        JOIN credential_types t ON t.id = c.type_id
        LEFT JOIN notification_settings n ON n.user_id = c.user_id
        WHERE c.latest_expiration IS NOT NULL AND c.latest_expiration <= ? AND (c.latest_expiration, c.id) > (?, ?)
          AND \(visible)
          AND (coalesce(n.enabled, 1) = 1 OR EXISTS (SELECT 1 \(Self.followerOfCredential)))
          AND NOT (c.latest_expiration < ?
                   AND (coalesce(n.enabled, 1) = 0 OR EXISTS (SELECT 1 FROM reminders_sent r
                        WHERE r.credential_id = c.id AND r.version = c.version_count AND r.offset_key = 'expired'))
                   AND NOT EXISTS (SELECT 1 \(Self.followerOfCredential)
                        AND NOT EXISTS (SELECT 1 FROM reminders_sent_to s WHERE s.credential_id = c.id AND s.version = c.version_count
                                        AND s.offset_key = 'expired' AND s.recipient_id = f.user_id)))
        ORDER BY c.latest_expiration, c.id
        LIMIT ?
        """
    }

    /// The index `reminderCandidates` walks for `visibility`.
    static func candidatesIndex(_ visibility: Visibility) -> String {
        visibility.isOwnOnly ? "credentials_user" : "credentials_expiration"
    }

    /// Latest versions of active users' credentials that someone hears of (the holder with
    /// reminders on, or a follower), expiring on or before `until`, in expiration order after
    /// `after`, of those `visibility` lets the caller see. Expired ones whose `expired` reminder
    /// was sent to every recipient are left out here, in SQL, so a long history of sent
    /// reminders is skipped by the index.
    public func reminderCandidates(asOf: CalendarDate, until: CalendarDate, after: (expiration: String, id: String)?, limit: Int,
                                   visibility: Visibility = .everything) throws -> [ReminderCandidate] {
        var out: [ReminderCandidate] = []
        let visible = visibility.condition()
        let args: [SQLBindable] = [Reminders.defaultDaysBefore.map(String.init).joined(separator: ","), until.description,
                                   after?.expiration ?? "", after?.id ?? ""] + (visible?.args ?? []) + [asOf.description, limit]
        try db.query(Self.candidatesSQL(visible: visible?.sql ?? "TRUE", index: Self.candidatesIndex(visibility)), args) { r in
            guard let exp = CalendarDate(r.text(5)) else { return }
            out.append(ReminderCandidate(credentialID: r.text(0), version: Int(r.int(1)), userID: r.text(2), email: r.text(3),
                                         typeName: r.text(4), expiration: exp, daysBefore: Self.offsets(r.text(6)),
                                         approval: ApprovalStatus(rawValue: r.text(9)) ?? .pending, holderEnabled: r.bool(8),
                                         sent: Self.words(r.optionalText(7), separator: ","), sentTo: Self.words(r.optionalText(10), separator: ",")))
        }
        return out
    }

    static func words(_ text: String?, separator: Character) -> Set<String> {
        Set((text ?? "").split(separator: separator).map(String.init))
    }

    /// The teams of each holder: the holders come as a JSON array, one statement for any number.
    static let holderTeamsSQL = """
        SELECT m.user_id, m.team_id FROM json_each(?) h CROSS JOIN team_members m ON m.user_id = h.value
        ORDER BY m.user_id, m.team_id
        """

    /// The teams of each of `holderIDs`, in team id order (holders in no team are left out).
    public func teams(ofHolders holderIDs: some Collection<String>) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        guard !holderIDs.isEmpty else { return out }
        try db.query(Self.holderTeamsSQL, [Self.jsonArray(holderIDs)]) { r in out[r.text(0), default: []].append(r.text(1)) }
        return out
    }

    /// The followers of each team who hear of its members' reminders (whichever member and
    /// credential: the holder is left out, and `mayHear` decides the credential, by the caller):
    /// active, and a support user only while a member of that team.
    static let teamFollowersSQL = """
        SELECT f.team_id, f.user_id, fu.email, fu.permissions
        FROM json_each(?) h CROSS JOIN team_followers f ON f.team_id = h.value
        CROSS JOIN users fu ON fu.id = f.user_id AND +fu.status = 'active'
        WHERE fu.role = 'admin' OR EXISTS (SELECT 1 FROM team_members fm WHERE fm.team_id = f.team_id AND fm.user_id = f.user_id)
        ORDER BY f.team_id, f.user_id
        """

    /// The followers of each of `teamIDs`, in user id order, each with that team's id.
    public func followers(ofTeams teamIDs: some Collection<String>) throws -> [String: [ReminderFollower]] {
        var out: [String: [ReminderFollower]] = [:]
        guard !teamIDs.isEmpty else { return out }
        try db.query(Self.teamFollowersSQL, [Self.jsonArray(teamIDs)]) { r in
            out[r.text(0), default: []].append(ReminderFollower(userID: r.text(1), email: r.text(2), teamID: r.text(0),
                                                                permissions: Permissions(mask: Int(r.int(3)))))
        }
        return out
    }

    /// One follower of one holder, when they hear of that holder's reminders (`markSent` checks
    /// a follower's reminder id with it).
    public func reminderFollower(holderID: String, followerID: String) throws -> ReminderFollower? {
        try db.first("""
            SELECT f.user_id, fu.email, min(f.team_id), fu.permissions \(Self.eligibleFollowers(holder: "?")) AND f.user_id = ?
            GROUP BY f.user_id, fu.email, fu.permissions
            """, holderID, followerID) {
            ReminderFollower(userID: $0.text(0), email: $0.text(1), teamID: $0.text(2), permissions: Permissions(mask: Int($0.int(3))))
        }
    }

    /// A JSON array of strings, for `json_each`: one statement serves any number of ids.
    static func jsonArray(_ strings: some Collection<String>) -> String {
        var out = "["
        for (i, s) in strings.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in s.unicodeScalars {
                switch ch {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where ch.value < 0x20: out += "\\u00" + String(ch.value >> 4, radix: 16) + String(ch.value & 15, radix: 16)
                default: out.unicodeScalars.append(ch)
                }
            }
            out += "\""
        }
        return out + "]"
    }

    /// The largest reminder offset anyone hears of (the default's when nobody set one): a
    /// holder's with reminders on, or off while a team of theirs has a follower, since followers
    /// are reminded at the holder's offsets.
    public func largestOffset() throws -> Int {
        var largest = Reminders.defaultDaysBefore.max() ?? 0
        try db.query("""
            SELECT days_before FROM notification_settings n WHERE n.enabled = 1
               OR EXISTS (SELECT 1 FROM team_members m JOIN team_followers f ON f.team_id = m.team_id WHERE m.user_id = n.user_id)
            """) { largest = max(largest, Self.offsets($0.text(0)).max() ?? 0) }
        return largest
    }

    /// Marks a reminder sent to its holder; false when it already was.
    public func markSent(credentialID: String, version: Int, offset: String, at: Int64, by: String) throws -> Bool {
        try db.run("INSERT INTO reminders_sent (credential_id, version, offset_key, sent_at, sent_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   credentialID, version, offset, at, by) == 1
    }

    /// Marks a reminder sent to one follower; false when it already was.
    public func markSent(credentialID: String, version: Int, offset: String, recipientID: String, at: Int64, by: String) throws -> Bool {
        try db.run("""
            INSERT INTO reminders_sent_to (credential_id, version, offset_key, recipient_id, sent_at, sent_by)
            VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, credentialID, version, offset, recipientID, at, by) == 1
    }
}
