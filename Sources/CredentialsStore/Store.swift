/// The store as the service sees it: each area's reads and writes, and `write`, which runs a body
/// in one transaction. Handlers reach the data only through this handle, never through SQL or
/// the connection, so another engine can stand behind the same areas (Protocol/README.md §9).
///
/// Reads outside `write` run on their own (SQLite: autocommit); inside a group's write
/// transaction they see the group's earlier writes, and the `cache` spares the group's later
/// requests reading the caller, the types and the settings again.
public struct Store {
    let db: Database
    /// The connection's read cache, found once (`ReadCache.of`).
    public let cache: ReadCache

    public init(_ db: Database) {
        self.db = db
        self.cache = ReadCache.of(db)
    }

    public var users: UserStore { UserStore(db) }
    public var credentials: CredentialStore { CredentialStore(db, cache: cache) }
    public var organization: OrganizationStore { OrganizationStore(db) }
    public var teams: TeamStore { TeamStore(db) }
    public var tokens: TokenStore { TokenStore(db) }
    public var auditLog: AuditLog { AuditLog(db, cache: cache) }
    public var loginThrottle: LoginThrottleStore { LoginThrottleStore(db) }
    public var serviceKeys: ServiceKeyStore { ServiceKeyStore(db) }
    /// Which engine holds the data (`service.info.storage`, contract §13): "sqlite" or "postgresql".
    public var storage: String { db.storage }
    /// The schema version of the store (`service.info`).
    public func schemaVersion() throws -> Int { try db.schemaVersion() }

    /// Runs `body` in one write transaction: all of it is committed, durably, or none of it.
    /// In a group (`Database.beginGroup`) the group's requests share the transaction. Handlers
    /// write through `Context.write`, which calls this after checking the caller again under the
    /// lock; the name says what calling it directly would skip.
    @discardableResult
    public func writeWithoutCallerCheck<T>(_ body: () throws -> T) throws -> T { try db.write(body) }

    /// Runs `body`, which only reads, on one snapshot (`Database.reading`).
    public func reading<T>(_ body: () throws -> T) throws -> T { try db.reading(body) }

    /// After a delete: moves what the log still holds of the deleted bytes into the main file,
    /// where `secure_delete` zeroed them, and empties the log (after the group, in a group).
    public func purgeDeletedBytes() { db.checkpoint() }
}
