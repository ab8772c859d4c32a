import CSQLite
import CredentialsCore
#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection with the settings every credentials-rpc process uses: the SQLite engine
/// behind `Database`.
///
/// WAL journal, `synchronous=FULL` (a commit is on disk before it returns, so an answer is only
/// sent for a durable write), foreign keys on, `secure_delete` on (deleted bytes are zeroed),
/// statement journals in memory, 8 KiB pages for new files, extended result codes, and a busy
/// timeout so several processes can share one file.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String
    private var cache: [String: Statement] = [:]
    private var byAddress: [Int: (sql: String, statement: Statement)] = [:]
    /// Device and inode of the file when opened, to notice it being deleted or replaced.
    private var identity: (dev: UInt64, ino: UInt64)?
    static let busyTimeoutMilliseconds: Int32 = 10_000

    /// Pages of new files: inserting into a dozen B-trees per request cost 11% less with 8 KiB
    /// pages than with SQLite's default of 4 KiB.
    static let pageSize = 8192

    /// Page cache of the connection, in KiB (SQLite's default is 2,000). One page of an expiring
    /// or expired list at a million credentials touches more pages than 2,000 KiB hold, so every
    /// call read 120 of them again with pread(2), and `notifications.due` 330; with 8 MiB they
    /// stay. It fills only as pages are read (Protocol/PERFORMANCE.md, "2026-12-03 (night)").
    static let pageCacheKiB = 8192

    /// Library-wide settings, applied once before the first connection opens.
    private static let configured: Void = { _ = csqlite_disable_memory_statistics() }()

    /// Opens (creating if missing) with the settings above. Throws `OpenError` for a file it must
    /// refuse; `Database` then migrates it.
    init(path: String) throws {
        _ = SQLiteConnection.configured
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
        sqlite3_busy_timeout(db, SQLiteConnection.busyTimeoutMilliseconds)
        // Every row this connection changes is told to its observer (the store's read cache).
        sqlite3_update_hook(db, { context, _, _, table, _ in
            guard let context, let table else { return }
            Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue().changeObserver?.rowChanged(inTable: table)
        }, Unmanaged.passUnretained(self).toOpaque())
        try Self.refusingUnusableFiles(path) {
            // The page size takes effect on a new, empty file only (an existing one keeps its own).
            try execute("PRAGMA page_size = \(SQLiteConnection.pageSize); PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -\(SQLiteConnection.pageCacheKiB);")
            if path != ":memory:" && !path.isEmpty {
                _ = try scalarText("PRAGMA journal_mode = WAL", [])
            }
        }
        identity = SQLiteConnection.identity(of: path)
    }

    /// Runs `body`, turning what SQLite says of a file that is no database, or cannot be used,
    /// into the `OpenError` the service exits with.
    static func refusingUnusableFiles(_ path: String, _ body: () throws -> Void) throws {
        do {
            try body()
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
    var isReadableByOthers: Bool { DatabaseFiles.isReadableByOthers(path) }

    static func identity(of path: String) -> (dev: UInt64, ino: UInt64)? {
        guard path != ":memory:", !path.isEmpty, !path.hasPrefix("file:") else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    /// Throws when the file at `path` is gone or is another file than the one opened: writing on
    /// would go to an unlinked file and be lost at exit, and reads would answer from stale data.
    /// In a group the check runs once, for its first request.
    func checkFileIsStillOurs() throws {
        guard let identity, !(group.open && group.fileChecked) else { return }
        group.fileChecked = group.open
        guard let now = SQLiteConnection.identity(of: path), now == identity else { throw FileReplacedError() }
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
    func execute(_ sql: String) throws {
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
    func run(_ sql: String, _ args: [SQLBindable]) throws -> Int {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        while try s.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Calls `body` for each row.
    func query(_ sql: String, _ args: [SQLBindable], _ body: (Row) throws -> Void) throws {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        while try s.step() { try body(Row(.sqlite(SQLiteRow(stmt: s.handle)))) }
    }

    /// The first row mapped by `map`, or nil.
    func first<T>(_ sql: String, _ args: [SQLBindable], map: (Row) throws -> T) throws -> T? {
        let s = try statement(sql)
        try s.bind(args)
        defer { sqlite3_reset(s.handle) }
        return try s.step() ? map(Row(.sqlite(SQLiteRow(stmt: s.handle)))) : nil
    }

    func scalarText(_ sql: String, _ args: [SQLBindable]) throws -> String? {
        try first(sql, args) { $0.optionalText(0) } ?? nil
    }

    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    var totalChanges: Int64 { sqlite3_total_changes64(handle) }

    /// The one way every write happens: `BEGIN IMMEDIATE` (take the write lock up front, so a
    /// busy file waits here under the busy timeout rather than failing mid-change), run `body`,
    /// `COMMIT`; on any error roll back and rethrow it. With `synchronous=FULL` the change is on
    /// disk when this returns.
    ///
    /// The three statements are cached prepared statements, not `sqlite3_exec`, so an error reports
    /// the OS's errno (exec finalizes its statement first and clears it) and nothing is parsed per write.
    @discardableResult
    func write<T>(_ body: () throws -> T) throws -> T {
        if group.open { return try writeInGroup(body) }
        try begin()
        do {
            let result = try body()
            try run("COMMIT", [])
            return result
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK", []) }
            throw error
        }
    }

    func begin() throws {
        try run("BEGIN IMMEDIATE", [])
        transactionSerial += 1
    }

    /// Runs `body`, which only reads, in one read transaction (`BEGIN`, deferred: one snapshot
    /// of the file), unless one is open already (a group's, a write's). Outside one, every
    /// statement took WAL's read lock and gave it back, two `fcntl` calls: a dry-run import of
    /// 20,000 rows of unknown emails made 40,000 of them, 50 ms of its 133 in the kernel.
    func reading<T>(_ body: () throws -> T) throws -> T {
        if isInTransaction { return try body() }
        try run("BEGIN", [])
        nextTransaction()
        defer { if isInTransaction { _ = try? run("COMMIT", []) } }
        return try body()
    }

    /// A group's read transaction is a transaction too (`GroupCommit`).
    func nextTransaction() { transactionSerial += 1 }

    /// Counts the write transactions this connection began: what was read in one is not
    /// reused in the next, where another process may have committed in between.
    private(set) var transactionSerial = 0
    /// Told of each row this connection inserts, updates or deletes, as GRDB's
    /// `TransactionObserver` is: the store registers its read cache here. The connection keeps
    /// it alive and knows nothing of what it does.
    var changeObserver: ChangeObserver?
    /// The state of the group in progress (`GroupCommit.swift`).
    var group = GroupState()

    /// Copies the WAL into the database file and truncates the WAL. Best effort: a reader in another
    /// process can keep part of it; the next checkpoint finishes the job.
    func checkpoint() {
        guard !isInTransaction && !group.open else {
            group.checkpointAfter = true  // after the group's commit
            return
        }
        try? execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
