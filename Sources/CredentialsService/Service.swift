import CredentialsCore
import CredentialsStore
import JSONRPC

/// Settings fixed at start-up from the command line.
public struct ServiceConfig: Sendable {
    public var maxMessageBytes = 16 * 1024 * 1024
    public var maxMediaBytes = 10 * 1024 * 1024
    public init() {}
}

/// The service: the method table, sessions and the store, behind the transport's `RPCMethodHandler`.
///
/// To find a method's handler: `Service.methods` lists every table in `Methods/`; each entry names
/// its handler.
public final class Service: RPCMethodHandler {
    public let db: Database
    public let deps: Dependencies
    public let config: ServiceConfig
    public let log: Logger

    public init(db: Database, deps: Dependencies = .live(), config: ServiceConfig = ServiceConfig(),
                log: Logger = Logger(level: .warning)) {
        self.db = db
        self.deps = deps
        self.config = config
        self.log = log
    }

    /// Every method, in the order of the OpenRPC document.
    public static let methods: [Method] = SystemMethods.all

    static let table: [String: Method] = Dictionary(uniqueKeysWithValues: methods.map { ($0.name, $0) })

    /// The OpenRPC document, built once from the table. `Protocol/openrpc.json` is the same document.
    public static let openRPC: JSON = OpenRPC.document(methods: methods)

    public func hasMethod(_ method: String) -> Bool { Service.table[method] != nil }

    public func call(method name: String, params: JSONObject) -> Result<JSON, RPCError> {
        guard let method = Service.table[name] else { return .failure(.methodNotFound(name)) }
        let problems = ObjectSchema(method.params).validate(params)
        if !problems.isEmpty { return .failure(.invalidParams(problems)) }
        do {
            return .success(try method.run(self, Params(params)))
        } catch let e as DomainError {
            return .failure(e.rpcError)
        } catch let e as DatabaseError {
            log.log(.error, "\(name): storage error \(e.code)")
            return .failure(RPCError(.internalError, "Internal error: the database could not complete the request",
                                     reason: e.isBusy ? "storage_busy" : "storage_error"))
        } catch {
            log.log(.error, "\(name): unexpected \(type(of: error))")
            return .failure(.internalError())
        }
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
