import TestScratch
import Foundation
import Testing
import CredentialsCore
import CredentialsService
import CredentialsStore
import JSONRPC

/// The package's root folder, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The fixed clock every conformance vector runs on.
let vectorTime = "2026-01-01T00:00:00.000Z"

/// The built `credentials-rpc` next to the test binary (SwiftPM builds it: the test target depends
/// on it), or `$CREDENTIALS_RPC_BIN`. Fails the test loudly when missing: never a silent skip.
func executablePath() throws -> String {
    if let p = ProcessInfo.processInfo.environment["CREDENTIALS_RPC_BIN"], !p.isEmpty { return p }
    var candidates: [URL] = []
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = me.deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(dir.appendingPathComponent("credentials-rpc"))
        dir = dir.deletingLastPathComponent()
    }
    candidates.append(packageRoot.appendingPathComponent(".build/debug/credentials-rpc"))
    for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c.path }
    throw TestFailure("credentials-rpc executable not found near \(me.path); build it or set CREDENTIALS_RPC_BIN")
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Bytes filled in by a reader thread and read after it finished.
final class DataBox: @unchecked Sendable {
    var data = Data()
}

struct ProcessResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
    var lines: [[UInt8]] {
        stdout.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map(Array.init)
    }
}

/// This process's environment with fast test hashing and `extra` on top.
func serviceEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"
    env["CREDENTIALS_RPC_INSECURE_TESTING"] = "1"
    for (k, v) in extra { env[k] = v }
    return env
}

/// Runs the executable with `input` on stdin (written from another thread, so a large input
/// cannot deadlock against the output), and waits for it to exit.
func runService(_ args: [String], input: [UInt8], environment: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try executablePath())
    p.arguments = args
    p.environment = serviceEnvironment(environment)
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    let writer = Thread {
        inPipe.fileHandleForWriting.write(Data(input))
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    let errData = DataBox()
    let errReader = Thread { errData.data = errPipe.fileHandleForReading.readDataToEndOfFile() }
    errReader.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while errReader.isExecuting { usleep(1000) }
    return ProcessResult(status: p.terminationStatus, stdout: Array(out), stderr: String(decoding: errData.data, as: UTF8.self))
}

/// A fresh in-memory service on the vector clock, and its JSON-RPC server.
func makeServer(now: String = vectorTime, maxMediaBytes: Int? = nil, db: Database? = nil) throws -> (RPCServer, Service) {
    var config = testConfig()
    if let maxMediaBytes { config.maxMediaBytes = maxMediaBytes }
    let service = Service(db: try db ?? Database(path: ":memory:"), deps: .fixed(at: Timestamp.parse(now)!), config: config)
    // Through the MCP/LSP facet, as the executable serves: the vectors hold both.
    return (RPCServer(handler: service.hostFacet()), service)
}

// MARK: - Conformance vectors

/// One file of `Protocol/conformance/`: the bytes to send and the responses expected, in order.
struct VectorFile {
    var name: String
    var requests: [[UInt8]] = []
    /// For each request: the expected response, or nil when none may come.
    var expected: [JSON?] = []
    var maxMessageBytes = 16 * 1024 * 1024
    var maxMediaBytes: Int?

    var input: [UInt8] { requests.flatMap { $0 + [0x0A] } }
    var expectedLines: [JSON] { expected.compactMap { $0 } }

    static func load(_ url: URL) throws -> VectorFile {
        var v = VectorFile(name: url.lastPathComponent)
        let text = try String(contentsOf: url, encoding: .utf8)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let s = String(line)
            if s.hasPrefix("//! max-message-bytes ") {
                v.maxMessageBytes = Int(s.dropFirst("//! max-message-bytes ".count))!
            } else if s.hasPrefix("//! max-media-bytes ") {
                v.maxMediaBytes = Int(s.dropFirst("//! max-media-bytes ".count))!
            } else if s.hasPrefix("-->b64 ") {
                guard let d = Data(base64Encoded: String(s.dropFirst(7))) else { throw TestFailure("\(v.name):\(n + 1): bad base64") }
                v.requests.append(Array(d))
                v.expected.append(nil)
            } else if s.hasPrefix("--> ") {
                v.requests.append(Array(s.dropFirst(4).utf8))
                v.expected.append(nil)
            } else if s.hasPrefix("<-- ") {
                guard let last = v.expected.indices.last, v.expected[last] == nil else {
                    throw TestFailure("\(v.name):\(n + 1): a response with no request before it")
                }
                v.expected[last] = try JSONParser.parseValue(String(s.dropFirst(4)))
            } else if !(s.hasPrefix("//") || s.trimmingCharacters(in: .whitespaces).isEmpty) {
                throw TestFailure("\(v.name):\(n + 1): unrecognised line")
            }
        }
        return v
    }

    static func all() throws -> [VectorFile] {
        let dir = packageRoot.appendingPathComponent("Protocol/conformance")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }.sorted()
        return try names.map { try load(dir.appendingPathComponent($0)) }
    }
}

/// Vector matching: JSON equality (object order ignored, numbers by their text), except that a
/// `message` member missing from the expected object is not compared (wording is free).
func vectorMatches(_ expected: JSON, _ actual: JSON) -> Bool {
    switch (expected, actual) {
    case (.object(let e), .object(let a)):
        for k in a.keys where e[k] == nil && k != "message" { return false }
        for (k, ev) in e.members {
            guard let av = a[k], vectorMatches(ev, av) else { return false }
        }
        return true
    case (.array(let e), .array(let a)):
        return e.count == a.count && zip(e, a).allSatisfy { vectorMatches($0, $1) }
    default:
        return expected == actual
    }
}

/// Compares response lines with the expected ones, describing the first difference.
func compareResponses(_ file: VectorFile, _ actual: [[UInt8]]) {
    let expected = file.expectedLines
    for (i, line) in actual.enumerated() {
        guard let value = try? JSONParser.parse(line.last == 0x0A ? Array(line.dropLast()) : line).value else {
            Issue.record("\(file.name): response \(i + 1) is not JSON: \(String(decoding: line, as: UTF8.self))")
            return
        }
        guard i < expected.count else {
            Issue.record("\(file.name): unexpected extra response \(i + 1): \(JSONWriter.string(value))")
            return
        }
        if !vectorMatches(expected[i], value) {
            Issue.record("\(file.name): response \(i + 1)\n  expected \(JSONWriter.string(expected[i]))\n  actual   \(JSONWriter.string(value))")
            return
        }
    }
    if actual.count < expected.count {
        Issue.record("\(file.name): \(expected.count - actual.count) response(s) missing; next expected \(JSONWriter.string(expected[actual.count]))")
    }
}

// MARK: - A client for in-process service tests

/// A clock tests can move.
final class TestClock: @unchecked Sendable {
    var millis: Int64
    init(_ text: String = vectorTime) { millis = Timestamp.parse(text)! }
    func advance(minutes: Int64) { millis += minutes * 60_000 }
}

/// Fast hashing for tests: the same code path with the floor cost.
func testConfig() -> ServiceConfig {
    var c = ServiceConfig()
    c.passwordIterations = 1000
    return c
}

/// One connection (one "process") to a database, speaking through `RPCServer.handle(line:)`.
final class TestClient {
    let service: Service
    let server: RPCServer
    private var nextID = 0

    init(db: Database, clock: TestClock = TestClock()) {
        let ids = TimeOrderedIDs()
        service = Service(db: db, deps: Dependencies(nowMillis: { clock.millis }, newID: { ids.next(prefix: $0, millis: clock.millis) }),
                          config: testConfig())
        server = RPCServer(handler: service)
    }

    init(wrapping service: Service) {
        self.service = service
        server = RPCServer(handler: service)
    }

    /// The whole response object.
    func call(_ method: String, _ params: JSON = [:]) -> JSON {
        nextID += 1
        let line = JSONWriter.string(["jsonrpc": "2.0", "id": .int(nextID), "method": .string(method), "params": params])
        guard let out = server.handle(line: Array(line.utf8)), let value = try? JSONParser.parse(out).value else {
            Issue.record("no response to \(method)")
            return .null
        }
        return value
    }

    /// The result, recording a test issue when the call failed.
    @discardableResult
    func ok(_ method: String, _ params: JSON = [:], sourceLocation: SourceLocation = #_sourceLocation) -> JSON {
        let r = call(method, params)
        if let e = r["error"] { Issue.record("\(method) failed: \(JSONWriter.string(e))", sourceLocation: sourceLocation) }
        return r["result"] ?? .null
    }

    /// The error's `[code, reason]`, or nil when the call succeeded.
    func failure(_ method: String, _ params: JSON = [:]) -> ErrorSummary? {
        let r = call(method, params)
        guard let e = r["error"] else { return nil }
        return ErrorSummary(code: e["code"]?.intValue ?? 0, reason: e["data"]?["reason"]?.stringValue ?? "")
    }
}

struct ErrorSummary: Equatable, CustomStringConvertible {
    var code: Int
    var reason: String
    var description: String { "\(code) \(reason)" }
}

let adminPassword = "Admin#1234"
let tempPassword = "Temp#1234"
let changedPassword = "Changed#5678"

/// A database with a first admin, and a client signed in as that admin.
func bootstrap(_ db: Database? = nil, clock: TestClock = TestClock()) throws -> (TestClient, String) {
    let client = TestClient(db: try db ?? Database(path: ":memory:"), clock: clock)
    let admin = client.ok("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": .string(adminPassword)])
    client.ok("session.login", ["email": "ada@example.com", "password": .string(adminPassword)])
    return (client, admin["id"]?.stringValue ?? "")
}

extension TestClient {
    /// Adds a user as the signed-in admin; returns the id.
    @discardableResult
    func addUser(_ email: String, role: String = "support", permissions: JSON? = nil, first: String = "Sam", last: String = "Smith") -> String {
        var p: JSONObject = JSONObject(["email": .string(email), "firstName": .string(first), "lastName": .string(last),
                                        "role": .string(role), "temporaryPassword": .string(tempPassword)])
        if let permissions { p["permissions"] = permissions }
        return ok("users.add", .object(p))["id"]?.stringValue ?? ""
    }

    /// Signs in with the temporary password and changes it, as a new user must.
    func signInFirstTime(_ email: String) {
        ok("session.login", ["email": .string(email), "password": .string(tempPassword)])
        ok("session.changePassword", ["currentPassword": .string(tempPassword), "newPassword": .string(changedPassword)])
    }
}

func tempDatabasePath() -> String {
    Scratch.directory("svc").appendingPathComponent("db.sqlite3").path
}
