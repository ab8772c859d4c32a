import Foundation

/// A child process spoken to line by line: the service, or one of the ceilings the bench runs itself
/// as. Its stdin is written by one thread and its stdout read by another.
final class Child: @unchecked Sendable {
    /// The environment every child starts with. The service refuses a lowered hash cost unless
    /// told on purpose that it runs as a test, hence the second variable.
    static let environment: [String: String] = {
        var e = ProcessInfo.processInfo.environment
        e["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"  // sign-in is not what is measured
        e["CREDENTIALS_RPC_INSECURE_TESTING"] = "1"
        return e
    }()

    let process = Process()
    let stdin = Pipe(), stdout = Pipe()
    private var pending: [UInt8] = []
    private var scanned = 0

    /// What a deployment runs with: the default hash cost, no test settings.
    static let productionEnvironment: [String: String] = {
        var e = ProcessInfo.processInfo.environment
        e["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = nil
        e["CREDENTIALS_RPC_INSECURE_TESTING"] = nil
        e["CREDENTIALS_RPC_TOKEN"] = nil
        return e
    }()

    init(_ path: String, _ args: [String], environment: [String: String] = Child.environment) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        process.environment = environment
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        fd = stdout.fileHandleForReading.fileDescriptor
        try process.run()
    }

    func send(_ data: Data) { try? stdin.fileHandleForWriting.write(contentsOf: data) }

    private var start = 0
    private let fd: Int32

    /// The next line, without its newline. Reads with read(2) into one buffer and moves a start
    /// offset: the client must cost little next to the service it measures.
    func line() -> [UInt8]? {
        while true {
            let found = pending.withUnsafeBufferPointer { buf -> Int? in
                guard scanned < buf.count, let p = memchr(buf.baseAddress! + scanned, 0x0A, buf.count - scanned) else { return nil }
                return buf.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
            }
            if let nl = found {
                let l = Array(pending[start..<nl])
                start = nl + 1
                scanned = start
                return l
            }
            if start > 0 {
                pending.removeSubrange(..<start)
                start = 0
            }
            scanned = pending.count
            let old = pending.count
            pending.append(contentsOf: repeatElement(0, count: 1 << 16))
            let n = pending.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, 1 << 16) }
            pending.removeLast((1 << 16) - max(n, 0))
            if n <= 0 { return nil }
        }
    }

    func json() -> [String: Any]? {
        line().flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    func call(_ method: String, _ params: [String: Any] = [:]) -> [String: Any]? {
        send(request(0, method, params))
        return json()?["result"] as? [String: Any]
    }

    /// Peak resident memory in KiB.
    var peakKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? 0
    }

    func finish() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// One JSON-RPC request as a line.
func request(_ id: Int, _ method: String, _ params: [String: Any]) -> Data {
    var d = try! JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": id, "method": method, "params": params])
    d.append(0x0A)
    return d
}
