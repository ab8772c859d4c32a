import Foundation
import TestScratch
import Testing
@testable import CredentialsStore

/// `credentials-rpc copy` (contract §13): every table and byte, either engine to either, checked.
struct StoreCopyTests {
    static func path(_ name: String) -> String { Scratch.directory("copy").appendingPathComponent(name).path }

    /// A row in every table, with the awkward values a copy must carry: every byte value in a
    /// blob, NULLs, text in several scripts and cases, a REAL, integers at both ends.
    static func seedEveryTable(_ db: Database) throws {
        let bytes = (0...255).map(UInt8.init)
        try db.write {
            try db.run("INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password, password_hash, search, created_at, updated_at, locked_until) VALUES ('usr_a', 'Zoë@Example.com', 'zoë@example.com', 'Zoë', 'Ångström', 'admin', 63, 'active', 0, 'pbkdf2$x', 'zoë ångström', 1, 2, NULL)")
            try db.run("INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password, password_hash, search, created_at, updated_at, locked_until) VALUES ('usr_B', 'al@example.com', 'al@example.com', '名', 'O''Brien', 'support', 0, 'deactivated', 1, 'pbkdf2$y', 'al o''brien', ?, ?, ?)", Int64.min, Int64.max, 5)
            try db.run("INSERT INTO credential_types (id, name, name_key, description, requires_expiration, archived, created_at, updated_at) VALUES ('ctype_1', 'Licence', 'licence', 'a\nb', 1, 0, 1, 1)")
            try db.run("INSERT INTO credentials (id, user_id, type_id, version_count, latest_expiration, latest_approval, created_at, updated_at) VALUES ('cred_1', 'usr_a', 'ctype_1', 2, '2027-01-01', 'approved', 1, 1), ('cred_2', 'usr_B', 'ctype_1', 1, NULL, 'pending', 1, 1)")
            try db.run("INSERT INTO credential_versions (credential_id, number, issue_date, expiration_date, document_number, approval_status, created_by, created_at, created_changes, created_seq) VALUES ('cred_1', 1, '2026-01-01', '2026-06-01', 'D-1', 'approved', 'usr_a', 1, '[]', 1.5), ('cred_1', 2, '2026-06-01', '2027-01-01', NULL, 'approved', 'usr_a', 2, NULL, NULL), ('cred_2', 1, '2026-01-01', NULL, 'Ж-2', 'pending', 'usr_B', 3, NULL, 0.1)")
            try db.run("INSERT INTO media (id, credential_id, version, file_name, content_type, byte_count, sha256, created_at, bytes) VALUES ('med_1', 'cred_1', 2, 'scan.pdf', 'application/pdf', 256, 'ab', 1, ?), ('med_2', 'cred_1', 2, 'b.png', 'image/png', 1, 'cd', 1, ?)", bytes, [UInt8(0)])
            try db.run("UPDATE org_settings SET expiring_window_days = 45")
            try db.run("INSERT INTO notification_settings (user_id, enabled, days_before) VALUES ('usr_a', 1, '[30,7,1]')")
            try db.run("INSERT INTO reminders_sent (credential_id, version, offset_key, sent_at, sent_by) VALUES ('cred_1', 2, '30', 1, 'usr_a')")
            try db.run("INSERT INTO teams (id, name, name_key, created_at, updated_at) VALUES ('team_1', 'Night shift', 'night shift', 1, 1)")
            try db.run("INSERT INTO team_members (team_id, user_id) VALUES ('team_1', 'usr_a'), ('team_1', 'usr_B')")
            try db.run("INSERT INTO team_required_types (team_id, type_id) VALUES ('team_1', 'ctype_1')")
            try db.run("INSERT INTO team_followers (team_id, user_id) VALUES ('team_1', 'usr_a')")
            try db.run("INSERT INTO reminders_sent_to (credential_id, version, offset_key, recipient_id, sent_at, sent_by) VALUES ('cred_1', 2, '7', 'usr_a', 1, 'usr_a')")
            try db.run("INSERT INTO credential_events (seq, credential_id, version, at, actor_id, changes) VALUES (7, 'cred_1', 1, 1, 'usr_a', '[{\"field\":\"issueDate\"}]'), (9, 'cred_1', 2, 2, NULL, '[]')")
            try db.run("INSERT INTO audit_log (seq, at, actor_id, action, target_id, detail) VALUES (1024, '2026-01-01T00:00:00.000Z', 'usr_a', 'users.add', 'usr_B', '{}'), (1025, '2026-01-01T00:00:00.001Z', NULL, 'session.login', NULL, '{\"email\":\"x\"}')")
            try db.run("INSERT INTO login_throttle (email_key, failed_logins, locked_until) VALUES ('Z@x', 3, NULL), ('a@x', 1, 99), ('é@x', 2, NULL)")
            try db.run("INSERT INTO api_tokens (id, user_id, name, hint, digest, created_at, expires_at, last_used_at, revoked_at) VALUES ('tok_1', 'usr_a', 'ci', 'ab12', ?, 1, 2, NULL, NULL)", Array(bytes.reversed()))
            try db.run("INSERT INTO token_reminders_sent (token_id, offset_key, sent_at, sent_by) VALUES ('tok_1', '7', 1, NULL)")
        }
    }

    /// Every table's rows, sorted, as text: what "the same store" means in these tests.
    static func dump(_ db: Database) throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for table in try CopyTable.all() {
            out[table.name] = try db.all("SELECT quote(\(table.columns.map(\.name).joined(separator: ") || ',' || quote("))) FROM \(table.name)", map: { $0.text(0) }).sorted()
        }
        return out
    }

    @Test func aSQLiteStoreCopiesWholeIntoANewFile() throws {
        let from = Self.path("from.sqlite3"), to = Self.path("to.sqlite3")
        let source = try Database(path: from)
        try Self.seedEveryTable(source)
        let before = try Self.dump(source)
        for table in try CopyTable.all() { #expect(before[table.name]?.isEmpty == false, "the seed leaves \(table.name) empty") }
        var progressed: Set<String> = []
        let reports = try StoreCopy.run(from: .sqlite(path: from), to: .sqlite(path: to)) { p in
            if case .rows(let table, _, _) = p { progressed.insert(table) }
        }
        #expect(reports.count == before.count)
        #expect(reports.allSatisfy { $0.matched })
        #expect(reports.first { $0.table == "media" }?.mediaBytes == 257)
        #expect(progressed == Set(before.keys))
        let target = try Database(path: to)
        #expect(try Self.dump(target) == before)
        // The target's search index is its own, rebuilt from the rows.
        #expect(try target.scalarInt("SELECT count(*) FROM users_fts WHERE users_fts MATCH 'ngstr'") == 1)
    }

    @Test func aTargetThatHoldsDataIsRefusedAndLeftAsItWas() throws {
        let from = Self.path("from.sqlite3"), to = Self.path("to.sqlite3")
        try Self.seedEveryTable(try Database(path: from))
        let target = try Database(path: to)
        try target.write { try target.run("INSERT INTO teams (id, name, name_key, created_at, updated_at) VALUES ('team_x', 'X', 'x', 1, 1)") }
        let before = try Self.dump(target)
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: from), to: .sqlite(path: to)) }
        #expect(try Self.dump(target) == before)
    }

    @Test func aMissingSourceIsRefusedAndNotMade() throws {
        let from = Self.path("missing.sqlite3"), to = Self.path("to.sqlite3")
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: from), to: .sqlite(path: to)) }
        #expect(!FileManager.default.fileExists(atPath: from))
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: to), to: .sqlite(path: to)) }
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: ":memory:"), to: .sqlite(path: to)) }
    }

    /// The check is real: a target that lost one byte of one blob on the way is found out, and
    /// nothing else is blamed.
    @Test func aTargetThatDiffersByOneByteIsFoundOut() throws {
        let from = Self.path("from.sqlite3"), to = Self.path("to.sqlite3")
        let source = try Database(path: from)
        try Self.seedEveryTable(source)
        let target = try Database(path: to)
        do {
            _ = try StoreCopy.run(from: SQLiteCopySide(source), to: FlippingSide(target))
            Issue.record("a copy that differs was reported as matching")
        } catch let mismatch as StoreCopy.CopyMismatch {
            #expect(mismatch.reports.filter { !$0.matched }.map(\.table) == ["media"])
        }
        // The check came before the commit: nothing of the copy is left in the target.
        #expect(try target.scalarInt("SELECT count(*) FROM users") == 0)
        #expect(try target.scalarInt("SELECT count(*) FROM media") == 0)
    }

    /// A copy reads its source and never writes it: one at an older schema version is refused,
    /// not migrated, and the target the copy would have made is not left behind.
    @Test func aSourceAtAnotherVersionIsRefusedUntouched() throws {
        let from = Self.path("old.sqlite3"), to = Self.path("to.sqlite3")
        _ = try Database(path: from, migrations: Array(StoreSchema.migrations.prefix(StoreSchema.currentVersion - 1)))
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: from), to: .sqlite(path: to)) }
        #expect(try StoreSchema.version(of: Database(path: from, migrate: false)) == StoreSchema.currentVersion - 1)
        #expect(!FileManager.default.fileExists(atPath: to))
    }

    /// A value of another type than its column's (a hand-edited file) would be converted on the
    /// way, and the converted rows' digests match: the copy refuses it instead.
    @Test func aValueOfTheWrongTypeIsRefusedNotConverted() throws {
        let from = Self.path("from.sqlite3"), to = Self.path("to.sqlite3")
        let source = try Database(path: from)
        try Self.seedEveryTable(source)
        try source.write { try source.run("UPDATE users SET permissions = 1.75 WHERE id = 'usr_a'") }
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: from), to: .sqlite(path: to)) }
        #expect(!FileManager.default.fileExists(atPath: to))
    }

    /// SQLite to PostgreSQL and back: the file that comes back holds what went out, the
    /// PostgreSQL store numbers its next activity row after the copied ones, and its tables were
    /// vacuumed and analyzed once the copy was in (told as a step), not left to autovacuum.
    @Test(.enabled(if: TestPostgres.runs, TestPostgres.skip))
    func aStoreGoesToPostgresAndBackUnchanged() throws {
        let scratch = try ScratchPostgresDatabase()
        let from = Self.path("from.sqlite3"), back = Self.path("back.sqlite3")
        let source = try Database(path: from)
        try Self.seedEveryTable(source)
        let pgURI = try ConnectionString(scratch.uri)
        var steps: [String] = []
        let out = try StoreCopy.run(from: .sqlite(path: from), to: .postgresql(pgURI)) { p in
            if case .step(let step) = p { steps.append(step) }
        }
        #expect(out.allSatisfy { $0.matched })
        #expect(steps == ["VACUUM (ANALYZE)"])
        let settled = try scratch.connect()
        for table in ["users", "credentials", "credential_versions", "credential_events", "media", "audit_log"] {
            let vacuumed = try settled.scalarText("SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = ?", [.text(table)])
            #expect(vacuumed == "t", "\(table) was not vacuumed and analyzed by the copy")
        }
        let home = try StoreCopy.run(from: .postgresql(pgURI), to: .sqlite(path: back))
        #expect(home.allSatisfy { $0.matched })
        #expect(try Self.dump(try Database(path: back)) == Self.dump(source))
        let pg = try scratch.connect()
        #expect(try pg.scalarText("INSERT INTO credential_events (credential_id, version, at, changes) VALUES ('cred_1', 2, 3, '[]') RETURNING seq") == "10")
        #expect(throws: CopyError.self) { try StoreCopy.run(from: .sqlite(path: from), to: .postgresql(pgURI)) }
    }
}

/// A SQLite target that changes the last byte of every blob it is given.
final class FlippingSide: CopySide {
    let inner: SQLiteCopySide
    init(_ db: Database) { inner = SQLiteCopySide(db) }
    var name: String { inner.name }
    func schemaVersion() throws -> Int { try inner.schemaVersion() }
    func reading(_ body: () throws -> Void) throws { try inner.reading(body) }
    func eachRow(of table: CopyTable, _ body: ([SQLValue]) throws -> Void) throws { try inner.eachRow(of: table, body) }
    func count(of table: CopyTable) throws -> Int { try inner.count(of: table) }
    func writing(_ body: () throws -> Void) throws { try inner.writing(body) }
    func delete(from table: CopyTable) throws { try inner.delete(from: table) }
    func insert(into table: CopyTable, _ rows: [[SQLValue]]) throws {
        let flipped = rows.map { row in
            row.map { value -> SQLValue in
                guard table.name == "media", case .blob(var b) = value, !b.isEmpty else { return value }
                b[b.count - 1] ^= 1
                return .blob(b)
            }
        }
        try inner.insert(into: table, flipped)
    }
    func finishWriting() throws { try inner.finishWriting() }
    var settling: String? { inner.settling }
    func settle(_ tables: [CopyTable]) throws { try inner.settle(tables) }
}
