import CredentialsCore
import JSONRPC

/// Who may call a method at all, checked by dispatch before the params and the handler. What
/// depends on the object (one's own or another user's, visibility by approval) stays with the
/// handler, as rules in Core.
public enum Access: Sendable, Equatable {
    /// No session needed: discovery, service info, first-admin setup, sign-in.
    case open
    /// A signed-in user, even one who must still change the temporary password (`session.*`).
    case signedIn
    /// A signed-in user who has changed the temporary password.
    case ready
    /// As `ready`, and an admin.
    case admin
    /// As `ready`, and an admin who holds this permission.
    case adminWith(Permission)

    /// Whether the temporary password must have been changed first.
    var needsPasswordChanged: Bool { self != .open && self != .signedIn }

    /// The role and permission the caller needs beyond being signed in: forbidden otherwise.
    func check(_ caller: User, method: String) throws(DomainError) {
        switch self {
        case .open, .signedIn, .ready: return
        case .admin: try UserRules.requireAdmin(caller, to: "call \(method)")
        case .adminWith(let p): try UserRules.requireAdmin(caller, holding: p, to: "call \(method)")
        }
    }
}

/// An error a method can answer, documented in the OpenRPC document.
public struct ErrorDoc: Sendable {
    public var code: ErrorCode
    public var reason: String
    public init(_ code: ErrorCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// What a method does to the data, declared once in the table: it feeds dispatch's neighbours,
/// the tools' `readOnlyHint`/`destructiveHint` (an AI host asks the user before a destructive
/// tool and may run a read-only one unasked), so it must be true of every call.
public enum Effect: Sendable, Equatable {
    /// Changes nothing that another call could see.
    case reads
    /// Adds or changes data.
    case changes
    /// Deletes, deactivates, revokes or removes: what a person would want to be asked about first.
    case destroys
}

/// One entry of the method table: everything dispatch and the OpenRPC document need.
public struct Method: Sendable {
    public var name: String
    public var summary: String
    public var description: String?
    public var access: Access
    public var effect: Effect
    /// Whether a second identical call has no further effect (MCP `idempotentHint`); reads always.
    public var idempotent: Bool
    public let params: [Property]
    /// The params as one object schema (no unknown fields), built once.
    public let paramsSchema: ObjectSchema
    public var resultName: String
    public var result: Schema
    public var errors: [ErrorDoc]
    var run: @Sendable (Context, Params) throws -> JSON

    init(_ name: String, summary: String, effect: Effect, idempotent: Bool = false,
                description: String? = nil, access: Access,
                params: [Property] = [], result resultName: String, _ result: Schema, errors: [ErrorDoc] = [],
                run: @escaping @Sendable (Context, Params) throws -> JSON) {
        self.name = name
        self.summary = summary
        self.description = description
        self.access = access
        self.effect = effect
        self.idempotent = idempotent || effect == .reads
        self.params = params
        self.paramsSchema = ObjectSchema(params)
        self.resultName = resultName
        self.result = result
        self.errors = errors
        self.run = run
    }
}

/// A method's params after they passed its schema: typed reads that cannot fail on type, each
/// through the `Property` the method's table entry declares, so a param's name is written once.
/// In debug builds (every test) a read of a property the method does not declare stops the
/// process, so a handler and its table entry cannot drift apart unnoticed.
public struct Params {
    public let object: JSONObject
    /// The names the method declares.
    let declared: Set<String>

    init(_ object: JSONObject, of method: Method) {
        self.object = object
        self.declared = method.paramsSchema.names
    }

    @inline(__always) private func value(_ p: Property) -> JSON? {
        #if DEBUG
        if !declared.contains(p.name) { fatalError("a handler read the param \(p.name), which its method does not declare") }
        #endif
        return object[p.name]
    }

    public func string(_ p: Property) -> String? { value(p)?.stringValue }
    public func int(_ p: Property) -> Int? { value(p)?.intValue }
    public func bool(_ p: Property) -> Bool? { value(p)?.boolValue }
    public func has(_ p: Property) -> Bool { value(p) != nil }
    public subscript(p: Property) -> JSON? { value(p) }

    /// A string param the schema marked required.
    public func required(_ p: Property) throws(DomainError) -> String {
        guard let s = string(p) else { throw DomainError.invalidField(p.name, "is required") }
        return s
    }
}
