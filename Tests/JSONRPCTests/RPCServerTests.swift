import Testing
@testable import JSONRPC

/// A handler with two methods, recording what ran, so envelope rules are tested without the service.
final class EchoHandler: RPCMethodHandler {
    var calls: [String] = []
    func hasMethod(_ method: String) -> Bool { method == "echo" || method == "fail" }
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        calls.append(method)
        if method == "fail" { return .failure(RPCError(ErrorCode(rawValue: -32004), "nope", reason: "conflict")) }
        return .success(.object(params))
    }
}

struct RPCServerTests {
    func run(_ line: String) -> (JSON?, EchoHandler) {
        let h = EchoHandler()
        let out = RPCServer(handler: h).handle(line: Array(line.utf8))
        return (out.map { try! JSONParser.parse($0).value }, h)
    }

    func rawResponse(_ line: String) -> String? {
        RPCServer(handler: EchoHandler()).handle(line: Array(line.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    func code(_ r: JSON?) -> Int? { r?["error"]?["code"]?.intValue }

    @Test func successEchoesIdAndResult() {
        let (r, h) = run(#"{"jsonrpc":"2.0","id":7,"method":"echo","params":{"a":1}}"#)
        #expect(r == ["jsonrpc": "2.0", "id": 7, "result": ["a": 1]])
        #expect(h.calls == ["echo"])
    }

    @Test("ids come back byte for byte", arguments: [
        "1.50", "12345678901234567890", "-0", "1e3", #""\u0041b""#, #""""#, "null", "1E+2",
    ])
    func idsEchoExactly(id: String) throws {
        let raw = try #require(rawResponse(#"{"jsonrpc":"2.0","id":\#(id),"method":"echo"}"#))
        #expect(raw.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"#))
        // The same for an invalid request whose id can be read.
        let bad = try #require(rawResponse(#"{"jsonrpc":"1.0","id":\#(id),"method":"echo"}"#))
        #expect(bad.hasPrefix(#"{"jsonrpc":"2.0","id":\#(id),"error""#))
    }

    @Test func nullIdIsARequestNotANotification() {
        let (r, _) = run(#"{"jsonrpc":"2.0","id":null,"method":"echo"}"#)
        #expect(r?["id"] == .null)
        #expect(r?["result"] == [:])
    }

    @Test func notificationsAreRunButNeverAnswered() {
        let (r, h) = run(#"{"jsonrpc":"2.0","method":"echo"}"#)
        #expect(r == nil)
        #expect(h.calls == ["echo"])
        #expect(run(#"{"jsonrpc":"2.0","method":"missing"}"#).0 == nil)
        #expect(run(#"{"jsonrpc":"2.0","method":"fail"}"#).0 == nil)
        #expect(run(#"{"jsonrpc":"2.0","method":"echo","params":[1]}"#).0 == nil)
    }

    @Test("an invalid envelope is -32600, echoing a readable id", arguments: [
        (#"{"jsonrpc":"2.0","id":1}"#, true),                                // no method
        (#"{"jsonrpc":"2.0","id":1,"method":5}"#, true),                     // method not a string
        (#"{"id":1,"method":"echo"}"#, true),                                 // no jsonrpc
        (#"{"jsonrpc":2.0,"id":1,"method":"echo"}"#, true),                  // jsonrpc a number
        (#"{"jsonrpc":"2.00","id":1,"method":"echo"}"#, true),
        (#"{"jsonrpc":"2.0","id":1,"method":"echo","params":"x"}"#, true),   // params a string
        (#"{"jsonrpc":"2.0","id":1,"method":"echo","params":null}"#, true),  // params null
        (#"{"jsonrpc":"2.0","id":1,"method":"echo","params":3}"#, true),
        (#"{"jsonrpc":"2.0","id":1,"method":"echo","params":true}"#, true),
        (#"{"jsonrpc":"2.0","id":1,"method":"echo","extra":1}"#, true),      // unknown member
        (#"{"jsonrpc":"2.0","id":{},"method":"echo"}"#, false),              // id of a wrong type
        (#"{"jsonrpc":"2.0","id":[1],"method":"echo"}"#, false),
        (#"{"jsonrpc":"2.0","id":true,"method":"echo"}"#, false),
        (#"{"jsonrpc":"2.0","method":"echo","params":"x"}"#, false),         // no id: still answered, id null
        ("1", false), (#""text""#, false), ("null", false),
    ] as [(String, Bool)])
    func invalidRequests(line: String, echoesID: Bool) {
        let (r, h) = run(line)
        #expect(code(r) == -32600)
        #expect(r?["error"]?["data"]?["reason"] == "invalid_request")
        #expect(r?["id"] == (echoesID ? 1 : .null))
        #expect(h.calls.isEmpty)
    }

    @Test func methodNotFoundComesBeforeParams() {
        #expect(code(run(#"{"jsonrpc":"2.0","id":1,"method":"nope","params":[1]}"#).0) == -32601)
        #expect(code(run(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}"#).0) == -32602)
        #expect(run(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":[1]}"#).1.calls.isEmpty)
    }

    @Test func parseErrorsHaveNullId() {
        let (r, _) = run(#"{"jsonrpc":"2.0","id":1,"method":"echo""#)
        #expect(code(r) == -32700)
        #expect(r?["id"] == .null)
        #expect(r?["error"]?["data"]?["reason"] == "parse_error")
    }

    @Test func batches() throws {
        // Empty batch: one error, not an array.
        let (empty, _) = run("[]")
        #expect(code(empty) == -32600)
        #expect(empty?["error"]?["data"]?["reason"] == "empty_batch")
        // Invalid members: an array with one error each.
        let (bad, _) = run("[1,2,3]")
        #expect(bad?.arrayValue?.count == 3)
        #expect(bad?.arrayValue?.allSatisfy { code($0) == -32600 && $0["id"] == .null } == true)
        // Mixed: answers for requests only, in order.
        let (mixed, h) = run(#"[{"jsonrpc":"2.0","id":"a","method":"echo"},{"jsonrpc":"2.0","method":"echo"},{"foo":"boo"},{"jsonrpc":"2.0","id":"b","method":"nope"},{"jsonrpc":"2.0","id":"c","method":"fail"}]"#)
        let items = try #require(mixed?.arrayValue)
        #expect(items.map { $0["id"] } == ["a", .null, "b", "c"])
        #expect(items.map(code) == [nil, -32600, -32601, -32004])
        #expect(h.calls == ["echo", "echo", "fail"])
        // All notifications: nothing at all.
        let (none, h2) = run(#"[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"echo"}]"#)
        #expect(none == nil)
        #expect(h2.calls.count == 2)
        // A nested batch is an invalid member.
        #expect(code(run(#"[[{"jsonrpc":"2.0","id":1,"method":"echo"}]]"#).0?.arrayValue?.first) == -32600)
    }

    @Test func batchSizeIsBounded() {
        let member = #"{"jsonrpc":"2.0","id":1,"method":"echo"}"#
        let h = EchoHandler()
        let server = RPCServer(handler: h, maxBatchSize: 3)
        let ok = server.handle(line: Array("[\(Array(repeating: member, count: 3).joined(separator: ","))]".utf8))
        #expect(ok.flatMap { try? JSONParser.parse($0).value.arrayValue?.count } == 3)
        let tooMany = server.handle(line: Array("[\(Array(repeating: member, count: 4).joined(separator: ","))]".utf8))
        let r = tooMany.flatMap { try? JSONParser.parse($0).value }
        #expect(r?["error"]?["data"]?["reason"] == "batch_too_large")
        #expect(h.calls.count == 3)
    }

    @Test func responsesAreOneLineOfValidJSON() throws {
        let h = EchoHandler()
        let out = try #require(RPCServer(handler: h).handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"t":"a\nb"}}"#.utf8)))
        #expect(!out.contains(0x0A))
        #expect(try JSONParser.parse(out).value["result"]?["t"] == "a\nb")
    }

    @Test func aBatchStopsRunningOnceItsAnswersPassTheBudget() throws {
        let h = EchoHandler()
        let server = RPCServer(handler: h, maxBatchResponseBytes: 100)
        let member = { (i: Int) in #"{"jsonrpc":"2.0","id":\#(i),"method":"echo","params":{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}"# }
        let line = "[" + (1...5).map(member).joined(separator: ",") + "," + #"{"jsonrpc":"2.0","method":"echo"}"# + "]"
        let out = try #require(server.handle(line: Array(line.utf8)))
        let items = try #require(try JSONParser.parse(out).value.arrayValue)
        #expect(items.count == 5)
        #expect(items.prefix(2).allSatisfy { $0["result"] != nil })
        #expect(items.dropFirst(2).allSatisfy { $0["error"]?["data"]?["reason"] == "batch_too_large" })
        #expect(items.map { $0["id"] } == [1, 2, 3, 4, 5])
        #expect(h.calls.count == 2)  // the rest, and the notification, were not run
    }
}
