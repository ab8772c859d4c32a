import Testing
@testable import CredentialsStore

/// The parts of the PostgreSQL engine that need no server: which `--db` strings are PostgreSQL
/// stores, how their passwords are kept out of every message, and SQLite's `?` in PostgreSQL.
struct ConnectionStringTests {
    @Test func postgresURIsAreToldFromFilePaths() throws {
        for uri in ["postgresql://localhost/creds", "postgres://u@h:5433/db", "postgresql:///creds?host=/tmp/sock", "postgresql://"] {
            guard case .postgresql = try StoreLocation(uri) else { Issue.record("\(uri) was taken as a file"); continue }
        }
        for path in ["creds.sqlite3", ":memory:", "/tmp/postgresql/db.sqlite3", "./postgresql:db", "file:postgresql://x", "postgres.sqlite3"] {
            #expect(try StoreLocation(path) == .sqlite(path: path))
        }
        // Near misses become no file named after them (password and all), and are not shown.
        for nearMiss in [" postgresql://u:NearMiss1@h/db", "postgresql:/u:NearMiss1@h/db", "postgres:u:NearMiss1@h",
                         "host=/tmp password=NearMiss1 dbname=x", "\tpostgres://u:NearMiss1@h"] {
            do {
                _ = try StoreLocation(nearMiss)
                Issue.record("\(nearMiss) was taken")
            } catch {
                #expect(!"\(error)".contains("NearMiss1"), "\(error)")
            }
        }
    }

    /// libpq reads the scheme in lower case only; any other case must not become a file named
    /// after the URI (password and all).
    @Test func aSchemeInAnotherCaseIsRefusedNotMadeAFile() {
        for uri in ["POSTGRESQL://bob:pw1secret@h/db", "Postgres://bob:pw1secret@h/db"] {
            do {
                _ = try StoreLocation(uri)
                Issue.record("\(uri) was accepted")
            } catch {
                #expect("\(error)".contains("lower case"))
                #expect(!"\(error)".contains("pw1secret"))
            }
        }
    }

    @Test func passwordsAreHiddenInEveryPlaceAURICanHoldThem() throws {
        let cases: [(String, String, [String])] = [
            ("postgresql://bob:s3cret@db.example.com:5432/creds", "postgresql://bob:***@db.example.com:5432/creds", ["s3cret"]),
            ("postgres://bob:p%40ss@h1,h2:5433/creds?sslmode=require", "postgres://bob:***@h1,h2:5433/creds?sslmode=require", ["p%40ss", "p@ss"]),
            // The userinfo runs to the authority's last @; a password may hold @ and : unescaped.
            ("postgresql://bob:a:b@c@h/db", "postgresql://bob:***@h/db", ["a:b@c"]),
            ("postgresql:///creds?host=/run/pg&password=topsecret&user=bob", "postgresql:///creds?host=/run/pg&password=***&user=bob", ["topsecret"]),
            // libpq decodes parameter names, so this is a password too.
            ("postgresql://h/db?pass%77ord=hidden1", "postgresql://h/db?pass%77ord=***", ["hidden1"]),
            ("postgresql://bob@h/db", "postgresql://bob@h/db", []),
            // libpq's userinfo runs to the first @ before the first /, through any ?.
            ("postgresql://postgres:S3?CRET@localhost:1/x", "postgresql://postgres:***@localhost:1/x", ["S3?CRET"]),
            ("postgresql://h/db?sslpassword=KeyPass9&sslmode=require", "postgresql://h/db?sslpassword=***&sslmode=require", ["KeyPass9"]),
            ("postgresql://h?user=a&password=Pw9x", "postgresql://h?user=a&password=***", ["Pw9x"]),
        ]
        for (uri, shown, secrets) in cases {
            let cs = try ConnectionString(uri)
            #expect(cs.redacted == shown)
            #expect("\(cs)" == shown)
            for s in secrets {
                #expect(!cs.redacted.contains(s))
                #expect(cs.scrub("libpq said: \(s) was wrong") == "libpq said: *** was wrong")
            }
        }
    }

    /// libpq's own parse errors quote the text they choke on, which may be the password.
    @Test func libpqParseErrorsAreScrubbed() {
        for uri in ["postgresql://bob:p%zzsecret@h/db", "postgresql://h/db?password=x%zzsecret", "postgresql://h/db?nosuchoption=1&password=zzsecret"] {
            do {
                _ = try ConnectionString(uri)
                Issue.record("\(uri) was accepted")
            } catch {
                #expect("\(error)".contains("not a connection URI libpq accepts"))
                #expect(!"\(error)".contains("zzsecret"), "\(error)")
                #expect(!"\(error)".contains("bob"), "a URI libpq cannot read is not shown at all: \(error)")
            }
        }
    }

    @Test func questionMarksBecomeNumberedParametersOutsideQuotesAndComments() {
        let cases: [(String, String)] = [
            ("SELECT a FROM t WHERE b = ? AND c IN (?, ?)", "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"),
            ("SELECT '?', 'it''s ?', \"odd?name\" FROM t WHERE x = ?", "SELECT '?', 'it''s ?', \"odd?name\" FROM t WHERE x = $1"),
            ("SELECT 1 -- why?\n, ? /* what? */ , ?", "SELECT 1 -- why?\n, $1 /* what? */ , $2"),
            ("SELECT 'unterminated ?", "SELECT 'unterminated ?"),
            ("SELECT 1 /* unterminated ?", "SELECT 1 /* unterminated ?"),
            ("no parameters", "no parameters"),
            ("SELECT ?1 + ?1, ?2", "SELECT $1 + $1, $2"),
            ("SELECT ?2, ?, ?1, ?", "SELECT $2, $3, $1, $4"),
        ]
        for (sqlite, postgres) in cases { #expect(PostgresDialect.numberedParameters(sqlite) == postgres) }
    }

    @Test func whatSQLitesPlannerNeedsIsDroppedForPostgres() {
        let cases: [(String, String)] = [
            ("SELECT a FROM credentials c INDEXED BY credentials_user WHERE c.x = ?", "SELECT a FROM credentials c WHERE c.x = ?"),
            ("FROM m CROSS JOIN f ON f.t = m.t CROSS JOIN u ON u.id = f.u", "FROM m JOIN f ON f.t = m.t JOIN u ON u.id = f.u"),
            ("WHERE (+c.user_id = ? OR +c.latest_approval IN (?)) AND +fu.status = 'active'", "WHERE (c.user_id = ? OR c.latest_approval IN (?)) AND fu.status = 'active'"),
            ("SELECT a + b, a+1, (x) + (y), ?1 + ?2", "SELECT a + b, a+1, (x) + (y), ?1 + ?2"),
        ]
        for (sqlite, postgres) in cases { #expect(PostgresDialect.forPostgres(sqlite) == postgres) }
    }

    /// What the read cache is told a statement changed: the table it names, or (nil) anything.
    @Test func theTableAWriteChangesIsTheOneItNames() {
        func table(_ sql: String) -> String? { PostgresDialect.changedTable(sql).map { String(cString: $0) } }
        #expect(table("INSERT INTO audit_log (seq) VALUES (?)") == "audit_log")
        #expect(table("  insert or ignore into\nusers(id) VALUES (?)") == "users")
        #expect(table("UPDATE org_settings SET x = ?") == "org_settings")
        #expect(table("DELETE FROM credential_types WHERE id = ?") == "credential_types")
        for other in ["WITH x AS (SELECT 1) INSERT INTO users SELECT 1", "SELECT 1", "DELETE users", "INSERT INTO \"users\" VALUES (1)", "VACUUM users", ""] {
            #expect(table(other) == nil, "\(other)")
        }
    }

    @Test func byteaHexDecodesEveryByteAndRefusesAnythingElse() {
        let all = (0...255).map(UInt8.init)
        let hex = "\\x" + all.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(Array(hex.utf8).withUnsafeBufferPointer(PostgresDialect.byteaHex) == all)
        #expect(Array("\\xAbCd".utf8).withUnsafeBufferPointer(PostgresDialect.byteaHex) == [0xAB, 0xCD])
        for bad in ["", "\\x0", "x00", "\\xzz", "\\\\x00", "0x00"] {
            #expect(Array(bad.utf8).withUnsafeBufferPointer(PostgresDialect.byteaHex) == nil, "\(bad)")
        }
    }

    @Test func onlySerializationFailuresDeadlocksAndFullPredicateLocksAreRetried() {
        #expect(PostgresError.server(sqlState: "40001", message: "").isRetryable)
        #expect(PostgresError.server(sqlState: "40P01", message: "").isRetryable)
        #expect(PostgresError.server(sqlState: "53200", message: "").isRetryable)
        #expect(PostgresError.rolledBackAtCommit.isRetryable)
        #expect(PostgresError.server(sqlState: "23505", message: "").isRetryable)
        for state in ["23503", "40002", "42P01", "57014", "53100"] { #expect(!PostgresError.server(sqlState: state, message: "").isRetryable) }
        #expect(!PostgresError.connectionLost("gone").isRetryable)
    }

    /// libpq alone, no server needed: a socket folder that does not exist.
    @Test func aServerThatIsNotThereIsAConnectionErrorWithoutThePassword() throws {
        let cs = try ConnectionString("postgresql://bob:Hunter2secret@/crpc_test?host=/nonexistent-crpc-socket-dir&connect_timeout=2")
        do {
            _ = try PostgresConnection(cs)
            Issue.record("connected to nothing")
        } catch let error as PostgresError {
            guard case .connection(let reason) = error else { Issue.record("\(error)"); return }
            #expect(reason.contains("nonexistent-crpc-socket-dir"))
            #expect(!"\(error)".contains("Hunter2secret"))
        }
    }
}
