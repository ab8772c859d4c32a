import JSONRPC

/// Which tools `tools/list` offers (`--tools`): hosts that cap how many tools they pass a model
/// (Cursor sends the first 40) do better with a smaller set.
public enum ToolSelection: Equatable, Sendable {
    case all
    /// The tools that change nothing.
    case readOnly
    /// The tools whose method name starts with one of these prefixes (`credentials`, `teams`, ...).
    case groups([String])

    /// Parses `all`, `read-only` or a comma-separated list of groups; a failure names the problem.
    public static func parse(_ text: String) -> Result<ToolSelection, UsageProblem> {
        switch text {
        case "all": return .success(ToolSelection.all)
        case "read-only": return .success(ToolSelection.readOnly)
        default:
            let names = text.split(separator: ",").map { String($0) }
            let known = ServiceTools.groups
            if names.isEmpty { return .failure(UsageProblem("--tools takes all, read-only or groups: \(known.joined(separator: ","))")) }
            if let bad = names.first(where: { !known.contains($0) }) {
                return .failure(UsageProblem("--tools: no group \(bad.prefix(60)); the groups are \(known.joined(separator: ","))"))
            }
            return .success(ToolSelection.groups(names))
        }
    }

    func offers(_ m: Method) -> Bool {
        switch self {
        case .all: return true
        case .readOnly: return m.effect == .reads
        case .groups(let g): return g.contains(ServiceTools.group(of: m.name))
        }
    }
}

/// A command-line value that cannot be used, with the line that says why.
public struct UsageProblem: Error, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
}

/// The MCP tools, made from the method table: one declaration feeds dispatch, `rpc.discover`
/// and `tools/list`, so the three cannot disagree. A tool call runs the method through
/// `Service.call`, with the same access rules as a plain request.
public final class ServiceTools: ToolCatalog {
    /// Methods that are not tools. No password ever passes through an assistant (Protocol/README.md §13):
    /// setup, password sign-in, password changes and users.add take one. session.logout would
    /// end the token session the host started with, and nothing could sign it in again;
    /// tokens.create shows a secret and a token session may not call it anyway. rpc.discover
    /// and service.info describe the wire, which tools/list and serverInfo already do.
    public static let excluded: Set<String> = [
        "rpc.discover", "service.info", "setup.createAdmin", "session.login", "session.logout",
        "session.changePassword", "users.add", "users.resetPassword", "tokens.create",
    ]

    /// The group names `--tools` takes, in table order.
    public static let groups: [String] = {
        var seen: [String] = []
        for m in Service.methods where !excluded.contains(m.name) {
            let g = group(of: m.name)
            if !seen.contains(g) { seen.append(g) }
        }
        return seen
    }()

    static func group(of method: String) -> String { String(method.split(separator: ".").first ?? "") }

    /// `credentials.addVersion` -> `credentials_addVersion`: hosts refuse dotted names.
    public static func toolName(_ method: String) -> String {
        String(method.map { $0 == "." ? "_" : $0 })
    }

    /// The methods offered as tools under `selection`, in table order.
    public static func offered(_ selection: ToolSelection) -> [Method] {
        Service.methods.filter { !excluded.contains($0.name) && selection.offers($0) }
    }

    /// One tool of `tools/list`.
    public static func describe(_ m: Method) -> JSON {
        var inputs = SchemaComponents(inline: true)
        var outputs = SchemaComponents(inline: true)
        let text = m.description.map { "\(m.summary)\n\n\($0)" } ?? m.summary
        return [
            "name": .string(toolName(m.name)),
            "title": .string(m.name),
            "description": .string(text),
            "inputSchema": inputs.render(m.paramsSchema),
            "outputSchema": outputs.render(m.result),
            "annotations": [
                "title": .string(m.name),
                "readOnlyHint": .bool(m.effect == .reads),
                "destructiveHint": .bool(m.effect == .destroys),
                "idempotentHint": .bool(m.idempotent),
                "openWorldHint": false,
            ],
        ]
    }

    let service: Service
    let methods: [String: Method]
    private let offered: [Method]
    /// Described when a host first lists them: a plain JSON-RPC start never does, and describing
    /// every tool's schemas was a third of the instructions of starting and answering one call.
    public private(set) lazy var tools: [JSON] = offered.map(Self.describe)

    public init(service: Service, selection: ToolSelection = .all) {
        self.service = service
        let offered = Self.offered(selection)
        self.methods = Dictionary(uniqueKeysWithValues: offered.map { (Self.toolName($0.name), $0) })
        self.offered = offered
    }

    public func call(method: String, params: JSONObject, progress: @escaping (Int, Int) -> Void) -> Result<JSON, RPCError> {
        service.progress = progress
        defer { service.progress = nil }
        return service.call(method: method, params: params)
    }

    public func callTool(name: String, arguments: JSONObject, progress: ((Int, Int) -> Void)?) -> JSON? {
        guard let method = methods[name] else { return nil }
        service.progress = progress
        defer { service.progress = nil }
        switch service.call(method: method.name, params: arguments) {
        case .success(let result): return ToolResults.success(method.name, result)
        case .failure(let error): return ToolResults.failure(service.scrub(error))
        }
    }
}
