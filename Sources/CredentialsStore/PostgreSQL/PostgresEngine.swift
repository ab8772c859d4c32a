import CPostgres

/// PostgreSQL behind `Database`: statements in the stores' SQL (SQLite's `?` and index hints
/// translated by `PostgresDialect`, once per statement text), writes in SERIALIZABLE
/// transactions that run again when they fail to serialize.
final class PostgresEngine {
    let connection: PostgresConnection
    private var translated: [String: String] = [:]
    private(set) var totalChanges: Int64 = 0
    private(set) var transactionSerial = 0
    /// Kept for `Database.changeObserver`; never told anything (`Database.tellsChanges`).
    var changeObserver: ChangeObserver?

    /// Connects and migrates (`PostgresSchema.migrate`).
    init(_ uri: ConnectionString) throws {
        connection = try PostgresConnection(uri)
        try PostgresSchema.migrate(connection)
    }

    private func postgresSQL(_ sql: String) -> String {
        if let hit = translated[sql] { return hit }
        let out = PostgresDialect.forPostgres(sql)
        if translated.count >= 1024 { translated.removeAll(keepingCapacity: true) }  // dynamic SQL
        translated[sql] = out
        return out
    }

    /// A connection the server ended (a restart) is made again by the next statement outside a
    /// transaction; while the server is away that throws `.connection`, which clients see as
    /// `storage_unavailable`, and the service goes on.
    private func connected() throws {
        if !connection.isOpen && !isInTransaction { try connection.reconnect() }
    }

    func execute(_ sql: String) throws {
        try connected()
        try connection.execute(postgresSQL(sql))
    }

    func run(_ sql: String, _ args: [SQLBindable]) throws -> Int {
        try connected()
        let n = try connection.run(postgresSQL(sql), args.map(\.sqlValue))
        totalChanges += Int64(n)
        return n
    }

    func query(_ sql: String, _ args: [SQLBindable], _ body: (Row) throws -> Void) throws {
        try connected()
        try connection.run(postgresSQL(sql), args.map(\.sqlValue)) { try body(Row(.postgresql($0))) }
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
        guard !isInTransaction else { return }
        try? execute("VACUUM (INDEX_CLEANUP OFF, TRUNCATE OFF) media, credential_versions, credential_events, reminders_sent, reminders_sent_to, credentials")
    }

    /// A broken connection (PQTRANS_UNKNOWN) holds no transaction any more.
    var isInTransaction: Bool {
        let status = PQtransactionStatus(connection.conn)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// A write inside a write is part of it; an outermost one is a SERIALIZABLE transaction that
    /// runs `body` again, from the start, when PostgreSQL fails it to keep transactions serial.
    func write<T>(_ body: () throws -> T) throws -> T {
        if isInTransaction { return try body() }
        try connected()
        return try connection.serializable {
            transactionSerial += 1
            return try body()
        }
    }
}
