import Foundation
import CredentialsCore
import CredentialsStore

/// What must hold in any database the service ever leaves behind, even after SIGKILL:
/// nothing half-made, and the audit agrees with the data.
enum Invariants {
    static func problems(in path: String) throws -> [String] { try problems(in: Database(path: path)) }

    /// On either engine; the file's own checks (pages, foreign keys, which SQLite checks only when
    /// asked) on SQLite.
    static func problems(in db: Database) throws -> [String] {
        var out: [String] = []
        if db.storage == "sqlite" {
            let integrity = try db.all("PRAGMA integrity_check") { $0.text(0) }
            if integrity != ["ok"] { out.append("integrity_check: \(integrity.prefix(3))") }
            let fk = try db.all("PRAGMA foreign_key_check") { "\($0.text(0)) row \($0.int(1))" }
            if !fk.isEmpty { out.append("foreign keys: \(fk.prefix(3))") }
        }
        // Nothing points at a row that is not there: on both engines, as SQLite's
        // foreign_key_check does for its own file above.
        let orphans = try db.all("""
            SELECT 'credential ' || id FROM credentials c
            WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id) OR NOT EXISTS (SELECT 1 FROM credential_types t WHERE t.id = c.type_id)
            UNION ALL SELECT 'version ' || credential_id FROM credential_versions v WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.id = v.credential_id)
            UNION ALL SELECT 'activity ' || credential_id FROM credential_events e WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.id = e.credential_id)
            """) { $0.text(0) }
        if !orphans.isEmpty { out.append("rows pointing at nothing: \(orphans.prefix(3))") }
        // Every credential has versions 1...n, and its summary is its latest version's.
        let broken = try db.all("""
            SELECT c.id FROM credentials c
            WHERE c.version_count != (SELECT count(*) FROM credential_versions v WHERE v.credential_id = c.id)
               OR c.version_count != (SELECT max(number) FROM credential_versions v WHERE v.credential_id = c.id)
               OR c.latest_approval IS DISTINCT FROM (SELECT approval_status FROM credential_versions v WHERE v.credential_id = c.id AND v.number = c.version_count)
               OR c.latest_expiration IS DISTINCT FROM (SELECT expiration_date FROM credential_versions v WHERE v.credential_id = c.id AND v.number = c.version_count)
            """) { $0.text(0) }
        if !broken.isEmpty { out.append("credentials whose versions disagree: \(broken.prefix(3))") }
        // Every version has its activity, every credential and user its audit row.
        let silent = try db.all("""
            SELECT v.credential_id || '#' || v.number FROM credential_versions v
            WHERE v.created_changes IS NULL
              AND NOT EXISTS (SELECT 1 FROM credential_events a WHERE a.credential_id = v.credential_id AND a.version = v.number)
            """) { $0.text(0) }
        if !silent.isEmpty { out.append("versions without activity: \(silent.prefix(3))") }
        let unaudited = try db.all("SELECT id FROM credentials WHERE id NOT IN (SELECT target_id FROM audit_log WHERE action IN ('credentials.add', 'credentials.import') AND target_id IS NOT NULL)") { $0.text(0) }
        if !unaudited.isEmpty { out.append("credentials without an audit row: \(unaudited.prefix(3))") }
        let unauditedUsers = try db.all("SELECT id FROM users WHERE id NOT IN (SELECT target_id FROM audit_log WHERE action IN ('users.add', 'setup.createAdmin') AND target_id IS NOT NULL)") { $0.text(0) }
        if !unauditedUsers.isEmpty { out.append("users without an audit row: \(unauditedUsers.prefix(3))") }
        // Every media file is whole: its bytes hash to its recorded SHA-256.
        try db.query("SELECT id, byte_count, sha256, bytes FROM media") { r in
            let bytes = r.blob(3)
            if bytes.count != Int(r.int(1)) || Digest.sha256Hex(bytes) != r.text(2) { out.append("media \(r.text(0)) is torn") }
        }
        return out
    }
}
