import Foundation
import TestScratch
import Testing
@testable import CredentialsStore

@Suite(.enabled(if: TestPostgres.runs, TestPostgres.skip))
struct PostgresSchemaTests {
    @Test func anEmptyDatabaseIsMigratedOnceToTheCurrentVersion() throws {
        let scratch = try ScratchPostgresDatabase()
        let pg = try scratch.connect()
        #expect(try PostgresSchema.version(of: pg) == 0)
        try PostgresSchema.migrate(pg)
        #expect(try PostgresSchema.version(of: pg) == PostgresSchema.currentVersion)
        #expect(PostgresSchema.currentVersion == StoreSchema.currentVersion)
        try PostgresSchema.migrate(pg)
        #expect(try pg.scalarText("SELECT count(*) FROM schema_version") == "1")
        #expect(try pg.scalarText("SELECT count(*) FROM users") == "0")
    }

    /// A user or type a credential points at cannot be deleted (by hand: the service deletes
    /// neither), with the foreign key's SQLSTATE; one nothing points at can; a credential's
    /// activity goes with it.
    @Test func aHeldUserOrTypeCannotBeDeleted() throws {
        let scratch = try ScratchPostgresDatabase()
        let pg = try scratch.connect()
        try PostgresSchema.migrate(pg)
        for (id, email) in [("usr_held", "held@example.com"), ("usr_free", "free@example.com")] {
            try pg.run("""
                INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password,
                                   password_hash, search, created_at, updated_at) VALUES (?, ?, ?, 'F', 'L', 'support', 0, 'active', 0, 'x', '', 0, 0)
                """, [.text(id), .text(email), .text(email)])
        }
        for id in ["ctype_held", "ctype_free"] {
            try pg.run("INSERT INTO credential_types (id, name, name_key, requires_expiration, created_at, updated_at) VALUES (?, ?, ?, 0, 0, 0)", [.text(id), .text(id), .text(id)])
        }
        try pg.run("INSERT INTO credentials (id, user_id, type_id, version_count, latest_approval, created_at, updated_at) VALUES ('cred_1', 'usr_held', 'ctype_held', 1, 'pending', 0, 0)")
        for sql in ["DELETE FROM users WHERE id = 'usr_held'", "DELETE FROM credential_types WHERE id = 'ctype_held'"] {
            do {
                try pg.run(sql)
                Issue.record("\(sql) was allowed")
            } catch PostgresError.server(let state, _) { #expect(state == "23503") }
        }
        #expect(try pg.run("DELETE FROM users WHERE id = 'usr_free'") == 1)
        #expect(try pg.run("DELETE FROM credential_types WHERE id = 'ctype_free'") == 1)
        // The versions and activity still go with their credential, by cascade.
        try pg.run("INSERT INTO credential_events (credential_id, version, at, changes) VALUES ('cred_1', 1, 0, '[]')")
        #expect(try pg.run("DELETE FROM credentials WHERE id = 'cred_1'") == 1)
        #expect(try pg.scalarText("SELECT count(*) FROM credential_events") == "0")
        #expect(try pg.run("DELETE FROM users WHERE id = 'usr_held'") == 1)
    }

    /// Contract §13: processes starting together on an empty database all come up. Four
    /// connections (four server processes) migrate at the same moment; the advisory lock makes
    /// one do the work and the others find it done.
    @Test func fourProcessesStartingTogetherAllComeUp() throws {
        let scratch = try ScratchPostgresDatabase()
        let connections = try (0..<4).map { _ in try scratch.connect() }
        let failures = Failures()
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for pg in connections {
            let box = UncheckedBox(pg)
            DispatchQueue.global().async(group: group) {
                start.wait()
                do { try PostgresSchema.migrate(box.value) } catch { failures.add("\(error)") }
            }
        }
        for _ in connections { start.signal() }
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(failures.all.isEmpty, "\(failures.all)")
        for pg in connections { #expect(try PostgresSchema.version(of: pg) == PostgresSchema.currentVersion) }
        #expect(try connections[0].scalarText("SELECT count(*) FROM pg_class WHERE relname = 'credentials' AND relkind = 'r'") == "1")
    }

    /// Text orders by bytes, as on SQLite, even in a database made with a locale that orders it
    /// otherwise (`_under` before `10` in en-US).
    @Test func textOrdersByBytesWhateverTheDatabasesCollation() throws {
        let admin = try TestPostgres.connect()
        let name = "crpc_t_icu_\(UInt32.random(in: 0...UInt32.max))"
        try admin.execute("CREATE DATABASE \(name) TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
        defer { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        let base = try #require(TestPostgres.uri)
        let pg = try PostgresConnection(ConnectionString(base + (base.contains("?") ? "&" : "?") + "dbname=\(name)"))
        try PostgresSchema.migrate(pg)
        let names = ["_under", "10", "9", "Zebra", "a-b", "Apple", "é"]
        for (i, n) in names.enumerated() {
            try pg.run("INSERT INTO credential_types (id, name, name_key, requires_expiration, created_at, updated_at) VALUES (?, ?, ?, 0, 0, 0)",
                       [.text("ctype_\(i)"), .text(n), .text(n.lowercased())])
        }
        var ordered: [String] = []
        try pg.run("SELECT name FROM credential_types ORDER BY name") { ordered.append($0.text(0)) }
        #expect(ordered == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(try pg.scalarText("SELECT count(*) FROM pg_collation WHERE collprovider = 'i'").map { Int($0) ?? 0 } ?? 0 > 0)
    }

    @Test func aDatabaseAtANewerVersionIsRefusedAndLeftAlone() throws {
        let scratch = try ScratchPostgresDatabase()
        let pg = try scratch.connect()
        try PostgresSchema.migrate(pg)
        try pg.execute("UPDATE schema_version SET version = 999")
        #expect(throws: OpenError.newerSchema(path: pg.location.redacted, found: 999, known: PostgresSchema.currentVersion)) {
            try PostgresSchema.migrate(pg)
        }
        #expect(try PostgresSchema.version(of: pg) == 999)
    }

    /// One schema version must mean the same tables on both engines (a copy relies on it): every
    /// table, column (in order, with its type and nullability) and named index of a new SQLite
    /// file is on PostgreSQL, and nothing else, but for the search each engine does its own way.
    @Test func bothEnginesHoldTheSameTablesColumnsAndIndexes() throws {
        let scratch = try ScratchPostgresDatabase()
        let pg = try scratch.connect()
        try PostgresSchema.migrate(pg)
        let sqlite = try Database(path: ":memory:")
        let types = ["INTEGER": "bigint", "TEXT": "text", "REAL": "double precision", "BLOB": "bytea"]

        var sqliteTables: [String: [String]] = [:]
        for table in try sqlite.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'users_fts%' AND name NOT LIKE 'sqlite_%'", map: { $0.text(0) }) {
            sqliteTables[table] = try sqlite.all("SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid", table) { r in
                // A primary key column is NOT NULL on PostgreSQL whatever SQLite's declaration says.
                "\(r.text(0)) \(types[r.text(1)] ?? "?\(r.text(1))") \(r.int(2) == 1 || r.int(3) > 0 ? "not null" : "null")"
            }
        }
        var postgresTables: [String: [String]] = [:]
        try pg.run("""
            SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name <> 'schema_version' ORDER BY table_name, ordinal_position
            """) { r in
            postgresTables[r.text(0), default: []].append("\(r.text(1)) \(r.text(2)) \(r.text(3) == "NO" ? "not null" : "null")")
        }
        #expect(postgresTables.keys.sorted() == sqliteTables.keys.sorted())
        for (table, columns) in sqliteTables { #expect(postgresTables[table] == columns, "\(table)") }

        let sqliteIndexes = try sqlite.all("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL", map: { $0.text(0) })
        var postgresIndexes: [String] = []
        try pg.run("""
            SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = current_schema() AND NOT EXISTS
              (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """) { postgresIndexes.append($0.text(0)) }
        #expect(Set(postgresIndexes).subtracting(["users_search"]) == Set(sqliteIndexes))

        // The same foreign keys (Protocol/README.md §9, PostgreSQL: why none was dropped).
        var sqliteKeys: Set<String> = []
        for table in sqliteTables.keys {
            try sqlite.query("SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?)", [table]) { sqliteKeys.insert("\(table).\($0.text(0)) -> \($0.text(1))") }
        }
        var postgresKeys: Set<String> = []
        try pg.run("""
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) WHERE c.contype = 'f'
            """) { postgresKeys.insert("\($0.text(0)).\($0.text(1)) -> \($0.text(2))") }
        #expect(sqliteKeys.contains("credentials.user_id -> users"))
        #expect(postgresKeys == sqliteKeys)

        // The rows a new store starts with: the default settings, and a cursor key of its own.
        let settings = try sqlite.all("SELECT id, expiring_window_days, approvals_required FROM org_settings", map: { "\($0.int(0)) \($0.int(1)) \($0.int(2))" })
        var pgSettings: [String] = []
        try pg.run("SELECT id, expiring_window_days, approvals_required FROM org_settings") { pgSettings.append("\($0.int(0)) \($0.int(1)) \($0.int(2))") }
        #expect(pgSettings == settings)
        var keys: [(String, [UInt8])] = []
        try pg.run("SELECT name, key FROM service_keys") { keys.append(($0.text(0), $0.bytes(1))) }
        let sqliteKey = try #require(try sqlite.first("SELECT key FROM service_keys WHERE name = 'cursor'", map: { $0.blob(0) }))
        #expect(keys.count == 1 && keys[0].0 == "cursor" && keys[0].1.count == sqliteKey.count && keys[0].1 != sqliteKey)
    }
}

/// Hands a connection to the one thread that uses it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
