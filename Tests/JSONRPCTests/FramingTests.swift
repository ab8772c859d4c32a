import Foundation
import Testing
@testable import JSONRPC

/// LSP base protocol framing (`Content-Length: N`, an empty line, N bytes), chosen from the first
/// bytes of the input and answered in kind.
struct FramingTests {
    func framed(_ body: String, headers: String = "Content-Length: %d\r\n") -> [UInt8] {
        let b = Array(body.utf8)
        return Array(headers.replacingOccurrences(of: "%d", with: String(b.count)).utf8) + Array("\r\n".utf8) + b
    }

    /// Each response's header and body, checked to be well framed.
    func unframe(_ out: [[UInt8]]) -> [JSON] {
        out.compactMap { m in
            guard let sep = m.indices.first(where: { m[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else {
                Issue.record("no header end in \(String(decoding: m, as: UTF8.self))")
                return nil
            }
            let header = String(decoding: m[..<sep], as: UTF8.self)
            let body = Array(m[(sep + 4)...])
            #expect(header == "Content-Length: \(body.count)")
            return try? JSONParser.parse(body).value
        }
    }

    func run(_ input: [UInt8], max: Int = 1 << 20) -> (GroupHandler, [[UInt8]]) {
        let h = GroupHandler()
        return (h, LineTransport.process(input, server: RPCServer(handler: h), maxMessageBytes: max))
    }

    @Test func framedRequestsGetFramedAnswersInOneGroup() {
        let pretty = "{\n  \"jsonrpc\": \"2.0\",\n  \"id\": 2,\n  \"method\": \"b\"\n}"
        let input = framed(#"{"jsonrpc":"2.0","id":1,"method":"a"}"#)
            + framed(pretty, headers: "content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n")
            + framed(#"{"jsonrpc":"2.0","method":"note"}"#)
            + framed(#"{"jsonrpc":"2.0","id":"é","method":"c"}"#)
        let (h, out) = run(input)
        let answers = unframe(out)
        #expect(answers.map { $0["id"] } == [1, 2, "é"])
        #expect(answers.map { $0["result"] } == ["a grouped", "b grouped", "c grouped"])
        #expect(h.calls == ["a", "b", "note", "c"])
        #expect(h.groups == [4])
    }

    @Test func aHeaderBlockWithoutAUsableLengthIsRefusedAndReadingGoesOn() {
        for bad in ["Content-Type: x\r\n", "Content-Length: -1\r\n", "Content-Length: 1e3\r\n", "Content-Length: 5\r\nContent-Length: 5\r\n", "garbage\r\n"] {
            let input = framed("{}", headers: "Content-Length: %d\r\n") + Array((bad + "\r\n").utf8) + framed(#"{"jsonrpc":"2.0","id":7,"method":"m"}"#)
            let answers = unframe(run(input).1)
            #expect(answers.count == 3, "\(bad)")
            #expect(answers.first?["error"]?["code"] == -32600)  // {} is not a request
            #expect(answers.dropFirst().first?["error"]?["data"]?["reason"] == "invalid_frame", "\(bad)")
            #expect(answers.last?["id"] == 7, "\(bad)")
        }
    }

    @Test func anOversizeBodyIsSkippedByCountNotHeld() {
        let big = "{\"x\":\"" + String(repeating: "a", count: 300_000) + "\"}"
        let input = framed(big) + framed(#"{"jsonrpc":"2.0","id":1,"method":"m"}"#)
        let answers = unframe(run(input, max: 1000).1)
        #expect(answers.map { $0["error"]?["data"]?["reason"] ?? $0["result"] } == ["message_too_large", "m alone"])
    }

    @Test func aMessageCutOffByTheEndOfInputIsAnsweredNotLost() {
        let input = framed(#"{"jsonrpc":"2.0","id":1,"method":"m"}"#) + Array("Content-Length: 50\r\n\r\n{\"jsonrpc\"".utf8)
        let answers = unframe(run(input).1)
        #expect(answers.map { $0["error"]?["data"]?["reason"] ?? $0["result"] } == ["m alone", "invalid_frame"])
        // Line ends after the last message are not a message.
        #expect(unframe(run(framed(#"{"jsonrpc":"2.0","id":1,"method":"m"}"#) + Array("\r\n\r\n".utf8)).1).count == 1)
    }

    @Test func linesStayLinesWhenTheInputDoesNotStartWithContentLength() {
        for start in ["{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\n", "\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\n", "Content-Lengt\n", "C\n"] {
            let out = run(Array(start.utf8)).1
            #expect(out.allSatisfy { $0.last == 0x0A && !$0.starts(with: Array("Content".utf8)) }, "\(start)")
            #expect(out.count == 1)
        }
        #expect(run([]).1.isEmpty)
    }
}
