import Foundation
import Testing
import JSONRPC

/// Reads Content-Length frames from a running service's stdout.
final class FrameReader {
    private let handle: FileHandle
    private var pending: [UInt8] = []

    init(_ handle: FileHandle) { self.handle = handle }

    /// The next frame's body parsed, or nil at end of output (or a frame that is not well formed).
    func next() -> JSON? {
        let separator = Array("\r\n\r\n".utf8)
        while true {
            if let end = pending.indices.first(where: { pending[$0...].starts(with: separator) }) {
                let header = String(decoding: pending[..<end], as: UTF8.self)
                guard header.hasPrefix("Content-Length: "), let n = Int(header.dropFirst("Content-Length: ".count)) else { return nil }
                if pending.count >= end + 4 + n {
                    let body = Array(pending[(end + 4)..<(end + 4 + n)])
                    pending.removeSubrange(..<(end + 4 + n))
                    return try? JSONParser.parse(body).value
                }
            }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            pending.append(contentsOf: chunk)
        }
    }
}

/// The transport's bounds against a hostile or stalled client, through the real executable.
struct TransportLimitsTests {
    /// A 20 KB header block (with a body that must not run), a 50 MB one, 100,000 CRLFs, then a
    /// valid message: one `invalid_frame` per bad block, the message answered, memory flat.
    @Test func oversizeHeaderBlocksAreOneErrorEachAndTheNextMessageIsAnswered() throws {
        let s = try LiveService(["--db", ":memory:"])
        let hidden = #"{"jsonrpc":"2.0","id":"hidden","method":"service.info"}"#
        let info = #"{"jsonrpc":"2.0","id":1,"method":"service.info"}"#
        let writer = Thread {
            let w = s.stdin.fileHandleForWriting
            try? w.write(contentsOf: Data(("Content-Length: \(hidden.utf8.count)\r\nX-Padding: " + String(repeating: "p", count: 20_000) + "\r\n\r\n" + hidden).utf8))
            try? w.write(contentsOf: Data("X-Junk: ".utf8))
            let junk = Data(repeating: UInt8(ascii: "j"), count: 1 << 20)
            for _ in 0..<50 { try? w.write(contentsOf: junk) }  // one line of 50 MiB
            try? w.write(contentsOf: Data("\r\n\r\n".utf8))
            try? w.write(contentsOf: Data(String(repeating: "\r\n", count: 100_000).utf8))
            try? w.write(contentsOf: Data("Content-Length: \(info.utf8.count)\r\n\r\n\(info)".utf8))
        }
        writer.start()
        let out = FrameReader(s.stdout.fileHandleForReading)
        for block in ["20 KB", "50 MB"] {
            let error = out.next()
            #expect(error?["id"] == .null, "\(block)")
            #expect(error?["error"]?["code"] == -32600, "\(block)")
            #expect(error?["error"]?["data"]?["reason"] == "invalid_frame", "\(block): \(String(describing: error))")
        }
        let answer = out.next()
        #expect(answer?["id"] == 1)
        #expect(answer?["result"]?["name"] == "credentials-rpc")
        let peak = try #require(s.peakMemoryKiB())
        #expect(peak < 48 * 1024, "peak RSS \(peak) KiB after a 50 MiB header block")
        s.closeInput()
        #expect(out.next() == nil)  // nothing more: no error for the line ends
        #expect(s.waitForExit()?.status == 0)
    }

    /// Sends `count` discovery calls (each answer is the whole OpenRPC document, about 60 KB) and
    /// never reads them, waits for the service to block on its full stdout, sends SIGTERM, and
    /// returns how the process ended and how long after the signal.
    func stopWithAStalledReader(_ s: LiveService, count: Int = 200) -> (exit: (status: Int32, signaled: Bool)?, seconds: Double) {
        let request = #"{"jsonrpc":"2.0","id":7,"method":"rpc.discover"}"# + "\n"
        s.send(String(repeating: request, count: count))
        usleep(500_000)  // the answers fill the pipe (1 MiB) long before this
        let sent = Date()
        kill(s.process.processIdentifier, SIGTERM)
        let exit = s.waitForExit(seconds: 5)
        return (exit, Date().timeIntervalSince(sent))
    }

    @Test func sigtermEndsTheProcessWhenTheReaderHasStoppedReading() throws {
        let s = try LiveService(["--db", ":memory:"])
        let (exit, seconds) = stopWithAStalledReader(s)
        #expect(exit != nil, "still running 5 s after SIGTERM, blocked writing to a reader that stopped reading")
        #expect(exit?.status == 0)
        #expect(exit?.signaled == false)
        #expect(seconds < 5)
    }

    @Test func aWriteAcknowledgedBeforeSuchAStopIsInTheDatabase() throws {
        let path = tempDatabasePath()
        let (s, typeID, _) = try signedInService(path)
        #expect(typeID.hasPrefix("ctype_"))  // answered, so committed
        let (exit, _) = stopWithAStalledReader(s)
        #expect(exit?.status == 0)
        let login = JSONWriter.string(["jsonrpc": "2.0", "id": 1, "method": "session.login", "params": ["email": "ada@example.com", "password": .string(adminPassword)]])
        let list = #"{"jsonrpc":"2.0","id":2,"method":"credentialTypes.list"}"#
        let r = try runService(["--db", path], input: Array((login + "\n" + list + "\n").utf8))
        #expect(r.status == 0)
        let types = r.lines.last.flatMap { try? JSONParser.parse($0).value }?["result"]?["items"]?.arrayValue ?? []
        #expect(types.map { $0["id"]?.stringValue } == [typeID])
    }
}
