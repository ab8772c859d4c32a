import CPostgres

/// PostgreSQL behind `Database`: statements in the stores' SQL (SQLite's `?` and index hints
/// translated by `PostgresDialect`, once per statement text), writes in SERIALIZABLE
/// transactions that run again when they fail to serialize.
final class PostgresEngine {
    let connection: PostgresConnection
    /// A statement as PostgreSQL reads it, and the table it changes (`PostgresDialect.changedTable`).
    private struct Translation {
        let sql: String
        let changes: [CChar]?
    }
    private var translated: [String: Translation] = [:]
    private(set) var totalChanges: Int64 = 0
    private(set) var transactionSerial = 0
    /// Told of the tables this connection's statements change, as SQLite's update hook tells
    /// it of rows: by the table each INSERT, UPDATE or DELETE names (no trigger and no cascade
    /// reaches a table the read cache keeps), and of every table by any other statement.
    var changeObserver: ChangeObserver?

    /// Connects and migrates (`PostgresSchema.migrate`).
    init(_ uri: ConnectionString) throws {
        connection = try PostgresConnection(uri)
        try PostgresSchema.migrate(connection)
    }

    private func translation(_ sql: String) -> Translation {
        if let hit = translated[sql] { return hit }
        let out = Translation(sql: PostgresDialect.forPostgres(sql), changes: PostgresDialect.changedTable(sql))
        if translated.count >= 1024 { translated.removeAll(keepingCapacity: true) }  // dynamic SQL
        translated[sql] = out
        return out
    }

    private func tell(_ changed: [CChar]?) {
        guard let changeObserver else { return }
        if let changed { changed.withUnsafeBufferPointer { changeObserver.rowChanged(inTable: $0.baseAddress!) } } else { changeObserver.anyRowChanged() }
    }

    /// A connection the server ended (a restart) is made again by the next statement outside a
    /// transaction; while the server is away that throws `.connection`, which clients see as
    /// `storage_unavailable`, and the service goes on.
    private func connected() throws {
        if !connection.isOpen && !isInTransaction { try connection.reconnect() }
    }

    func execute(_ sql: String) throws {
        try connected()
        try connection.execute(translation(sql).sql)
        tell(nil)
    }

    func run(_ sql: String, _ args: [SQLBindable]) throws -> Int {
        try connected()
        let statement = translation(sql)
        let n = try connection.run(statement.sql, args.map(\.sqlValue))
        totalChanges += Int64(n)
        if n > 0 { tell(statement.changes) }
        return n
    }

    /// `run` for a statement whose count no one reads, inside a transaction: sent without
    /// waiting (PostgresPipeline.swift), counted as the one row it changes, or its refusal
    /// thrown by a later statement or the commit, having failed the transaction.
    func append(_ sql: String, _ args: [SQLBindable]) throws {
        guard isInTransaction else {
            _ = try run(sql, args)
            return
        }
        let statement = translation(sql)
        try connection.send(statement.sql, args.map(\.sqlValue))
        totalChanges += 1
        tell(statement.changes)
    }

    func query(_ sql: String, _ args: [SQLBindable], _ body: (Row) throws -> Void) throws {
        // PostgreSQL text cannot hold a NUL, so no stored value equals one that does: a lookup by
        // such text finds nothing, as on SQLite, rather than failing (a write of it is refused).
        if args.contains(where: Self.holdsNUL) { return }
        try connected()
        try connection.run(translation(sql).sql, args.map(\.sqlValue)) { try body(Row(.postgresql($0))) }
    }

    func first<T>(_ sql: String, _ args: [SQLBindable], map: (Row) throws -> T) throws -> T? {
        var value: T?
        try query(sql, args) { row in if value == nil { value = try map(row) } }
        return value
    }

    /// VACUUM of the tables a confirmed delete removes rows from: outside any transaction (it
    /// cannot run in one), heap pages only, best effort (a role that does not own them is
    /// warned, not refused, and the delete itself is already committed).
    func vacuumDeletedRows() {
        guard !isInTransaction else {
            vacuumAfterGroup = group.open  // after the group's commit
            return
        }
        try? execute("VACUUM (INDEX_CLEANUP OFF, TRUNCATE OFF) media, credential_versions, credential_events, reminders_sent, reminders_sent_to, credentials")
    }

    /// Whether a parameter is text holding a NUL byte.
    static func holdsNUL(_ value: SQLBindable) -> Bool {
        switch value.sqlValue {
        case .text(let s): s.utf8.contains(0)
        case .utf8(let b): b.contains(0)
        default: false
        }
    }

    /// Whether a transaction this engine began is open, by its own count, not libpq's status:
    /// once the connection broke under one, libpq says "unknown", and a write that took that for
    /// "outside any transaction" reconnected and ran on its own (an audit row saved without the
    /// change it records), or, in a group, called itself until the stack ran out (found by a
    /// helper ending the connection under a stream of adds and imports). Inside, every
    /// statement on the broken connection fails as lost, and the transaction is given up whole.
    private(set) var isInTransaction = false

    /// A write inside a write is part of it; in a group, part of the group's transaction; else
    /// a SERIALIZABLE transaction of its own that runs `body` again, from the start, when
    /// PostgreSQL fails it to keep transactions serial.
    func write<T>(_ body: () throws -> T) throws -> T {
        if group.open { return try writeInGroup(body) }
        if isInTransaction { return try body() }
        try connected()
        isInTransaction = true
        defer { isInTransaction = false }
        return try connection.serializable {
            transactionSerial += 1
            return try body()
        }
    }

    // Group commit, as on SQLite (SQLite/GroupCommit.swift): the writes of a group of pipelined
    // requests share one SERIALIZABLE transaction and one commit, so one WAL flush makes them
    // all durable. A request whose write fails after changing rows, any statement that fails
    // (PostgreSQL then refuses the rest of the transaction), and a commit that fails to
    // serialize roll the whole group back: `endGroup` throws and the service runs each request
    // of the group again alone, each in a transaction of its own that is retried.

    private var group = (open: false, begun: false, rolledBack: false)
    private var vacuumAfterGroup = false

    func beginGroup() { group = (true, false, false) }

    var groupChangedNothing: Bool { group.open && !group.begun && !group.rolledBack }

    func endGroup() throws {
        let ended = group, vacuum = vacuumAfterGroup
        group = (false, false, false)
        vacuumAfterGroup = false
        defer {
            isInTransaction = false
            connection.unlockWrites()
        }
        if ended.rolledBack { throw GroupRolledBack() }
        guard ended.begun else { return }
        do {
            try connection.settlePipeline()
        } catch {
            // An append of the group's was refused, or the connection broke before COMMIT was
            // sent: nothing was saved, and each request runs again alone, to its own answer.
            if isInTransaction { connection.rollback() }
            throw GroupRolledBack()
        }
        // A read of the group's that PostgreSQL refused (a serialization failure) failed the
        // transaction without a write seeing it: nothing of the group may be answered as saved.
        guard PQtransactionStatus(connection.conn) == PQTRANS_INTRANS else {
            if isInTransaction { connection.rollback() }
            throw GroupRolledBack()
        }
        do {
            try connection.commit()
        } catch let error as PostgresError {
            // No answer to a COMMIT sent on a connection that then broke: it may have taken
            // effect. A connection still up says where it stands: still in the transaction
            // (libpq's own failure, with no SQLSTATE) means it did not, and it is rolled back.
            let status = PQtransactionStatus(connection.conn)
            if case .connectionLost = error, !connection.isOpen || status == PQTRANS_IDLE { throw GroupOutcomeUnknown(failure: error) }
            connection.rollback()
            throw error
        }
        // Committed: out of the transaction and the lock before the vacuum, which takes a while.
        isInTransaction = false
        connection.unlockWrites()
        if vacuum { vacuumDeletedRows() }
    }

    private func writeInGroup<T>(_ body: () throws -> T) throws -> T {
        if group.rolledBack { throw GroupRolledBack() }
        if !group.begun {
            try connected()
            try connection.lockWrites()
            try connection.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            transactionSerial += 1
            group.begun = true
            isInTransaction = true
        }
        let before = totalChanges
        do {
            return try body()
        } catch {
            try? connection.settlePipeline()  // a refused append fails the transaction: seen below
            if totalChanges != before || PQtransactionStatus(connection.conn) != PQTRANS_INTRANS {
                if isInTransaction { connection.rollback() }
                group.rolledBack = true
            }
            throw error
        }
    }
}
