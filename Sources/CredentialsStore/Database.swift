/// Told of every row a connection changes (SQLite's update hook), with the table's name.
public protocol ChangeObserver: AnyObject {
    func rowChanged(inTable table: UnsafePointer<CChar>)
    /// A statement that may have changed rows of any table.
    func anyRowChanged()
}

/// The store's connection, on either engine: the one interface the stores (`UserStore`,
/// `CredentialStore`, ...) run their SQL through, and the service its transactions and groups.
/// What differs between the engines lives behind it, in each engine's own files: SQLite's
/// connection, statements, group commit and update hook (`SQLite/`), PostgreSQL's connection,
/// dialect and transactions (`PostgreSQL/`).
///
/// Statements take SQLite's `?` parameters on both engines; SQL that the engines spell
/// differently is chosen by `storage` in the store that runs it.
public final class Database {
    enum Engine {
        case sqlite(SQLiteConnection)
        case postgresql(PostgresEngine)
    }
    let engine: Engine
    /// How the store is named in logs and errors: the file's path, or the URI without its password.
    public let path: String

    public static var busyTimeoutMilliseconds: Int32 { SQLiteConnection.busyTimeoutMilliseconds }
    public static var pageSize: Int { SQLiteConnection.pageSize }
    public static var pageCacheKiB: Int { SQLiteConnection.pageCacheKiB }

    /// What a statement starts with when its best plan is the same for every value it is given
    /// (an index walked in its ORDER BY's order, cut by LIMIT) and it costs more to plan than to
    /// run: an engine that plans by value (PostgreSQL, `PostgresDialect.plansOnce`) plans it
    /// once. SQLite reads it as a comment.
    static let planOnce = "/* one plan */ "

    /// Opens a SQLite file (creating it if missing) and migrates it (unless `migrate` is false:
    /// a copy's source is read as it is). Throws `OpenError` for a file it must refuse.
    public init(path: String, migrations: [Migration] = StoreSchema.migrations, migrate: Bool = true) throws {
        engine = .sqlite(try SQLiteConnection(path: path))
        self.path = path
        try SQLiteConnection.refusingUnusableFiles(path) {
            if migrate { try StoreSchema.migrate(self, migrations: migrations) } else { _ = try StoreSchema.version(of: self) }
        }
    }

    /// Connects to a PostgreSQL database and migrates it (`PostgresSchema`).
    public init(postgres uri: ConnectionString) throws {
        engine = .postgresql(try PostgresEngine(uri))
        path = uri.redacted
    }

    /// Which engine holds the data: "sqlite" or "postgresql" (`service.info.storage`).
    public var storage: String {
        switch engine { case .sqlite: "sqlite"; case .postgresql: "postgresql" }
    }

    /// The schema version the store is at.
    public func schemaVersion() throws -> Int {
        switch engine {
        case .sqlite: try StoreSchema.version(of: self)
        case .postgresql(let pg): try PostgresSchema.version(of: pg.connection)
        }
    }

    /// Runs one or more statements with no parameters (schema, pragmas).
    public func execute(_ sql: String) throws {
        switch engine { case .sqlite(let c): try c.execute(sql); case .postgresql(let pg): try pg.execute(sql) }
    }

    /// Runs a statement for its effect; returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ args: SQLBindable...) throws -> Int {
        switch engine { case .sqlite(let c): try c.run(sql, args); case .postgresql(let pg): try pg.run(sql, args) }
    }

    /// Runs an INSERT of one row whose count the caller does not read, inside `write`: a failure
    /// fails the whole transaction. On PostgreSQL it is sent without waiting for its answer
    /// (pipelined), and a refusal is thrown by the next statement that waits or by the commit.
    public func append(_ sql: String, _ args: SQLBindable...) throws {
        switch engine { case .sqlite(let c): _ = try c.run(sql, args); case .postgresql(let pg): try pg.append(sql, args) }
    }

    /// Calls `body` for each row.
    public func query(_ sql: String, _ args: [SQLBindable] = [], _ body: (Row) throws -> Void) throws {
        switch engine { case .sqlite(let c): try c.query(sql, args, body); case .postgresql(let pg): try pg.query(sql, args, body) }
    }

    /// The rows mapped by `map`.
    public func all<T>(_ sql: String, _ args: SQLBindable..., map: (Row) throws -> T) throws -> [T] {
        var out: [T] = []
        try query(sql, args) { out.append(try map($0)) }
        return out
    }

    /// The first row mapped by `map`, or nil.
    public func first<T>(_ sql: String, _ args: SQLBindable..., map: (Row) throws -> T) throws -> T? {
        switch engine { case .sqlite(let c): try c.first(sql, args, map: map); case .postgresql(let pg): try pg.first(sql, args, map: map) }
    }

    public func scalarInt(_ sql: String, _ args: SQLBindable...) throws -> Int64? {
        switch engine {
        case .sqlite(let c): try c.first(sql, args) { $0.int(0) }
        case .postgresql(let pg): try pg.first(sql, args) { $0.isNull(0) ? nil : $0.int(0) } ?? nil
        }
    }

    public func scalarText(_ sql: String, _ args: SQLBindable...) throws -> String? {
        switch engine { case .sqlite(let c): try c.scalarText(sql, args); case .postgresql(let pg): try pg.first(sql, args) { $0.optionalText(0) } ?? nil }
    }

    public var isInTransaction: Bool {
        switch engine { case .sqlite(let c): c.isInTransaction; case .postgresql(let pg): pg.isInTransaction }
    }

    /// Rows changed by this connection since it opened: tests use it to prove a refused request changed nothing.
    public var totalChanges: Int64 {
        switch engine { case .sqlite(let c): c.totalChanges; case .postgresql(let pg): pg.totalChanges }
    }

    /// The one way every write happens: `body` in one transaction, committed (durably) before
    /// this returns, or rolled back and its error thrown. On SQLite the write lock is taken up
    /// front; on PostgreSQL the transaction is SERIALIZABLE, and one that fails to serialize runs
    /// `body` again from the start.
    @discardableResult
    public func write<T>(_ body: () throws -> T) throws -> T {
        switch engine { case .sqlite(let c): try c.write(body); case .postgresql(let pg): try pg.write(body) }
    }

    /// Runs `body`, which must only read, on one snapshot where the engine makes that cheap: on
    /// SQLite one read transaction (a long run of reads outside one pays a lock and an unlock
    /// per statement); on PostgreSQL each statement reads what is committed when it runs, as a
    /// group's reads do there.
    public func reading<T>(_ body: () throws -> T) throws -> T {
        switch engine { case .sqlite(let c): try c.reading(body); case .postgresql: try body() }
    }

    /// Counts the transactions this connection began: what was read in one is not reused in the
    /// next, where another process may have committed in between.
    public var transactionSerial: Int {
        switch engine { case .sqlite(let c): c.transactionSerial; case .postgresql(let pg): pg.transactionSerial }
    }

    /// Told of each row this connection inserts, updates or deletes, as GRDB's
    /// `TransactionObserver` is: the store registers its read cache here. The connection keeps
    /// it alive and knows nothing of what it does.
    public var changeObserver: ChangeObserver? {
        get {
            switch engine { case .sqlite(let c): c.changeObserver; case .postgresql(let pg): pg.changeObserver }
        }
        set {
            switch engine { case .sqlite(let c): c.changeObserver = newValue; case .postgresql(let pg): pg.changeObserver = newValue }
        }
    }

    // Group commit: a group of pipelined requests' writes in one transaction and one commit
    // (SQLite/GroupCommit.swift; PostgresEngine). On PostgreSQL the group's reads are not held
    // in one snapshot: each reads what is committed when it runs.

    public func beginGroup() {
        switch engine { case .sqlite(let c): c.beginGroup(); case .postgresql(let pg): pg.beginGroup() }
    }
    public func renewReadSnapshot() {
        if case .sqlite(let c) = engine { c.renewReadSnapshot() }
    }
    public var groupChangedNothing: Bool {
        switch engine { case .sqlite(let c): c.groupChangedNothing; case .postgresql(let pg): pg.groupChangedNothing }
    }
    public func endGroup() throws {
        switch engine { case .sqlite(let c): try c.endGroup(); case .postgresql(let pg): try pg.endGroup() }
    }

    // The file's own safety (SQLite only: a server's files are its own business).

    /// Whether the group or other users may read or write the file (one made by the service never is).
    public var isReadableByOthers: Bool {
        if case .sqlite(let c) = engine { return c.isReadableByOthers }
        return false
    }
    /// Throws when the file at `path` is gone or is another file than the one opened.
    public func checkFileIsStillOurs() throws {
        if case .sqlite(let c) = engine { try c.checkFileIsStillOurs() }
    }
    /// After a confirmed delete, makes the deleted rows' bytes go as far as the engine can (Protocol/README.md §9,
    /// "gone for good"). SQLite: moves what the WAL holds into the file, where `secure_delete`
    /// zeroed them. PostgreSQL: vacuums the tables that held them, so the dead row versions are
    /// removed now rather than at autovacuum's next pass (the heap only: index entries hold ids).
    public func checkpoint() {
        switch engine {
        case .sqlite(let c): c.checkpoint()
        case .postgresql(let pg): pg.vacuumDeletedRows()
        }
    }
}
