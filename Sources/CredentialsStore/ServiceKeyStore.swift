import CredentialsCore

/// Keys the service keeps for itself in the database (schema 9), so every process on one file
/// shares them: today the key that seals list cursors (`CursorSeal`), made by migration 9.
public struct ServiceKeyStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    /// The key named `name`; made with `make` only if it is missing (the migration makes it, so
    /// this is a read). Two processes making it at once both read the one stored first.
    public func key(named name: String, make: () -> [UInt8]) throws -> [UInt8] {
        if let key = try db.first("SELECT key FROM service_keys WHERE name = ?", name, map: { $0.blob(0) }) { return key }
        let made = make()
        return try db.write {
            try db.run("INSERT OR IGNORE INTO service_keys (name, key) VALUES (?, ?)", name, made)
            return try db.first("SELECT key FROM service_keys WHERE name = ?", name, map: { $0.blob(0) }) ?? made
        }
    }
}
