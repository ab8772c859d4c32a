import Foundation
import TestScratch
import Testing
@testable import CredentialsStore

@Suite(.enabled(if: TestPostgres.runs, TestPostgres.skip))
struct PostgresConnectionTests {
    @Test func everyKindOfValueGoesInAndComesBackAsItWas() throws {
        let pg = try TestPostgres.connect()
        try pg.execute("CREATE TEMP TABLE v (i bigint, d double precision, t text, b bytea, n text)")
        let bytes = (0...255).map(UInt8.init) + [0, 0, 255]
        let text = "O'Brien \"?\" \\ é 😀 $1 -- /*"
        let n = try pg.run("INSERT INTO v VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
                           [.int(Int64.min), .double(-0.125), .text(text), .blob(bytes), .null,
                            .int(Int64.max), .double(1e300), .utf8(Array("bytes as text".utf8)), .blob([]), .text("")])
        #expect(n == 2)
        var rows: [(Int64, String, String, [UInt8], Bool)] = []
        try pg.run("SELECT i, d::text, t, b, n IS NULL FROM v ORDER BY i") { r in
            rows.append((r.int(0), r.text(1), r.text(2), r.bytes(3), r.text(4) == "t"))
            #expect(r.isNull(4) == false)
        }
        #expect(rows.count == 2)
        #expect(rows[0].0 == Int64.min && rows[0].1 == "-0.125" && rows[0].2 == text && rows[0].3 == bytes && rows[0].4)
        #expect(rows[1].0 == Int64.max && rows[1].1 == "1e+300" && rows[1].2 == "bytes as text" && rows[1].3 == [] && !rows[1].4)
        #expect(try pg.scalarText("SELECT n FROM v WHERE i = ?", [.int(Int64.min)]) == nil)
    }

    /// What comes back must not depend on settings a database, a role or the environment may
    /// set: `bytea` in escape form, reals with fewer digits, another client encoding.
    @Test func resultsReadTheSameWhateverTheSessionsSettings() throws {
        let base = try #require(TestPostgres.uri)
        let odd = base + (base.contains("?") ? "&" : "?") + "options=-c%20bytea_output%3Descape%20-c%20extra_float_digits%3D-15%20-c%20client_encoding%3DLATIN1"
        let pg = try PostgresConnection(ConnectionString(odd))
        let bytes = (0...255).map(UInt8.init)
        var got: ([UInt8], String, String)?
        try pg.run("SELECT ?::bytea, (?::float8)::text, ?::text", [.blob(bytes), .double(25.5000000001), .text("Zoë 名")]) { got = ($0.bytes(0), $0.text(1), $0.text(2)) }
        #expect(got?.0 == bytes)
        #expect(got.flatMap { Double($0.1) } == 25.5000000001)
        #expect(got?.2 == "Zoë 名")
    }

    /// A `?` inside a literal is text, and a parameter's text is never SQL.
    @Test func parametersAreValuesNeverSQL() throws {
        let pg = try TestPostgres.connect()
        try pg.execute("CREATE TEMP TABLE p (t text)")
        try pg.run("INSERT INTO p VALUES (?)", [.text("'); DROP TABLE p; --")])
        var got: [String] = []
        try pg.run("SELECT '?', t, ? FROM p", [.text("x?")]) { got = [$0.text(0), $0.text(1), $0.text(2)] }
        #expect(got == ["?", "'); DROP TABLE p; --", "x?"])
    }

    @Test func textWithANulByteIsRefusedBeforeItReachesTheServer() throws {
        let pg = try TestPostgres.connect()
        #expect(throws: PostgresError.unstorable("PostgreSQL text cannot hold a NUL byte")) {
            try pg.run("SELECT ?::text", [.text("a\u{0}b")])
        }
        #expect(try pg.scalarText("SELECT 'still usable'") == "still usable")
    }

    @Test func refusalsCarryTheirSQLState() throws {
        let pg = try TestPostgres.connect()
        try pg.execute("CREATE TEMP TABLE u (k text PRIMARY KEY)")
        try pg.run("INSERT INTO u VALUES (?)", [.text("a")])
        func state(_ body: () throws -> Void) -> String? {
            do { try body() } catch PostgresError.server(let s, _) { return s } catch { Issue.record("\(error)") }
            return nil
        }
        #expect(state { try pg.run("INSERT INTO u VALUES (?)", [.text("a")]) } == "23505")
        #expect(state { try pg.execute("SELEKT 1") } == "42601")
        #expect(state { try pg.run("SELECT * FROM no_such_table") } == "42P01")
        #expect(try pg.scalarText("SELECT count(*) FROM u") == "1")
    }

    /// The lost update that SERIALIZABLE exists to stop: another connection commits a change to
    /// the row between this transaction's read and its write. PostgreSQL fails the write with
    /// 40001; `serializable` runs the whole body again, which then reads the new value.
    @Test func aSerializationFailureRunsTheTransactionAgainAndLosesNothing() throws {
        let a = try TestPostgres.connect(), b = try TestPostgres.connect()
        let table = TestPostgres.tableName("serial")
        try a.execute("CREATE TABLE \(table) (id int PRIMARY KEY, v int NOT NULL); INSERT INTO \(table) VALUES (1, 0)")
        defer { try? a.execute("DROP TABLE \(table)") }
        var attempts = 0
        try a.serializable {
            attempts += 1
            let seen = Int(try a.scalarText("SELECT v FROM \(table) WHERE id = 1") ?? "") ?? -1
            if attempts == 1 { try b.run("UPDATE \(table) SET v = v + 1 WHERE id = 1") }
            try a.run("UPDATE \(table) SET v = ? WHERE id = 1", [.int(Int64(seen + 10))])
        }
        #expect(attempts == 2)
        #expect(try b.scalarText("SELECT v FROM \(table) WHERE id = 1") == "11")
    }

    /// PostgreSQL answers COMMIT in a transaction where a statement failed with success and the
    /// tag ROLLBACK; taken for a commit, that answered writes that were never saved (found with
    /// four processes adding at once).
    @Test func aCommitThatRolledBackIsAnErrorNotASuccess() throws {
        let pg = try TestPostgres.connect()
        let table = TestPostgres.tableName("commit")
        try pg.execute("CREATE TABLE \(table) (k int PRIMARY KEY)")
        defer { try? pg.execute("DROP TABLE \(table)") }
        try pg.execute("BEGIN")
        try pg.run("INSERT INTO \(table) VALUES (1)")
        _ = try? pg.run("INSERT INTO \(table) VALUES (1)")  // refused: the transaction is now failed
        #expect(throws: PostgresError.rolledBackAtCommit) { try pg.commit() }
        #expect(try pg.scalarText("SELECT count(*) FROM \(table)") == "0")
        #expect(PostgresError.rolledBackAtCommit.isRetryable)
    }

    /// Statements are prepared once per session: one prepared in a transaction that rolled back
    /// still runs, the session's statements start again after a reconnect (the server forgot
    /// them), and past `preparedLimit` they are dropped and prepared again as they come.
    @Test func preparedStatementsOutliveRollbacksAndAreMadeAgainAfterAReconnect() throws {
        let pg = try TestPostgres.connect(), other = try TestPostgres.connect()
        let table = TestPostgres.tableName("prepared")
        try pg.execute("CREATE TABLE \(table) (k bigint PRIMARY KEY)")
        defer { try? pg.execute("DROP TABLE \(table)") }
        func count() throws -> String? { try pg.scalarText("SELECT count(*) FROM \(table) WHERE k >= ?", [.int(0)]) }
        try pg.execute("BEGIN")
        try pg.run("INSERT INTO \(table) VALUES (?)", [.int(1)])
        #expect(try count() == "1")
        try pg.execute("ROLLBACK")
        #expect(try count() == "0")
        try pg.run("INSERT INTO \(table) VALUES (?)", [.int(1)])
        #expect(try count() == "1")
        let pid = try #require(try pg.scalarText("SELECT pg_backend_pid()"))
        _ = try other.scalarText("SELECT pg_terminate_backend(?::int)", [.text(pid)])
        #expect(throws: PostgresError.self) { try count() }
        try pg.reconnect()
        #expect(try count() == "1")
        for n in 0...PostgresConnection.preparedLimit {
            #expect(try pg.scalarText("SELECT ? + \(n)", [.int(1)]) == String(n + 1))
        }
        #expect(try count() == "1")
        #expect(try pg.scalarText("SELECT count(*) FROM pg_prepared_statements").flatMap { Int($0) } ?? .max <= PostgresConnection.preparedLimit)
        // A LIKE pattern is planned with its value at every run, never prepared (PostgresDialect.plansByValue).
        for _ in 0..<8 { _ = try pg.scalarText("SELECT count(*) FROM \(table) WHERE k::text LIKE ?", [.text("1%")]) }
        #expect(try pg.scalarText("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%LIKE%'") == "0")
        #expect(try pg.scalarText("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%k >= $1%'") == "1")
    }

    /// A statement that starts with `Database.planOnce` gets one generic plan from its first run
    /// on, and the session goes back to planning by value after it, even when it fails; an
    /// ordinary one is planned by value at first. No statement of the service is JIT-compiled.
    @Test func aStatementMarkedPlanOnceIsPlannedOnceAndTheSessionGoesBack() throws {
        let pg = try TestPostgres.connect()
        let table = TestPostgres.tableName("plans")
        try pg.execute("CREATE TABLE \(table) (k bigint PRIMARY KEY)")
        defer { try? pg.execute("DROP TABLE \(table)") }
        try pg.run("INSERT INTO \(table) SELECT generate_series(1, 100)")
        let once = Database.planOnce + "SELECT count(*) FROM \(table) WHERE k >= ?"
        let byValue = "SELECT count(*) FROM \(table) WHERE k <= ?"
        for n in 1...3 {
            #expect(try pg.scalarText(once, [.int(Int64(n))]) == String(101 - n))
            #expect(try pg.scalarText(byValue, [.int(Int64(n))]) == String(n))
            #expect(try pg.scalarText("SHOW plan_cache_mode") == "auto")
        }
        func plans(_ like: String) throws -> String? {
            try pg.scalarText("SELECT generic_plans || '/' || custom_plans FROM pg_prepared_statements WHERE statement LIKE ?", [.text(like)])
        }
        #expect(try plans("/* one plan */%k >= $1") == "3/0")
        #expect(try plans("%k <= $1") == "0/3")
        #expect(throws: PostgresError.self) { try pg.scalarText(once, [.text("not a number")]) }
        #expect(try pg.scalarText("SHOW plan_cache_mode") == "auto")
        // In a transaction the failure aborts it: RESET is refused there, and the rollback takes the SET back.
        #expect(throws: PostgresError.self) { try pg.serializable { try pg.scalarText(once, [.text("not a number")]) } }
        #expect(try pg.scalarText("SHOW plan_cache_mode") == "auto")
        #expect(try pg.scalarText("SHOW jit") == "off")
    }

    /// Statements sent without waiting (pipeline mode) land in order, past the pipeline's depth
    /// too, and are read by the next statement that waits; one the server refuses is thrown
    /// there (or at COMMIT), with its SQLSTATE, and the transaction keeps none of it.
    @Test func sentStatementsLandInOrderAndARefusalIsThrownByTheNextThatWaits() throws {
        let pg = try TestPostgres.connect()
        let table = TestPostgres.tableName("pipeline")
        try pg.execute("CREATE TABLE \(table) (k bigint PRIMARY KEY, after bigint)")
        defer { try? pg.execute("DROP TABLE \(table)") }
        let rows = PostgresConnection.pipelineDepth * 2 + 7
        try pg.serializable {
            for k in 0..<rows {
                try pg.send("INSERT INTO \(table) VALUES (?, (SELECT max(k) FROM \(table)))", [.int(Int64(k))])
            }
            #expect(try pg.scalarText("SELECT count(*) FROM \(table)") == String(rows))  // read after every send
        }
        #expect(try pg.scalarText("SELECT count(*) FROM \(table) WHERE after IS DISTINCT FROM k - 1 AND k > 0") == "0")

        func refusal(_ body: () throws -> Void) -> String? {
            do { try body() } catch PostgresError.server(let state, _) { return state } catch { Issue.record("\(error)") }
            return nil
        }
        try pg.execute("BEGIN")
        try pg.send("INSERT INTO \(table) VALUES (?, NULL)", [.int(-1)])
        try pg.send("INSERT INTO \(table) VALUES (?, NULL)", [.int(0)])  // taken
        try pg.send("INSERT INTO \(table) VALUES (?, NULL)", [.int(-2)])
        #expect(refusal { _ = try pg.scalarText("SELECT 1") } == "23505")
        pg.rollback()
        #expect(try pg.scalarText("SELECT count(*) FROM \(table) WHERE k < 0") == "0")
        try pg.execute("BEGIN")
        try pg.send("INSERT INTO \(table) VALUES (?, NULL)", [.int(1)])  // taken
        #expect(refusal { try pg.commit() } == "23505")
        pg.rollback()
        #expect(try pg.scalarText("SELECT count(*) FROM \(table)") == String(rows))
        // A statement never prepared, sent behind others: prepared alone first, then sent.
        try pg.serializable {
            try pg.send("INSERT INTO \(table) VALUES (?, NULL)", [.int(-10)])
            try pg.send("UPDATE \(table) SET after = ? WHERE k = ?", [.int(5), .int(-10)])
        }
        #expect(try pg.scalarText("SELECT after FROM \(table) WHERE k = -10") == "5")
    }

    /// Writes take the database's write lock before they begin, so a writer waits for another
    /// one's commit and then sees it; the lock is let go after the commit, and after a failure.
    @Test func aWriterWaitsForAnotherOnesCommitAndSeesIt() throws {
        struct Refused: Error {}
        let a = try TestPostgres.connect(), b = try TestPostgres.connect()
        let table = TestPostgres.tableName("writelock")
        try a.execute("CREATE TABLE \(table) (id int PRIMARY KEY, v int NOT NULL); INSERT INTO \(table) VALUES (1, 0)")
        defer { try? a.execute("DROP TABLE \(table)") }
        let bStarted = DispatchSemaphore(value: 0), bDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var bSaw: String?
        nonisolated(unsafe) let other = b  // used by that thread alone until it is done
        try a.serializable {
            try a.run("UPDATE \(table) SET v = 1 WHERE id = 1")
            DispatchQueue.global().async {
                bStarted.signal()
                try? other.serializable { bSaw = try other.scalarText("SELECT v FROM \(table) WHERE id = 1") }
                bDone.signal()
            }
            bStarted.wait()
            #expect(bDone.wait(timeout: .now() + 0.3) == .timedOut)  // b waits for the lock
        }
        #expect(bDone.wait(timeout: .now() + 10) == .success)
        #expect(bSaw == "1")  // its snapshot was taken after a's commit
        #expect(throws: Refused.self) { try a.serializable { throw Refused() } }
        try b.serializable { try b.run("UPDATE \(table) SET v = 2 WHERE id = 1") }  // not left locked by the failure
        let pids = try [a, b].map { try #require(try $0.scalarText("SELECT pg_backend_pid()")) }
        #expect(try a.scalarText("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = ? AND pid IN (?::int, ?::int)",
                                 [.int(PostgresConnection.writeLock & 0xFFFF_FFFF), .text(pids[0]), .text(pids[1])]) == "0")
    }

    @Test func anyOtherErrorRollsBackAndIsThrown() throws {
        struct Refused: Error {}
        let pg = try TestPostgres.connect()
        let table = TestPostgres.tableName("rollback")
        try pg.execute("CREATE TABLE \(table) (k text)")
        defer { try? pg.execute("DROP TABLE \(table)") }
        #expect(throws: Refused.self) {
            try pg.serializable {
                try pg.run("INSERT INTO \(table) VALUES ('half-done')")
                throw Refused()
            }
        }
        #expect(try pg.scalarText("SELECT count(*) FROM \(table)") == "0")
        try pg.serializable { try pg.run("INSERT INTO \(table) VALUES ('done')") }
        #expect(try pg.scalarText("SELECT count(*) FROM \(table)") == "1")
    }

    /// The server ending a connection (a restart does the same) is a lost connection, not a
    /// refusal and not a crash; once reconnected, the same connection works again.
    @Test func aConnectionTheServerEndsIsToldApartAndCanBeRemade() throws {
        let a = try TestPostgres.connect(), b = try TestPostgres.connect()
        let pid = try #require(try a.scalarText("SELECT pg_backend_pid()"))
        #expect(try b.scalarText("SELECT pg_terminate_backend(?::int)", [.text(pid)]) == "t")
        var lost = false
        do { _ = try a.scalarText("SELECT 1") } catch PostgresError.connectionLost { lost = true }
        #expect(lost)
        #expect(!a.isOpen)
        try a.reconnect()
        #expect(try a.scalarText("SELECT 2") == "2")
    }
}
