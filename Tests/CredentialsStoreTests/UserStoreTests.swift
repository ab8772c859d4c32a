import Testing
@testable import CredentialsCore
@testable import CredentialsStore

struct UserStoreTests {
    func record(_ i: Int, first: String, last: String, email: String, role: Role = .support, status: UserStatus = .active) -> UserRecord {
        UserRecord(user: User(id: "usr_\(String(100_000 + i))", email: email, firstName: first, lastName: last, role: role,
                              permissions: .all, status: status, mustChangePassword: true, createdAt: Int64(i), updatedAt: Int64(i)),
                   passwordHash: "pbkdf2-sha256$1000$x$y")
    }

    @Test func insertFindUpdateRoundTrip() throws {
        let db = try Database(path: ":memory:")
        let users = UserStore(db)
        var r = record(1, first: "Ada", last: "Lovelace", email: "Ada@Example.com")
        try users.insert(r)
        #expect(try users.find(id: r.user.id) == r)
        #expect(try users.find(emailKey: "ada@example.com") == r)
        #expect(try users.emailTaken("ada@example.com"))
        #expect(try !users.emailTaken("ada@example.com", except: r.user.id))
        r.user.lastName = "Byron"
        r.lockedUntil = 99
        r.sessionEpoch = 3
        try users.update(r)
        #expect(try users.find(id: r.user.id) == r)
        // The search index follows the update.
        #expect(try users.list(UserFilter(query: "byron"), afterID: nil, limit: 10).users.count == 1)
        #expect(try users.list(UserFilter(query: "lovelace"), afterID: nil, limit: 10).users.isEmpty)
        try users.updateLoginCounters(id: r.user.id, failedLogins: 4, lockedUntil: nil)
        #expect(try users.find(id: r.user.id)?.failedLogins == 4)
        #expect(try users.find(id: r.user.id)?.lockedUntil == nil)
    }

    /// Users read by many ids at once, a few hundred a statement: every one found once, unknown
    /// and repeated ids harmless, at any count around the statement sizes.
    @Test func usersAreReadByManyIdsAtOnce() throws {
        let db = try Database(path: ":memory:")
        let users = UserStore(db)
        try db.write { for i in 0..<700 { try users.insert(record(i, first: "F", last: "L\(i)", email: "u\(i)@example.com")) } }
        #expect(try users.users(ids: []).isEmpty)
        for count in [1, 8, 9, 511, 512, 513, 700] {
            let ids = (0..<count).map { "usr_\(100_000 + $0)" }
            let found = try users.users(ids: ids + ids.prefix(3) + ["usr_nobody"])
            #expect(found.count == count, "\(count)")
            #expect(found["usr_\(100_000 + count - 1)"]?.lastName == "L\(count - 1)")
        }
    }

    @Test func theEmailKeyIsUnique() throws {
        let db = try Database(path: ":memory:")
        try UserStore(db).insert(record(1, first: "A", last: "B", email: "a@example.com"))
        #expect(throws: DatabaseError.self) { try UserStore(db).insert(record(2, first: "A", last: "B", email: "A@EXAMPLE.com")) }
    }

    @Test func bothSearchPathsMatchABruteForceFilter() throws {
        let db = try Database(path: ":memory:")
        let users = UserStore(db)
        var all: [UserRecord] = []
        var rng = SystemRandomNumberGenerator()
        let letters = Array("abcdefghij")
        try db.write {
            for i in 0..<6000 {
                let first = String((0..<5).map { _ in letters.randomElement(using: &rng)! })
                let r = record(i, first: i == 77 ? "Zoë \"Q\"" : first, last: "Smith\(i % 7)", email: "\(first)\(i)@example.com",
                               role: i % 4 == 0 ? .admin : .support, status: i % 9 == 0 ? .deactivated : .active)
                all.append(r)
                try users.insert(r)
            }
        }
        // "example.com" is common (all rows: the scan path); "smith3" has ~850 (the index path);
        // short queries always scan; a quote and a non-ASCII letter must be matched literally.
        for q in ["example.com", "smith3", "SMITH3", "abc", "ab", "a", "zoë \"q", "\"", "nothing-like-this", "7@ex"] {
            for filter in [UserFilter(query: q), UserFilter(role: .admin, query: q), UserFilter(status: .deactivated, query: q)] {
                var got: [String] = []
                var after: String? = nil
                repeat {
                    let page = try users.list(filter, afterID: after, limit: 500)
                    got += page.users.map(\.id)
                    after = page.more ? page.users.last?.id : nil
                } while after != nil
                let expected = all.filter { r in
                    (filter.role == nil || r.user.role == filter.role) && (filter.status == nil || r.user.status == filter.status)
                        && "\(r.user.firstName) \(r.user.lastName) \(r.user.email)".lowercased().contains(q.lowercased())
                }.map(\.user.id)
                #expect(got == expected, "query \(q) \(filter)")
            }
        }
    }

    @Test func aRareQueryUsesTheTrigramIndex() throws {
        let db = try Database(path: ":memory:")
        let plan = try db.all("EXPLAIN QUERY PLAN SELECT id FROM users WHERE id > '' AND rowid IN (SELECT rowid FROM users_fts WHERE users_fts MATCH 'abc') ORDER BY id LIMIT 10") { $0.text(3) }
        #expect(plan.contains { $0.contains("VIRTUAL TABLE INDEX") })
    }

    @Test func auditRowsAreAppendedInOrder() throws {
        let db = try Database(path: ":memory:")
        let audit = AuditLog(db)
        try audit.append(at: 0, actorID: nil, action: "a", targetID: "t1")
        try audit.append(at: 1, actorID: "u", action: "b", targetID: nil, detail: Array(#"{"k":1}"#.utf8))
        let rows = try db.all("SELECT at, actor_id, action, target_id, detail FROM audit_log ORDER BY seq") {
            [$0.text(0), $0.optionalText(1) ?? "-", $0.text(2), $0.optionalText(3) ?? "-", $0.text(4)]
        }
        #expect(rows == [["1970-01-01T00:00:00.000Z", "-", "a", "t1", "{}"], ["1970-01-01T00:00:00.001Z", "u", "b", "-", #"{"k":1}"#]])
    }

    /// The seq a row would get after `seqs`: a key in time that never goes back (schema 7).
    static func nextSeq(after seqs: [Int64], at millis: Int64) -> Int64 { max((seqs.last ?? 0) + 1, millis * AuditLog.seqPerMillisecond) }

    @Test func auditSeqFollowsTheClockAndNeverGoesBack() throws {
        let db = try Database(path: ":memory:")
        let audit = AuditLog(db)
        let t0: Int64 = 1_767_225_600_000  // 2026-01-01
        // Three in one millisecond, then 5 s later, then the clock an hour behind, then back.
        let times: [Int64] = [t0, t0, t0, t0 + 5000, t0 - 3_600_000, t0 + 5000, t0 + 6000]
        try db.write {
            for (i, t) in times.enumerated() { try audit.append(at: t, actorID: i % 2 == 0 ? "u1" : "u2", action: "a\(i)", targetID: nil) }
        }
        let seqs = try db.all("SELECT seq FROM audit_log ORDER BY seq") { $0.int(0) }
        #expect(seqs == times.reduce(into: [Int64]()) { $0.append(Self.nextSeq(after: $0, at: $1)) })
        // `since` starts at its time's seq, and drops the row written while the clock was behind.
        let since = Timestamp.format(millis: t0 + 5000)
        #expect(try audit.list(actorID: nil, since: since, afterSeq: nil, limit: 10).entries.map(\.action) == ["a3", "a5", "a6"])
        #expect(try audit.list(actorID: "u1", since: since, afterSeq: nil, limit: 10).entries.map(\.action) == ["a6"])
        #expect(try audit.list(actorID: "u1", since: nil, afterSeq: nil, limit: 10).entries.map(\.action) == ["a0", "a2", "a4", "a6"])
        // Paged one at a time, the same rows in the same order.
        var paged: [String] = []
        var after: Int64?
        while true {
            let page = try audit.list(actorID: nil, since: since, afterSeq: after, limit: 1)
            paged += page.entries.map(\.action)
            guard page.more, let last = page.entries.last else { break }
            after = last.seq
        }
        #expect(paged == ["a3", "a5", "a6"])
    }

    @Test func moreRowsInAMillisecondThanItsSeqsStillFollowEachOther() throws {
        let db = try Database(path: ":memory:")
        let audit = AuditLog(db)
        let t: Int64 = 1_767_225_600_000
        try db.write {
            for i in 0..<3000 { try audit.append(at: t, actorID: nil, action: "same \(i)", targetID: nil) }
            try audit.append(at: t + 1, actorID: nil, action: "next", targetID: nil)
        }
        let seqs = try db.all("SELECT seq FROM audit_log ORDER BY seq") { $0.int(0) }
        #expect(seqs == (0...3000).map { t * AuditLog.seqPerMillisecond + Int64($0) })
        // Rows of the millisecond before that ran past its seqs are not "since" the next one.
        let since = try audit.list(actorID: nil, since: Timestamp.format(millis: t + 1), afterSeq: nil, limit: 10)
        #expect(since.entries.map(\.action) == ["next"] && !since.more)
    }

    /// The last seq is remembered within a transaction; a row this connection adds any other way
    /// must make the next append read it again, not take its seq.
    @Test func anAuditRowAddedAnotherWayIsNotOverwritten() throws {
        let db = try Database(path: ":memory:")
        let audit = AuditLog(db)
        try db.write {
            try audit.append(at: 0, actorID: nil, action: "first", targetID: nil)
            let last = try #require(try db.scalarInt("SELECT max(seq) FROM audit_log"))
            try db.run("INSERT INTO audit_log (seq, at, action) VALUES (?, 'x', 'beside')", last + 1)
            try audit.append(at: 0, actorID: nil, action: "second", targetID: nil)
        }
        #expect(try db.all("SELECT action FROM audit_log ORDER BY seq") { $0.text(0) } == ["first", "beside", "second"])
    }

    @Test func everyAuditListShapeIsAKeyRange() throws {
        let db = try Database(path: ":memory:")
        let all = try db.all("EXPLAIN QUERY PLAN " + AuditLog.listAll, 0, "", 10) { $0.text(3) }
        let byActor = try db.all("EXPLAIN QUERY PLAN " + AuditLog.listByActor, "u", 0, "", 10) { $0.text(3) }
        #expect(all.contains { $0.hasPrefix("SEARCH audit_log USING INTEGER PRIMARY KEY") }, "\(all)")
        #expect(byActor.contains { $0.hasPrefix("SEARCH audit_log USING INDEX audit_log_actor") }, "\(byActor)")
        for plan in [all, byActor] { #expect(!plan.contains { $0.hasPrefix("SCAN") || $0.contains("TEMP B-TREE") }, "\(plan)") }
    }
}
