import TestScratch
import Foundation
import Testing
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples

/// Runs a command, returning its exit status.
@discardableResult
func shell(_ args: String...) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try? p.run()
    p.waitUntilExit()
    return p.terminationStatus
}

/// A running service with the first admin signed in and one credential type, on `path`.
func signedInService(_ path: String) throws -> (LiveService, typeID: String, adminID: String) {
    signal(SIGPIPE, SIG_IGN)
    let s = try LiveService(["--db", path])
    s.send(JSONWriter.string(["jsonrpc": "2.0", "id": 1, "method": "setup.createAdmin", "params": ["email": "ada@example.com", "firstName": "Ada", "lastName": "A", "password": .string(adminPassword)]]) + "\n")
    let admin = s.readLine()?["result"]?["id"]?.stringValue ?? ""
    s.send(JSONWriter.string(["jsonrpc": "2.0", "id": 2, "method": "session.login", "params": ["email": "ada@example.com", "password": .string(adminPassword)]]) + "\n")
    _ = s.readLine()
    s.send(JSONWriter.string(["jsonrpc": "2.0", "id": 3, "method": "credentialTypes.create", "params": ["name": "Licence"]]) + "\n")
    return (s, s.readLine()?["result"]?["id"]?.stringValue ?? "", admin)
}

extension LiveService {
    /// Sends one request and returns its answer.
    func call(_ method: String, _ params: JSON = [:]) -> JSON? {
        send(JSONWriter.string(["jsonrpc": "2.0", "id": 99, "method": .string(method), "params": params]) + "\n")
        return readLine()
    }

    func addCredential(_ user: String, _ type: String, bytes: Int = 100) -> JSON? {
        call("credentials.add", ["userId": .string(user), "typeId": .string(type), "issueDate": "2026-01-01",
                                 "media": [Fixtures.media("f.pdf", "application/pdf", MediaSamples.pdf(padding: [UInt8](repeating: 0x41, count: bytes)))]])
    }
}

/// The database in trouble (contract section 9): each fault gives a clear JSON-RPC error, or a
/// clear exit line at start-up; never a crash, a hang past the busy timeout, or a wrong answer.
/// These use a tmpfs mount and `chattr`, so they run as root (as CI does).
struct FaultTests {
    @Test func aFullDiskIsStorageFullAndNothingHalfWritten() throws {
        let dir = Scratch.directory("full").path
        #expect(shell("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir) == 0, "mounting a small tmpfs needs root")
        defer { shell("umount", "-l", dir) }
        let path = dir + "/db.sqlite3"
        let (s, type, admin) = try signedInService(path)
        #expect(s.addCredential(admin, type)?["result"] != nil)
        // Fill the file system.
        shell("dd", "if=/dev/zero", "of=\(dir)/filler", "bs=64k", "count=100")
        let full = s.addCredential(admin, type, bytes: 300_000)
        #expect(full?["error"]?["code"] == -32603)
        #expect(full?["error"]?["data"]?["reason"] == "storage_full", "\(String(describing: full))")
        // Reads still work, and show nothing of the failed write.
        #expect(s.call("credentials.list")?["result"]?["items"]?.arrayValue?.count == 1)
        // Room again: writes work again.
        try FileManager.default.removeItem(atPath: dir + "/filler")
        #expect(s.addCredential(admin, type)?["result"] != nil)
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
        #expect(try Invariants.problems(in: path).isEmpty)
    }

    @Test func aFileMadeReadOnlyIsStorageReadOnly() throws {
        let path = tempDatabasePath()
        let (s, type, admin) = try signedInService(path)
        #expect(s.addCredential(admin, type)?["result"] != nil)
        for f in [path, path + "-wal"] { #expect(shell("chattr", "+i", f) == 0, "chattr needs root on ext4") }
        defer { for f in [path, path + "-wal"] { shell("chattr", "-i", f) } }
        let refused = s.addCredential(admin, type)
        #expect(refused?["error"]?["data"]?["reason"] == "storage_read_only", "\(String(describing: refused))")
        #expect(s.call("credentials.list")?["result"]?["items"]?.arrayValue?.count == 1)
        for f in [path, path + "-wal"] { shell("chattr", "-i", f) }
        #expect(s.addCredential(admin, type)?["result"] != nil)
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func aReadOnlyFileAtStartIsOneClearLine() throws {
        let path = tempDatabasePath()
        _ = try runService(["--db", path], input: [])
        #expect(shell("chattr", "+i", path) == 0)
        defer { shell("chattr", "-i", path) }
        let r = try runService(["--db", path], input: Array("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"service.info\"}\n".utf8))
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("credentials-rpc: cannot open database"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test("a file deleted or replaced under the service is refused", arguments: [true, false])
    func deletedOrReplaced(replace: Bool) throws {
        let path = tempDatabasePath()
        let (s, type, admin) = try signedInService(path)
        #expect(s.addCredential(admin, type)?["result"] != nil)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        if replace { _ = try runService(["--db", path], input: []) }
        for method in ["credentials.list", "session.whoami", "service.info"] {
            let r = s.call(method)
            #expect(r?["error"]?["data"]?["reason"] == "storage_replaced", "\(method): \(String(describing: r))")
        }
        #expect(s.addCredential(admin, type)?["error"]?["data"]?["reason"] == "storage_replaced")
        #expect(s.call("rpc.discover")?["result"] != nil)
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func aCorruptedFileGivesClearErrorsNotCrashes() throws {
        let path = tempDatabasePath()
        let (s, type, admin) = try signedInService(path)
        for _ in 0..<20 { _ = s.addCredential(admin, type, bytes: 5000) }
        s.closeInput()
        _ = s.waitForExit()
        // Keep the header page, scribble over the rest.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        var rng = SplitMix64(seed: 3)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data((0..<Int(size) - 4096).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        try handle.close()
        let lines = ["session.login", "credentials.list", "users.list", "service.info"].enumerated().map { i, m in
            JSONWriter.string(["jsonrpc": "2.0", "id": .int(i), "method": .string(m),
                               "params": m == "session.login" ? ["email": "ada@example.com", "password": .string(adminPassword)] : [:]]) + "\n"
        }.joined()
        let r = try runService(["--db", path], input: Array(lines.utf8))
        if r.status == 2 {
            #expect(r.stderr.split(separator: "\n").count == 1)  // refused at start with one line
        } else {
            #expect(r.status == 0)
            let answers = try r.lines.map { try JSONParser.parse($0).value }
            #expect(answers.count == 4)
            #expect(answers.contains { $0["error"]?["data"]?["reason"] == "storage_corrupt" })
            #expect(answers.allSatisfy { $0["result"] != nil || $0["error"]?["code"] != nil })
        }
    }

    @Test func aLongExternalTransactionGivesBusyAfterTheTimeoutNotAHang() throws {
        let path = tempDatabasePath()
        let (s, type, admin) = try signedInService(path)
        let other = try Database(path: path)
        try other.execute("BEGIN IMMEDIATE")
        try other.execute("INSERT INTO audit_log (at, action) VALUES ('x', 'external')")
        // Reads are not blocked by a writer (WAL).
        #expect(s.call("credentials.list")?["result"] != nil)
        let started = Date()
        let busy = s.addCredential(admin, type)
        let waited = Date().timeIntervalSince(started)
        #expect(busy?["error"]?["data"]?["reason"] == "storage_busy")
        #expect(waited >= 9 && waited < 30, "waited \(waited) s for a 10 s busy timeout")
        try other.execute("ROLLBACK")
        #expect(s.addCredential(admin, type)?["result"] != nil)
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
        #expect(try Invariants.problems(in: path).isEmpty)
    }
}
