/// What the facet needs from the service to offer MCP tools, without knowing what they do.
public protocol ToolCatalog: AnyObject {
    /// The tools as `tools/list` answers them, in their fixed order.
    var tools: [JSON] { get }
    /// Runs a tool and answers its MCP `CallToolResult`; nil when no tool has that name.
    /// `progress`, when the caller asked for it, takes (done, total) as the work goes on.
    func callTool(name: String, arguments: JSONObject, progress: ((Int, Int) -> Void)?) -> JSON?
    /// Runs a method by name as the plain handler does, reporting (done, total) to `progress`.
    func call(method: String, params: JSONObject, progress: @escaping (Int, Int) -> Void) -> Result<JSON, RPCError>
}

/// The lifecycles of the two kinds of program that spawn stdio services, in front of a plain
/// JSON-RPC handler: AI hosts (MCP) and editors (LSP). It knows those protocols' message names,
/// never what the service keeps; it lives beside the envelope (not in the service) because it
/// is protocol, and it hands every other method to the handler behind it, so every method stays
/// callable by name whatever the mode.
///
/// The mode is decided by the first `initialize`: a string `params.protocolVersion` is MCP, a
/// `processId` member is LSP. Before it, and without it, the connection is plain JSON-RPC.
public final class HostFacet: RPCMethodHandler {
    public enum Mode: Equatable, Sendable { case plain, mcp, lsp }

    /// Newest first: what `initialize` answers when the client's revision is not one of these.
    public static let mcpVersions = ["2025-11-25", "2025-06-18", "2025-03-26"]

    public let inner: RPCMethodHandler
    public let catalog: ToolCatalog
    public let serverInfo: JSON
    public let instructions: String
    public private(set) var mode: Mode = .plain
    /// LSP: `shutdown` was answered; only `exit` is taken after it.
    public private(set) var shutDown = false
    public private(set) var exitStatus: Int32?
    /// Request ids a client cancelled (`notifications/cancelled`, `$/cancelRequest`), as their JSON
    /// text, in the order the cancels ran: kept for the record (and tests).
    public private(set) var cancelled: [String] = []
    /// Requests still waiting in the input whose cancel the transport read ahead: they are not
    /// run (LSP answers them `-32800`, MCP not at all). A cancel that arrives only after its
    /// request ran changes nothing: requests run one at a time, in order.
    private var cancelledAhead: Set<String> = []
    private var notifier: (([UInt8]) -> Void)?

    /// In which sessions a name of the facet's own is a method.
    enum Scope { case any, mcp, lsp }

    /// The facet's own methods, in one table so that a service method costs one lookup here.
    /// LSP's lifecycle and cancel exist only in an LSP session, MCP's notifications only in an
    /// MCP one: elsewhere they are unknown methods, so a client that never spoke the protocol
    /// cannot end the process by a name it did not mean. `server/discover` (MCP 2026-07-28's
    /// probe) is deliberately not one: it is answered `-32601` at once, which tells such a
    /// client to fall back to `initialize`.
    static let own: [String: Scope] = [
        "initialize": .any, "ping": .any, "tools/list": .any, "tools/call": .any,
        "notifications/initialized": .mcp, "notifications/cancelled": .mcp,
        "initialized": .lsp, "shutdown": .lsp, "exit": .lsp, "$/cancelRequest": .lsp,
    ]

    public init(inner: RPCMethodHandler, catalog: ToolCatalog, name: String, version: String, instructions: String) {
        self.inner = inner
        self.catalog = catalog
        self.serverInfo = ["name": .string(name), "version": .string(version)]
        self.instructions = instructions
    }

    /// The revision `initialize` answers for a client that asked for `requested`.
    public static func negotiate(_ requested: String) -> String {
        mcpVersions.contains(requested) ? requested : mcpVersions[0]
    }

    public func hasMethod(_ method: String) -> Bool {
        switch Self.own[method] {
        case nil: return inner.hasMethod(method)
        case .any?: return true
        case .mcp?: return mode == .mcp
        case .lsp?: return mode == .lsp
        }
    }

    /// `initialize` and `shutdown` are requests: sent as notifications they change nothing.
    public func runsAsNotification(_ method: String) -> Bool { method != "initialize" && method != "shutdown" }
    public func beginGroup() { inner.beginGroup() }
    public func endGroup() -> GroupOutcome { inner.endGroup() }
    public var groupChangedNothing: Bool { inner.groupChangedNothing }
    public func groupReadMore() { inner.groupReadMore() }
    public func scrub(_ error: RPCError) -> RPCError { inner.scrub(error) }
    /// LSP clients send `params: null` with the lifecycle messages that take none.
    public func acceptsNullParams(_ method: String) -> Bool {
        mode == .lsp && (method == "shutdown" || method == "exit" || method == "initialized")
    }
    public func attach(notifier: @escaping ([UInt8]) -> Void) { self.notifier = notifier }
    public var looksAhead: Bool { mode != .plain }
    /// Each protocol's own cancel only: MCP's `notifications/cancelled`, LSP's `$/cancelRequest`.
    public func cancelAhead(method: String, id: String) {
        if (mode == .mcp && method == "notifications/cancelled") || (mode == .lsp && method == "$/cancelRequest") {
            cancelledAhead.insert(id)
        }
    }

    public func cancelledBeforeRun(id: String) -> CancelledRequest? {
        guard !cancelledAhead.isEmpty, cancelledAhead.remove(id) != nil else { return nil }
        if mode == .mcp { return .noAnswer }  // MCP: the receiver should not answer a cancelled request
        return .answer(RPCError(ErrorCode(rawValue: -32800), "the request was cancelled before it ran; nothing changed",
                                reason: "request_cancelled"))
    }

    public func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        if shutDown && method != "exit" {
            return .failure(.invalidRequest("the server was shut down: only exit is taken now", reason: "shut_down"))
        }
        switch method {
        case "initialize": return initialize(params)
        case "ping": return .success(.object(JSONObject()))
        case "initialized", "notifications/initialized": return .success(.object(JSONObject()))
        case "notifications/cancelled", "$/cancelRequest":
            if let id = params["requestId"] ?? params["id"] { cancelled.append(JSONWriter.string(id)) }
            return .success(.object(JSONObject()))
        case "tools/list": return .success(["tools": .array(catalog.tools)])
        case "tools/call": return callTool(params)
        case "shutdown":
            shutDown = true
            return .success(.null)
        case "exit":
            exitStatus = shutDown ? 0 : 1
            return .success(.null)
        default:
            if mode == .lsp, let token = params["workDoneToken"] { return callReportingWork(method, params, token: token) }
            return inner.call(method: method, params: params)
        }
    }

    /// LSP work-done progress: a request carrying `workDoneToken` (taken out of its params, which
    /// the method itself does not know) gets `$/progress` begin, reports as the work goes on
    /// (`credentials.import` reports; other methods only begin and end), and end, all before its
    /// answer.
    private func callReportingWork(_ method: String, _ params: JSONObject, token: JSON) -> Result<JSON, RPCError> {
        var rest = JSONObject()
        for (k, v) in params.members where k != "workDoneToken" { rest[k] = v }
        func send(_ value: JSON) {
            notifier?(JSONWriter.encode(["jsonrpc": "2.0", "method": "$/progress", "params": ["token": token, "value": value]]))
        }
        send(["kind": "begin", "title": .string(method), "percentage": 0])
        var last = 0
        let result = catalog.call(method: method, params: rest) { done, total in
            let percentage = total > 0 ? min(100, done * 100 / total) : 0
            guard percentage > last else { return }
            last = percentage
            send(["kind": "report", "percentage": .int(percentage)])
        }
        send(["kind": "end"])
        return result
    }

    private func initialize(_ params: JSONObject) -> Result<JSON, RPCError> {
        guard mode == .plain else {
            return .failure(.invalidRequest("initialize was already answered on this connection; nothing changed",
                                            reason: "already_initialized"))
        }
        if case .string(let requested) = params["protocolVersion"] {
            mode = .mcp
            return .success([
                "protocolVersion": .string(Self.negotiate(requested)),
                "capabilities": ["tools": ["listChanged": false]],
                "serverInfo": serverInfo,
                "instructions": .string(instructions),
            ])
        }
        if let processID = params["processId"] {
            // LSP: the parent's process id, an integer, or null.
            guard processID == .null || processID.intValue != nil else {
                return .failure(.invalidParams([FieldError(field: "processId", message: "must be an integer or null")]))
            }
            mode = .lsp
            return .success(["capabilities": .object(JSONObject()), "serverInfo": serverInfo])
        }
        return .failure(.invalidParams([FieldError(
            field: "protocolVersion", message: "is required: a string for MCP (or processId for the LSP lifecycle)")]))
    }

    private func callTool(_ params: JSONObject) -> Result<JSON, RPCError> {
        guard case .string(let name) = params["name"] else {
            return .failure(.invalidParams([FieldError(field: "name", message: "is required: the tool's name (tools/list)")]))
        }
        var arguments = JSONObject()
        switch params["arguments"] {
        case nil, .null?: break
        case .object(let o)?: arguments = o
        default: return .failure(.invalidParams([FieldError(field: "arguments", message: "must be an object")]))
        }
        var progress: ((Int, Int) -> Void)? = nil
        switch params["_meta"] {
        case nil, .object?: break
        default: return .failure(.invalidParams([FieldError(field: "_meta", message: "must be an object")]))
        }
        let token = params["_meta"]?["progressToken"]
        switch token {
        case nil, .string?: break
        case .number(let text)? where !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }): break  // any integer, however long
        default:
            return .failure(.invalidParams([FieldError(field: "_meta.progressToken", message: "must be a string or an integer")]))
        }
        if let token, let notifier {
            var last = -1
            progress = { done, total in
                guard done > last else { return }  // MCP: progress must rise
                last = done
                notifier(JSONWriter.encode([
                    "jsonrpc": "2.0", "method": "notifications/progress",
                    "params": ["progressToken": token, "progress": .int(done), "total": .int(total)],
                ]))
            }
        }
        guard let result = catalog.callTool(name: name, arguments: arguments, progress: progress) else {
            return .failure(RPCError(.invalidParams, "Unknown tool: \(name.prefix(100))", reason: "unknown_tool",
                                     fields: [FieldError(field: "name", message: "is not a tool of this server (tools/list)")]))
        }
        return .success(result)
    }
}
