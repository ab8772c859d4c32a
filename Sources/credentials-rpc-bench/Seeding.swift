import CredentialsCore
import CredentialsStore
import Foundation

// The two databases the service is measured on: a small one filled through the service itself, and
// the scale one written straight into SQLite.

/// The service on a small database: an admin signed in, one credential type, and credentials added
/// through the service. Reads, writes, round trips and imports are measured on it.
struct SeededService {
    let service: Child
    let dbPath: String
    let admin: String
    let typeID: String
    let credentialIDs: [String]

    static func start(_ run: Run) throws -> SeededService {
        log("setting up a database with users and credentials...")
        let dbPath = run.workDir.appendingPathComponent("bench.sqlite3").path
        let service = try Child(run.service, ["--db", dbPath])
        let admin = service.call("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"])?["id"] as? String ?? ""
        _ = service.call("session.login", ["email": "ada@example.com", "password": "Admin#1234"])
        let typeID = service.call("credentialTypes.create", ["name": "Licence"])?["id"] as? String ?? ""
        let seedCount = run.quick ? 200 : 1000
        var credentialIDs: [String] = []
        // Written from another thread: the answers must be read while the requests go in, or both pipes fill.
        let seed = (0..<seedCount).reduce(into: Data()) {
            $0.append(request($1, "credentials.add", ["userId": admin, "typeId": typeID, "issueDate": "2026-01-01",
                                                      "expirationDate": "2027-01-01", "documentNumber": "SEED-\($1)"]))
        }
        Thread { service.send(seed) }.start()
        for _ in 0..<seedCount {
            if let r = service.json()?["result"] as? [String: Any], let id = r["id"] as? String { credentialIDs.append(id) }
        }
        return SeededService(service: service, dbPath: dbPath, admin: admin, typeID: typeID, credentialIDs: credentialIDs)
    }
}

/// How big the scale database is.
struct Scale {
    let credentials: Int
    let users: Int
    /// The members of the one team, whose compliance report is timed.
    let teamSize: Int

    init(quick q: Bool) {
        credentials = q ? 20_000 : 1_000_000
        users = q ? 2_000 : 100_000
        teamSize = q ? 200 : 1_000
    }
}

enum ScaleDatabase {
    /// Builds the scale database in the work directory and returns its path. The admin is created
    /// by the service, so that it can sign in and its password hash can be copied to every user;
    /// the rest goes straight into SQLite in one unsynchronised transaction, because only the
    /// queries on it are measured, not how it was filled. Expiries and owners are random.
    static func build(_ run: Run, _ scale: Scale) throws -> String {
        let scaleCredentials = scale.credentials, scaleUsers = scale.users, teamSize = scale.teamSize
        log("building \(scaleCredentials) credentials across \(scaleUsers) users...")
        let bigPath = run.workDir.appendingPathComponent("big.sqlite3").path
        let seeder = try Child(run.service, ["--db", bigPath])
        let bigAdmin = seeder.call("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"])?["id"] as? String ?? ""
        seeder.finish()
        let db = try Database(path: bigPath)
        try db.execute("PRAGMA synchronous = OFF")
        let ids = TimeOrderedIDs()
        var rng = SystemRandomNumberGenerator()
        let hash = try db.scalarText("SELECT password_hash FROM users") ?? ""
        try db.write {
            for t in 0..<20 {
                try db.run("INSERT INTO credential_types (id, name, name_key, description, requires_expiration, archived, created_at, updated_at) VALUES (?, ?, ?, '', 1, 0, 0, 0)",
                           "ctype_bench\(t)", "Type \(t)", "type \(t)")
            }
            var users: [String] = []
            for i in 0..<scaleUsers {
                let id = ids.next(prefix: "usr", millis: 1_700_000_000_000 + Int64(i))
                users.append(id)
                try db.run("INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password, password_hash, search, created_at, updated_at) VALUES (?, ?, ?, 'F', ?, 'support', 63, 'active', 0, ?, ?, 0, 0)",
                           id, "u\(i)@example.com", "u\(i)@example.com", "L\(i)", hash, "f l\(i) u\(i)@example.com")
            }
            try db.run("INSERT INTO teams (id, name, name_key, created_at, updated_at) VALUES ('team_bench', 'Big team', 'big team', 0, 0)")
            for t in 0..<3 { try db.run("INSERT INTO team_required_types (team_id, type_id) VALUES ('team_bench', ?)", "ctype_bench\(t)") }
            for u in users.prefix(teamSize) { try db.run("INSERT INTO team_members (team_id, user_id) VALUES ('team_bench', ?)", u) }
            let approvals = ["approved", "approved", "approved", "pending", "rejected"]
            for i in 0..<scaleCredentials {
                let id = ids.next(prefix: "cred", millis: 1_700_000_000_000 + Int64(i))
                let exp = CalendarDate(daysSinceEpoch: 19_700 + Int.random(in: 0..<1500, using: &rng)).description
                let approval = approvals[i % approvals.count]
                let user = users[Int.random(in: 0..<users.count, using: &rng)]
                try db.run("INSERT INTO credentials (id, user_id, type_id, version_count, latest_expiration, latest_approval, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, 0, 0)",
                           id, user, "ctype_bench\(i % 20)", exp, approval)
                try db.run("INSERT INTO credential_versions (credential_id, number, issue_date, expiration_date, document_number, approval_status, created_by, created_at) VALUES (?, 1, '2023-01-01', ?, ?, ?, ?, 0)",
                           id, exp, "DOC-\(i)", approval, bigAdmin)
                try db.run("INSERT INTO credential_events (credential_id, version, at, actor_id, changes) VALUES (?, 1, 0, ?, '[{\"field\":\"issueDate\",\"from\":null,\"to\":\"2023-01-01\"}]')", id, bigAdmin)
            }
        }
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return bigPath
    }
}
