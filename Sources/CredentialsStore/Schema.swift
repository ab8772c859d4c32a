/// One numbered step of the schema. Version N is `Schema.migrations[N - 1]`; the version a file is
/// at lives in `PRAGMA user_version`.
public struct Migration: Sendable {
    public var summary: String
    public var sql: String
    public init(_ summary: String, _ sql: String) {
        self.summary = summary
        self.sql = sql
    }
}

public enum StoreSchema {
    /// The migrations, oldest first. Append only: never edit one that has shipped.
    public static let migrations: [Migration] = [
        Migration("audit log", """
            CREATE TABLE audit_log (
                seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                at        TEXT NOT NULL,
                actor_id  TEXT,
                action    TEXT NOT NULL,
                target_id TEXT,
                detail    TEXT NOT NULL DEFAULT '{}'
            );
            CREATE INDEX audit_log_actor ON audit_log(actor_id, seq);
            CREATE INDEX audit_log_at ON audit_log(at, seq);
            """),
    ]

    public static var currentVersion: Int { migrations.count }

    /// Brings the file up to `migrations.count`, one transaction per step. Several processes may
    /// start at once: the version is read again under the write lock, so each step runs once.
    static func migrate(_ db: Database, migrations: [Migration]) throws {
        let found = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
        if found > migrations.count {
            throw OpenError.newerSchema(path: db.path, found: found, known: migrations.count)
        }
        if found == migrations.count { return }
        try db.write {
            let now = Int(try db.scalarInt("PRAGMA user_version") ?? 0)
            if now > migrations.count {
                throw OpenError.newerSchema(path: db.path, found: now, known: migrations.count)
            }
            for version in (now + 1)..<(migrations.count + 1) {
                try db.execute(migrations[version - 1].sql)
                try db.execute("PRAGMA user_version = \(version)")
            }
        }
    }

    /// The version the open file is at.
    public static func version(of db: Database) throws -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }
}
