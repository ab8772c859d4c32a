import Foundation
import Testing
import JSONRPC
import CredentialsStore

/// `credentials-rpc copy` as a person runs it: what it prints, and its exit status.
struct CopyCommandTests {
    @Test func aCopyReportsEachTableAndExitsZeroWhenItMatched() throws {
        let dir = tempDir()
        let from = dir.appendingPathComponent("from.sqlite3").path, to = dir.appendingPathComponent("to.sqlite3").path
        let setup = try runService(["--db", from], input: Array((#"{"jsonrpc":"2.0","id":1,"method":"setup.createAdmin","params":{"email":"ada@example.com","firstName":"Ada","lastName":"Admin","password":"Admin#1234"}}"# + "\n").utf8))
        #expect(setup.status == 0)
        let r = try runService(["copy", "--from", from, "--to", to], input: [])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("  users: 1 rows, matched"))
        #expect(r.stderr.contains("every table's rows and digest match"))
        // The copy serves: the admin signs in on it.
        let login = try runService(["--db", to], input: Array((#"{"jsonrpc":"2.0","id":1,"method":"session.login","params":{"email":"ada@example.com","password":"Admin#1234"}}"# + "\n").utf8))
        #expect(try JSONParser.parse(login.lines[0]).value["result"]?["user"]?["email"] == "ada@example.com")
        // Again into the same target: it is no longer empty.
        let again = try runService(["copy", "--from", from, "--to", to], input: [])
        #expect(again.status == 1)
        #expect(again.stderr.contains("is not empty"))
    }

    @Test func aFailedCopyExitsOneWithoutThePassword() throws {
        let dir = tempDir()
        let from = dir.appendingPathComponent("from.sqlite3").path
        _ = try runService(["--db", from], input: [])
        let r = try runService(["copy", "--from", from, "--to", "postgresql://bob:CopyPw9secret@/db?host=/nonexistent-crpc&connect_timeout=2"], input: [])
        #expect(r.status == 1)
        #expect(r.stderr.contains("copy failed, the target is unchanged"))
        #expect(r.stderr.contains("bob:***@"))
        #expect(!r.stderr.contains("CopyPw9secret"))
        let usage = try runService(["copy", "--from", from], input: [])
        #expect(usage.status == 2)
    }
}
