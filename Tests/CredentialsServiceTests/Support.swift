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

/// Runs the executable with `input` on stdin (written from another thread, so a large input
/// cannot deadlock against the output), and waits for it to exit.
func runService(_ args: [String], input: [UInt8], environment: [String: String] = [:]) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try executablePath())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"
    for (k, v) in environment { env[k] = v }
    p.environment = env
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
func makeServer(now: String = vectorTime) throws -> (RPCServer, Service) {
    let service = Service(db: try Database(path: ":memory:"), deps: .fixed(at: Timestamp.parse(now)!))
    return (RPCServer(handler: service), service)
}

// MARK: - Conformance vectors

/// One file of `Protocol/conformance/`: the bytes to send and the responses expected, in order.
struct VectorFile {
    var name: String
    var requests: [[UInt8]] = []
    /// For each request: the expected response, or nil when none may come.
    var expected: [JSON?] = []
    var maxMessageBytes = 16 * 1024 * 1024

    var input: [UInt8] { requests.flatMap { $0 + [0x0A] } }
    var expectedLines: [JSON] { expected.compactMap { $0 } }

    static func load(_ url: URL) throws -> VectorFile {
        var v = VectorFile(name: url.lastPathComponent)
        let text = try String(contentsOf: url, encoding: .utf8)
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let s = String(line)
            if s.hasPrefix("//! max-message-bytes ") {
                v.maxMessageBytes = Int(s.dropFirst("//! max-message-bytes ".count))!
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
