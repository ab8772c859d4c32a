import TestScratch
import Foundation
import Testing
import CSQLite
import CredentialsCore
@testable import CredentialsStore

struct DatabaseTests {
    func tempPath(_ name: String = "db.sqlite3") -> String {
        Scratch.directory("store").appendingPathComponent(name).path
    }

    @Test func newDatabaseIsMigratedToTheCurrentVersion() throws {
        let db = try Database(path: ":memory:")
        #expect(try StoreSchema.version(of: db) == StoreSchema.currentVersion)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'") == 1)
    }

    @Test func connectionSettings() throws {
        let db = try Database(path: tempPath())
        #expect(try db.scalarText("PRAGMA journal_mode") == "wal")
        #expect(try db.scalarInt("PRAGMA synchronous") == 2)  // FULL
        #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try db.scalarInt("PRAGMA secure_delete") == 1)
        #expect(try db.scalarInt("PRAGMA busy_timeout") == Int64(Database.busyTimeoutMilliseconds))
        #expect(try db.scalarInt("PRAGMA page_size") == Int64(Database.pageSize))
        #expect(try db.scalarInt("PRAGMA temp_store") == 2)  // MEMORY
        #expect(try db.scalarInt("PRAGMA cache_size") == -Int64(Database.pageCacheKiB))  // negative: KiB, not pages
    }

    /// `reading` holds one snapshot: a commit by another connection meanwhile is not seen until
    /// it ends; inside a write it is part of the write; a failure in it leaves no transaction.
    @Test func readingHoldsOneSnapshotAndLeavesNoTransactionBehind() throws {
        let path = tempPath("reading.sqlite3")
        let db = try Database(path: path), other = try Database(path: path)
        try db.write { try db.run("CREATE TABLE r (k INTEGER)") }
        func count(_ d: Database) throws -> Int64? { try d.scalarInt("SELECT count(*) FROM r") }
        try db.reading {
            #expect(db.isInTransaction)
            #expect(try count(db) == 0)
            try other.write { try other.run("INSERT INTO r VALUES (1)") }
            #expect(try count(db) == 0)
        }
        #expect(!db.isInTransaction)
        #expect(try count(db) == 1)
        try db.write {
            try db.run("INSERT INTO r VALUES (2)")
            try db.reading { () throws in #expect(try count(db) == 2) }
            #expect(db.isInTransaction)
        }
        #expect(throws: DatabaseError.self) { try db.reading { try db.run("SELECT * FROM no_such_table") } }
        #expect(!db.isInTransaction)
        #expect(try count(db) == 2)
    }

    /// A file at an older schema version holding a user, a type, a credential, and `rows`;
    /// returns its path and SQLite's schema_version then.
    func file(atVersion version: Int, with rows: String) throws -> (path: String, schemaVersion: Int64) {
        let path = tempPath()
        let old = try Database(path: path, migrations: Array(StoreSchema.migrations.prefix(version)))
        try old.execute("""
            INSERT INTO users VALUES ('usr_a', 'a@x.org', 'a@x.org', 'A', 'B', 'admin', 63, 'active', 0, 'h', 0, NULL, 0, 'a', 0, 0);
            INSERT INTO credential_types VALUES ('ctype_1', 'Licence', 'licence', '', 0, 0, 0, 0);
            INSERT INTO credentials VALUES ('cred_1', 'usr_a', 'ctype_1', 1, NULL, 'pending', 0, 0);
            """ + rows)
        return (path, try old.scalarInt("PRAGMA schema_version") ?? 0)
    }

    @Test func version6RewritesInListChecksAndTheyStillHold() throws {
        let (path, schemaVersionBefore) = try file(atVersion: 5, with: """
            INSERT INTO credential_versions (credential_id, number, issue_date, approval_status, created_by, created_at)
                VALUES ('cred_1', 1, '2026-01-01', 'pending', 'usr_a', 0);
            """)
        let db = try Database(path: path, migrations: Array(StoreSchema.migrations.prefix(6)))
        #expect(try StoreSchema.version(of: db) == 6)
        #expect(try db.scalarInt("PRAGMA schema_version") ?? 0 > schemaVersionBefore)
        #expect(try db.scalarText("PRAGMA integrity_check") == "ok")
        let tables = try db.all("SELECT sql FROM sqlite_schema WHERE name IN ('users', 'credential_versions')") { $0.text(0) }
        #expect(tables.count == 2)
        for sql in tables { #expect(!sql.contains(" IN ("), "\(sql)") }
        // The rows are as they were, and the rules still hold.
        #expect(try db.scalarText("SELECT approval_status FROM credential_versions") == "pending")
        #expect(throws: (any Error).self) { try db.run("UPDATE credential_versions SET approval_status = 'maybe'") }
        #expect(throws: (any Error).self) { try db.run("UPDATE users SET role = 'root'") }
        #expect(throws: (any Error).self) { try db.run("UPDATE users SET status = 'gone'") }
        try db.run("UPDATE credential_versions SET approval_status = 'approved'")
        #expect(try db.scalarText("SELECT approval_status FROM credential_versions") == "approved")
        // What the rewrite is for: no temporary B-tree per row written.
        let plan = try db.all("EXPLAIN INSERT INTO credential_versions (credential_id, number, issue_date, approval_status, created_by, created_at) VALUES ('cred_1', 2, 'x', 'pending', 'u', 1)") { $0.text(1) }
        #expect(!plan.isEmpty && !plan.contains("OpenEphemeral"))
        // A new file at version 6 has the same tables as one migrated to it.
        let fresh = try Database(path: ":memory:", migrations: Array(StoreSchema.migrations.prefix(6)))
        #expect(try fresh.all("SELECT sql FROM sqlite_schema WHERE name IN ('users', 'credential_versions')") { $0.text(0) } == tables)
    }

    @Test func version7RenumbersTheAuditLogInTimeAndKeepsItsOrder() throws {
        // As written before: rowid order, one millisecond with three rows, a clock that went
        // back, and a row whose time is not the service's.
        let rows: [(seq: Int, at: String, actor: String?)] = [
            (1, "2026-01-01T00:00:00.000Z", nil), (2, "2026-01-01T00:00:00.000Z", "usr_a"), (3, "2026-01-01T00:00:00.000Z", "usr_a"),
            (4, "2026-01-01T00:00:05.250Z", "usr_b"), (9, "2025-12-31T23:00:00.000Z", "usr_a"), (10, "x", nil),
            (11, "2026-01-01T00:00:05.250Z", "usr_a"), (12, "2026-03-01T12:34:56.789Z", "usr_b"),
        ]
        let (path, _) = try file(atVersion: 6, with: rows.map { r in
            "INSERT INTO audit_log (seq, at, actor_id, action, target_id, detail) VALUES (\(r.seq), '\(r.at)', \(r.actor.map { "'\($0)'" } ?? "NULL"), 'act\(r.seq)', NULL, '{}');"
        }.joined())
        let db = try Database(path: path)
        #expect(try StoreSchema.version(of: db) == StoreSchema.currentVersion)
        #expect(try db.scalarText("PRAGMA integrity_check") == "ok")
        let migrated = try db.all("SELECT seq, action, at FROM audit_log ORDER BY seq") { ($0.int(0), $0.text(1), $0.text(2)) }
        #expect(migrated.map(\.1) == rows.map { "act\($0.seq)" })  // the order written
        // The same seqs as the service writes: seq(n) = max(seq(n - 1) + 1, ms(n) * 1024).
        let expected = rows.reduce(into: [Int64]()) { seqs, r in
            seqs.append(max((seqs.last ?? 0) + 1, (Timestamp.parse(r.at) ?? 0) * AuditLog.seqPerMillisecond, 1))
        }
        #expect(migrated.map(\.0) == expected)
        #expect(try db.all("SELECT name FROM sqlite_schema WHERE tbl_name = 'audit_log' AND type = 'index'") { $0.text(0) } == ["audit_log_actor"])
        // A new row goes after them all, and a new file has the same table and index.
        try db.write { try AuditLog(db).append(at: 0, actorID: nil, action: "new", targetID: nil) }
        #expect(try db.scalarText("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1") == "new")
        let fresh = try Database(path: ":memory:")
        let schema = "SELECT sql FROM sqlite_schema WHERE tbl_name = 'audit_log' ORDER BY name"
        #expect(try fresh.all(schema) { $0.text(0) } == db.all(schema) { $0.text(0) })
    }

    @Test func version5CarriesTheFieldByFieldTrailOverAsEvents() throws {
        let (path, _) = try file(atVersion: 4, with: """
            INSERT INTO credential_activity VALUES (7, 'cred_1', 1, 5, 'usr_a', 'issueDate', NULL, '"2026-01-01"');
            INSERT INTO credential_activity VALUES (9, 'cred_1', 1, 6, NULL, 'approval', '{"status":"pending"}', '{"status":"rejected","reason":"blurry"}');
            """)
        let db = try Database(path: path)
        #expect(try StoreSchema.version(of: db) == StoreSchema.currentVersion)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'credential_activity'") == 0)
        let events = try CredentialStore(db).activity(credentialID: "cred_1", version: nil)
        #expect(events == [
            ActivityEvent(version: 1, at: 6, actorID: nil, changes: #"[{"field":"approval","from":{"status":"pending"},"to":{"status":"rejected","reason":"blurry"}}]"#),
            ActivityEvent(version: 1, at: 5, actorID: "usr_a", changes: #"[{"field":"issueDate","from":null,"to":"2026-01-01"}]"#),
        ])
        #expect(try CredentialStore(db).deletePreview(credentialID: "cred_1").activityEntries == 2)
    }

    @Test func textIsBoundByteForByte() throws {
        let db = try Database(path: ":memory:")
        for text in ["", "a", "héllo wörld ✓", String(repeating: "x", count: 5000), "a\u{0}b", "😀"] {
            for value in [SQLValue.text(text), .utf8(Array(text.utf8))] {
                let back = try db.first("SELECT typeof(?1), ?1, length(CAST(?1 AS BLOB))", value) { ($0.text(0), $0.text(1), $0.int(2)) }
                #expect(back?.0 == "text", "\(text.prefix(20))")  // an empty string is not NULL
                #expect(back?.1 == text)
                #expect(back?.2 == Int64(text.utf8.count))  // nothing cut at a NUL
            }
        }
    }

    @Test func everySQLTextFindsItsOwnStatement() throws {
        // Texts built at run time come and go, and their storage can be reused by the next one.
        let db = try Database(path: ":memory:")
        for i in 0..<3000 {
            let sql = "SELECT \(i % 700) + ?"
            #expect(try db.scalarInt(sql, 1) == Int64(i % 700 + 1))
            #expect(try db.scalarInt("SELECT 7 + ?", i) == Int64(7 + i))
        }
    }

    @Test func sqliteKeepsNoMemoryStatistics() throws {
        // They cost a global mutex on every allocation SQLite makes.
        let db = try Database(path: ":memory:")
        _ = try db.scalarInt("SELECT count(*) FROM audit_log")
        #expect(sqlite3_memory_used() == 0)
    }

    @Test func anExistingFileKeepsItsPageSize() throws {
        // A file made with SQLite's default 4 KiB pages, as files from earlier versions are.
        // (A Database opens first, so SQLite is set up as the service sets it up.)
        _ = try Database(path: ":memory:")
        let legacy = tempPath()
        var handle: OpaquePointer?
        #expect(sqlite3_open(legacy, &handle) == SQLITE_OK)
        #expect(sqlite3_exec(handle, "PRAGMA page_size = 4096; CREATE TABLE t(x); PRAGMA journal_mode = WAL;", nil, nil, nil) == SQLITE_OK)
        sqlite3_close(handle)
        let reopened = try Database(path: legacy)
        #expect(try reopened.scalarInt("PRAGMA page_size") == 4096)
        #expect(try StoreSchema.version(of: reopened) == StoreSchema.currentVersion)
    }

    @Test func migrationsRunOnceAndInOrder() throws {
        let path = tempPath()
        let steps = [Migration("one", "CREATE TABLE a(x); INSERT INTO a VALUES (1);"),
                     Migration("two", "INSERT INTO a VALUES (2);")]
        _ = try Database(path: path, migrations: Array(steps.prefix(1)))
        _ = try Database(path: path, migrations: steps)
        let db = try Database(path: path, migrations: steps)
        #expect(try db.all("SELECT x FROM a ORDER BY x") { $0.int(0) } == [1, 2])
        #expect(try StoreSchema.version(of: db) == 2)
    }

    @Test func aFailingMigrationLeavesTheFileAsItWas() throws {
        let path = tempPath()
        _ = try Database(path: path, migrations: [Migration("one", "CREATE TABLE a(x);")])
        #expect(throws: (any Error).self) {
            _ = try Database(path: path, migrations: [Migration("one", "CREATE TABLE a(x);"),
                                                      Migration("bad", "CREATE TABLE b(y); SELECT nonsense FROM nowhere;")])
        }
        let db = try Database(path: path, migrations: [Migration("one", "CREATE TABLE a(x);")])
        #expect(try StoreSchema.version(of: db) == 1)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0)
    }

    @Test func refusesANewerSchema() throws {
        let path = tempPath()
        let db = try Database(path: path)
        try db.execute("PRAGMA user_version = \(StoreSchema.currentVersion + 5)")
        #expect(throws: OpenError.newerSchema(path: path, found: StoreSchema.currentVersion + 5, known: StoreSchema.currentVersion)) {
            _ = try Database(path: path)
        }
    }

    @Test func refusesAFileThatIsNotADatabase() throws {
        let path = tempPath()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect(throws: OpenError.notADatabase(path: path)) { _ = try Database(path: path) }
        #expect(OpenError.notADatabase(path: path).description.contains(path))
    }

    @Test func refusesAPathThatCannotBeCreated() {
        #expect(throws: (any Error).self) { _ = try Database(path: "/proc/no/such/dir/db.sqlite3") }
    }

    @Test func writeCommitsOrRollsBackWhole() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER UNIQUE)")
        try db.write { try db.run("INSERT INTO t VALUES (?)", 1) }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try db.write {
                try db.run("INSERT INTO t VALUES (?)", 2)
                throw Boom()
            }
        }
        // A failing statement inside rolls back the statements before it too, and rethrows.
        #expect(throws: DatabaseError.self) {
            try db.write {
                try db.run("INSERT INTO t VALUES (?)", 3)
                try db.run("INSERT INTO t VALUES (?)", 1)
            }
        }
        #expect(try db.all("SELECT x FROM t") { $0.int(0) } == [1])
        #expect(!db.isInTransaction)
    }

    @Test func constraintErrorsCarryExtendedCodes() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(x INTEGER UNIQUE)")
        try db.run("INSERT INTO t VALUES (1)")
        do {
            try db.run("INSERT INTO t VALUES (1)")
            Issue.record("no error")
        } catch let e as DatabaseError {
            #expect(e.isConstraint)
            #expect(e.code == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        }
    }

    @Test func valuesRoundTrip() throws {
        let db = try Database(path: ":memory:")
        try db.execute("CREATE TABLE t(a, b, c, d, e)")
        let blob: [UInt8] = [0, 1, 255, 0]
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", "é😀", Int64.max, blob, Optional<String>.none, 1.5)
        let row = try #require(try db.first("SELECT a, b, c, d, e FROM t") { r in
            (r.text(0), r.int(1), r.blob(2), r.optionalText(3), r.double(4))
        })
        #expect(row.0 == "é😀")
        #expect(row.1 == Int64.max)
        #expect(row.2 == blob)
        #expect(row.3 == nil)
        #expect(row.4 == 1.5)
    }

    @Test func writeWaitsForAnotherConnectionInsteadOfFailing() throws {
        let path = tempPath()
        let a = try Database(path: path)
        let b = try Database(path: path)
        try a.execute("CREATE TABLE t(x)")
        try a.execute("BEGIN IMMEDIATE")
        try a.run("INSERT INTO t VALUES (1)")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let holder = a  // used by the other thread only while this one waits in b.write
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            try? holder.execute("COMMIT")
            done.signal()
        }
        try b.write { try b.run("INSERT INTO t VALUES (2)") }
        done.wait()
        #expect(try b.scalarInt("SELECT count(*) FROM t") == 2)
    }
}

/// Group commit at the database: one transaction for several requests' writes.
struct GroupWriteTests {
    struct Refused: Error {}

    func setUp() throws -> Database {
        let db = try Database(path: ":memory:", migrations: [Migration("t", "CREATE TABLE t (x TEXT UNIQUE)")])
        return db
    }

    func rows(_ db: Database) throws -> [String] { try db.all("SELECT x FROM t ORDER BY x") { $0.text(0) } }

    @Test func aWriteRefusedBeforeChangingAnythingLeavesTheGroupWhole() throws {
        let db = try setUp()
        db.beginGroup()
        try db.write { try db.run("INSERT INTO t VALUES ('a')") }
        #expect(throws: Refused.self) { try db.write { throw Refused() } }
        // A failed statement is undone by SQLite itself: nothing changed, the group goes on.
        #expect(throws: DatabaseError.self) { try db.write { try db.run("INSERT INTO t VALUES ('a')") } }
        try db.write { try db.run("INSERT INTO t VALUES ('b')") }
        try db.endGroup()
        #expect(try rows(db) == ["a", "b"])
        #expect(!db.isInTransaction)
    }

    @Test func aWriteFailingAfterChangingRowsRollsTheGroupBack() throws {
        let db = try setUp()
        try db.write { try db.run("INSERT INTO t VALUES ('before')") }
        db.beginGroup()
        try db.write { try db.run("INSERT INTO t VALUES ('a')") }
        #expect(throws: Refused.self) { try db.write { try db.run("INSERT INTO t VALUES ('half')"); throw Refused() } }
        #expect(!db.isInTransaction)
        // The rest of the group may not write: its requests will run again one by one.
        #expect(throws: GroupRolledBack.self) { try db.write { try db.run("INSERT INTO t VALUES ('b')") } }
        #expect(throws: GroupRolledBack.self) { try db.endGroup() }
        #expect(try rows(db) == ["before"])
        // The next group starts afresh.
        db.beginGroup()
        try db.write { try db.run("INSERT INTO t VALUES ('c')") }
        try db.endGroup()
        #expect(try rows(db) == ["before", "c"])
    }
}

/// When a value read inside a write transaction may be reused (`ReadCache`).
struct ReadCacheTests {
    @Test func aReadHoldsWithinOneTransactionUntilThisConnectionChangesTheTable() throws {
        try Self.aReadHoldsWithinOneTransactionUntilThisConnectionChangesTheTable(try Database(path: ":memory:"))
    }

    @Test func theSessionUserAndTheAuditTailLastUntilTheirTableChanges() throws {
        try Self.theSessionUserAndTheAuditTailLastUntilTheirTableChanges(try Database(path: ":memory:"))
    }

    /// The same on PostgreSQL, where the engine tells the cache of the tables its statements change.
    @Suite(.enabled(if: TestPostgres.runs, TestPostgres.skip))
    struct OnPostgres {
        @Test func aReadHoldsWithinOneTransactionUntilThisConnectionChangesTheTable() throws {
            let scratch = try ScratchPostgresDatabase()
            try ReadCacheTests.aReadHoldsWithinOneTransactionUntilThisConnectionChangesTheTable(try Database(postgres: ConnectionString(scratch.uri)))
        }

        @Test func theSessionUserAndTheAuditTailLastUntilTheirTableChanges() throws {
            let scratch = try ScratchPostgresDatabase()
            try ReadCacheTests.theSessionUserAndTheAuditTailLastUntilTheirTableChanges(try Database(postgres: ConnectionString(scratch.uri)))
        }
    }

    static func aReadHoldsWithinOneTransactionUntilThisConnectionChangesTheTable(_ db: Database) throws {
        let cache = ReadCache.of(db)
        #expect(ReadCache.of(db) === cache)
        var loads = 0
        func settings() throws -> OrgSettings {
            try cache.settings { loads += 1; return try OrganizationStore(db).settings() }
        }
        func type(_ id: String) throws -> CredentialType? {
            try cache.credentialType(id) { loads += 1; return try CredentialStore(db).findType(id: id) }
        }
        _ = try settings()
        _ = try settings()
        #expect(loads == 2)  // outside a write transaction: never reused
        loads = 0
        db.beginGroup()
        try db.write { try db.run("INSERT INTO credential_types (id, name, name_key, requires_expiration, created_at, updated_at) VALUES ('t1', 'A', 'a', 0, 0, 0)") }
        #expect(try type("t1")?.name == "A")
        _ = try settings()
        #expect(loads == 2)
        try db.write { try db.run("INSERT INTO audit_log (seq, at, action) VALUES (1000000001, 'x', 'y')") }
        #expect(try type("t1")?.name == "A")
        _ = try settings()
        #expect(loads == 2)  // other tables do not count
        try db.write { try db.run("UPDATE credential_types SET name = 'B' WHERE id = 't1'") }
        #expect(try type("t1")?.name == "B")  // read again after this connection changed the table
        _ = try settings()
        #expect(loads == 3)
        try db.endGroup()
        // The next transaction reads afresh, even with no change in between.
        db.beginGroup()
        try db.write { try db.run("INSERT INTO audit_log (seq, at, action) VALUES (1000000002, 'x', 'z')") }
        _ = try settings()
        #expect(try type("t1")?.name == "B")
        #expect(loads == 5)
        try db.endGroup()
    }

    /// The session user and the audit log's last seq, the other two things a group reuses.
    static func theSessionUserAndTheAuditTailLastUntilTheirTableChanges(_ db: Database) throws {
        let cache = ReadCache.of(db)
        var loads = 0
        func session() throws -> String? {
            try cache.sessionUser("u1") {
                loads += 1
                return try UserStore(db).session(id: "u1")
            }?.user.firstName
        }
        try db.write {
            try UserStore(db).insert(UserRecord(user: User(id: "u1", email: "a@example.com", firstName: "A", lastName: "L", role: .admin,
                                                           permissions: .all, status: .active, mustChangePassword: false, createdAt: 0, updatedAt: 0),
                                                passwordHash: "x"))
        }
        db.beginGroup()
        try db.write { try AuditLog(db).append(at: 1, actorID: nil, action: "a", targetID: nil) }
        let seq = try #require(cache.lastAuditSeq)
        #expect(try session() == "A" && session() == "A" && loads == 1)
        try db.write { try db.run("UPDATE users SET first_name = 'B' WHERE id = 'u1'") }
        #expect(try session() == "B" && loads == 2)  // this connection changed a user: read again
        #expect(cache.lastAuditSeq == seq)  // no audit row since
        try db.write { try db.run("INSERT INTO audit_log (seq, at, action) VALUES (9000000000000000000, 'x', 'other')") }
        #expect(cache.lastAuditSeq == nil)  // a row this connection did not note: read the log again
        try db.endGroup()
        #expect(cache.lastAuditSeq == nil)  // outside a transaction: never
        #expect(try session() == "B" && loads == 3)
    }
}

/// Reading columns by their bytes, as a team's report does, without making Strings.
struct RowBytesTests {
    /// Text is bound from the statement's own buffer; a later run with fewer values must not
    /// read what an earlier one left there.
    @Test func aParameterLeftOutIsNullNotLastRunsText() throws {
        let db = try Database(path: ":memory:")
        let sql = "SELECT ?, ?"
        let first = try db.first(sql, "alpha", String(repeating: "b", count: 40)) { [$0.optionalText(0), $0.optionalText(1)] }
        #expect(first == ["alpha", String(repeating: "b", count: 40)])
        let second = try db.first(sql, "gamma") { [$0.optionalText(0), $0.optionalText(1)] }
        #expect(second == ["gamma", nil])
        // Longer than the buffer: bound the other way, read back whole.
        let long = String(repeating: "é", count: 5000)
        #expect(try db.first(sql, long, "") { [$0.optionalText(0), $0.optionalText(1)] } == [long, ""])
    }

    @Test func textIsComparedAndMatchedByItsBytes() throws {
        let db = try Database(path: ":memory:")
        let rows = try db.all("SELECT 'approved', NULL, '', 'ctype_b', 'é', CAST('approved' AS BLOB)") { r in
            (r.text(0, equals: "approved"), r.text(0, equals: "approve"), r.text(0, equals: "approved "),
             r.text(1, equals: ""), r.text(2, equals: ""), r.text(3, in: [Array("ctype_a".utf8), Array("ctype_b".utf8)]),
             r.text(3, in: []), r.text(4, equals: "é"), r.text(4, equals: "e\u{301}"), r.text(5, equals: "approved"))
        }
        let r = try #require(rows.first)
        #expect(r.0 && !r.1 && !r.2)
        #expect(!r.3, "NULL is not the empty string")
        #expect(r.4)
        #expect(r.5 == 1 && r.6 == nil)
        #expect(r.7 && !r.8, "bytes, not canonical equivalence")
        #expect(r.9)
    }

    @Test func calendarDatesAreReadOnlyWhenValid() throws {
        let db = try Database(path: ":memory:")
        let dates = try db.all("SELECT '2026-02-28', '2026-02-30', NULL, '2026-2-28', 'x', '2024-02-29'") { r in
            (0..<6).map { r.calendarDate(Int32($0))?.description }
        }
        #expect(dates.first == ["2026-02-28", nil, nil, nil, nil, "2024-02-29"])
    }
}
