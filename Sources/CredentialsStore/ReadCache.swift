import CredentialsCore
#if canImport(Glibc)
import Glibc
#endif

/// What a group of requests reads again and again inside one write transaction: the session
/// user, credential types, the organization's settings and the audit log's last seq.
///
/// While a write transaction is open no other process can change the file (SQLite's write
/// lock; on PostgreSQL the write lock too, and the transaction's snapshot besides), so a row
/// read in it stays what the table holds until this connection changes that table itself; the cache counts
/// those changes through the connection's `ChangeObserver`: each entry is keyed by its
/// transaction and its table's change count, so it is not used again once this connection
/// changed that table or the transaction ended. Outside a write transaction (where
/// another process may commit between two reads) nothing is kept: every read goes to the table.
/// A group of 4,096 renewals reads its caller, its type and the settings once instead of 4,096
/// times (see Protocol/README.md §9 on group commit).
public final class ReadCache: ChangeObserver {
    /// The tables whose rows are kept.
    enum Table: Int, CaseIterable {
        case users, credentialTypes, orgSettings, auditLog

        var sqlName: [CChar] {
            switch self {
            case .users: Array("users".utf8CString)
            case .credentialTypes: Array("credential_types".utf8CString)
            case .orgSettings: Array("org_settings".utf8CString)
            case .auditLog: Array("audit_log".utf8CString)
            }
        }
    }

    /// Under which transaction, and after how many of this connection's changes to the table, a
    /// value was read.
    struct Key: Equatable {
        let transaction: Int
        let changes: Int
    }

    /// The connection keeps the cache (as its observer), so the cache never outlives it: not
    /// counted, since the checked kind of reference cost a retain and a release per read.
    private unowned(unsafe) let db: Database
    private static let names: [[CChar]] = Table.allCases.map(\.sqlName)
    private var changes = [Int](repeating: 0, count: Table.allCases.count)
    private var sessionUser: (key: Key, userID: String, row: UserStore.SessionRow)?
    private var types: (key: Key, byID: [String: CredentialType], last: CredentialType)?
    private var settings: (key: Key, value: OrgSettings)?
    private var auditTail: (key: Key, seq: Int64)?

    private init(_ db: Database) { self.db = db }

    /// The cache of `db`'s connection, registered as its change observer on first use.
    public static func of(_ db: Database) -> ReadCache {
        if let mine = db.changeObserver as? ReadCache { return mine }
        let cache = ReadCache(db)
        db.changeObserver = cache
        return cache
    }

    public func rowChanged(inTable table: UnsafePointer<CChar>) {
        for (i, name) in Self.names.enumerated() where strcmp(table, name) == 0 {
            changes[i] += 1
            return
        }
    }

    public func anyRowChanged() {
        for i in changes.indices { changes[i] += 1 }
    }

    /// Nil outside a write transaction: there nothing read may be reused.
    func key(_ table: Table) -> Key? {
        guard db.isInTransaction else { return nil }
        return Key(transaction: db.transactionSerial, changes: changes[table.rawValue])
    }

    /// The session row of `userID`, read once per group while no user changes.
    public func sessionUser(_ userID: String, load: () throws -> UserStore.SessionRow?) rethrows -> UserStore.SessionRow? {
        let key = key(.users)
        if let key, let c = sessionUser, c.key == key, c.userID == userID { return c.row }
        let row = try load()
        sessionUser = key.flatMap { k in row.map { (k, userID, $0) } }
        return row
    }

    /// A credential type, read once per group while no type changes.
    public func credentialType(_ id: String, load: () throws -> CredentialType?) rethrows -> CredentialType? {
        let key = key(.credentialTypes)
        if let key, let t = types, t.key == key {
            // Most of a group's credentials are of the type the one before was: no hashing then.
            if t.last.id == id { return t.last }
            if let type = t.byID[id] { types!.last = type; return type }
        }
        guard let type = try load() else { return nil }
        if let key {
            if types?.key != key { types = (key, [:], type) }
            types!.byID[id] = type
            types!.last = type
        }
        return type
    }

    /// The organization's settings, read once per group while they do not change.
    public func settings(load: () throws -> OrgSettings) rethrows -> OrgSettings {
        let key = key(.orgSettings)
        if let key, let s = settings, s.key == key { return s.value }
        let value = try load()
        settings = key.map { ($0, value) }
        return value
    }

    /// The seq of the audit row this connection wrote last, while it is still the log's last.
    var lastAuditSeq: Int64? {
        guard let key = key(.auditLog), let t = auditTail, t.key == key else { return nil }
        return t.seq
    }

    /// Called right after this connection wrote audit row `seq` (its own insert is counted first).
    func wroteAudit(seq: Int64) {
        auditTail = key(.auditLog).map { ($0, seq) }
    }
}
