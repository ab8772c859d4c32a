import Foundation
import Testing
import TestScratch
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// The database's files are their owner's alone (contract §12), and the test-only settings cannot
/// weaken a production process by accident.
struct FileSafetyTests {
    static func mode(_ path: String) -> Int? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        return (attributes[.posixPermissions] as? NSNumber)?.intValue
    }

    /// The service under `umask 022`, as a login shell has it: while it runs, the database, its
    /// WAL and shared-memory files and the folders it made are the owner's only.
    @Test func filesAndFoldersAreCreatedOwnerOnlyWhateverTheUmask() throws {
        let base = Scratch.directory("files").path
        let path = base + "/made/here/db.sqlite3"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "umask 022; exec \"$0\" --db \"$1\"", try executablePath(), path]
        p.environment = serviceEnvironment([:])
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(#"{"jsonrpc":"2.0","id":1,"method":"setup.createAdmin","params":{"email":"a@example.com","firstName":"A","lastName":"B","password":"Admin#1234"}}"#.utf8 + [0x0A]))
        let answer = LineReaderBox(output.fileHandleForReading).next() ?? ""
        #expect(answer.contains("\"result\""))
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(Self.mode(file) == 0o600, "\(file): \(Self.mode(file).map { String($0, radix: 8) } ?? "missing")")
        }
        for folder in [base + "/made", base + "/made/here"] {
            #expect(Self.mode(folder) == 0o700, "\(folder): \(Self.mode(folder).map { String($0, radix: 8) } ?? "missing")")
        }
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func aSymlinkToAFileNotMadeYetGetsAnOwnerOnlyTarget() throws {
        let dir = Scratch.directory("links").path
        let target = dir + "/target.sqlite3", link = dir + "/link.sqlite3"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let old = umask(0o022)
        defer { umask(old) }
        let db = try Database(path: link)
        try db.write { try db.execute("CREATE TABLE t (x)") }
        #expect(Self.mode(target) == 0o600)
        #expect(Self.mode(target + "-wal") == 0o600)
        #expect(!db.isReadableByOthers)
    }

    @Test("an iteration count out of range is refused at start", arguments: ["999", "100000001", "2147483648", "4294967297", "-1"])
    func iterationsOutOfRange(value: String) {
        guard case .usage = CommandLineOptions.parse([], environment: ["CREDENTIALS_RPC_PBKDF2_ITERATIONS": value,
                                                                       "CREDENTIALS_RPC_INSECURE_TESTING": "1"]) else {
            Issue.record("\(value) accepted")
            return
        }
    }

    @Test func aStoredHashAskingForTooManyIterationsFailsToVerifyAndStopsNothing() {
        let hasher = PasswordHasher(iterations: 1000)
        #expect(!hasher.verify("x", against: "pbkdf2-sha256$4294967297$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    }

    @Test func anExistingFileKeepsItsModeAndIsReportedWhenOthersCanReadIt() throws {
        let path = tempDatabasePath()
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]))
        let db = try Database(path: path)
        #expect(Self.mode(path) == 0o640)
        #expect(db.isReadableByOthers)
        let mine = try Database(path: tempDatabasePath() + "-new")
        #expect(!mine.isReadableByOthers)
    }

    @Test("a test-only setting without the acknowledgement stops the start", arguments: [
        ["CREDENTIALS_RPC_PBKDF2_ITERATIONS": "1000"], ["CREDENTIALS_RPC_FIXED_TIME": "2026-01-01T00:00:00.000Z"],
        ["CREDENTIALS_RPC_PBKDF2_ITERATIONS": "1000", "CREDENTIALS_RPC_INSECURE_TESTING": "yes"],
    ])
    func testOnlySettingsNeedTheAcknowledgement(env: [String: String]) throws {
        guard case .usage(let message) = CommandLineOptions.parse([], environment: env) else {
            Issue.record("started with \(env)")
            return
        }
        #expect(message.contains("CREDENTIALS_RPC_INSECURE_TESTING=1"))
        var acknowledged = env
        acknowledged["CREDENTIALS_RPC_INSECURE_TESTING"] = "1"
        guard case .run(let o) = CommandLineOptions.parse([], environment: acknowledged) else {
            Issue.record("refused with the acknowledgement")
            return
        }
        #expect(!o.insecureTestSettings.isEmpty)
        if env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] != nil { #expect(o.passwordIterations == 1000) }
    }

    @Test func theProcessRefusesToStartWithALeakedTestSetting() throws {
        var env = ProcessInfo.processInfo.environment
        env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"
        env["CREDENTIALS_RPC_INSECURE_TESTING"] = nil
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try executablePath())
        p.arguments = ["--db", ":memory:"]
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 2)
        let line = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(line.contains("for tests only"))
    }
}
