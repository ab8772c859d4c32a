/// A JSON-RPC error code. Open: the service adds its own in the -32000 range.
public struct ErrorCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let parseError = ErrorCode(rawValue: -32700)
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    public static let invalidParams = ErrorCode(rawValue: -32602)
    public static let internalError = ErrorCode(rawValue: -32603)
}

/// One field that failed validation: `field` is a path such as `permissions.viewReports` or `media[0].fileName`.
public struct FieldError: Equatable, Sendable {
    public var field: String
    public var message: String
    /// The error's `data.reason` when this failure is one the contract names (see
    /// `Schema.StringRules.reason`); nil for plain `invalid_params`. Not sent per field.
    public var reason: String?
    public init(field: String, message: String, reason: String? = nil) {
        self.field = field
        self.message = message
        self.reason = reason
    }

    public var json: JSON { ["field": .string(field), "message": .string(message)] }
}

/// The wire error: `{code, message, data}`. `data.reason` is always present; field errors add
/// `data.fields`, and a few errors add more (a delete preview, say).
public struct RPCError: Error, Equatable, Sendable {
    public var code: ErrorCode
    public var message: String
    public var data: JSONObject

    public init(_ code: ErrorCode, _ message: String, reason: String, fields: [FieldError] = [], extra: JSONObject = JSONObject()) {
        self.code = code
        self.message = message
        var data = JSONObject()
        data["reason"] = .string(reason)
        if !fields.isEmpty { data["fields"] = .array(fields.map(\.json)) }
        for (k, v) in extra.members { data[k] = v }
        self.data = data
    }

    public var reason: String { data["reason"]?.stringValue ?? "" }

    /// The error with `scrub` applied to its message and to its fields' names and messages, the
    /// text an error echoes from the request: the service scrubs secrets out of it.
    public func scrubbed(_ scrub: (String) -> String) -> RPCError {
        var e = self
        e.message = scrub(message)
        if let fields = data["fields"]?.arrayValue {
            e.data["fields"] = .array(fields.map { f in
                guard case .object(var o) = f else { return f }
                for k in ["field", "message"] { if let s = o[k]?.stringValue { o[k] = .string(scrub(s)) } }
                return .object(o)
            })
        }
        return e
    }

    public var json: JSON {
        ["code": .int(code.rawValue), "message": .string(message), "data": .object(data)]
    }

    public static func parseError(_ e: JSONParseError) -> RPCError {
        RPCError(.parseError, "Parse error: \(e.message)", reason: e.reason)
    }

    public static func invalidRequest(_ detail: String, reason: String = "invalid_request") -> RPCError {
        RPCError(.invalidRequest, "Invalid Request: \(detail)", reason: reason)
    }

    public static func methodNotFound(_ method: String) -> RPCError {
        RPCError(.methodNotFound, "Method not found: \(method.prefix(200))", reason: "method_not_found")
    }

    /// `reason` when given; else the first field's own reason, so that one named failure among
    /// plain ones still says what it is; else `invalid_params`.
    public static func invalidParams(_ fields: [FieldError], reason: String? = nil) -> RPCError {
        let detail = fields.first.map { ": \($0.field): \($0.message)" } ?? ""
        let reason = reason ?? fields.lazy.compactMap(\.reason).first ?? "invalid_params"
        return RPCError(.invalidParams, "Invalid params\(detail)", reason: reason, fields: fields)
    }

    public static func internalError() -> RPCError {
        RPCError(.internalError, "Internal error", reason: "internal_error")
    }
}
