import Foundation
import Testing
import JSONRPC

/// Replays every file of `Protocol/conformance/` in process, through `LineTransport.process` (the
/// same reader and server as the executable), and through the real executable over pipes.
struct ConformanceTests {
    static let files: [String] = {
        let dir = packageRoot.appendingPathComponent("Protocol/conformance")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }()

    @Test func thereAreVectors() throws {
        #expect(Self.files.count >= 4)
        let total = try VectorFile.all().reduce(0) { $0 + $1.requests.count }
        #expect(total >= 50)
    }

    @Test("vectors replayed in process", arguments: files)
    func inProcess(file: String) throws {
        let v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        let (server, _) = try makeServer()
        compareResponses(v, LineTransport.process(v.input, server: server, maxMessageBytes: v.maxMessageBytes))
    }

    @Test("vectors replayed through the executable", arguments: files)
    func overPipes(file: String) throws {
        let v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        let r = try runService(["--db", ":memory:", "--max-message-bytes", String(v.maxMessageBytes)], input: v.input,
                               environment: ["CREDENTIALS_RPC_FIXED_TIME": vectorTime])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty || r.stdout.last == 0x0A)
        #expect(r.stderr.isEmpty, "stderr: \(r.stderr)")
        compareResponses(v, r.lines)
    }
}
