import CSQLite
import CredentialsCore

/// Keys the service keeps for itself in the database (schema 9), so every process on one file
/// shares them: today the key that seals list cursors (`CursorSeal`), made by migration 9.
public struct ServiceKeyStore {
    let db: Database
    public init(_ db: Database) { self.db = db }

    /// The key named `name`, made by migration 9: a read, so paging never writes. Missing only
    /// if the file was edited by hand, which is answered as a damaged file.
    public func key(named name: String) throws -> [UInt8] {
        guard let key = try db.first("SELECT key FROM service_keys WHERE name = ?", name, map: { $0.blob(0) }) else {
            throw DatabaseError(code: SQLITE_CORRUPT, message: "service_keys has no \(name) key")
        }
        return key
    }
}
