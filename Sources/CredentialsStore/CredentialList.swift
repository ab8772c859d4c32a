import CredentialsCore

/// Which other users' credentials a caller may see in a list (their own are always in).
public enum Visibility: Equatable, Sendable {
    case everything
    /// Their own, plus other users' whose latest approval is one of these.
    case ownPlus(userID: String, approvals: [ApprovalStatus])

    /// What `actor` may see of other users' credentials (`CredentialAccess.canView`).
    public init(_ actor: User) {
        let approvals = CredentialAccess.othersVisible(to: actor)
        self = approvals.count == ApprovalStatus.allCases.count ? .everything : .ownPlus(userID: actor.id, approvals: approvals)
    }

    /// Only the caller's own credentials: a list of them is one user's list.
    var isOwnOnly: Bool {
        if case .ownPlus(_, let approvals) = self { return approvals.isEmpty }
        return false
    }

    /// The condition on the `credentials` table aliased `c`, with its arguments; nil for everything.
    func condition() -> (sql: String, args: [SQLBindable])? {
        guard case .ownPlus(let me, let approvals) = self else { return nil }
        if approvals.isEmpty { return ("c.user_id = ?", [me]) }
        // Unary + keeps these off the indexes: a multi-index OR would have to sort every match.
        return ("(+c.user_id = ? OR +c.latest_approval IN (\(approvals.map { _ in "?" }.joined(separator: ", "))))",
                [me] + approvals.map(\.rawValue))
    }
}

public struct CredentialFilter: Equatable, Sendable {
    public var userID: String?
    public var typeID: String?
    /// Only credentials of this team's members.
    public var teamID: String?
    public var approval: ApprovalStatus?
    public var expiry: ExpiryStatus?
    public var asOf: CalendarDate
    public var windowDays: Int

    public init(userID: String? = nil, typeID: String? = nil, teamID: String? = nil, approval: ApprovalStatus? = nil,
                expiry: ExpiryStatus? = nil, asOf: CalendarDate, windowDays: Int) {
        self.userID = userID
        self.typeID = typeID
        self.teamID = teamID
        self.approval = approval
        self.expiry = expiry
        self.asOf = asOf
        self.windowDays = windowDays
    }
}

/// Filtered, paged lists of credentials: the query of each shape, and its cursor keys.
extension CredentialStore {
    /// How a filtered list is ordered, which decides its cursor.
    public enum Order: Equatable, Sendable {
        /// Creation order (ids are time-ordered).
        case id
        /// Expiration date, soonest first (`expiring`), then id.
        case expirationAscending
        /// Expiration date, most recent first (`expired`), then id.
        case expirationDescending

        public static func of(_ f: CredentialFilter) -> Order {
            switch f.expiry {
            case .expiring: return .expirationAscending
            case .expired: return .expirationDescending
            case .valid, nil: return .id
            }
        }

        /// The cursor key of a credential in this order: its id, or `asc|` or `desc|`, its
        /// expiration and its id. The tag keeps one expiration order's key out of the other,
        /// where it would silently start the list over. (Expiration orders only list credentials
        /// with an expiration date.)
        func key(id: String, expiration: CalendarDate?) -> String {
            switch self {
            case .id: return id
            case .expirationAscending: return "asc|\(expiration?.description ?? "")|\(id)"
            case .expirationDescending: return "desc|\(expiration?.description ?? "")|\(id)"
            }
        }
    }

    /// One page of credentials with the latest version of each, and the cursor key of the last one
    /// (nil on the last page). `limit + 1` rows are read to know whether more follow.
    ///
    /// Each shape is served by an index in its own order, so a page costs about `limit` rows
    /// whatever the table's size: a user's credentials through `credentials_user` (a user has few),
    /// `expiring` and `expired` through `credentials_expiration` in expiration order, the rest in id
    /// order. Keys are `Order.key`'s; one of another order, or of any other shape, is a `CursorError`.
    /// `withMedia: false` leaves each latest version's media out (an export needs none), sparing
    /// a query per credential.
    public func list(_ f: CredentialFilter, visibility: Visibility, after key: String?, limit: Int, withMedia: Bool = true) throws
        -> (credentials: [Credential], nextKey: String?)
    {
        let order = Order.of(f)
        let (sql, args) = try Self.listQuery(f, visibility: visibility, after: key, limit: limit)
        var out: [Credential] = [], hasMedia: [Bool] = []
        try db.query(sql, args) {
            out.append(credential($0))
            hasMedia.append($0.bool(17))
        }
        let more = out.count > limit
        if more { out.removeLast() }
        if withMedia {
            for i in out.indices where hasMedia[i] { out[i].latest.media = try media(credentialID: out[i].id, version: out[i].versionCount) }
        }
        let next = more ? out.last.map { order.key(id: $0.id, expiration: $0.latest.expirationDate) } : nil
        return (out, next)
    }

    /// The SQL and arguments of one page: separate so tests can read its query plan.
    public static func listQuery(_ f: CredentialFilter, visibility: Visibility, after key: String?, limit: Int) throws
        -> (sql: String, args: [SQLBindable])
    {
        let order = Order.of(f)
        // The index is chosen here, not left to the planner, which (without statistics) can pick one
        // that makes it sort every match: a user's few credentials by user (also a caller's who
        // sees only their own: left to itself, page 2 of their list of one type walked every
        // credential of that type); expiring and expired in expiration order (within the type
        // when one is given); everything else walks ids in order and stops at the page's end.
        var sql = credentialSelect
        let index = f.userID != nil || visibility.isOwnOnly ? "credentials_user"
            : order == .id ? nil
            : f.typeID != nil ? "credentials_type_expiration" : "credentials_expiration"
        if let index { sql = sql.replacingOccurrences(of: "FROM credentials c", with: "FROM credentials c INDEXED BY \(index)") }
        var conditions: [String] = []
        var args: [SQLBindable] = []
        if let key {
            guard let cursor = Self.parseKey(key, order) else { throw CursorError() }
            switch order {
            case .id: conditions.append("c.id > ?"); args.append(cursor.id)
            case .expirationAscending: conditions.append("(c.latest_expiration, c.id) > (?, ?)"); args += [cursor.expiration, cursor.id]
            case .expirationDescending: conditions.append("(c.latest_expiration, c.id) < (?, ?)"); args += [cursor.expiration, cursor.id]
            }
        }
        if let u = f.userID { conditions.append("c.user_id = ?"); args.append(u) }
        if let t = f.typeID { conditions.append("c.type_id = ?"); args.append(t) }
        if let t = f.teamID { conditions.append("c.user_id IN (SELECT user_id FROM team_members WHERE team_id = ?)"); args.append(t) }
        if let a = f.approval { conditions.append("c.latest_approval = ?"); args.append(a.rawValue) }
        let asOf = f.asOf.description
        let windowEnd = f.asOf.windowEnd(days: f.windowDays).description
        switch f.expiry {
        case .expired: conditions.append("c.latest_expiration < ?"); args.append(asOf)
        case .expiring: conditions.append("c.latest_expiration BETWEEN ? AND ?"); args += [asOf, windowEnd]
        case .valid: conditions.append("(c.latest_expiration IS NULL OR c.latest_expiration > ?)"); args.append(windowEnd)
        case nil: break
        }
        if let (sql, more) = visibility.condition() {
            conditions.append(sql)
            args += more
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        switch order {
        case .id: sql += " ORDER BY c.id"
        case .expirationAscending: sql += " ORDER BY c.latest_expiration, c.id"
        case .expirationDescending: sql += " ORDER BY c.latest_expiration DESC, c.id DESC"
        }
        sql += " LIMIT ?"
        args.append(limit + 1)
        return (sql, args)
    }

    /// The parts of a key `Order.key` makes for `order`, or nil for any other text: the id must
    /// be one the service makes and the date a real one written as the store writes it.
    static func parseKey(_ key: String, _ order: Order) -> (expiration: String, id: String)? {
        if order == .id { return TimeOrderedIDs.isID(key, prefix: "cred") ? ("", key) : nil }
        let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0] == (order == .expirationAscending ? "asc" : "desc"),
              let date = CalendarDate(parts[1]), date.description == parts[1], TimeOrderedIDs.isID(parts[2], prefix: "cred")
        else { return nil }
        return (parts[1], parts[2])
    }
}

/// A cursor that this list did not make (or made for another filter's order).
public struct CursorError: Error {}
