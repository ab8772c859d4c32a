/// What the transport calls once a request is well formed. The service implements it.
public protocol RPCMethodHandler: AnyObject {
    /// Whether `method` exists; unknown methods are answered `-32601` before params are looked at.
    func hasMethod(_ method: String) -> Bool
    /// Runs a method whose envelope is valid. `params` is `{}` when the request had none.
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError>
    /// Several requests are about to run whose answers will be sent only after `endGroup`.
    func beginGroup()
    /// More input was read during the group: the requests in it may have been sent after the
    /// group's reads began, so what they read must be taken afresh (the service renews its read
    /// snapshot; a write transaction, which holds the lock, needs nothing).
    func groupReadMore()
    /// Makes the group's writes durable at once, and says what became of them.
    func endGroup() -> GroupOutcome
    /// Whether the group has changed nothing so far: then its answers depend only on what was
    /// committed before it, and the transport may end it, send them, and go on in a new group.
    var groupChangedNothing: Bool { get }
    /// An error as it is sent, for a request whose envelope was valid: the handler may take out
    /// what must never be echoed (the service removes API token secrets).
    func scrub(_ error: RPCError) -> RPCError
    /// Whether `method` takes `params: null` as no params: LSP clients send it for `shutdown` and
    /// `exit`; every other method keeps answering it `-32600`, as §3 of Protocol/README.md says.
    func acceptsNullParams(_ method: String) -> Bool
    /// Set once the client asked the process to end (LSP `exit`): the transport stops reading
    /// and the process exits with this status.
    var exitStatus: Int32? { get }
    /// Gives the handler a way to send a notification (one encoded message) ahead of the answer
    /// of the request in hand, such as MCP progress. The transport calls it once before serving.
    func attach(notifier: @escaping ([UInt8]) -> Void)
    /// Whether the transport should show the handler the notifications already waiting behind
    /// the request in hand (`cancelAhead`) before running it. False for plain JSON-RPC: the
    /// look costs a scan of the buffer per request.
    var looksAhead: Bool { get }
    /// A cancellation notification (`method`) read ahead, naming a request that waits in the
    /// input before it (`id` is the request's id as JSON text).
    func cancelAhead(method: String, id: String)
    /// Whether `method` runs when sent as a notification. False for messages that must be
    /// requests (`initialize`, LSP `shutdown`): such a notification is neither run nor answered.
    func runsAsNotification(_ method: String) -> Bool
    /// Asked before a request runs: how to treat it when it was cancelled before it ran. Nil runs it.
    func cancelledBeforeRun(id: String) -> CancelledRequest?
}

/// What became of a group's writes (`RPCMethodHandler.endGroup`).
public enum GroupOutcome: Equatable, Sendable {
    /// Committed: the answers stand.
    case committed
    /// Nothing of the group remains: the transport runs each of its requests again, alone.
    case runAlone
    /// No one can say whether the commit took effect (the connection to the server broke under
    /// it): running the requests again could make a change twice, so each is answered this
    /// error instead, and the client reads before it sends one again.
    case unknown(RPCError)
}

/// What happens to a request cancelled before it ran: LSP answers it `-32800`; MCP sends nothing.
public enum CancelledRequest: Equatable, Sendable {
    case answer(RPCError)
    case noAnswer
}

extension RPCMethodHandler {
    public func beginGroup() {}
    public func endGroup() -> GroupOutcome { .committed }
    /// A handler that does not say keeps every answer of a group until the group ends.
    public var groupChangedNothing: Bool { false }
    public func groupReadMore() {}
    public func scrub(_ error: RPCError) -> RPCError { error }
    public func acceptsNullParams(_ method: String) -> Bool { false }
    public var exitStatus: Int32? { nil }
    public func attach(notifier: @escaping ([UInt8]) -> Void) {}
    public var looksAhead: Bool { false }
    public func cancelAhead(method: String, id: String) {}
    public func runsAsNotification(_ method: String) -> Bool { true }
    public func cancelledBeforeRun(id: String) -> CancelledRequest? { nil }
}

/// JSON-RPC 2.0 semantics for one line: parse, envelope check, batches, notifications, ids.
///
/// `handle(line:)` is the whole request path without any I/O, so tests and the conformance
/// vectors drive it directly; `LineTransport` only moves its bytes.
public final class RPCServer {
    public let handler: RPCMethodHandler
    /// The most requests one batch may hold; a larger batch is one `-32600 batch_too_large`.
    public let maxBatchSize: Int

    public static let defaultMaxBatchSize = 1000
    /// Once a batch's answers pass this many bytes, its remaining requests are not run but answered
    /// `-32600 batch_too_large`, so a batch of large reads cannot build an answer without bound.
    public let maxBatchResponseBytes: Int
    public static let defaultMaxBatchResponseBytes = 16 * 1024 * 1024
    /// Compared one by one, not hashed: four short strings (every request's every key) compare in
    /// a few instructions each, where hashing one cost a few hundred.
    private static let envelopeKeys = ["jsonrpc", "method", "params", "id"]

    public init(handler: RPCMethodHandler, maxBatchSize: Int = RPCServer.defaultMaxBatchSize,
                maxBatchResponseBytes: Int = RPCServer.defaultMaxBatchResponseBytes) {
        self.handler = handler
        self.maxBatchSize = maxBatchSize
        self.maxBatchResponseBytes = maxBatchResponseBytes
    }

    /// The response line for one input line (without the newline), or nil when nothing is to be sent
    /// (a notification, or a batch of notifications only).
    /// `instead`, when given, is the answer of every request in it that would have run: it is
    /// not run (a group whose commit may or may not have taken effect, `GroupOutcome.unknown`).
    public func handle<C: Collection>(line: C, instead: RPCError? = nil) -> [UInt8]? where C.Element == UInt8 {
        let doc: JSONParser.Document
        do {
            doc = try JSONParser.parse(line)
        } catch {
            return Self.response(id: nil, error: .parseError(error))
        }
        switch doc.value {
        case .array(let items):
            if items.isEmpty {
                return Self.response(id: nil, error: .invalidRequest("an empty batch", reason: "empty_batch"))
            }
            if items.count > maxBatchSize {
                return Self.response(
                    id: nil,
                    error: .invalidRequest("a batch holds at most \(maxBatchSize) requests", reason: "batch_too_large"))
            }
            var parts: [[UInt8]] = []
            var size = 0
            for (i, item) in items.enumerated() {
                if size > maxBatchResponseBytes {
                    // Not run: answered (when it has an id) so the client knows to send it again alone.
                    if case .object(let o) = item, o["id"] != nil {
                        parts.append(Self.response(id: doc.rawIDs[i], error: .invalidRequest(
                            "the answers of this batch passed \(maxBatchResponseBytes) bytes; this request was not run: send it again on its own",
                            reason: "batch_too_large")))
                    }
                    continue
                }
                if let r = handleRequest(item, rawID: doc.rawIDs[i], instead: instead) {
                    size += r.count
                    parts.append(r)
                }
            }
            if parts.isEmpty { return nil }
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (i, p) in parts.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: p)
            }
            out.append(UInt8(ascii: "]"))
            return out
        default:
            return handleRequest(doc.value, rawID: doc.rawIDs[-1], instead: instead)
        }
    }

    /// The names of the cancellation notifications, MCP's and LSP's, and the member naming the request.
    private static let cancelMethods = ["notifications/cancelled": "requestId", "$/cancelRequest": "id"]

    /// Looks through `messages` (the request in hand, then those waiting behind it, in order) for
    /// cancellations of a request that comes before them, and tells the handler of each. Only a
    /// cancel that is itself a valid notification counts (one that will be refused `-32600`
    /// changes nothing), and only one naming a string or integer id (MCP's and LSP's request
    /// ids). A cancel of a request already answered, or of none, is not noted: an id reused
    /// later must not find itself cancelled.
    public func lookAhead(_ messages: [[UInt8]]) {
        var waiting: Set<String> = []
        for message in messages {
            guard let doc = try? JSONParser.parse(message), case .object(let m) = doc.value else { continue }
            if let id = m["id"] {
                waiting.insert(JSONWriter.string(id))
                continue
            }
            guard m.keys.allSatisfy(Self.envelopeKeys.contains), m["jsonrpc"] == .string("2.0"),
                  case .string(let method) = m["method"], let member = Self.cancelMethods[method],
                  case .object(let params)? = m["params"], let named = params[member] else { continue }
            switch named {
            case .string: break
            case .number(let text) where !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }): break
            default: continue
            }
            let id = JSONWriter.string(named)
            if waiting.contains(id) { handler.cancelAhead(method: method, id: id) }
        }
    }

    /// The answer to a line longer than the message limit.
    public static func oversizeResponse(limit: Int) -> [UInt8] {
        response(id: nil, error: .invalidRequest("a message is longer than \(limit) bytes", reason: "message_too_large"))
    }

    /// Content-Length framing: a header block without one valid Content-Length, or a message cut off.
    public static func malformedFrameResponse() -> [UInt8] {
        response(id: nil, error: .invalidRequest("a message frame needs one Content-Length header with a decimal byte count, then an empty line, then that many bytes",
                                                 reason: "invalid_frame"))
    }

    private func handleRequest(_ value: JSON, rawID: String?, instead: RPCError?) -> [UInt8]? {
        guard case .object(let request) = value else {
            return Self.response(id: nil, error: .invalidRequest("a request must be a JSON object"))
        }
        // The id, if one can be read, is echoed even when the rest of the envelope is wrong.
        var id: String? = nil
        let isNotification = request["id"] == nil
        if let idValue = request["id"] {
            switch idValue {
            case .string, .number, .null: id = rawID ?? JSONWriter.string(idValue)
            default:
                return Self.response(id: nil, error: .invalidRequest("id must be a string, a number or null"))
            }
        }
        if let unknown = request.keys.first(where: { !Self.envelopeKeys.contains($0) }) {
            return Self.response(id: id, error: handler.scrub(.invalidRequest("unknown member \"\(unknown.prefix(64))\"")))
        }
        guard request["jsonrpc"] == .string("2.0") else {
            return Self.response(id: id, error: .invalidRequest("jsonrpc must be exactly \"2.0\""))
        }
        guard case .string(let method) = request["method"] else {
            return Self.response(id: id, error: .invalidRequest("method must be a string"))
        }
        var params = JSONObject()
        switch request["params"] {
        case nil: break
        case .object(let o): params = o
        case .array: break  // by-position: answered -32602 below, once the method is known
        case .null where handler.acceptsNullParams(method): break
        default:
            return Self.response(id: id, error: .invalidRequest("params must be an object or absent"))
        }

        if isNotification && !handler.runsAsNotification(method) { return nil }
        let result: Result<JSON, RPCError>
        if !handler.hasMethod(method) {
            result = .failure(.methodNotFound(method))
        } else if case .array = request["params"] {
            result = .failure(.invalidParams(
                [FieldError(field: "params", message: "params are by name: send an object, not an array")]))
        } else if handler.looksAhead, let idValue = request["id"],
                  let outcome = handler.cancelledBeforeRun(id: JSONWriter.string(idValue)) {
            switch outcome {
            case .answer(let error): result = .failure(error)
            case .noAnswer: return nil
            }
        } else if let instead {
            result = .failure(instead)
        } else {
            result = handler.call(method: method, params: params)
        }
        if isNotification { return nil }
        switch result {
        case .success(let value): return Self.response(id: id, result: value)
        case .failure(let error): return Self.response(id: id, error: handler.scrub(error))
        }
    }

    /// The envelope up to the id, in an array with room for `body` more bytes: grown as it was
    /// written, a credential's answer was copied three times on its way out.
    private static func prefix(id: String?, body: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        let id = id ?? "null"
        out.reserveCapacity(40 + id.utf8.count + body)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        out.append(contentsOf: id.utf8)
        return out
    }

    static func response(id: String?, result: JSON) -> [UInt8] {
        var out: [UInt8]
        if case .encoded(let bytes) = result { out = prefix(id: id, body: bytes.count) } else { out = prefix(id: id) }
        out.append(contentsOf: #","result":"#.utf8)
        JSONWriter.write(result, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func response(id: String?, error: RPCError) -> [UInt8] {
        var out = prefix(id: id)
        out.append(contentsOf: #","error":"#.utf8)
        JSONWriter.write(error.json, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
