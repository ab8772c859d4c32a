import CSQLite

/// One end of a copy: a store whose tables are read in one snapshot, or written in one
/// transaction. An engine's SQL and its way of reading many rows stay in its own side.
protocol CopySide: AnyObject {
    /// How the store is named to the person running the copy: never with a password.
    var name: String { get }
    func schemaVersion() throws -> Int
    /// Runs `body` in one read snapshot: what it reads is one moment of the store.
    func reading(_ body: () throws -> Void) throws
    /// Every row of `table`, in its key's order by bytes, as `table.columns` says.
    func eachRow(of table: CopyTable, _ body: ([SQLValue]) throws -> Void) throws
    func count(of table: CopyTable) throws -> Int
    /// Runs `body` in one write transaction: all of the copy lands, or none of it.
    func writing(_ body: () throws -> Void) throws
    func delete(from table: CopyTable) throws
    func insert(into table: CopyTable, _ rows: [[SQLValue]]) throws
    /// After every row is in: what the engine must be told of rows it did not number itself.
    func finishWriting() throws
    /// After the copy is committed and checked, what the engine does for the tables just
    /// filled, named for the progress line (nil: nothing), and the doing of it.
    var settling: String? { get }
    func settle(_ tables: [CopyTable]) throws
}

/// A SQLite file.
final class SQLiteCopySide: CopySide {
    let db: Database
    var name: String { db.path }

    init(_ db: Database) { self.db = db }

    func schemaVersion() throws -> Int { try StoreSchema.version(of: db) }

    func reading(_ body: () throws -> Void) throws {
        try db.run("BEGIN")
        defer { _ = try? db.run("COMMIT") }
        try body()
    }

    func eachRow(of table: CopyTable, _ body: ([SQLValue]) throws -> Void) throws {
        let sql = "SELECT \(table.columnList) FROM \(table.name) ORDER BY \(table.key.joined(separator: ", "))"
        var row: [SQLValue] = []
        try db.query(sql) { r in
            guard case .sqlite(let cells) = r.source else { return }
            row.removeAll(keepingCapacity: true)
            for (i, column) in table.columns.enumerated() {
                // As the file holds it, of the column's type or NULL: anything else (a hand-edited
                // file) would be converted on the way, and the digest of the converted rows match.
                guard let value = cells.value(Int32(i), as: column.kind) else {
                    throw CopyError("\(table.name).\(column.name) holds a value that is not of the column's type; the copy would change it")
                }
                row.append(value)
            }
            try body(row)
        }
    }

    func count(of table: CopyTable) throws -> Int { Int(try db.scalarInt("SELECT count(*) FROM \(table.name)") ?? 0) }

    func writing(_ body: () throws -> Void) throws { try db.write(body) }

    func delete(from table: CopyTable) throws { try db.run("DELETE FROM \(table.name)") }

    func insert(into table: CopyTable, _ rows: [[SQLValue]]) throws {
        let sql = "INSERT INTO \(table.name) (\(table.columnList)) VALUES (\(table.columns.map { _ in "?" }.joined(separator: ", ")))"
        for row in rows { try db.query(sql, row) { _ in } }
    }

    func finishWriting() throws {}

    var settling: String? { nil }
    func settle(_ tables: [CopyTable]) throws {}
}

/// A PostgreSQL database.
final class PostgresCopySide: CopySide {
    let pg: PostgresConnection
    var name: String { pg.location.redacted }
    /// Rows fetched at a time from the snapshot's cursor; fewer of a table with blobs (media of
    /// up to the largest size allowed, in hex twice over), so a table of media is never held whole.
    static func fetchRows(_ table: CopyTable) -> Int { table.columns.contains { $0.kind == .bytes } ? 4 : 500 }

    init(_ pg: PostgresConnection) { self.pg = pg }

    func schemaVersion() throws -> Int { try PostgresSchema.version(of: pg) }

    func reading(_ body: () throws -> Void) throws {
        try pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { if pg.isOpen { try? pg.execute("COMMIT") } }
        try body()
    }

    func eachRow(of table: CopyTable, _ body: ([SQLValue]) throws -> Void) throws {
        // Text keys in byte order (COLLATE "C"), as SQLite's BINARY orders them: the server's own
        // collation may order them otherwise, and the digests would differ.
        let order = table.key.map { key in table.columns.first { $0.name == key }?.kind == .text ? "\(key) COLLATE \"C\"" : key }
        try pg.execute("DECLARE copy_rows NO SCROLL CURSOR FOR SELECT \(table.columnList) FROM \(table.name) ORDER BY \(order.joined(separator: ", "))")
        defer { if pg.isOpen { try? pg.execute("CLOSE copy_rows") } }
        var row: [SQLValue] = []
        let fetchRows = Self.fetchRows(table)
        while true {
            var fetched = 0
            try pg.run("FETCH \(fetchRows) FROM copy_rows") { r in
                fetched += 1
                row.removeAll(keepingCapacity: true)
                for (i, column) in table.columns.enumerated() {
                    let c = Int32(i)
                    guard !r.isNull(c) else { row.append(.null); continue }
                    var value: SQLValue?
                    switch column.kind {
                    case .integer: value = Int64(r.text(c)).map(SQLValue.int)
                    case .real: value = Double(r.text(c)).map(SQLValue.double)
                    case .text: value = .utf8(r.withBytes(c, Array.init))
                    case .bytes: value = r.withBytes(c, PostgresDialect.byteaHex).map(SQLValue.blob)
                    }
                    guard let value else { throw CopyError("\(table.name).\(column.name) came back in a form this build does not read") }
                    row.append(value)
                }
                try body(row)
            }
            if fetched < fetchRows { return }
        }
    }

    func count(of table: CopyTable) throws -> Int { Int(try pg.scalarText("SELECT count(*) FROM \(table.name)") ?? "") ?? 0 }

    func writing(_ body: () throws -> Void) throws {
        try pg.execute("BEGIN")
        do {
            try body()
            try pg.commit()
        } catch {
            if pg.isOpen { try? pg.execute("ROLLBACK") }
            throw error
        }
    }

    func delete(from table: CopyTable) throws { try pg.run("DELETE FROM \(table.name)") }

    /// Many rows a statement (a round trip each is what a copy would otherwise wait on), within
    /// PostgreSQL's 65,535 parameters and about 8 MiB of values.
    func insert(into table: CopyTable, _ rows: [[SQLValue]]) throws {
        let perRow = "(" + table.columns.map { _ in "?" }.joined(separator: ", ") + ")"
        var batch: [SQLValue] = [], count = 0, bytes = 0
        func send() throws {
            guard count > 0 else { return }
            try pg.run("INSERT INTO \(table.name) (\(table.columnList)) VALUES " + Array(repeating: perRow, count: count).joined(separator: ", "), batch)
            batch.removeAll(keepingCapacity: true)
            count = 0
            bytes = 0
        }
        for row in rows {
            batch += row
            count += 1
            bytes += row.reduce(0) { n, v in if case .blob(let b) = v { return n + b.count } else { return n + 16 } }
            if (count + 1) * table.columns.count > 65_535 || count >= 1000 || bytes >= 8 << 20 { try send() }
        }
        try send()
    }

    /// `credential_events.seq` is an identity column: rows copied in with their own seqs leave
    /// its sequence behind them, and the next insert would reuse a seq.
    func finishWriting() throws {
        try pg.execute("SELECT setval(pg_get_serial_sequence('credential_events', 'seq'), coalesce((SELECT max(seq) FROM credential_events), 0) + 1, false)")
    }

    /// Tables just filled have no planner statistics, no visibility map (so an index-only scan
    /// reads the heap for every row) and no hint bits (so the first reads write every page), until
    /// autovacuum gets to them, which on a copy of 1,000,000 credentials began 20 s after it and
    /// ran beside the first queries for another 20 (list p99s of 6-7 ms against 1-2 ms after it).
    /// VACUUM (ANALYZE) of the copied tables does all of it now, outside the copy's transaction
    /// (it cannot run in one); the database's other tables, if it has any, are left alone.
    var settling: String? { "VACUUM (ANALYZE)" }
    func settle(_ tables: [CopyTable]) throws {
        try pg.execute("VACUUM (ANALYZE) " + tables.map(\.name).joined(separator: ", "))
    }
}
