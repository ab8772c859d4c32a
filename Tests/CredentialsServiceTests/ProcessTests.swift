import TestScratch
import Foundation
import Testing
import JSONRPC
import CredentialsStore

/// A running service to talk to line by line.
/// Its stdin is written by one thread and its stdout read by another, never the same handle twice.
/// Its stderr is read all along by a third, into `errorOutput`: left unread, a service that logged
/// more than a pipe holds (64 KiB; a stream of requests answered `storage_unavailable` while the
/// server was away) blocked on its next log line, and the test waited for it until its timeout.
final class LiveService: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    private var pending: [UInt8] = []
    private let errorLock = NSLock()
    private var errorBytes = Data()
    private let errorsEnded = DispatchSemaphore(value: 0)

    /// What the service has written to stderr so far.
    var errorOutput: String { errorLock.withLock { String(decoding: errorBytes, as: UTF8.self) } }

    /// All the service wrote to stderr, once it has exited and the pipe is read to its end.
    func errorOutputAtExit() -> String {
        _ = errorsEnded.wait(timeout: .now() + 10)
        return errorOutput
    }

    init(_ args: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try executablePath())
        process.arguments = args
        process.environment = serviceEnvironment(environment)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let errors = stderr.fileHandleForReading
        Thread { [self] in
            while case let chunk = errors.availableData, !chunk.isEmpty { errorLock.withLock { errorBytes.append(chunk) } }
            errorsEnded.signal()
        }.start()
    }

    func send(_ text: String) { try? stdin.fileHandleForWriting.write(contentsOf: Data(text.utf8)) }

    func readLine() -> JSON? {
        var scanned = 0  // bytes of `pending` known to hold no newline: a long line is scanned once
        while true {
            if let nl = pending[scanned...].firstIndex(of: 0x0A) {
                let line = Array(pending[..<nl])
                pending.removeSubrange(...nl)
                return try? JSONParser.parse(line).value
            }
            scanned = pending.count
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            pending.append(contentsOf: chunk)
        }
    }

    func closeInput() { try? stdin.fileHandleForWriting.close() }

    /// Waits up to `seconds` for exit; kills and reports nil if it hangs.
    func waitForExit(seconds: Double = 10) -> (status: Int32, signaled: Bool)? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5000) }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }

    /// The peak resident memory in KiB (`VmHWM` from /proc), read while the process runs.
    func peakMemoryKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }
}

let infoRequest = #"{"jsonrpc":"2.0","id":1,"method":"service.info"}"#

func tempDir() -> URL { Scratch.directory("proc") }

struct ProcessTests {
    @Test func emptyInputExitsZeroAtOnce() throws {
        let s = try LiveService(["--db", ":memory:"])
        s.closeInput()
        let exit = s.waitForExit(seconds: 5)
        #expect(exit?.status == 0)
        #expect(s.readLine() == nil)
    }

    @Test func lastLineWithoutNewlineIsAnswered() throws {
        let r = try runService(["--db", ":memory:"], input: Array(infoRequest.utf8))
        #expect(r.status == 0)
        #expect(r.lines.count == 1)
        #expect(r.stdout.last == 0x0A)
        #expect(try JSONParser.parse(r.lines[0]).value["result"]?["name"] == "credentials-rpc")
    }

    @Test("SIGTERM and SIGINT end the process with 0 after the request in hand", arguments: [SIGTERM, SIGINT])
    func stopSignals(signal: Int32) throws {
        let s = try LiveService(["--db", ":memory:"])
        s.send(infoRequest + "\n")
        #expect(s.readLine()?["id"] == 1)
        kill(s.process.processIdentifier, signal)
        let exit = s.waitForExit()
        #expect(exit?.status == 0)
        #expect(exit?.signaled == false)
    }

    @Test func vanishedReaderEndsQuietly() throws {
        let s = try LiveService(["--db", ":memory:"])
        try s.stdout.fileHandleForReading.close()
        // Enough answers to hit the closed pipe.
        for _ in 0..<200 { s.send(infoRequest + "\n") }
        s.closeInput()
        let exit = s.waitForExit()
        #expect(exit?.signaled == false, "the process died of a signal (SIGPIPE?)")
        #expect(exit?.status == 0)
        let err = s.errorOutputAtExit()
        #expect(!err.contains("Fatal"))
        #expect(err.isEmpty, "\(err)")
    }

    @Test func anOversizeLineIsAnsweredOnceAndNeverHeldWhole() throws {
        let s = try LiveService(["--db", ":memory:", "--max-message-bytes", "1048576"])
        let chunk = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<64 { s.stdin.fileHandleForWriting.write(chunk) }  // one 64 MiB line
        s.send("\n" + infoRequest + "\n")
        let first = s.readLine()
        #expect(first?["id"] == .null)
        #expect(first?["error"]?["data"]?["reason"] == "message_too_large")
        #expect(s.readLine()?["id"] == 1)
        let peak = try #require(s.peakMemoryKiB())
        #expect(peak < 48 * 1024, "peak RSS \(peak) KiB while skipping a 64 MiB line with a 1 MiB limit")
        s.closeInput()
        #expect(s.waitForExit()?.status == 0)
    }

    @Test func stdoutCarriesOnlyProtocolAndStderrStaysQuiet() throws {
        let input = [infoRequest, "garbage", #"{"jsonrpc":"2.0","method":"service.info"}"#, "[]"].joined(separator: "\n") + "\n"
        let r = try runService(["--db", ":memory:"], input: Array(input.utf8))
        #expect(r.status == 0)
        #expect(r.lines.count == 3)
        for line in r.lines { #expect((try? JSONParser.parse(line).value["jsonrpc"]) == "2.0") }
        #expect(r.stderr.isEmpty)
    }

    @Test func notADatabaseExitsTwoWithOneLine() throws {
        let path = tempDir().appendingPathComponent("junk.sqlite3").path
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        let r = try runService(["--db", path], input: Array((infoRequest + "\n").utf8))
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("not a credentials-rpc database"))
    }

    @Test func aNewerSchemaExitsTwo() throws {
        let path = tempDir().appendingPathComponent("db.sqlite3").path
        _ = try runService(["--db", path], input: [])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=999'); c.commit()", path]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let r = try runService(["--db", path], input: Array((infoRequest + "\n").utf8))
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("newer than this build knows"))
    }

    @Test func aPathThatCannotBeOpenedExitsTwo() throws {
        let r = try runService(["--db", "/proc/self/nope/db.sqlite3"], input: [])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("credentials-rpc: cannot open database"))
    }

    /// Taken as a path, a PostgreSQL URI would become a SQLite file named after it, password and
    /// all. A server that cannot be reached, by flag or environment, is one line and exit 2, with
    /// the password hidden and no file made; a URI in the wrong case is refused before any.
    @Test func anUnreachablePostgresStoreExitsTwoWithoutItsPasswordAndWithoutMakingAFile() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let nowhere = "@/creds?host=/nonexistent-crpc&connect_timeout=2"
        for (args, env) in [(["--db", "postgresql://bob:Sup3rSecretPw" + nowhere], [:]),
                            ([], ["CREDENTIALS_RPC_DB": "postgres://bob:Sup3rSecretPw" + nowhere]),
                            (["--db", "POSTGRESQL://bob:Sup3rSecretPw" + nowhere], [:]),
                            (["--db=postgresql://bob:Sup3rSecretPw" + nowhere], [:])] {
            let r = try runService(args, input: Array((infoRequest + "\n").utf8), environment: env)
            #expect(r.status == 2)
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.split(separator: "\n").count == 1)
            #expect(r.stderr.contains("bob:***@") || r.stderr.contains("not shown"), "\(r.stderr)")
            #expect(!r.stderr.contains("Sup3rSecretPw"))
        }
        // A URI where a flag should be is a usage error that does not repeat it.
        for args in [["postgresql://bob:Sup3rSecretPw@h/db"], ["copy", "postgresql://bob:Sup3rSecretPw@h/db", "x"], ["--x=postgresql://bob:Sup3rSecretPw@h"]] {
            let r = try runService(args, input: [])
            #expect(r.status == 2)
            #expect(!r.stderr.contains("Sup3rSecretPw"), "\(r.stderr)")
        }
        for made in ["postgresql:", "postgres:", "POSTGRESQL:"] {
            #expect(!FileManager.default.fileExists(atPath: cwd + "/" + made))
        }
    }

    @Test func defaultDatabaseFollowsTheEnvironmentAndCreatesFolders() throws {
        let dir = tempDir()
        let xdg = dir.appendingPathComponent("a/b/xdg").path
        var r = try runService([], input: Array((infoRequest + "\n").utf8),
                               environment: ["CREDENTIALS_RPC_DB": "", "XDG_DATA_HOME": xdg, "HOME": dir.path])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: xdg + "/credentials-rpc/credentials.sqlite3"))
        let explicit = dir.appendingPathComponent("explicit/db.sqlite3").path
        r = try runService([], input: [], environment: ["CREDENTIALS_RPC_DB": explicit])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: explicit))
        r = try runService([], input: [], environment: ["CREDENTIALS_RPC_DB": "", "XDG_DATA_HOME": "", "HOME": dir.path])
        #expect(r.status == 0)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/.local/share/credentials-rpc/credentials.sqlite3"))
    }

    @Test func helpVersionAndBadArguments() throws {
        let help = try runService(["--help"], input: [])
        #expect(help.status == 0)
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("--max-message-bytes"))
        let version = try runService(["--version"], input: [])
        #expect(version.status == 0)
        #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("credentials-rpc "))
        let bad = try runService(["--nope"], input: [])
        #expect(bad.status == 2)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr.contains("unknown argument"))
    }

    @Test func theSchemaSurvivesARestart() throws {
        let path = tempDir().appendingPathComponent("db.sqlite3").path
        for _ in 0..<2 {
            let r = try runService(["--db", path], input: Array((infoRequest + "\n").utf8))
            #expect(r.status == 0)
            #expect(try JSONParser.parse(r.lines[0]).value["result"]?["schemaVersion"] == .int(StoreSchema.currentVersion))
        }
    }
}
