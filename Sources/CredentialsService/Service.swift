import CredentialsCore
import CredentialsStore
import JSONRPC

/// Settings fixed at start-up from the command line.
public struct ServiceConfig: Sendable {
    public var maxMessageBytes = 16 * 1024 * 1024
    public var maxMediaBytes = 10 * 1024 * 1024
    /// PBKDF2 iterations for new hashes; lowered only by `CREDENTIALS_RPC_PBKDF2_ITERATIONS` for tests.
    public var passwordIterations = PasswordHasher.defaultIterations
    public init() {}
}

/// Who this process is signed in as. The epoch is the user's `session_epoch` at sign-in: when
/// another process deactivates the user or resets the password, the epoch moves and this session
/// ends. A session signed in with an API token names the token instead: it lasts while the token
/// is not revoked or expired and its owner has stayed an active admin (its epoch is then the
/// user's `token_epoch`), whatever happens to the password.
struct SessionState {
    var userID: String
    var epoch: Int64
    var tokenID: String? = nil
}

/// The service: the method table, sessions and the store, behind the transport's `RPCMethodHandler`.
///
/// To find a method's handler: `Service.methods` lists every table in `Methods/`; each entry names
/// its handler.
public final class Service: RPCMethodHandler, Connection {
    public let db: Database
    public let deps: Dependencies
    public let config: ServiceConfig
    public let log: Logger
    var hasher: PasswordHasher
    var session: SessionState?
    /// Set by a tool call that asked for progress (MCP `_meta.progressToken`), for the request's
    /// `Context`.
    var progress: ((Int, Int) -> Void)?
    /// The store handle every request's context gets.
    let store: Store

    public init(db: Database, deps: Dependencies = .live(), config: ServiceConfig = ServiceConfig(),
                log: Logger = Logger(level: .warning)) {
        self.db = db
        self.deps = deps
        self.config = config
        self.log = log
        self.hasher = PasswordHasher(iterations: config.passwordIterations)
        self.store = Store(db)
    }

    /// Every method, in the order of the OpenRPC document.
    public static let methods: [Method] = SystemMethods.all + SessionMethods.all + UserMethods.all + TokenMethods.all
        + CredentialTypeMethods.all + CredentialMethods.all + ImportMethods.all + ExportMethods.all + OrganizationMethods.all + NotificationMethods.all
        + DigestMethods.all + TeamMethods.all + TeamFollowMethods.all

    static let table: [String: Method] = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })

    /// The OpenRPC document, built once from the table. `Protocol/openrpc.json` is the same document.
    public static let openRPC: JSON = OpenRPC.document(methods: methods)
    /// What `rpc.discover` answers: the document encoded once, not on every call.
    static let openRPCEncoded: JSON = .encoded(JSONWriter.encode(openRPC))

    public func hasMethod(_ method: String) -> Bool { Service.table[method] != nil }

    /// The database's cursor key, once read (`cursorKey()`).
    private var cursorKeyRead: [UInt8]?

    /// The session as the group found it: when the group is run again one by one, it starts from here.
    private var sessionBeforeGroup: SessionState?

    public func beginGroup() {
        sessionBeforeGroup = session
        db.beginGroup()
    }

    public func groupReadMore() { db.renewReadSnapshot() }

    public var groupChangedNothing: Bool { db.groupChangedNothing }

    public func endGroup() -> GroupOutcome {
        do {
            try db.endGroup()
            return .committed
        } catch is GroupRolledBack {
            log.log(.debug, "a request failed after changing rows; running its group one by one")
        } catch let unknown as GroupOutcomeUnknown {
            log.log(.error, "a group commit may or may not have taken effect (\(unknown.failure.logLine)); its requests are answered so")
            session = sessionBeforeGroup
            let fault = unknown.failure.fault
            return .unknown(RPCError(.internalError, fault.message, reason: fault.rawValue))
        } catch {
            log.log(.warning, "a group commit failed (\((error as? StorageFailure)?.fault.rawValue ?? "error")); running its requests one by one")
        }
        session = sessionBeforeGroup
        return .runAlone
    }

    public func call(method name: String, params: JSONObject) -> Result<JSON, RPCError> {
        guard let method = Service.table[name] else { return .failure(.methodNotFound(name)) }
        guard log.level >= .debug else { return run(method, params) }
        let started = SystemClock.monotonicNanos()
        let result = run(method, params)
        let micros = (SystemClock.monotonicNanos() - started) / 1000
        switch result {
        case .success: log.log(.debug, "\(name) ok \(micros)us")
        case .failure(let e): log.log(.debug, "\(name) error \(e.code.rawValue) \(e.reason) \(micros)us")
        }
        return result
    }

    /// No error echoes an API token's secret a client put where it does not belong (Protocol/README.md §6, API tokens:
    /// no response but tokens.create's holds one): not in the message, not in a field's name.
    public func scrub(_ error: RPCError) -> RPCError { error.scrubbed(TokenSecret.redact) }

    /// Access check, params check, handler, and the mapping of every error to the wire.
    private func run(_ method: Method, _ params: JSONObject) -> Result<JSON, RPCError> {
        let name = method.name
        do {
            // A file deleted or replaced under us would take writes into an unlinked inode: refuse.
            if name != "rpc.discover" { try db.checkFileIsStillOurs() }
            var attempt = 0
            while true {
                do {
                    // Who may call comes first: a signed-out caller learns nothing from its params' errors.
                    var caller: User?
                    if method.access != .open {
                        let user = try signedInUser()
                        // A token session is not held at the temporary password (Protocol/README.md §6, API tokens).
                        if method.access.needsPasswordChanged && user.mustChangePassword && session?.tokenID == nil {
                            throw DomainError.passwordChangeRequired
                        }
                        try method.access.check(user, method: name)
                        caller = user
                    }
                    let problems = method.paramsSchema.validate(params)
                    if !problems.isEmpty { return .failure(.invalidParams(problems)) }
                    return .success(try method.run(context(caller: caller), Params(params, of: method)))
                } catch is CallerChanged where attempt < Service.maxCallerChanges {
                    // The caller's row changed between the request's checks and its write: decide
                    // again on the caller as committed now (see `write`).
                    attempt += 1
                }
            }
        } catch let e as DomainError {
            return .failure(e.rpcError)
        } catch let e as StorageFailure {
            log.log(.error, "\(name): \(e.logLine)")
            return .failure(RPCError(.internalError, e.fault.message, reason: e.fault.rawValue))
        } catch is CallerChanged {
            log.log(.warning, "\(name): the caller's account kept changing under the request; refused")
            return .failure(RPCError(.internalError, StorageFault.busy.message, reason: StorageFault.busy.rawValue))
        } catch is GroupRolledBack {
            return .failure(.internalError())  // never sent: the group runs again one by one
        } catch is FileReplacedError {
            log.log(.error, "\(name): the database file was deleted or replaced; refusing to serve from the old one")
            return .failure(RPCError(.internalError, StorageFault.replaced.message, reason: StorageFault.replaced.rawValue))
        } catch {
            log.log(.error, "\(name): unexpected \(type(of: error))")
            return .failure(.internalError())
        }
    }
}

extension Service {
    /// The signed-in user, read fresh: a session ends when the user was deactivated or had the
    /// password reset (in this process or another), which moves the session epoch.
    func signedInUser() throws -> User {
        guard let s = session else {
            throw DomainError.notSignedIn
        }
        if let tokenID = s.tokenID { return try tokenSessionUser(s, tokenID) }
        // Inside a group's write transaction the user read for an earlier request of the group is
        // still current unless this connection changed a user since (`ReadCache`).
        let row = try store.cache.sessionUser(s.userID) { try store.users.session(id: s.userID) }
        guard let current = row, current.epoch == s.epoch, current.user.status == .active else {
            session = nil
            throw DomainError.unauthenticated(reason: "unauthenticated", message: "The session has ended: sign in again")
        }
        return current.user
    }

    /// The owner of a token session, read fresh with the token: revoking the token, its expiry,
    /// or its owner no longer being an active admin ends the session (in any process) at its next
    /// call. Not cached across a group: two indexed reads, and only for token sessions.
    private func tokenSessionUser(_ s: SessionState, _ tokenID: String) throws -> User {
        guard let current = try store.users.session(id: s.userID), current.tokenEpoch == s.epoch,
              let token = try store.tokens.find(id: tokenID), TokenRules.refusal(token, owner: current.user, now: now) == nil else {
            session = nil
            throw DomainError.unauthenticated(reason: "unauthenticated", message: "The token session has ended: sign in again")
        }
        return current.user
    }

    /// How many times one request is decided again because its caller changed under it: each
    /// time needs another process to commit a change to that user in the gap, so more is an attack
    /// or a loop, answered `storage_busy`.
    static let maxCallerChanges = 3

    var now: Int64 { deps.nowMillis() }

    /// What the handler of one request gets (`Context`): made after the access check, with the
    /// caller that check found.
    func context(caller: User?) -> Context {
        Context(store: store, deps: deps, passwords: hasher, limits: config, progress: progress, connection: self, caller: caller)
    }

    /// The database's cursor key, read once per process (the file's never changes).
    func cursorKey() throws -> [UInt8] {
        if let key = cursorKeyRead { return key }
        let key = try deps.cursorKey ?? store.serviceKeys.key(named: "cursor")
        cursorKeyRead = key
        return key
    }
}

extension ErrorCode {
    public static let unauthenticated = ErrorCode(rawValue: -32001)
    public static let forbidden = ErrorCode(rawValue: -32002)
    public static let notFound = ErrorCode(rawValue: -32003)
    public static let conflict = ErrorCode(rawValue: -32004)
    public static let confirmationRequired = ErrorCode(rawValue: -32005)
    public static let passwordChangeRequired = ErrorCode(rawValue: -32006)
}

extension DomainError {
    static let notSignedIn = DomainError.unauthenticated(reason: "unauthenticated", message: "Not signed in: call session.login first")

    /// The one mapping from domain errors to wire errors.
    var rpcError: RPCError {
        switch self {
        case .invalid(let reason, let fields):
            return .invalidParams(fields.map { FieldError(field: $0.field, message: $0.message) }, reason: reason)
        case .unauthenticated(let reason, let message):
            return RPCError(.unauthenticated, message, reason: reason)
        case .forbidden(let message):
            return RPCError(.forbidden, message, reason: "forbidden")
        case .notFound(let message):
            return RPCError(.notFound, message, reason: "not_found")
        case .conflict(let reason, let message):
            return RPCError(.conflict, message, reason: reason)
        case .confirmationRequired(let message, let preview):
            var p = JSONObject()
            for k in preview.keys.sorted() { p[k] = .int(preview[k]!) }
            return RPCError(.confirmationRequired, message, reason: "confirmation_required", extra: JSONObject(["preview": .object(p)]))
        case .passwordChangeRequired:
            return RPCError(.passwordChangeRequired, "The temporary password must be changed first (session.changePassword)",
                            reason: "password_change_required")
        }
    }
}
