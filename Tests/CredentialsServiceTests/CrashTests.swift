import TestScratch
import Foundation
import Testing
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples


func environmentInt(_ name: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? value
}

/// Collects response lines from a running service on another thread.
final class ResponseCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [JSON] = []
    private var pending: [UInt8] = []

    func consume(_ handle: FileHandle) {
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return }
            lock.lock()
            pending.append(contentsOf: chunk)
            while let nl = pending.firstIndex(of: 0x0A) {
                if let v = try? JSONParser.parse(pending[..<nl]).value { lines.append(v) }
                pending.removeSubrange(...nl)
            }
            lock.unlock()
        }
    }

    var all: [JSON] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}

/// Acknowledged means durable (contract section 9): the real executable is killed with SIGKILL at
/// random moments while writes of every kind stream in; after each kill, every write whose answer
/// was read is there in full, and nothing half-made exists.
///
/// CI runs a short seeded run on each engine. The dedicated run:
/// `CREDENTIALS_RPC_CRASH_CYCLES=200 CREDENTIALS_RPC_CRASH_SEED=7 swift test --filter CrashTests`.
struct CrashTests {
    @Test func acknowledgedWritesSurviveSIGKILL() throws {
        let path = tempDatabasePath()
        try Self.run(db: path, cycles: environmentInt("CREDENTIALS_RPC_CRASH_CYCLES", default: 12), killWithin: 5_000..<155_000) { try Database(path: path) }
    }

    /// The same on PostgreSQL: a commit the service answered is the server's, whatever happens
    /// to the service after.
    @Test(.enabled(if: TestPostgres.runs, TestPostgres.skip))
    func acknowledgedWritesSurviveSIGKILLOnPostgres() throws {
        let scratch = try ScratchPostgresDatabase()
        let uri = try ConnectionString(scratch.uri)
        // Connecting and signing in are round trips to the server, not calls into a library: the
        // kills come a little later, so that work is acknowledged before them (with 50-650 ms,
        // once appends were pipelined, 35 of 40 cycles had answered everything before the kill).
        try Self.run(db: scratch.uri, cycles: environmentInt("CREDENTIALS_RPC_CRASH_CYCLES", default: 6), killWithin: 20_000..<250_000) {
            try Database(postgres: uri)
        }
    }

    /// Each cycle kills the service a random number of microseconds in `killWithin` after its input starts.
    static func run(db path: String, cycles: Int, killWithin: Range<UInt64>, open: () throws -> Database) throws {
        signal(SIGPIPE, SIG_IGN)  // writing to a killed service must not kill the test runner
        var rng = SplitMix64(seed: UInt64(environmentInt("CREDENTIALS_RPC_CRASH_SEED", default: 20261122)))
        // The admin and the type come first, unkilled: a type made in a killed cycle but never
        // acknowledged would block every later cycle's (the name is taken) and its credentials.
        let setup: [JSON] = [
            ["jsonrpc": "2.0", "id": 1, "method": "setup.createAdmin",
             "params": ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": .string(adminPassword)]],
            ["jsonrpc": "2.0", "id": 2, "method": "session.login", "params": ["email": "ada@example.com", "password": .string(adminPassword)]],
            ["jsonrpc": "2.0", "id": 3, "method": "credentialTypes.create", "params": ["name": "Licence"]],
        ]
        let boot = try runService(["--db", path], input: Array(setup.map { JSONWriter.string($0) + "\n" }.joined().utf8))
        let adminID = try #require(try JSONParser.parse(boot.lines[0]).value["result"]?["id"]?.stringValue)
        let typeID = try #require(try JSONParser.parse(boot.lines[2]).value["result"]?["id"]?.stringValue)
        var known: [String] = []        // acknowledged credential ids
        var ackedUsers: [String] = []
        var ackedVersions: [(id: String, number: Int, media: [JSON])] = []
        var ackedImports: [(prefix: String, created: Int)] = []
        var killedMidStream = 0

        for cycle in 0..<cycles {
            let service = try LiveService(["--db", path])
            let collector = ResponseCollector()
            let reader = Thread { collector.consume(service.stdout.fileHandleForReading) }
            reader.start()
            var lines: [String] = []
            var methods: [String: String] = [:]
            func request(_ id: String, _ method: String, _ params: JSON) {
                methods[id] = method
                lines.append(JSONWriter.string(["jsonrpc": "2.0", "id": .string(id), "method": .string(method), "params": params]))
            }
            request("\(cycle)-login", "session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
            for i in 0..<60 {
                let id = "\(cycle)-\(i)"
                let marker = "\(cycle)-\(i)-\(rng.next())"
                let pdf = MediaSamples.pdf(comment: Array(marker.utf8), padding: [UInt8](repeating: UInt8(i), count: Int(rng.next() % 30_000)))
                switch Int(rng.next() % 6) {
                case 0:
                    request(id, "users.add", ["email": .string("u\(marker)@example.com"), "firstName": "U", "lastName": .string(marker),
                                              "role": "support", "temporaryPassword": .string(tempPassword)])
                case 1 where !known.isEmpty:
                    request(id, "credentials.addVersion", ["credentialId": .string(known[Int(rng.next() % UInt64(known.count))]),
                                                           "issueDate": "2026-01-01", "documentNumber": .string("V-\(marker)"),
                                                           "media": [Fixtures.media("v.pdf", "application/pdf", pdf)]])
                case 2 where !known.isEmpty:
                    request(id, "credentials.editLatestVersion", ["credentialId": .string(known[Int(rng.next() % UInt64(known.count))]),
                                                                  "documentNumber": .string("E-\(marker)")])
                case 3 where !known.isEmpty:
                    request(id, "credentials.approve", ["credentialId": .string(known[Int(rng.next() % UInt64(known.count))])])
                case 4:
                    let rows = (0..<20).map { "ada@example.com,Licence,2026-01-01,2027-01-01,IMP-\(marker)-\($0)\n" }.joined()
                    request(id, "credentials.import", ["csv": .string("email,credential_type,issue_date,expiration_date,document_number\n" + rows)])
                default:
                    request(id, "credentials.add", ["userId": .string(adminID), "typeId": .string(typeID),
                                                    "issueDate": "2026-01-01", "documentNumber": .string("C-\(marker)"),
                                                    "media": [Fixtures.media("c.pdf", "application/pdf", pdf)]])
                }
            }
            let input = Data(lines.map { $0 + "\n" }.joined().utf8)
            let writer = Thread {
                // The service may die mid-write: EPIPE is expected, not a failure.
                try? service.stdin.fileHandleForWriting.write(contentsOf: input)
            }
            writer.start()
            usleep(UInt32(killWithin.lowerBound + rng.next() % (killWithin.upperBound - killWithin.lowerBound)))
            kill(service.process.processIdentifier, SIGKILL)
            _ = service.waitForExit()
            try? service.stdin.fileHandleForWriting.close()
            while reader.isExecuting { usleep(1000) }

            let answers = collector.all
            if answers.count < lines.count { killedMidStream += 1 }
            for a in answers {
                guard let id = a["id"]?.stringValue, let method = methods[id], let result = a["result"] else { continue }
                switch method {
                case "users.add": ackedUsers.append(result["id"]?.stringValue ?? "")
                case "credentials.import":
                    if let created = result["created"]?.intValue, let line = lines.first(where: { $0.contains("\"\(id)\"") }),
                       let range = line.range(of: "IMP-") {
                        let prefix = String(line[range.lowerBound...].prefix { $0 != "," && $0 != "\\" }).split(separator: "-").prefix(4).joined(separator: "-")
                        ackedImports.append((prefix, created))
                    }
                case "credentials.add", "credentials.addVersion", "credentials.editLatestVersion", "credentials.approve":
                    if let cid = result["id"]?.stringValue, let v = result["latestVersion"] {
                        if method == "credentials.add" { known.append(cid) }
                        ackedVersions.append((cid, v["number"]?.intValue ?? 0, v["media"]?.arrayValue ?? []))
                    }
                default: break
                }
            }

            // Nothing half-made, and every acknowledged write is there in full.
            let db = try open()
            let problems = try Invariants.problems(in: db)
            #expect(problems.isEmpty, "cycle \(cycle): \(problems)")
            for u in ackedUsers { #expect(try db.scalarInt("SELECT count(*) FROM users WHERE id = ?", u) == 1, "user \(u) lost") }
            for v in ackedVersions {
                #expect(try db.scalarInt("SELECT count(*) FROM credential_versions WHERE credential_id = ? AND number = ?", v.id, v.number) == 1,
                        "cycle \(cycle): version \(v.number) of \(v.id) lost")
                for m in v.media {
                    #expect(try db.scalarText("SELECT sha256 FROM media WHERE id = ?", m["id"]?.stringValue ?? "") == m["sha256"]?.stringValue,
                            "cycle \(cycle): media of \(v.id) lost")
                }
            }
            for imp in ackedImports {
                #expect(try db.scalarInt("SELECT count(*) FROM credential_versions WHERE document_number LIKE ?", imp.prefix + "-%") == Int64(imp.created),
                        "cycle \(cycle): import \(imp.prefix) wrote a different count than it answered")
            }
        }
        FileHandle.standardError.write(Data("crash run (\(path.hasPrefix("postgres") ? "PostgreSQL" : "SQLite")): \(cycles) cycles, \(killedMidStream) killed mid-stream, \(ackedVersions.count) versions, \(ackedUsers.count) users and \(ackedImports.count) imports acknowledged and found whole\n".utf8))
        // The run must actually have exercised kills mid-stream and acknowledged real work.
        #expect(killedMidStream > 0)
        #expect(ackedVersions.count > 10)
    }
}
