import Foundation
import Testing
@testable import JSONRPC

/// Content-Length framing keeps its bounds whatever comes between messages: a header block over
/// 8 KiB is one `invalid_frame` however it is split into reads and however large it is, and any
/// number of line ends between messages costs no answer and no memory.
struct FramingBoundsTests {
    /// Input made of byte patterns repeated to a size, produced as it is read: a 50 MB input is
    /// never built in memory.
    final class Segments {
        private var parts: [(tile: [UInt8], period: Int, total: Int)] = []
        private var index = 0
        private var offset = 0  // bytes of parts[index] already read

        init(_ segments: [([UInt8], Int)]) {
            for (pattern, total) in segments where total > 0 {
                let copies = max(1, (64 * 1024) / pattern.count + 2)
                parts.append((Array([[UInt8]](repeating: pattern, count: copies).joined()), pattern.count, total))
            }
        }

        func read(_ ptr: UnsafeMutableRawPointer, _ count: Int) -> Int {
            guard index < parts.count else { return 0 }
            let p = parts[index]
            let phase = offset % p.period
            let n = min(count, p.total - offset, p.tile.count - phase)
            p.tile.withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress! + phase, byteCount: n) }
            offset += n
            if offset == p.total { index += 1; offset = 0 }
            return n
        }
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    func frame(_ body: String) -> [UInt8] { bytes("Content-Length: \(body.utf8.count)\r\n\r\n" + body) }
    let request = #"{"jsonrpc":"2.0","id":1,"method":"m"}"#

    /// Every event to the end (a message as its text, to keep failures readable), and the most
    /// bytes the reader held at once.
    func events(_ segments: [([UInt8], Int)], chunkSize: Int = 64 * 1024, max: Int = 1 << 20) -> ([String], peak: Int) {
        let input = Segments(segments)
        var r = LineReader(maxLineBytes: max, chunkSize: chunkSize) { input.read($0, $1) }
        var out: [String] = []
        var peak = 0
        while out.count < 20 {
            let e = r.next()
            peak = Swift.max(peak, r.bufferedBytes)
            if case .line(let b) = e { out.append(String(decoding: b, as: UTF8.self)) } else { out.append("\(e)") }
            if e == .end { break }
        }
        return (out, peak)
    }

    func once(_ b: [UInt8]) -> ([UInt8], Int) { (b, b.count) }

    /// A header block of exactly `size` bytes (its empty line included) with a usable length.
    func headerBlock(size: Int, body: String) -> [UInt8] {
        let head = "Content-Length: \(body.utf8.count)\r\nX-Pad: "
        return bytes(head + String(repeating: "p", count: size - head.utf8.count - 4) + "\r\n\r\n")
    }

    @Test(arguments: [7, 4096, 64 * 1024])
    func aHeaderBlockOf8KiBIsReadAndOneByteMoreIsOneError(chunkSize: Int) {
        let atLimit = headerBlock(size: 8192, body: request)
        #expect(atLimit.count == 8192)
        #expect(events([once(atLimit + bytes(request))], chunkSize: chunkSize).0 == [request, "end"])
        // One byte more: refused once; its body is skipped by the length it gave, unanswered.
        let over = headerBlock(size: 8193, body: #"{"jsonrpc":"2.0","id":"hidden","method":"m"}"#)
        let input = over + bytes(#"{"jsonrpc":"2.0","id":"hidden","method":"m"}"#) + frame(request)
        #expect(events([once(input)], chunkSize: chunkSize).0 == ["malformedFrame", request, "end"])
    }

    @Test func aTwentyKilobyteHeaderBlockIsOneErrorAndTheNextMessageIsRead() {
        let hidden = #"{"jsonrpc":"2.0","id":"hidden","method":"m"}"#
        let withLength = headerBlock(size: 20_000, body: hidden) + bytes(hidden)
        // Without a usable length the block's empty line is where reading goes on.
        let noLength = bytes("Content-Type: x\r\n" + String(repeating: "X-Junk: jjjjjjjj\r\n", count: 1200) + "\r\n")
        let twoLengths = bytes("Content-Length: 1\r\n" + String(repeating: "Content-Length: 2\r\n", count: 1200) + "\r\n")
        for block in [withLength, noLength, twoLengths] {
            let (seen, peak) = events([once(frame(request) + block + frame(request))])
            #expect(seen == [request, "malformedFrame", request, "end"])
            #expect(peak <= 8192 + 64 * 1024)
        }
    }

    @Test func aFiftyMegabyteHeaderBlockIsOneErrorAndIsNeverHeld() {
        let mb = 1 << 20
        // One line of 50 MB, then 50 MB in lines of 1 KB, then the empty line.
        let (seen, peak) = events([
            once(frame(request)), once(bytes("Content-Length: 5\r\nX-Junk: ")), ([UInt8(ascii: "j")], 50 * mb), once(bytes("\r\n")),
            (bytes(String(repeating: "j", count: 1022) + "\r\n"), 50 * mb), once(bytes("\r\n")), once(bytes("12345")), once(frame(request)),
        ])
        #expect(seen == [request, "malformedFrame", request, "end"])
        #expect(peak <= 8192 + 64 * 1024, "held \(peak) bytes")
    }

    @Test func anOversizeHeaderBlockCutOffByTheEndIsOneError() {
        let (seen, peak) = events([once(bytes("Content-Length: 5\r\n")), (bytes("X-Junk: jjjjjj\r\n"), 1 << 20)], chunkSize: 4096)
        #expect(seen == ["malformedFrame", "end"])
        #expect(peak <= 8192 + 4096)
    }

    @Test func tenMillionLineEndsBetweenMessagesCostNoAnswerAndNoMemory() {
        let (seen, peak) = events([
            once(frame(request)), (bytes("\r\n"), 20_000_000), (bytes("\n"), 1_000_000), once(frame(request)), (bytes("\r\n"), 200_000),
        ])
        #expect(seen == [request, request, "end"])
        #expect(peak <= 64 * 1024 + 100, "held \(peak) bytes")
    }

    /// Through the transport: exactly one `-32600 invalid_frame` answer with a null id per
    /// oversize block, and the message after it answered.
    @Test func eachOversizeBlockGetsExactlyOneAnswer() throws {
        let hidden = #"{"jsonrpc":"2.0","id":"hidden","method":"echo"}"#
        let input = headerBlock(size: 20_000, body: hidden) + bytes(hidden)
            + bytes("X-Junk: " + String(repeating: "j", count: 300_000) + "\r\n\r\n")
            + [UInt8](repeating: 0x0A, count: 100_000)
            + frame(#"{"jsonrpc":"2.0","id":2,"method":"echo"}"#)
        let out = LineTransport.process(input, server: RPCServer(handler: EchoHandler()), maxMessageBytes: 1 << 20)
        let bodies = try out.map { m -> JSON in
            let text = String(decoding: m, as: UTF8.self)
            let sep = try #require(text.range(of: "\r\n\r\n"))
            return try JSONParser.parse(Array(text[sep.upperBound...].utf8)).value
        }
        #expect(bodies.count == 3)
        for error in bodies.prefix(2) {
            #expect(error["id"] == .null)
            #expect(error["error"]?["code"] == -32600)
            #expect(error["error"]?["data"]?["reason"] == "invalid_frame")
        }
        #expect(bodies.last?["id"] == 2)
        #expect(bodies.last?["result"] != nil)
    }
}
