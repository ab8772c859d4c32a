import CSQLite
import CredentialsCore
#if canImport(Glibc)
import Glibc
#endif

/// A value bound to or read from SQL.
public enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    /// Text given as its UTF-8 bytes (JSON the service encoded): bound as TEXT without first
    /// making, and validating, a String.
    case utf8([UInt8])
}

extension SQLValue {
    /// Optional text as a value: NULL when nil. Statements that run for every write pass their
    /// optionals through this, not as `Optional`, whose generic conformance copies and destroys
    /// each one through the runtime's value witnesses (about 700 instructions an argument).
    public static func optional(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    public static func optional(_ n: Int64?) -> SQLValue { n.map(SQLValue.int) ?? .null }
}

public protocol SQLBindable {
    var sqlValue: SQLValue { get }
}
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .int(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .double(self) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A group's writes were rolled back because one request failed after changing rows; its
/// requests must run again one by one (see `Database.beginGroup`).
public struct GroupRolledBack: Error {}

/// What went wrong in SQLite. `code` is the extended result code; `message` is for stderr logs
/// only and never reaches a client.
public struct DatabaseError: Error, Equatable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    /// The OS error behind an I/O failure (EROFS, ENOSPC, ...), or 0.
    public var systemErrno: Int32 = 0

    public var primaryCode: Int32 { code & 0xFF }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }
    public var description: String { "SQLite error \(code): \(message)" }

    /// What a client is told: the kind of fault, never SQLite's text.
    public var fault: StorageFault {
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_FULL: return .full
        case SQLITE_READONLY, SQLITE_PERM: return .readOnly
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_IOERR, SQLITE_CANTOPEN:
            // SQLite reports a refused write as an I/O error; the OS says why.
            switch systemErrno {
            case EROFS, EPERM, EACCES: return .readOnly
            case ENOSPC, EDQUOT: return .full
            default: return .ioError
            }
        default: return .other
        }
    }
}

/// Why the database could not serve a request, as the service reports it (`error.data.reason`).
public enum StorageFault: String, Sendable, CaseIterable {
    case busy = "storage_busy"
    case full = "storage_full"
    case readOnly = "storage_read_only"
    case corrupt = "storage_corrupt"
    case ioError = "storage_io_error"
    /// The file was deleted or replaced by another while this process had it open.
    case replaced = "storage_replaced"
    case other = "storage_error"

    public var message: String {
        switch self {
        case .busy: return "The database stayed locked by another connection past the busy timeout; nothing was changed"
        case .full: return "The disk (or the database's size limit) is full; nothing was changed"
        case .readOnly: return "The database cannot be written (read-only file or file system); nothing was changed"
        case .corrupt: return "The database file is damaged; nothing was changed"
        case .ioError: return "The database file could not be read or written; nothing was changed"
        case .replaced: return "The database file was deleted or replaced while the service ran; restart the service"
        case .other: return "The database could not complete the request; nothing was changed"
        }
    }
}

/// The database file is no longer the one this connection opened.
public struct FileReplacedError: Error {}

/// Why the database could not be opened. The executable prints `description` as its one stderr
/// line and exits with status 2.
public enum OpenError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notADatabase(path: String)
    case newerSchema(path: String, found: Int, known: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open database \(path): \(reason)"
        case .notADatabase(let path): return "\(path) is not a credentials-rpc database (not an SQLite file, or damaged)"
        case .newerSchema(let path, let found, let known):
            return "\(path) has schema version \(found), newer than this build knows (\(known)); use a newer credentials-rpc"
        }
    }
}

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
private let SQLITE_STATIC: sqlite3_destructor_type? = nil

/// A prepared statement. Finalized in `deinit`; owned by one `Database` and not `Sendable`.
public final class Statement {
    let handle: OpaquePointer
    private unowned let db: Database
    /// The text of the last `bind`, copied here and bound as SQLITE_STATIC: SQLite reads bound
    /// values only while the statement runs, and every `bind` rebinds every parameter before the
    /// next run, so this outlives each use. (SQLITE_TRANSIENT made SQLite allocate, copy and free
    /// each text: most of what binding cost.) Text that does not fit is bound as transient.
    private let textBuffer: UnsafeMutablePointer<UInt8>
    private static let textBufferSize = 4096

    init(db: Database, sql: String) throws {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw db.error(rc) }
        self.handle = stmt
        self.db = db
        textBuffer = .allocate(capacity: Statement.textBufferSize)
    }

    deinit {
        sqlite3_finalize(handle)
        textBuffer.deallocate()
    }

    /// Binds every parameter. Callers pass one value per placeholder, so nothing bound before,
    /// text in `textBuffer` included, is left for a run to read; should a caller pass fewer, the
    /// rest are cleared to NULL first, as SQLite leaves parameters never bound.
    func bind(_ values: [SQLBindable]) throws {
        sqlite3_reset(handle)
        if values.count < Int(sqlite3_bind_parameter_count(handle)) { sqlite3_clear_bindings(handle) }
        var used = 0
        /// Binds UTF-8 bytes as TEXT by their count: no C string made, no strlen, nothing cut at a NUL.
        func bindText(_ idx: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
            // An empty text still needs a pointer (a null one would bind NULL), and one that lasts.
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return textBuffer.withMemoryRebound(to: CChar.self, capacity: 1) { sqlite3_bind_text64(handle, idx, $0, 0, SQLITE_STATIC, UInt8(SQLITE_UTF8)) }
            }
            guard used + bytes.count <= Statement.textBufferSize else {
                return sqlite3_bind_text64(handle, idx, base.assumingMemoryBound(to: CChar.self), sqlite3_uint64(bytes.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
            }
            let copy = textBuffer + used
            UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count)
            used += bytes.count
            return copy.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(handle, idx, $0, sqlite3_uint64(bytes.count), SQLITE_STATIC, UInt8(SQLITE_UTF8))
            }
        }
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v.sqlValue {
            case .null: rc = sqlite3_bind_null(handle, idx)
            case .int(let n): rc = sqlite3_bind_int64(handle, idx, n)
            case .double(let d): rc = sqlite3_bind_double(handle, idx, d)
            case .text(var s): rc = s.withUTF8 { bindText(idx, UnsafeRawBufferPointer($0)) }
            case .utf8(let b): rc = b.withUnsafeBytes { bindText(idx, $0) }
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob64(handle, idx, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), sqlite3_uint64(b.count), SQLITE_TRANSIENT) }
            }
            guard rc == SQLITE_OK else { throw db.error(rc) }
        }
    }

    /// Steps once: true for a row, false when done; anything else throws.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = db.error(rc)
            sqlite3_reset(handle)
            throw e
        }
    }
}

/// The current row of a query, read by column index.
public struct Row {
    let stmt: OpaquePointer

    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    public func bool(_ i: Int32) -> Bool { sqlite3_column_int64(stmt, i) != 0 }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
    public func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    public func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    /// Whether column `i` is text with exactly the bytes of `s`, without making a String of it.
    public func text(_ i: Int32, equals s: String) -> Bool {
        var s = s
        return s.withUTF8 { equal(i, $0) }
    }
    public func text(_ i: Int32, equals bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { equal(i, $0) }
    }
    /// Appends column `i`'s text (nothing for NULL) to `buffer`; returns where it went.
    public func appendText(_ i: Int32, to buffer: inout [UInt8]) -> Range<Int> {
        let start = buffer.count
        if let p = sqlite3_column_text(stmt, i) {
            buffer.append(contentsOf: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))))
        }
        return start..<buffer.count
    }
    /// The position in `candidates` of column `i`'s text, compared by bytes.
    public func text(_ i: Int32, in candidates: [[UInt8]]) -> Int? {
        candidates.firstIndex { c in c.withUnsafeBufferPointer { equal(i, $0) } }
    }
    /// Column `i` as a calendar date, nil for NULL or anything else.
    public func calendarDate(_ i: Int32) -> CalendarDate? {
        guard let p = sqlite3_column_text(stmt, i) else { return nil }
        return CalendarDate(utf8: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))))
    }
    private func equal(_ i: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = sqlite3_column_text(stmt, i) else { return false }
        return Int(sqlite3_column_bytes(stmt, i)) == bytes.count && (bytes.isEmpty || memcmp(p, bytes.baseAddress!, bytes.count) == 0)
    }
    public func blob(_ i: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, i))
        guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}

/// Where a value read inside a write transaction may be reused: see `Database.snapshotKey`.
public struct SnapshotKey: Equatable, Sendable {
    let transaction: Int
    let changes: Int
}

/// One SQLite connection with the settings every credentials-rpc process uses.
///
/// WAL journal, `synchronous=FULL` (a commit is on disk before it returns, so an answer is only
/// sent for a durable write), foreign keys on, `secure_delete` on (deleted bytes are zeroed),
/// statement journals in memory, 8 KiB pages for new files, extended result codes, and a busy
/// timeout so several processes can share one file.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: Statement] = [:]
    private var byAddress: [Int: (sql: String, statement: Statement)] = [:]
    /// Device and inode of the file when opened, to notice it being deleted or replaced.
    private var identity: (dev: UInt64, ino: UInt64)?
    public static let busyTimeoutMilliseconds: Int32 = 10_000

    /// Pages of new files: inserting into a dozen B-trees per request cost 11% less with 8 KiB
    /// pages than with SQLite's default of 4 KiB.
    public static let pageSize = 8192

    /// Library-wide settings, applied once before the first connection opens.
    private static let configured: Void = { _ = csqlite_disable_memory_statistics() }()

    /// Opens (creating if missing) and migrates. Throws `OpenError` for a file it must refuse.
    public init(path: String, migrations: [Migration] = StoreSchema.migrations) throws {
        _ = Database.configured
        try DatabaseFiles.prepare(path)
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw OpenError.cannotOpen(path: path, reason: reason)
        }
        self.handle = db
        self.path = path
        // SQLite quietly opens a file it may not write read-only; every write would then fail.
        if sqlite3_db_readonly(db, "main") == 1 {
            sqlite3_close_v2(db)
            throw OpenError.cannotOpen(path: path, reason: "the file is read-only, and credentials-rpc must be able to write it")
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Database.busyTimeoutMilliseconds)
        // Count this connection's own row changes in the tables whose rows are cached.
        sqlite3_update_hook(db, { context, _, _, table, _ in
            guard let context, let table else { return }
            let counts = Unmanaged<ChangeCounts>.fromOpaque(context).takeUnretainedValue()
            if strcmp(table, "users") == 0 { counts.users += 1 }
            else if strcmp(table, "credential_types") == 0 { counts.credentialTypes += 1 }
            else if strcmp(table, "org_settings") == 0 { counts.orgSettings += 1 }
            else if strcmp(table, "audit_log") == 0 { counts.auditLog += 1 }
        }, Unmanaged.passUnretained(changeCounts).toOpaque())
        do {
            // The page size takes effect on a new, empty file only (an existing one keeps its own).
            try execute("PRAGMA page_size = \(Database.pageSize); PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;")
            if path != ":memory:" && !path.isEmpty {
                _ = try scalarText("PRAGMA journal_mode = WAL")
            }
            try StoreSchema.migrate(self, migrations: migrations)
            identity = Database.identity(of: path)
        } catch let e as DatabaseError {
            if e.primaryCode == SQLITE_NOTADB || e.primaryCode == SQLITE_CORRUPT { throw OpenError.notADatabase(path: path) }
            throw OpenError.cannotOpen(path: path, reason: e.message)
        }
    }

    deinit {
        byAddress.removeAll()
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Whether the group or other users may read or write the file (one made by the service never is).
    public var isReadableByOthers: Bool { DatabaseFiles.isReadableByOthers(path) }

    static func identity(of path: String) -> (dev: UInt64, ino: UInt64)? {
        guard path != ":memory:", !path.isEmpty, !path.hasPrefix("file:") else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Throws when the file at `path` is gone or is another file than the one opened: writing on
    /// would go to an unlinked file and be lost at exit, and reads would answer from stale data.
    /// In a group the check runs once, for its first request.
    public func checkFileIsStillOurs() throws {
        guard let identity, !(groupOpen && fileCheckedInGroup) else { return }
        fileCheckedInGroup = groupOpen
        guard let now = Database.identity(of: path), now == identity else { throw FileReplacedError() }
    }

    func error(_ rc: Int32) -> DatabaseError {
        let code = sqlite3_extended_errcode(handle)
        var errno = sqlite3_system_errno(handle)
        // SQLite's own recovery after a failed write can clear the errno it recorded; ask the file
        // system directly whether the files may still be written.
        if errno == 0 && (code & 0xFF) == SQLITE_IOERR { errno = writeProbe() }
        return DatabaseError(code: code, message: String(cString: sqlite3_errmsg(handle)), systemErrno: errno)
    }

    /// 0 when the database and WAL files open for writing, else why not (EPERM, EROFS, ...).
    private func writeProbe() -> Int32 {
        guard identity != nil else { return 0 }
        for file in [path, path + "-wal"] where access(file, F_OK) == 0 {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            if fd < 0 { return Glibc.errno }
            close(fd)
        }
        return 0
    }

    /// Runs one or more statements with no parameters (schema, pragmas).
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if let err { sqlite3_free(err) }
        if rc != SQLITE_OK { throw error(rc) }
    }

    private func statement(_ sql: String) throws -> Statement {
        // Most SQL is a literal or a `static let`: the same storage every call. Looking it up by
        // address first spares hashing the whole text; the text is still compared, so a string
        // that merely reuses an address finds its own statement through the hashed cache.
        let address = sql.utf8.withContiguousStorageIfAvailable { Int(bitPattern: $0.baseAddress) } ?? 0
        if address != 0, let hit = byAddress[address], hit.sql == sql { return hit.statement }
        let s: Statement
        if let cached = cache[sql] {
            s = cached
        } else {
            s = try Statement(db: self, sql: sql)
            cache[sql] = s
        }
        if address != 0 {
            if byAddress.count >= 512 { byAddress.removeAll(keepingCapacity: true) }  // dynamic SQL comes at new addresses
            byAddress[address] = (sql, s)
        }
        return s
    }

    /// Runs a statement for its effect; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ args: SQLBindable...) throws -> Int {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        while try s.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Calls `body` for each row.
    public func query(_ sql: String, _ args: [SQLBindable] = [], _ body: (Row) throws -> Void) throws {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        while try s.step() { try body(Row(stmt: s.handle)) }
    }

    /// The rows mapped by `map`.
    public func all<T>(_ sql: String, _ args: SQLBindable..., map: (Row) throws -> T) throws -> [T] {
        var out: [T] = []
        try query(sql, args) { out.append(try map($0)) }
        return out
    }

    /// The first row mapped by `map`, or nil.
    public func first<T>(_ sql: String, _ args: SQLBindable..., map: (Row) throws -> T) throws -> T? {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        return try s.step() ? map(Row(stmt: s.handle)) : nil
    }

    public func scalarInt(_ sql: String, _ args: SQLBindable...) throws -> Int64? {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        guard try s.step() else { return nil }
        return Row(stmt: s.handle).int(0)
    }

    public func scalarText(_ sql: String, _ args: SQLBindable...) throws -> String? {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        guard try s.step() else { return nil }
        return Row(stmt: s.handle).optionalText(0)
    }

    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Rows changed by this connection since it opened: tests use it to prove a refused request changed nothing.
    public var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// The one way every write happens: `BEGIN IMMEDIATE` (take the write lock up front, so a
    /// busy file waits here under the busy timeout rather than failing mid-change), run `body`,
    /// `COMMIT`; on any error roll back and rethrow it. With `synchronous=FULL` the change is on
    /// disk when this returns.
    ///
    /// The three statements are cached prepared statements, not `sqlite3_exec`, so an error reports
    /// the OS's errno (exec finalizes its statement first and clears it) and nothing is parsed per write.
    @discardableResult
    public func write<T>(_ body: () throws -> T) throws -> T {
        if groupOpen { return try writeInGroup(body) }
        try begin()
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    private func begin() throws {
        try run("BEGIN IMMEDIATE")
        transactionSerial += 1
    }

    // MARK: Reusing what a write transaction read

    /// Rows this connection changed per watched table, counted by SQLite's update hook.
    final class ChangeCounts {
        var users = 0
        var credentialTypes = 0
        var orgSettings = 0
        var auditLog = 0
    }
    private let changeCounts = ChangeCounts()
    private var transactionSerial = 0
    /// The seq of the audit row this connection last wrote, under the snapshot it left: while
    /// that holds, it is still the log's last (see `AuditLog.append`).
    var auditTail: (key: SnapshotKey, seq: Int64)?

    public enum WatchedTable: Sendable { case users, credentialTypes, orgSettings, auditLog }

    /// While a write transaction is open nothing but this connection can change the file, and
    /// this connection's own changes to `table` are counted: a row of `table` read under a key
    /// equal to the current one is still what the table holds. Nil outside a write transaction,
    /// where another process may commit between two reads.
    public func snapshotKey(_ table: WatchedTable) -> SnapshotKey? {
        guard isInTransaction else { return nil }
        let changes = switch table {
        case .users: changeCounts.users
        case .credentialTypes: changeCounts.credentialTypes
        case .orgSettings: changeCounts.orgSettings
        case .auditLog: changeCounts.auditLog
        }
        return SnapshotKey(transaction: transactionSerial, changes: changes)
    }

    // MARK: Group commit

    private var groupOpen = false
    private var groupBegun = false
    private var groupRolledBack = false
    private var checkpointAfterGroup = false
    private var fileCheckedInGroup = false

    /// Starts a group: the writes until `endGroup` share one transaction (begun at the first
    /// write) and one commit, so one fsync makes them all durable.
    ///
    /// A request's write that fails before changing anything (the usual case: its checks come
    /// first) leaves the group as it was. One that fails after changing rows cannot be undone
    /// alone without a savepoint per request, which cost 14% of an add; instead the whole group is
    /// rolled back, every later write in it is refused, and `endGroup` throws
    /// `GroupRolledBack`: the caller runs each request of the group again alone.
    public func beginGroup() {
        groupOpen = true
        groupBegun = false
        groupRolledBack = false
        fileCheckedInGroup = false
    }

    /// Commits the group. On failure everything in it is rolled back and the error thrown: the
    /// caller runs its requests again one by one.
    public func endGroup() throws {
        groupOpen = false
        if groupRolledBack {
            groupRolledBack = false
            groupBegun = false
            checkpointAfterGroup = false
            throw GroupRolledBack()
        }
        guard groupBegun else { return }
        groupBegun = false
        do {
            try run("COMMIT")
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK") }
            checkpointAfterGroup = false
            throw error
        }
        if checkpointAfterGroup {
            checkpointAfterGroup = false
            checkpoint()
        }
    }

    private func writeInGroup<T>(_ body: () throws -> T) throws -> T {
        if groupRolledBack { throw GroupRolledBack() }
        if !groupBegun {
            try begin()
            groupBegun = true
        }
        let before = totalChanges
        do {
            return try body()
        } catch {
            // SQLite may have ended the transaction itself (some I/O errors do): that too loses
            // the group's earlier writes.
            if totalChanges != before || !isInTransaction {
                if isInTransaction { _ = try? run("ROLLBACK") }
                groupRolledBack = true
            }
            throw error
        }
    }

    /// Copies the WAL into the database file and truncates the WAL. Best effort: a reader in another
    /// process can keep part of it; the next checkpoint finishes the job.
    public func checkpoint() {
        guard !isInTransaction && !groupOpen else {
            checkpointAfterGroup = true  // after the group's commit
            return
        }
        try? execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
