import Foundation
import Testing
@testable import JSONRPC

struct LineReaderTests {
    /// A reader over `chunks`, delivered one read at a time.
    func reader(_ chunks: [[UInt8]], max: Int = 100, chunkSize: Int = 8) -> LineReader {
        var queue = chunks
        return LineReader(maxLineBytes: max, chunkSize: chunkSize) { ptr, count in
            guard !queue.isEmpty else { return 0 }
            var c = queue.removeFirst()
            if c.count > count { queue.insert(Array(c[count...]), at: 0); c = Array(c[..<count]) }
            c.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress!, byteCount: c.count) }
            return c.count
        }
    }

    func events(_ r: inout LineReader) -> [LineReader.Event] {
        var out: [LineReader.Event] = []
        while true {
            let e = r.next()
            out.append(e)
            if e == .end || out.count > 1000 { return out }
        }
    }

    func line(_ s: String) -> LineReader.Event { .line(Array(s.utf8)) }

    @Test func splitsLinesAcrossChunksAndKeepsALastLineWithoutNewline() {
        var r = reader([Array("ab\ncd".utf8), Array("ef\r\n\n  \r\ngh".utf8)])
        #expect(events(&r) == [line("ab"), line("cdef"), line("gh"), .end])
    }

    @Test func emptyInputEndsAtOnce() {
        var r = reader([])
        #expect(events(&r) == [.end])
    }

    @Test func byteOrderMarkOnlyAtStreamStart() {
        var r = reader([[0xEF, 0xBB, 0xBF] + Array("a\n".utf8) + [0xEF, 0xBB, 0xBF] + Array("b\n".utf8)])
        #expect(events(&r) == [line("a"), .line([0xEF, 0xBB, 0xBF] + Array("b".utf8)), .end])
    }

    @Test func oversizeLineIsReportedOnceAndSkippedWithoutHoldingIt() {
        let long = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        var chunks: [[UInt8]] = [Array("ok\n".utf8)]
        for i in stride(from: 0, to: long.count, by: 7) { chunks.append(Array(long[i..<min(i + 7, long.count)])) }
        chunks.append(Array("\nnext\n".utf8))
        var r = reader(chunks, max: 50, chunkSize: 16)
        var seen: [LineReader.Event] = []
        var peak = 0
        while true {
            let e = r.next()
            peak = max(peak, r.bufferedBytes)
            seen.append(e)
            if e == .end { break }
        }
        #expect(seen == [line("ok"), .oversize, line("next"), .end])
        #expect(peak <= 50 + 16)
    }

    @Test func lineExactlyAtTheLimitIsAcceptedAndOneMoreIsNot() {
        let at = String(repeating: "y", count: 20)
        var r = reader([Array("\(at)\n\(at)z\n".utf8)], max: 20, chunkSize: 64)
        #expect(events(&r) == [line(at), .oversize, .end])
    }

    @Test func oversizeLastLineWithoutNewline() {
        var r = reader([Array(String(repeating: "q", count: 300).utf8)], max: 20, chunkSize: 16)
        #expect(events(&r) == [.oversize, .end])
    }

    @Test func stopWhileWaiting() {
        var r = LineReader(maxLineBytes: 10) { _, _ in nil }
        #expect(r.next() == .stopped)
    }

    @Test func processAnswersInOrderAndOversizeWithNullId() throws {
        let input = Array(#"{"jsonrpc":"2.0","id":1,"method":"echo"}"#.utf8) + [0x0A]
            + [UInt8](repeating: 0x20, count: 5) + [UInt8](repeating: UInt8(ascii: "a"), count: 500) + [0x0A]
            + Array(#"{"jsonrpc":"2.0","id":2,"method":"echo"}"#.utf8)
        let out = LineTransport.process(input, server: RPCServer(handler: EchoHandler()), maxMessageBytes: 100)
        #expect(out.count == 3)
        #expect(out.allSatisfy { $0.last == 0x0A && $0.dropLast().firstIndex(of: 0x0A) == nil })
        let values = try out.map { try JSONParser.parse($0.dropLast()).value }
        #expect(values[0]["id"] == 1)
        #expect(values[1]["id"] == .null)
        #expect(values[1]["error"]?["code"] == -32600)
        #expect(values[1]["error"]?["data"]?["reason"] == "message_too_large")
        #expect(values[2]["id"] == 2)
    }
}

/// The service's stdout, when it is a pipe, holds 1 MiB, so a large answer is one `write`.
struct OutputPipeTests {
    @Test func aPipeIsWidenedAndAFileIsLeftAlone() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let F_GETPIPE_SZ: Int32 = 1032
        #expect(fcntl(fds[1], F_GETPIPE_SZ) == 65536)
        LineTransport.widenPipe(fds[1])
        #expect(fcntl(fds[1], F_GETPIPE_SZ) == 1 << 20)
        let file = open("/dev/null", O_WRONLY)
        defer { close(file) }
        LineTransport.widenPipe(file)  // not a pipe: nothing happens, nothing breaks
        #expect(fcntl(file, F_GETPIPE_SZ) == -1)
    }
}
