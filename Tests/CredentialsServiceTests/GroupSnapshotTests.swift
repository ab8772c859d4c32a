import Testing
@testable import JSONRPC
import CredentialsStore
@testable import CredentialsService

/// A group of reads shares one snapshot, but a request read from the input after that snapshot
/// was taken sees what other processes committed before it: a deactivation ends the session at
/// the user's next call even inside a pipelined burst.
struct GroupSnapshotTests {
    @Test func requestsReadLaterInAGroupSeeCommitsMadeMeanwhile() throws {
        let path = tempDatabasePath()
        let (admin, _) = try bootstrap(try Database(path: path))
        let samID = admin.addUser("sam@example.com")
        let sam = TestClient(db: try Database(path: path))
        sam.signInFirstTime("sam@example.com")
        let server = RPCServer(handler: sam.service)
        let whoami = Array(#"{"jsonrpc":"2.0","id":1,"method":"session.whoami"}"#.utf8) + [0x0A]
        let chunks = [whoami + whoami, whoami + whoami]
        var reads = 0
        // The second read of the burst comes after another connection deactivated sam.
        var reader = LineReader(maxLineBytes: 1 << 20, inputReady: { true }) { ptr, count in
            defer { reads += 1 }
            guard reads < chunks.count else { return 0 }
            if reads == 1 { admin.ok("users.deactivate", ["userId": .string(samID)]) }
            chunks[reads].withUnsafeBytes { ptr.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return chunks[reads].count
        }
        var answers: [JSON] = []
        LineTransport.serve(&reader, server: server) { messages, _ in
            answers += messages.compactMap { try? JSONParser.parse($0).value }
            return true
        }
        #expect(answers.count == 4)
        #expect(answers.prefix(2).allSatisfy { $0["result"]?["user"] != nil }, "\(answers)")
        #expect(answers.suffix(2).allSatisfy { $0["error"]?["code"] == -32001 }, "\(answers)")
    }
}
