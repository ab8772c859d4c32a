// How the schema moves forward, one numbered step after another. The steps themselves are
// `StoreSchema.migrations` (Schema.swift).

/// One numbered step of the schema. Version N is `Schema.migrations[N - 1]`; the version a file is
/// at lives in `PRAGMA user_version`.
public struct Migration: Sendable {
    public var summary: String
    public var sql: String
    /// What SQL text alone cannot say (a value read first), run after `sql`, in the same transaction.
    public var run: (@Sendable (Database) throws -> Void)?
    public init(_ summary: String, _ sql: String, run: (@Sendable (Database) throws -> Void)? = nil) {
        self.summary = summary
        self.sql = sql
        self.run = run
    }
}

extension StoreSchema {
    public static var currentVersion: Int { migrations.count }

    /// Brings the file up to `migrations.count`, every missing step in one write transaction.
    /// Several processes may start at once: the version is read again under the write lock, so
    /// each step runs once.
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
                try migrations[version - 1].run?(db)
                try db.execute("PRAGMA user_version = \(version)")
            }
        }
    }

    /// The version the open file is at.
    public static func version(of db: Database) throws -> Int {
        Int(try db.scalarInt("PRAGMA user_version") ?? 0)
    }
}
