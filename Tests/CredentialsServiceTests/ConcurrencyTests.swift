import TestScratch
import Foundation
import Testing
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples

/// Several processes on one file (contract section 9): four services write and read the same
/// database at once; nothing is lost, nothing answers "locked" or "busy", ids never collide, and
/// reads see only whole, committed credentials.
///
/// CI runs 300 requests a process; the dedicated run:
/// `CREDENTIALS_RPC_CONCURRENCY_REQUESTS=3000 swift test --filter ConcurrencyTests`.
struct ConcurrencyTests {
    @Test func fourProcessesOnOneFile() throws {
        let path = tempDatabasePath()
        try Self.fourProcesses(on: path, requests: environmentInt("CREDENTIALS_RPC_CONCURRENCY_REQUESTS", default: 300)) { try Database(path: path) }
    }

    /// The same four processes on one PostgreSQL database (shorter in CI; the long run sets
    /// `CREDENTIALS_RPC_CONCURRENCY_REQUESTS_POSTGRES`).
    @Test(.enabled(if: TestPostgres.runs, TestPostgres.skip)) func fourProcessesOnOnePostgresDatabase() throws {
        let scratch = try ScratchPostgresDatabase()
        try Self.fourProcesses(on: scratch.uri, requests: environmentInt("CREDENTIALS_RPC_CONCURRENCY_REQUESTS_POSTGRES", default: 200)) {
            try Database(postgres: ConnectionString(scratch.uri))
        }
    }

    /// Four admins in four processes on the store at `path` (a file or a URI), each adding,
    /// listing another's credentials and listing users; `open` opens it to check what was kept.
    static func fourProcesses(on path: String, requests perProcess: Int, open: () throws -> Database) throws {
        signal(SIGPIPE, SIG_IGN)
        // Four admins, one per process, and a type.
        var setup = [JSONWriter.string(["jsonrpc": "2.0", "id": 0, "method": "setup.createAdmin",
            "params": ["email": "a0@example.com", "firstName": "A", "lastName": "0", "password": .string(adminPassword)]])]
        setup.append(JSONWriter.string(["jsonrpc": "2.0", "id": 1, "method": "session.login", "params": ["email": "a0@example.com", "password": .string(adminPassword)]]))
        setup.append(JSONWriter.string(["jsonrpc": "2.0", "id": 2, "method": "credentialTypes.create", "params": ["name": "Licence"]]))
        for i in 1..<4 {
            setup.append(JSONWriter.string(["jsonrpc": "2.0", "id": .int(10 + i), "method": "users.add", "params": [
                "email": .string("a\(i)@example.com"), "firstName": "A", "lastName": .string("\(i)"), "role": "admin", "temporaryPassword": .string(tempPassword)]]))
        }
        let boot = try runService(["--db", path], input: Array(setup.map { $0 + "\n" }.joined().utf8))
        let results = try boot.lines.map { try JSONParser.parse($0).value }
        let typeID = try #require(results[2]["result"]?["id"]?.stringValue)
        var userIDs = [try #require(results[0]["result"]?["id"]?.stringValue)]
        userIDs += results[3...].compactMap { $0["result"]?["id"]?.stringValue }
        #expect(userIDs.count == 4)

        var services: [LiveService] = []
        var collectors: [ResponseCollector] = []
        var readers: [Thread] = []
        for p in 0..<4 {
            let s = try LiveService(["--db", path])
            let c = ResponseCollector()
            let t = Thread { c.consume(s.stdout.fileHandleForReading) }
            t.start()
            services.append(s); collectors.append(c); readers.append(t)
            var lines: [String] = []
            let password = p == 0 ? adminPassword : tempPassword
            lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": "login", "method": "session.login", "params": ["email": .string("a\(p)@example.com"), "password": .string(password)]]))
            if p > 0 {
                lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": "change", "method": "session.changePassword",
                                                "params": ["currentPassword": .string(tempPassword), "newPassword": .string(changedPassword)]]))
            }
            for i in 0..<perProcess {
                let other = userIDs[(p + 1 + i % 3) % 4]
                switch i % 4 {
                case 0, 1:
                    lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": .string("w\(i)"), "method": "credentials.add", "params": [
                        "userId": .string(userIDs[p]), "typeId": .string(typeID), "issueDate": "2026-01-01", "documentNumber": .string("P\(p)-\(i)"),
                        "media": [Fixtures.media("x.pdf", "application/pdf", MediaSamples.pdf(comment: Array("\(p)-\(i)".utf8)))]]]))
                case 2:
                    lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": .string("r\(i)"), "method": "credentials.list",
                                                    "params": ["userId": .string(other), "limit": 50]]))
                default:
                    lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": .string("u\(i)"), "method": "users.list", "params": ["limit": 10]]))
                }
            }
            let input = Data(lines.map { $0 + "\n" }.joined().utf8)
            Thread { try? s.stdin.fileHandleForWriting.write(contentsOf: input); try? s.stdin.fileHandleForWriting.close() }.start()
        }
        for s in services { #expect(s.waitForExit(seconds: 300)?.status == 0) }
        for t in readers { while t.isExecuting { usleep(1000) } }

        var credentialIDs: [String] = []
        for (p, c) in collectors.enumerated() {
            let answers = c.all
            #expect(answers.count == perProcess + (p == 0 ? 1 : 2), "process \(p) answered \(answers.count)")
            let errors = answers.filter { $0["error"] != nil }
            #expect(errors.isEmpty, "process \(p): \(errors.prefix(3).map { JSONWriter.string($0) })")
            for a in answers where a["id"]?.stringValue?.hasPrefix("w") == true {
                if let id = a["result"]?["id"]?.stringValue { credentialIDs.append(id) }
            }
            // Every credential read from another process is whole: committed with its version and media.
            for a in answers where a["id"]?.stringValue?.hasPrefix("r") == true {
                for item in a["result"]?["items"]?.arrayValue ?? [] {
                    #expect(item["versionCount"] == 1 && item["latestVersion"]?["media"]?.arrayValue?.count == 1)
                }
            }
        }
        #expect(credentialIDs.count == 4 * ((perProcess + 3) / 4 * 2 - (perProcess % 4 == 1 ? 1 : 0)))
        #expect(Set(credentialIDs).count == credentialIDs.count, "ids collided")
        let db = try open()
        #expect(try db.scalarInt("SELECT count(*) FROM credentials") == Int64(credentialIDs.count))
        #expect(try Invariants.problems(in: db).isEmpty)
    }
}
