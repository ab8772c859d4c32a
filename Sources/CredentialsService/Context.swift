import CredentialsCore
import CredentialsStore
import JSONRPC

/// The connection a request came in on (`Service` is it): its sign-in, which only the session
/// methods change, the caller as committed now, and the database's cursor key.
protocol Connection: AnyObject {
    var session: SessionState? { get set }
    /// The signed-in user read again (inside a write: as the lock finds it); ends the session
    /// when it has ended elsewhere.
    func signedInUser() throws -> User
    func cursorKey() throws -> [UInt8]
}

/// What a handler gets for one request: who calls, the clock's reading for the request, the
/// organization's settings, the store, and the dependencies a method may need (ids, secrets,
/// the password hasher, the limits). A handler reaches nothing else: not the service, not the
/// connection's SQL. Dispatch (`Service.run`) makes one per request, after the table's access
/// check; a request decided again (`CallerChanged`) gets a new one.
final class Context {
    let store: Store
    /// The clock read once per request, at first use, so every row a request writes carries
    /// the same time.
    var now: Int64 {
        if let t = nowRead { return t }
        let t = deps.nowMillis()
        nowRead = t
        return t
    }
    private var nowRead: Int64?
    let deps: Dependencies
    let passwords: PasswordHasher
    let limits: ServiceConfig
    /// Set for a tool call that asked for progress (MCP `_meta.progressToken`, LSP
    /// `workDoneToken`): long methods (credentials.import) report (done, total) as they go.
    let progress: ((Int, Int) -> Void)?
    let connection: Connection
    private let caller: User?
    private var settingsRead: OrgSettings?

    init(store: Store, deps: Dependencies, passwords: PasswordHasher, limits: ServiceConfig,
         progress: ((Int, Int) -> Void)?, connection: Connection, caller: User?) {
        self.store = store
        self.deps = deps
        self.passwords = passwords
        self.limits = limits
        self.progress = progress
        self.connection = connection
        self.caller = caller
    }

    /// The signed-in caller. Every method whose access is not `.open` has one: dispatch checked
    /// it; an open method that asks is told the caller is not signed in.
    var user: User {
        get throws {
            guard let caller else {
                throw DomainError.notSignedIn
            }
            return caller
        }
    }

    /// The organization's settings, read once per request (an add or an import row needs them
    /// twice), so a change by any process applies from the next request on; within a group's
    /// transaction, once for the group (`ReadCache`).
    func settings() throws -> OrgSettings {
        if let s = settingsRead { return s }
        let s = try store.cache.settings { try store.organization.settings() }
        settingsRead = s
        return s
    }

    /// After `settings.update`: the rest of the request reads the new settings.
    func settingsChanged() { settingsRead = nil }

    /// A credential type; within a group's transaction read once for the group.
    func credentialType(_ id: String) throws -> CredentialType? {
        try store.cache.credentialType(id) { try store.credentials.findType(id: id) }
    }

    /// Every write a handler makes goes through here, so that who may act is decided inside the
    /// write's own transaction (Protocol/README.md §6, who may call what): once the write lock is
    /// held no other process can change the caller's row until the commit, so the caller is read
    /// again there, and if it is not exactly the user the request's checks were made for
    /// (deactivated, demoted, permissions changed, password reset), nothing is written and the
    /// request is decided again from the start on the caller as committed now. Checks made
    /// before the write (the cheap ones, and those before a slow password hash) stay where they
    /// are: this makes them authoritative.
    @discardableResult
    func write<T>(_ body: () throws -> T) throws -> T {
        try store.writeWithoutCallerCheck {
            if let caller, try connection.signedInUser() != caller { throw CallerChanged() }
            return try body()
        }
    }

    /// Appends an audit row; call inside the change's own `write`.
    func audit(_ action: String, target: String?, actor actorID: String?, detail: JSON = [:]) throws {
        try store.auditLog.append(at: now, actorID: actorID, action: action, targetID: target, detail: JSONWriter.encode(detail))
    }

    /// The seal of `list`'s cursors, under the database's cursor key (made from the CSPRNG by
    /// migration 9 and shared by every process on the file), or the fixed one of a vector run.
    func cursorSeal(_ list: String) throws -> CursorSeal { CursorSeal(key: try connection.cursorKey(), list: list) }

    /// What a token session may not do, so that revoking a token undoes what it can do: make
    /// more tokens, or take over the owner's password (Protocol/README.md §6, API tokens).
    func refuseInTokenSession(_ what: String) throws {
        if connection.session?.tokenID != nil {
            throw DomainError.forbidden("A session signed in with a token cannot \(what): sign in with the password")
        }
    }
}

/// Thrown inside a write when the caller's row is no longer what the request was checked against.
struct CallerChanged: Error {}
