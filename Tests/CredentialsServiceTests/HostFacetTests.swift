import Foundation
import Testing
import CredentialsService
import JSONRPC

/// One connection through the MCP/LSP facet, in process.
final class FacetClient {
    let facet: HostFacet
    let server: RPCServer
    private var nextID = 0

    init(_ service: Service, tools: ToolSelection = .all) {
        facet = service.hostFacet(tools: tools)
        server = RPCServer(handler: facet)
    }

    /// The whole response, or nil when none was sent.
    func send(_ method: String, _ params: JSON? = nil, notification: Bool = false) -> JSON? {
        var request: JSONObject = JSONObject(["jsonrpc": "2.0", "method": .string(method)])
        if let params { request["params"] = params }
        if !notification {
            nextID += 1
            request["id"] = .int(nextID)
        }
        guard let out = server.handle(line: Array(JSONWriter.encode(.object(request)))) else { return nil }
        return try? JSONParser.parse(out).value
    }

    func result(_ method: String, _ params: JSON? = nil) -> JSON { send(method, params)?["result"] ?? .null }

    func tool(_ name: String, _ arguments: JSON = [:]) -> JSON { result("tools/call", ["name": .string(name), "arguments": arguments]) }
}

struct HostFacetTests {
    static let initializeMCP: JSON = ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "t", "version": "1"]]

    @Test("negotiation: the client's revision when supported, else the newest", arguments: [
        ("2025-11-25", "2025-11-25"), ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"),
        ("2024-11-05", "2025-11-25"), ("2026-07-28", "2025-11-25"), ("banana", "2025-11-25"),
    ])
    func negotiation(requested: String, answered: String) throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        let r = c.result("initialize", ["protocolVersion": .string(requested), "capabilities": [:]])
        #expect(r["protocolVersion"] == .string(answered))
        #expect(r["capabilities"]?["tools"]?["listChanged"] == false)
        #expect(r["serverInfo"]?["name"] == "credentials-rpc")
        #expect(r["instructions"]?.stringValue?.contains("confirm: true") == true)
        #expect(r["instructions"]?.stringValue?.contains("CREDENTIALS_RPC_TOKEN") == true)
    }

    @Test func lifecycleMessages() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        // Before initialize: still answered; the MCP 2026 probe gets a prompt -32601.
        #expect(c.result("ping") == .object(JSONObject()))
        #expect(c.send("server/discover")?["error"]?["code"] == -32601)
        #expect(c.result("initialize", Self.initializeMCP)["protocolVersion"] == "2025-06-18")
        #expect(c.facet.mode == .mcp)
        for n in ["notifications/initialized", "notifications/cancelled", "notifications/anything", "$/cancelRequest"] {
            #expect(c.send(n, ["requestId": 1], notification: true) == nil, "\(n) answered")
        }
        #expect(c.facet.cancelled == ["1"])  // LSP's $/cancelRequest is not MCP's
        let again = c.send("initialize", ["protocolVersion": "2025-03-26"])
        #expect(again?["error"]?["code"] == -32600)
        #expect(again?["error"]?["data"]?["reason"] == "already_initialized")
        #expect(c.facet.mode == .mcp)
        // Every method of the table stays callable by name.
        #expect(c.result("session.whoami")["user"]?["email"] == "ada@example.com")
        #expect(c.send("initialize", ["capabilities": [:]])?["error"]?["code"] == -32600)
    }

    /// LSP work-done progress: `$/progress` begin, rising reports, end, before the answer.
    @Test func lspWorkDoneProgressOnAnImport() throws {
        let (admin, adminID) = try bootstrap()
        _ = adminID
        _ = admin.createType("Lic")
        let c = FacetClient(admin.service)
        var sent: [JSON] = []
        c.facet.attach { bytes in if let v = try? JSONParser.parse(bytes).value { sent.append(v) } }
        _ = c.result("initialize", ["processId": .null, "capabilities": [:]])
        var csv = "email,credential_type,issue_date\n"
        for _ in 0..<1000 { csv += "ada@example.com,Lic,2026-01-01\n" }
        let r = c.result("credentials.import", ["csv": .string(csv), "dryRun": true, "workDoneToken": "w1"])
        #expect(r["created"] == 1000)
        let kinds = sent.compactMap { $0["params"]?["value"]?["kind"]?.stringValue }
        #expect(kinds.first == "begin" && kinds.last == "end" && kinds.filter { $0 == "report" }.count >= 3, "\(kinds)")
        #expect(sent.allSatisfy { $0["method"] == "$/progress" && $0["params"]?["token"] == "w1" })
        let percentages = sent.compactMap { $0["params"]?["value"]?["percentage"]?.intValue }
        #expect(percentages == percentages.sorted() && Set(percentages).count == percentages.count)
        // A method that reports nothing only begins and ends; without a token nothing is sent.
        sent.removeAll()
        _ = c.result("users.list", ["workDoneToken": 7])
        #expect(sent.compactMap { $0["params"]?["value"]?["kind"]?.stringValue } == ["begin", "end"])
        sent.removeAll()
        _ = c.result("users.list")
        #expect(sent.isEmpty)
    }

    @Test func lspLifecycle() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        let r = c.result("initialize", ["processId": .null, "capabilities": [:]])
        #expect(r == ["capabilities": [:], "serverInfo": ["name": "credentials-rpc", "version": .string(ServiceInfo.version)]])
        #expect(c.send("initialized", [:], notification: true) == nil)
        #expect(c.result("session.whoami")["user"] != nil)
        #expect(c.facet.exitStatus == nil)
        // params: null is taken for shutdown and exit only.
        let shutdown = c.server.handle(line: Array(#"{"jsonrpc":"2.0","id":9,"method":"shutdown","params":null}"#.utf8))
        #expect(shutdown.map { String(decoding: $0, as: UTF8.self) } == #"{"jsonrpc":"2.0","id":9,"result":null}"#)
        #expect(c.send("session.whoami")?["error"]?["data"]?["reason"] == "shut_down")
        #expect(c.server.handle(line: Array(#"{"jsonrpc":"2.0","method":"exit","params":null}"#.utf8)) == nil)
        #expect(c.facet.exitStatus == 0)
        let other = FacetClient(admin.service)
        _ = other.result("initialize", ["processId": 7, "capabilities": [:]])
        #expect(other.server.handle(line: Array(#"{"jsonrpc":"2.0","method":"initialized","params":null}"#.utf8)) == nil)
        #expect(other.send("session.logout", .null)?["error"]?["code"] == -32600)
        _ = other.send("exit", nil, notification: true)
        #expect(other.facet.exitStatus == 1)
    }

    /// `shutdown`, `exit` and `initialized` are LSP's: a plain or MCP client that sends them by
    /// mistake gets `-32601` (or, as a notification, nothing), and the process goes on.
    @Test func lspLifecycleOnlyInAnLSPSession() throws {
        let (admin, _) = try bootstrap()
        for initialize: JSON? in [nil, Self.initializeMCP] {
            let c = FacetClient(admin.service)
            if let initialize { _ = c.result("initialize", initialize) }
            #expect(c.send("shutdown")?["error"]?["code"] == -32601)
            #expect(c.server.handle(line: Array(#"{"jsonrpc":"2.0","id":5,"method":"shutdown","params":null}"#.utf8))
                .flatMap { try? JSONParser.parse($0).value }?["error"]?["code"] == -32600)
            #expect(c.send("exit", nil, notification: true) == nil)
            #expect(c.facet.exitStatus == nil && !c.facet.shutDown)
            #expect(c.result("session.whoami")["user"] != nil)
        }
    }

    /// A cancel read ahead, behind the request it names: LSP answers that request `-32800` without
    /// running it, MCP does not answer it at all; a cancel of a request already answered, or one
    /// that comes before its request, changes nothing.
    @Test func requestsCancelledBeforeTheyRan() throws {
        let (admin, _) = try bootstrap()
        func frame(_ json: String) -> [UInt8] { Array("Content-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8) }
        let lsp = FacetClient(admin.service)
        let lspInput = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"capabilities":{}}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"teams.create","params":{"name":"Never"}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"teams.create","params":{"name":"Made"}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":4}}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"teams.list"}"#,
        ].flatMap(frame)
        let answers = LineTransport.process(lspInput, server: lsp.server, maxMessageBytes: 1 << 20).map { framed -> JSON in
            let text = String(decoding: framed, as: UTF8.self)
            let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            return (try? JSONParser.parse(Array(body.utf8)).value) ?? .null
        }
        #expect(answers.map { $0["id"] } == [1, 2, 3, 4])
        #expect(answers[1]["error"]?["code"] == -32800)
        #expect(answers[1]["error"]?["data"]?["reason"] == "request_cancelled")
        #expect(answers[2]["result"]?["name"] == "Made")
        #expect(answers[3]["result"]?["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Made"])

        let mcp = FacetClient(admin.service)
        let mcpInput = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
            #"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"teams_create","arguments":{"name":"Dropped"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a","reason":"user"}}"#,
            #"{"jsonrpc":"2.0","id":"b","method":"teams.list"}"#,
        ].map { Array(($0 + "\n").utf8) }.flatMap { $0 }
        let lines = LineTransport.process(mcpInput, server: mcp.server, maxMessageBytes: 1 << 20).compactMap { try? JSONParser.parse($0.dropLast()).value }
        #expect(lines.map { $0["id"] } == [1, "b"])
        #expect(lines[1]["result"]?["items"]?.arrayValue?.count == 1)
        #expect(mcp.facet.cancelled == ["\"a\""])
    }

    /// What the look-ahead must not take for a cancel: a cancel that is itself an invalid
    /// request, one naming a null or fractional id, the other protocol's cancel.
    @Test func onlyAValidCancelOfThisProtocolCancels() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        let input = [
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"#,
            #"{"jsonrpc":"2.0","id":5,"method":"service.info"}"#,
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5},"x":1}"#,
            #"{"jsonrpc":2,"method":"notifications/cancelled","params":{"requestId":5}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":5}}"#,
            #"{"jsonrpc":"2.0","id":null,"method":"service.info"}"#,
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":null}}"#,
            #"{"jsonrpc":"2.0","id":0.5,"method":"service.info"}"#,
            #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":0.5}}"#,
            #"{"jsonrpc":"2.0","id":7,"method":"service.info"}"#,
        ].map { Array(($0 + "\n").utf8) }.flatMap { $0 }
        let answers = LineTransport.process(input, server: c.server, maxMessageBytes: 1 << 20).compactMap { try? JSONParser.parse($0.dropLast()).value }
        #expect(answers.filter { $0["result"] != nil }.map { $0["id"] } == [0, 5, .null, .number("0.5"), 7])
        #expect(answers.filter { $0["error"] != nil }.map { $0["error"]?["code"] } == [-32600, -32600])
    }

    /// `initialize` and `shutdown` are requests: as notifications they change nothing, and an
    /// LSP `processId` must be an integer or null.
    @Test func lifecycleNotificationsThatMustBeRequests() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        #expect(c.send("initialize", ["protocolVersion": "2025-06-18"], notification: true) == nil)
        #expect(c.facet.mode == .plain)
        #expect(c.send("initialize", ["processId": "x", "capabilities": [:]])?["error"]?["code"] == -32602)
        #expect(c.facet.mode == .plain)
        #expect(c.result("initialize", ["processId": 12, "capabilities": [:]])["serverInfo"] != nil)
        #expect(c.send("shutdown", nil, notification: true) == nil)
        #expect(!c.facet.shutDown)
        #expect(c.result("session.whoami")["user"] != nil)
    }

    /// Content-Length framing: a JSON message sent without a frame is answered as a broken frame,
    /// not taken for a header and dropped without a word.
    @Test func anUnframedMessageInAFramedStreamIsAnswered() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        func frame(_ json: String) -> [UInt8] { Array("Content-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8) }
        let input = frame(#"{"jsonrpc":"2.0","id":1,"method":"service.info"}"#)
            + Array(#"{"jsonrpc":"2.0","id":2,"method":"service.info"}"#.utf8) + [0x0A]
            + frame(#"{"jsonrpc":"2.0","id":3,"method":"service.info"}"#)
        let text = LineTransport.process(input, server: c.server, maxMessageBytes: 1 << 20).map { String(decoding: $0, as: UTF8.self) }.joined()
        #expect(text.contains(#""id":1,"result""#))
        #expect(text.contains(#""reason":"invalid_frame""#), "\(text)")
    }

    @Test func progressTokenIsAStringOrAnInteger() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        _ = c.result("initialize", Self.initializeMCP)
        for token: JSON in [.object(JSONObject(["x": .int(1)])), .number("1.5"), .bool(true), .null] {
            let r = c.send("tools/call", ["name": "teams_list", "arguments": [:], "_meta": ["progressToken": token]])
            #expect(r?["error"]?["code"] == -32602, "\(token)")
        }
        #expect(c.send("tools/call", ["name": "teams_list", "_meta": "x"])?["error"]?["code"] == -32602)
        for token: JSON in ["t", 12, .number("18446744073709551616")] {
            #expect(c.send("tools/call", ["name": "teams_list", "_meta": ["progressToken": token]])?["result"]?["isError"] == false)
        }
    }

    @Test func toolsListMatchesTheTableAndDispatch() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        let tools = try #require(c.result("tools/list")["tools"]?.arrayValue)
        let expected = Service.methods.filter { !ServiceTools.excluded.contains($0.name) }
        #expect(tools.map { $0["name"]?.stringValue ?? "" } == expected.map { ServiceTools.toolName($0.name) })
        let discovered = Set(Service.openRPC["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        #expect(discovered == Set(Service.methods.map(\.name)))
        let pattern = try Regex("^[A-Za-z0-9_-]{1,64}$")
        for (tool, method) in zip(tools, expected) {
            let name = tool["name"]?.stringValue ?? ""
            #expect(name.wholeMatch(of: pattern) != nil, "\(name)")
            #expect(admin.service.hasMethod(method.name))
            let input = try #require(tool["inputSchema"]?.objectValue)
            #expect(input["type"] == "object")
            #expect(input["additionalProperties"] == false)
            for k in ["oneOf", "anyOf", "allOf"] { #expect(input[k] == nil, "\(name) has top-level \(k)") }
            #expect(tool["outputSchema"]?["type"] == "object")
            let text = JSONWriter.string(tool)
            #expect(!text.contains("$ref"), "\(name) refers to a schema a host cannot resolve")
            let hints = try #require(tool["annotations"]?.objectValue)
            #expect(hints["readOnlyHint"] == .bool(method.effect == .reads))
            #expect(hints["openWorldHint"] == false)
            #expect(tool["description"]?.stringValue?.hasPrefix(method.summary) == true)
        }
        let destructive = tools.filter { $0["annotations"]?["destructiveHint"] == true }.compactMap { $0["name"]?.stringValue }
        #expect(Set(destructive) == ["credentials_delete", "credentials_deleteMedia", "users_deactivate", "tokens_revoke", "teams_removeMember"])
        let names = Set(tools.compactMap { $0["name"]?.stringValue })
        for secret in ["setup_createAdmin", "session_login", "session_changePassword", "users_add", "users_resetPassword"] {
            #expect(!names.contains(secret), "\(secret) would pass a password through an assistant")
        }
    }

    @Test func fewerTools() throws {
        let (admin, _) = try bootstrap()
        let readOnly = FacetClient(admin.service, tools: .readOnly).result("tools/list")["tools"]?.arrayValue ?? []
        #expect(!readOnly.isEmpty && readOnly.allSatisfy { $0["annotations"]?["readOnlyHint"] == true })
        let teams = FacetClient(admin.service, tools: .groups(["teams"])).result("tools/list")["tools"]?.arrayValue ?? []
        #expect(teams.compactMap { $0["name"]?.stringValue }.allSatisfy { $0.hasPrefix("teams_") } && teams.count >= 5)
        #expect(ToolSelection.parse("nope").failure != nil)
        #expect(CommandLineOptions.parse(["--tools", "credentials,media"], environment: [:]) != .usage(""))
        if case .usage(let m) = CommandLineOptions.parse(["--tools", "bogus"], environment: [:]) { #expect(m.contains("bogus")) }
        else { Issue.record("--tools bogus was taken") }
        // A method left out of the tools is still callable by name.
        let c = FacetClient(admin.service, tools: .readOnly)
        #expect(c.tool("teams_create", ["name": "A"])["isError"] == nil)
        #expect(c.result("teams.create", ["name": "A"])["name"] == "A")
    }

    @Test func toolCallsMatchTheirOutputSchemas() throws {
        let (admin, me) = try bootstrap()
        let c = FacetClient(admin.service)
        _ = c.result("initialize", Self.initializeMCP)
        let schemas = Dictionary(uniqueKeysWithValues: (c.result("tools/list")["tools"]?.arrayValue ?? []).map {
            ($0["name"]?.stringValue ?? "", $0["outputSchema"] ?? .null)
        })
        func call(_ name: String, _ args: JSON) -> JSON {
            let r = c.tool(name, args)
            #expect(r["isError"] == false, "\(name): \(JSONWriter.string(r))")
            let structured = r["structuredContent"] ?? .null
            #expect(MiniSchema.problems(structured, schemas[name] ?? .null) == [], "\(name)")
            #expect(r["content"]?[0]?["type"] == "text")
            return structured
        }
        let type = call("credentialTypes_create", ["name": "First Aid"])
        let typeID = type["id"] ?? .null
        let png = Fixtures.media("card.png", "image/png", Fixtures.png)
        let credential = call("credentials_add", ["userId": .string(me), "typeId": typeID, "issueDate": "2026-01-01", "media": [png]])
        let id = credential["id"] ?? .null
        _ = call("credentials_addVersion", ["credentialId": id, "issueDate": "2026-02-01"])
        for (name, args) in [("credentials_get", ["credentialId": id]), ("credentials_history", ["credentialId": id]),
                             ("credentials_list", [:]), ("users_list", [:]), ("session_whoami", [:]), ("settings_get", [:]),
                             ("credentialTypes_list", [:]), ("audit_list", [:]), ("teams_list", [:]), ("tokens_list", [:])] as [(String, JSON)] {
            _ = call(name, args)
        }
        let team = call("teams_create", ["name": "Crew"])
        _ = call("teams_addMember", ["teamId": team["id"] ?? .null, "userId": .string(me)])
        _ = call("compliance_report", ["teamId": team["id"] ?? .null])
        // media_get: the image travels as an image item, the text leaves the bytes out.
        let mediaID = try #require(credential["latestVersion"]?["media"]?[0]?["id"])
        let media = c.tool("media_get", ["mediaId": mediaID])
        #expect(media["content"]?[1]?["type"] == "image")
        #expect(media["content"]?[1]?["mimeType"] == "image/png")
        #expect(media["content"]?[1]?["data"] == media["structuredContent"]?["dataBase64"])
        #expect(media["content"]?[0]?["text"]?.stringValue?.contains("dataBase64") == false)
        // credentials_delete without confirm: the preview as an isError result, nothing deleted.
        let preview = c.tool("credentials_delete", ["credentialId": id])
        #expect(preview["isError"] == true)
        #expect(preview["content"]?[0]?["text"]?.stringValue?.contains("confirmation_required") == true)
        #expect(preview["content"]?[0]?["text"]?.stringValue?.contains("\"versions\":2") == true)
        _ = call("credentials_get", ["credentialId": id])
        #expect(call("credentials_delete", ["credentialId": id, "confirm": true])["deleted"] == true)
    }

    @Test func failuresAreIsErrorResultsAndUnknownToolsAreErrors() throws {
        let (admin, _) = try bootstrap()
        let c = FacetClient(admin.service)
        let bad = c.tool("credentials_list", ["limit": 0, "colour": "red"])
        #expect(bad["isError"] == true && bad["structuredContent"] == nil)
        let text = bad["content"]?[0]?["text"]?.stringValue ?? ""
        #expect(text.contains("invalid_params") && text.contains("limit") && text.contains("colour"), "\(text)")
        let missing = c.tool("users_get", ["userId": "user_nope"])
        #expect(missing["content"]?[0]?["text"]?.stringValue?.contains("not_found") == true)
        let unknown = c.send("tools/call", ["name": "credentials.list", "arguments": [:]])
        #expect(unknown?["error"]?["code"] == -32602)
        #expect(c.send("tools/call", ["arguments": [:]])?["error"]?["code"] == -32602)
        // Same access rules: a signed-out connection gets an isError result naming the reason.
        _ = admin.ok("session.logout")
        let out = c.tool("session_whoami")
        #expect(out["isError"] == true)
        #expect(out["content"]?[0]?["text"]?.stringValue?.contains("unauthenticated") == true)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { return f } else { return nil } }
}

/// The executable ends at LSP `exit`: 0 after `shutdown`, else 1, without waiting for its input.
struct HostProcessTests {
    static func frame(_ json: String) -> [UInt8] { Array("Content-Length: \(json.utf8.count)\r\n\r\n\(json)".utf8) }

    @Test func exitAfterShutdownEndsZeroAndNothingAfterIsRead() throws {
        let input = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"capabilities":{}}}"#,
            #"{"jsonrpc":"2.0","method":"initialized","params":{}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"service.info"}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"shutdown","params":null}"#,
            #"{"jsonrpc":"2.0","method":"exit","params":null}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"ping"}"#,
        ].flatMap(Self.frame)
        let r = try runService(["--db", ":memory:"], input: input)
        #expect(r.status == 0)
        let text = String(decoding: r.stdout, as: UTF8.self)
        #expect(text.components(separatedBy: "Content-Length:").count - 1 == 3, "\(text)")
        #expect(text.contains(#""id":3,"result":null"#))
        #expect(!text.contains(#""id":4"#))
    }

    /// Through the executable: an editor's burst, with a cancel behind the request it names.
    @Test func aCancelledRequestIsAnsweredWithoutRunning() throws {
        let input = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":1,"capabilities":{}}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"service.info"}"#,
            #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":2}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#,
            #"{"jsonrpc":"2.0","method":"exit"}"#,
        ].flatMap(Self.frame)
        let r = try runService(["--db", ":memory:"], input: input)
        let text = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0)
        #expect(text.contains(#"{"jsonrpc":"2.0","id":2,"error":{"code":-32800"#), "\(text)")
        #expect(text.contains(#""id":3,"result":null"#))
    }

    @Test func exitWithoutShutdownEndsOneAtOnce() throws {
        let live = try LiveService(["--db", ":memory:"])
        live.send(String(decoding: Self.frame(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"capabilities":{}}}"#)
                         + Self.frame(#"{"jsonrpc":"2.0","method":"exit"}"#), as: UTF8.self))
        // stdin stays open: the process must end by itself.
        let ended = live.waitForExit(seconds: 5)
        #expect(ended?.status == 1)
        live.closeInput()
    }
}
