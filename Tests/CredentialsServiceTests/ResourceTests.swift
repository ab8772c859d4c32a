import Foundation
import Testing
import CredentialsCore
import JSONRPC
import MediaSamples

/// Memory stays bounded whatever a client sends or fails to read (contract section 9).
/// Figures are peak resident memory (VmHWM) of a debug build; the bounds leave room for it.
struct ResourceTests {
    @Test func aStreamOfOversizeLinesKeepsMemoryFlat() throws {
        let s = try LiveService(["--db", ":memory:", "--max-message-bytes", String(1 << 20)])
        let line = Data(repeating: UInt8(ascii: "q"), count: 4 << 20) + Data([0x0A])
        let writer = Thread { for _ in 0..<40 { try? s.stdin.fileHandleForWriting.write(contentsOf: line) } }
        writer.start()
        for _ in 0..<40 { #expect(s.readLine()?["error"]?["data"]?["reason"] == "message_too_large") }
        let peak = try #require(s.peakMemoryKiB())
        #expect(peak < 48 * 1024, "peak \(peak) KiB after 160 MiB of oversize lines")
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func aHugeBatchIsCutOffNotBuffered() throws {
        let member = #"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#
        let line = "[" + Array(repeating: member, count: 1000).joined(separator: ",") + "]\n"
        let s = try LiveService(["--db", ":memory:"])
        s.send(line)
        let answer = try #require(s.readLine()?.arrayValue)
        #expect(answer.count == 1000)
        let refused = answer.filter { $0["error"]?["data"]?["reason"] == "batch_too_large" }.count
        #expect(refused > 0 && refused < 1000)
        let peak = try #require(s.peakMemoryKiB())
        #expect(peak < 160 * 1024, "peak \(peak) KiB for a batch of 1000 discovery calls")
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func theLargestMediaFileGoesInAndOut() throws {
        let path = tempDatabasePath()
        let (s, type, admin) = try signedInService(path)
        let bytes = MediaSamples.pdf(size: 10 << 20, filler: [0x42])
        let added = try #require(s.addCredentialRaw(admin, type, bytes))
        let media = try #require(added["result"]?["latestVersion"]?["media"]?[0])
        #expect(media["byteCount"] == .int(10 << 20))
        let got = s.call("media.get", ["mediaId": media["id"]!])
        #expect(got?["result"]?["dataBase64"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init) == bytes)
        let peak = try #require(s.peakMemoryKiB())
        #expect(peak < 256 * 1024, "peak \(peak) KiB for a 10 MiB file in and out")
        // One byte more is refused.
        let tooBig = s.addCredentialRaw(admin, type, bytes + [0x42])
        #expect(tooBig?["error"]?["data"]?["reason"] == "media_too_large")
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func aClientThatStopsReadingMakesTheServiceWaitNotGrow() throws {
        signal(SIGPIPE, SIG_IGN)
        let s = try LiveService(["--db", ":memory:"])
        let count = 600  // each answer is the whole OpenRPC document: the pipe fills many times over
        let request = Data((#"{"jsonrpc":"2.0","id":7,"method":"rpc.discover"}"# + "\n").utf8)
        let writer = Thread { for _ in 0..<count { try? s.stdin.fileHandleForWriting.write(contentsOf: request) }; s.closeInput() }
        writer.start()
        // Nobody reads: the service fills the pipe and then waits in write(2).
        usleep(1_500_000)
        #expect(s.process.isRunning)
        let waiting = try #require(s.peakMemoryKiB())
        #expect(waiting < 64 * 1024, "peak \(waiting) KiB while its reader was away")
        // Reading again, every answer arrives.
        var answers = 0
        while let line = s.readLine() {
            #expect(line["id"] == 7)
            answers += 1
        }
        #expect(answers == count)
        #expect(s.waitForExit()?.status == 0)
    }
}

extension LiveService {
    func addCredentialRaw(_ user: String, _ type: String, _ bytes: [UInt8]) -> JSON? {
        call("credentials.add", ["userId": .string(user), "typeId": .string(type), "issueDate": "2026-01-01",
                                 "media": [Fixtures.media("big.pdf", "application/pdf", bytes)]])
    }
}
