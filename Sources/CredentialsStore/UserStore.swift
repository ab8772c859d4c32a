import CredentialsCore

/// A user with what only the store and the sign-in path see: the password hash, the lockout
/// counters and the session epoch. Never leaves the service.
public struct UserRecord: Equatable {
    public var user: User
    public var passwordHash: String
    public var failedLogins: Int
    public var lockedUntil: Int64?
    /// Raised when the user's sessions must end everywhere (deactivation, password reset).
    public var sessionEpoch: Int64

    public init(user: User, passwordHash: String, failedLogins: Int = 0, lockedUntil: Int64? = nil, sessionEpoch: Int64 = 0) {
        self.user = user
        self.passwordHash = passwordHash
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
        self.sessionEpoch = sessionEpoch
    }
}

public struct UserFilter: Equatable {
    public var role: Role?
    public var status: UserStatus?
    /// A case-insensitive substring of the first name, last name or email.
    public var query: String?
    public init(role: Role? = nil, status: UserStatus? = nil, query: String? = nil) {
        self.role = role
        self.status = status
        self.query = query
    }
}

/// Users in SQLite. Lists page by id: ids are time-ordered, so pages stay stable while users are added.
public struct UserStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    static let userColumns = "id, email, first_name, last_name, role, permissions, status, must_change_password, created_at, updated_at"
    static let columns = userColumns + ", password_hash, failed_logins, locked_until, session_epoch"
    static let byID = "SELECT \(columns) FROM users WHERE id = ?"
    static let byEmailKey = "SELECT \(columns) FROM users WHERE email_key = ?"
    static let sessionByID = "SELECT \(userColumns), session_epoch, token_epoch FROM users WHERE id = ?"

    static func user(_ r: Row) -> User {
        User(id: r.text(0), email: r.text(1), firstName: r.text(2), lastName: r.text(3),
             role: Role(rawValue: r.text(4)) ?? .support, permissions: Permissions(mask: Int(r.int(5))),
             status: UserStatus(rawValue: r.text(6)) ?? .deactivated, mustChangePassword: r.bool(7),
             createdAt: r.int(8), updatedAt: r.int(9))
    }

    static func record(_ r: Row) -> UserRecord {
        UserRecord(user: user(r), passwordHash: r.text(10), failedLogins: Int(r.int(11)), lockedUntil: r.isNull(12) ? nil : r.int(12),
                   sessionEpoch: r.int(13))
    }

    static func searchText(_ u: User) -> String { "\(u.firstName) \(u.lastName) \(u.email)".lowercased() }

    public func count() throws -> Int { Int(try db.scalarInt("SELECT count(*) FROM users") ?? 0) }

    /// Every permission some active admin other than `id` holds.
    public func permissionsOfOtherActiveAdmins(than id: String) throws -> Permissions {
        var mask = 0
        try db.query("SELECT permissions FROM users WHERE role = 'admin' AND status = 'active' AND id != ?", [id]) { mask |= Int($0.int(0)) }
        return Permissions(mask: mask)
    }

    public func activeAdminCount() throws -> Int {
        Int(try db.scalarInt("SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active'") ?? 0)
    }

    /// The user and their session epoch, without the password hash: what every signed-in call checks.
    /// `tokenEpoch` moves when the user stops being an active admin (`endTokenSessions`).
    public typealias SessionRow = (user: User, epoch: Int64, tokenEpoch: Int64)

    /// The users with these ids, by id (ids with no user are left out), read a few hundred a
    /// statement: an export page names thousands, and on PostgreSQL a read by one id is a round
    /// trip (5,000 rows took 0.7-0.9 s at 1M credentials). Each list is padded, with its last id
    /// again, to a power of two, so a handful of statement texts serve every page.
    public func users(ids: [String]) throws -> [String: User] {
        var found: [String: User] = [:]
        let unique = Array(Set(ids))
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(start + Self.idsPerRead, unique.count)])
            start += chunk.count
            let width = max(8, 1 << (Int.bitWidth - (chunk.count - 1).leadingZeroBitCount))
            let padded = chunk + Array(repeating: chunk[chunk.count - 1], count: width - chunk.count)
            let sql = "SELECT \(Self.userColumns) FROM users WHERE id IN (" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
            try db.query(sql, padded) { found[$0.text(0)] = Self.user($0) }
        }
        return found
    }
    static let idsPerRead = 512

    public func session(id: String) throws -> SessionRow? {
        try db.first(Self.sessionByID, id) { (Self.user($0), $0.int(10), $0.int(11)) }
    }

    /// Ends the user's token sessions in every process (their tokens stay, suspended while the
    /// user is not an active admin): call inside the write that deactivates or demotes them.
    public func endTokenSessions(id: String) throws {
        try db.run("UPDATE users SET token_epoch = token_epoch + 1 WHERE id = ?", id)
    }

    public func find(id: String) throws -> UserRecord? {
        try db.first(Self.byID, id, map: Self.record)
    }

    public func find(emailKey: String) throws -> UserRecord? {
        try db.first(Self.byEmailKey, emailKey, map: Self.record)
    }

    public func emailTaken(_ emailKey: String, except id: String? = nil) throws -> Bool {
        try db.scalarInt("SELECT count(*) FROM users WHERE email_key = ? AND id IS DISTINCT FROM ?", emailKey, id) ?? 0 > 0
    }

    public func insert(_ r: UserRecord) throws {
        let u = r.user
        try db.run("""
            INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password,
                               password_hash, failed_logins, locked_until, session_epoch, search, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, u.id, u.email, TextRules.emailKey(u.email), u.firstName, u.lastName, u.role.rawValue, u.permissions.mask,
                   u.status.rawValue, u.mustChangePassword, r.passwordHash, r.failedLogins, r.lockedUntil, r.sessionEpoch,
                   Self.searchText(u), u.createdAt, u.updatedAt)
    }

    /// Writes every mutable column of `r`. An email never changes, so neither does its key: an
    /// account that migration 8 left with its old key (another took the folded one) keeps it.
    public func update(_ r: UserRecord) throws {
        let u = r.user
        try db.run("""
            UPDATE users SET first_name = ?, last_name = ?, role = ?, permissions = ?, status = ?,
                   must_change_password = ?, password_hash = ?, failed_logins = ?, locked_until = ?, session_epoch = ?,
                   search = ?, updated_at = ?
            WHERE id = ?
            """, u.firstName, u.lastName, u.role.rawValue, u.permissions.mask, u.status.rawValue,
                   u.mustChangePassword, r.passwordHash, r.failedLogins, r.lockedUntil, r.sessionEpoch, Self.searchText(u),
                   u.updatedAt, u.id)
    }

    /// Only the sign-in counters: a failed sign-in must not rewrite the rest of the row.
    public func updateLoginCounters(id: String, failedLogins: Int, lockedUntil: Int64?) throws {
        try db.run("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?", failedLogins, lockedUntil, id)
    }

    /// Above this many trigram matches a query is common, and scanning in id order finds a page sooner.
    static let indexedSearchLimit = 2000

    /// One page of users in id order, after `afterID`; `limit + 1` matches are read to know if more follow.
    ///
    /// A query of three or more characters with few matches goes through the trigram index; a
    /// shorter or very common one scans in id order, which stops as soon as the page is full.
    /// `instr` on the lowercased joined text then narrows the rows to those whose text holds the
    /// query, byte for byte; and since that text joins the fields with spaces, `matches` keeps
    /// only rows where one field holds it ("ann van" is in "mary ann van der berg", but in no
    /// field of Mary Ann van der Berg). Rows it drops are read past until the page is full.
    public func list(_ f: UserFilter, afterID: String?, limit: Int) throws -> (users: [User], more: Bool) {
        var sql = "SELECT \(Self.columns) FROM users WHERE id > ?"
        var filters: [SQLBindable] = []
        let q = f.query?.lowercased() ?? ""
        if let role = f.role { sql += " AND role = ?"; filters.append(role.rawValue) }
        if let status = f.status { sql += " AND status = ?"; filters.append(status.rawValue) }
        if q.utf8.contains(0) { return ([], false) }  // no field holds a NUL (nor may PostgreSQL text)
        if !q.isEmpty, db.storage == "postgresql" {
            // PostgreSQL: the pg_trgm index on `search` serves LIKE with a pattern of three or
            // more characters; its planner, which has statistics, decides when.
            sql += " AND search LIKE ? ESCAPE '!'"
            filters.append("%" + q.replacingOccurrences(of: "!", with: "!!").replacingOccurrences(of: "%", with: "!%").replacingOccurrences(of: "_", with: "!_") + "%")
        } else if !q.isEmpty {
            // FTS5 reads its query as a C string: from a NUL on it would see an unclosed phrase
            // (a syntax error). No field holds a NUL, so instr alone answers such a query.
            let phrase = "\"" + q.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            if q.count >= 3, !q.utf8.contains(0),
               try db.scalarInt("SELECT count(*) FROM (SELECT rowid FROM users_fts WHERE users_fts MATCH ? LIMIT ?)",
                                phrase, Self.indexedSearchLimit + 1) ?? 0 <= Self.indexedSearchLimit {
                sql += " AND rowid IN (SELECT rowid FROM users_fts WHERE users_fts MATCH ?)"
                filters.append(phrase)
            }
            sql += " AND instr(search, ?) > 0"
            filters.append(q)
        }
        sql += " ORDER BY id LIMIT ?"
        var users: [User] = []
        var after = afterID ?? ""
        while true {
            let wanted = limit + 1 - users.count
            var read = 0
            try db.query(sql, [after] + filters + [wanted]) { r in
                read += 1
                let u = Self.record(r).user
                after = u.id
                if q.isEmpty || Self.matches(u, q) { users.append(u) }
            }
            if users.count > limit || read < wanted { break }
        }
        let more = users.count > limit
        if more { users.removeLast() }
        return (users, more)
    }

    /// Whether the first name, last name or email, lowercased, holds `lowercasedQuery`'s bytes in
    /// a row: literal (code points, not graphemes, so a lone combining mark is found after its
    /// letter), and with no character special.
    static func matches(_ u: User, _ lowercasedQuery: String) -> Bool {
        let needle = Array(lowercasedQuery.utf8)
        return [u.firstName, u.lastName, u.email].contains { field in
            let hay = Array(field.lowercased().utf8)
            guard hay.count >= needle.count else { return false }
            return (0...(hay.count - needle.count)).contains { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
    }
}
