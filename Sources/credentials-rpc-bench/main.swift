// credentials-rpc-bench: measures the real service over pipes, and in the same run the ceilings it
// is judged against. Prints a table and writes the figures as JSON. See README.md, "Benchmark".
//
//   swift run -c release credentials-rpc-bench [--quick] [--json PATH] [--service PATH] [--keep-db PATH]
//
// --keep-db copies the scale database (sign in as ada@example.com / Admin#1234) to PATH, for profiling.
import CredentialsCore
import CredentialsStore
import Foundation

switch CommandLine.arguments.dropFirst().first {
case "--echo": Ceilings.echo()
case "--ping-pong": Ceilings.pingPong()
case "--minimal": Ceilings.minimal()
default: break
}

struct Options {
    var quick = false
    var jsonPath = "bench-results.json"
    var service: String
    var keepDB: String?
}

var options = Options(service: URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("credentials-rpc").path)
var argIterator = CommandLine.arguments.dropFirst().makeIterator()
while let arg = argIterator.next() {
    switch arg {
    case "--quick": options.quick = true
    case "--json": options.jsonPath = argIterator.next() ?? options.jsonPath
    case "--service": options.service = argIterator.next() ?? options.service
    case "--keep-db": options.keepDB = argIterator.next()
    default:
        FileHandle.standardError.write(Data("usage: credentials-rpc-bench [--quick] [--json PATH] [--service PATH] [--keep-db PATH]\n".utf8))
        exit(2)
    }
}
signal(SIGPIPE, SIG_IGN)
let q = options.quick
let selfPath = URL(fileURLWithPath: CommandLine.arguments[0]).path
let workDir = FileManager.default.temporaryDirectory.appendingPathComponent("crpc-bench-\(getpid())")
try? FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: workDir) }
let environment: [String: String] = {
    var e = ProcessInfo.processInfo.environment
    e["CREDENTIALS_RPC_PBKDF2_ITERATIONS"] = "1000"  // sign-in is not what is measured
    e["CREDENTIALS_RPC_INSECURE_TESTING"] = "1"
    return e
}()

// MARK: - Processes over pipes

/// A child process spoken to line by line.
/// Its stdin is written by one thread and its stdout read by another.
final class Child: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe(), stdout = Pipe()
    private var pending: [UInt8] = []
    private var scanned = 0

    init(_ path: String, _ args: [String]) throws {
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

func request(_ id: Int, _ method: String, _ params: [String: Any]) -> Data {
    var d = try! JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": id, "method": method, "params": params])
    d.append(0x0A)
    return d
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Requests per second when `requests` are written all at once and every answer read.
func pipelined(_ child: Child, _ requests: [Data]) -> Double {
    var ignored: [[UInt8]]?
    return pipelined(child, requests, answers: &ignored)
}

/// The same, keeping the answers in `answers` when it is not nil.
func pipelined(_ child: Child, _ requests: [Data], answers: inout [[UInt8]]?) -> Double {
    let all = requests.reduce(into: Data()) { $0.append($1) }
    let start = now()
    let writer = Thread { child.send(all) }
    writer.start()
    for _ in requests {
        let line = child.line()
        if answers != nil, let line { answers!.append(line) }
    }
    return Double(requests.count) / (now() - start)
}

/// Milliseconds of each sequential round trip.
func roundTrips(_ child: Child, _ request: Data, _ count: Int) -> [Double] {
    (0..<count).map { _ in
        let t = now()
        child.send(request)
        _ = child.line()
        return (now() - t) * 1000
    }
}

func percentile(_ xs: [Double], _ p: Double) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count - 1) * p))]
}

/// Median milliseconds from spawning to reading the first answer.
func startup(_ path: String, _ args: [String], _ runs: Int) throws -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
        let t = now()
        let c = try Child(path, args)
        c.send(request(1, "service.info", [:]))
        _ = c.line()
        times.append((now() - t) * 1000)
        c.finish()
    }
    return percentile(times, 0.5)
}

// MARK: - The figures

struct Row {
    var name: String
    var value: Double
    var unit: String
    var ceiling: Double?
    /// "ratio >= x" or "ratio <= x" or "value < x".
    var target: String
    var ok: Bool?
}
var rows: [Row] = []

@MainActor func ratioRow(_ name: String, _ value: Double, _ unit: String, ceiling: Double, atLeast: Double? = nil, atMost: Double? = nil) {
    let ratio = value / ceiling
    if let atLeast { rows.append(Row(name: name, value: value, unit: unit, ceiling: ceiling, target: "≥ \(atLeast)x", ok: ratio >= atLeast)) }
    else if let atMost { rows.append(Row(name: name, value: value, unit: unit, ceiling: ceiling, target: "≤ \(atMost)x", ok: ratio <= atMost)) }
}

func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

// MARK: 1. Reads, writes, round trips against their ceilings

log("setting up a database with users and credentials...")
let dbPath = workDir.appendingPathComponent("bench.sqlite3").path
let service = try Child(options.service, ["--db", dbPath])
let admin = service.call("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"])?["id"] as? String ?? ""
_ = service.call("session.login", ["email": "ada@example.com", "password": "Admin#1234"])
let typeID = service.call("credentialTypes.create", ["name": "Licence"])?["id"] as? String ?? ""
let seedCount = q ? 200 : 1000
var credentialIDs: [String] = []
// Written from another thread: the answers must be read while the requests go in, or both pipes fill.
let seed = (0..<seedCount).reduce(into: Data()) {
    $0.append(request($1, "credentials.add", ["userId": admin, "typeId": typeID, "issueDate": "2026-01-01",
                                              "expirationDate": "2027-01-01", "documentNumber": "SEED-\($1)"]))
}
Thread { service.send(seed) }.start()
for _ in 0..<seedCount {
    if let r = service.json()?["result"] as? [String: Any], let id = r["id"] as? String { credentialIDs.append(id) }
}

let reads = q ? 2000 : 20000
log("pipelined reads...")
let credentialGets = (0..<reads).map { request($0, "credentials.get", ["credentialId": credentialIDs[$0 % credentialIDs.count]]) }
let credentialGetRate = pipelined(service, credentialGets)
let userGetRate = pipelined(service, (0..<reads).map { request($0, "users.get", ["userId": admin]) })
// The echo ceiling answers with a payload the size of a credentials.get answer.
service.send(credentialGets[0])
let answerSize = service.line()?.count ?? 600
let echo = try Child(selfPath, ["--echo"])
let payload = String(repeating: "x", count: max(answerSize - 40, 10))
let echoRate = pipelined(echo, (0..<reads).map { request($0, "echo", ["payload": payload]) })
echo.finish()
ratioRow("pipelined credentials.get", credentialGetRate, "req/s", ceiling: echoRate, atLeast: 0.5)
ratioRow("pipelined users.get", userGetRate, "req/s", ceiling: echoRate, atLeast: 0.5)

log("pipelined durable writes...")

/// SQLite itself: ~400-byte rows, time-ordered keys, 100 a transaction, WAL, synchronous=FULL,
/// into a new file each run.
func sqliteCeiling(rows count: Int, run: Int) throws -> Double {
    let path = workDir.appendingPathComponent("ceiling-\(run).sqlite3").path
    let db = try Database(path: path, migrations: [Migration("rows", "CREATE TABLE r (id TEXT PRIMARY KEY, body TEXT NOT NULL)")])
    let ids = TimeOrderedIDs()
    let body = String(repeating: "r", count: 370)
    let start = now()
    var i = 0
    while i < count {
        try db.write {
            for _ in 0..<100 { try db.run("INSERT INTO r VALUES (?, ?)", ids.next(prefix: "row", millis: SystemClock.nowMillis()), body); i += 1 }
        }
    }
    return Double(i) / (now() - start)
}

// Write rates, the service's and the ceiling's alike, are the best of five rounds, and each
// round runs all three in turn, each after `sync()`: this machine's speed drifts by 10-20% from
// one second to the next, and the page cache one run leaves dirty must not slow the next. The
// rounds repeat one measure: each adds credentials, then renews each credential it added once
// (a renewal is a credential's next version), to a later expiry on one of a year of days.
let writes = q ? 1000 : 10000
var addRates: [Double] = [], versionRates: [Double] = [], ceilingRates: [Double] = []
func addedIDs(in answers: [[UInt8]]) -> [String] {
    answers.compactMap { ((try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any])?["result"] as? [String: Any] }
        .compactMap { $0["id"] as? String }
}
for run in 0..<5 {
    sync()
    ceilingRates.append(try sqliteCeiling(rows: q ? 5000 : 50000, run: run))
    sync()
    var added: [[UInt8]]? = []
    addRates.append(pipelined(service, (0..<writes).map {
        request($0, "credentials.add", ["userId": admin, "typeId": typeID, "issueDate": "2026-01-01", "expirationDate": "2027-01-01",
                                         "documentNumber": "W-\(run)-\($0)-" + String(repeating: "d", count: 58)])
    }, answers: &added))
    let renewing = addedIDs(in: added ?? [])
    guard renewing.count == writes else { fatalError("only \(renewing.count) of \(writes) adds succeeded") }
    sync()
    let firstExpiry = CalendarDate(year: 2027, month: 2, day: 1)!
    versionRates.append(pipelined(service, renewing.enumerated().map { i, id in
        request(i, "credentials.addVersion", ["credentialId": id, "issueDate": "2026-02-01",
                                               "expirationDate": firstExpiry.adding(days: run * 400 + i % 365).description])
    }))
}
let addRate = addRates.max()!, versionRate = versionRates.max()!, sqliteRate = ceilingRates.max()!
log("  rounds (rows or requests a second): ceiling \(ceilingRates.map { Int($0) }), adds \(addRates.map { Int($0) }), renewals \(versionRates.map { Int($0) })")
ratioRow("pipelined credentials.add", addRate, "req/s", ceiling: sqliteRate, atLeast: 0.2)
ratioRow("pipelined credentials.addVersion", versionRate, "req/s", ceiling: sqliteRate, atLeast: 0.2)

// Not a target, a property worth knowing: a credential's versions are stored together, so renewals
// spread over credentials that each have many versions dirty a page per credential. The seed
// credentials are renewed twice over to about their 21st version; the second pass is reported.
var deepRate = 0.0
for pass in 0..<2 {
    let count = credentialIDs.count * 10
    deepRate = pipelined(service, (0..<count).map {
        request($0, "credentials.addVersion", ["credentialId": credentialIDs[$0 % credentialIDs.count], "issueDate": "2026-02-01",
                                                "expirationDate": CalendarDate(year: 2030, month: 1, day: 1)!.adding(days: pass * 10 + $0 / credentialIDs.count).description])
    })
}
rows.append(Row(name: "credentials.addVersion, credentials at their 12th-21st version", value: deepRate, unit: "req/s",
                ceiling: sqliteRate, target: "-", ok: nil))

log("round trips...")
let trips = q ? 300 : 3000
/// glibc's sched_setaffinity, which Swift's Glibc module does not import (it needs _GNU_SOURCE).
typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
let setAffinity: SetAffinity? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity").map { unsafeBitCast($0, to: SetAffinity.self) }

/// Runs `pid` (0: this thread) on the CPUs given (all when nil).
func pin(_ pid: Int32, cpu: Int?) {
    var mask = [UInt8](repeating: cpu == nil ? 0xFF : 0, count: 128)  // cpu_set_t: 1024 bits
    if let cpu { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
    _ = mask.withUnsafeBytes { setAffinity?(pid, $0.count, $0.baseAddress!) }
}
// Round trips of tens of microseconds swing several times over with where the scheduler puts the
// two ends (same core or not, a core waking from idle). So this thread and each child are pinned
// to the same two CPUs for both measures, and the trips are interleaved, one to each in turn.
let pong = try Child(selfPath, ["--ping-pong"])
let pinned = ProcessInfo.processInfo.activeProcessorCount >= 2
if pinned {
    pin(0, cpu: 0)
    pin(service.process.processIdentifier, cpu: 1)
    pin(pong.process.processIdentifier, cpu: 1)
}
var rtt: [Double] = [], pongRTT: [Double] = []
for _ in 0..<trips {
    rtt += roundTrips(service, request(1, "users.get", ["userId": admin]), 1)
    pongRTT += roundTrips(pong, request(1, "users.get", ["userId": admin]), 1)
}
pong.finish()
if pinned { pin(0, cpu: nil) }
ratioRow("round trip p50 (users.get)", percentile(rtt, 0.5), "ms", ceiling: percentile(pongRTT, 0.5), atMost: 1.5)
rows.append(Row(name: "round trip p99 (users.get)", value: percentile(rtt, 0.99), unit: "ms", ceiling: percentile(pongRTT, 0.99), target: "-", ok: nil))

// Contract §14: an import's cost is linear in its rows, failed rows included. A dry run of rows
// that all fail (unknown emails, so each is looked up and reported) against the same number of
// good rows, best of three each.
log("imports of failing and good rows...")
let importRows = q ? 2000 : 20_000
let importHeader = "email,credential_type,issue_date,expiration_date,document_number\n"
let goodCSV = importHeader + (0..<importRows).map { "ada@example.com,Licence,2026-01-01,2027-01-01,IMP-\($0)\n" }.joined()
let failingCSV = importHeader + (0..<importRows).map { "nobody\($0)@example.com,Licence,2026-01-01,2027-01-01,IMP-\($0)\n" }.joined()
func importSeconds(_ csv: String) -> Double {
    (0..<3).map { _ -> Double in
        let t = now()
        service.send(request(0, "credentials.import", ["csv": csv, "dryRun": true]))
        _ = service.line()  // the answer read, not parsed: the failing one is larger to parse
        return now() - t
    }.min() ?? 0
}
let goodImport = importSeconds(goodCSV)
ratioRow("import dry run, \(importRows) failing rows (vs as many good)", importSeconds(failingCSV), "s", ceiling: goodImport, atMost: 2)
service.finish()

log("start-up...")
let startRuns = q ? 5 : 25
let serviceStart = try startup(options.service, ["--db", dbPath], startRuns)
let minimalStart = try startup(selfPath, ["--minimal"], startRuns)
ratioRow("start-up to first answer", serviceStart, "ms", ceiling: minimalStart, atMost: 1.5)

// MARK: 2. Scale

let scaleCredentials = q ? 20_000 : 1_000_000
let scaleUsers = q ? 2_000 : 100_000
let teamSize = q ? 200 : 1_000
log("building \(scaleCredentials) credentials across \(scaleUsers) users...")
let bigPath = workDir.appendingPathComponent("big.sqlite3").path
let seeder = try Child(options.service, ["--db", bigPath])
let bigAdmin = seeder.call("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": "Admin#1234"])?["id"] as? String ?? ""
seeder.finish()
try {
    let db = try Database(path: bigPath)
    try db.execute("PRAGMA synchronous = OFF")
    let ids = TimeOrderedIDs()
    var rng = SystemRandomNumberGenerator()
    let hash = try db.scalarText("SELECT password_hash FROM users") ?? ""
    try db.write {
        for t in 0..<20 {
            try db.run("INSERT INTO credential_types (id, name, name_key, description, requires_expiration, archived, created_at, updated_at) VALUES (?, ?, ?, '', 1, 0, 0, 0)",
                       "ctype_bench\(t)", "Type \(t)", "type \(t)")
        }
        var users: [String] = []
        for i in 0..<scaleUsers {
            let id = ids.next(prefix: "usr", millis: 1_700_000_000_000 + Int64(i))
            users.append(id)
            try db.run("INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password, password_hash, search, created_at, updated_at) VALUES (?, ?, ?, 'F', ?, 'support', 63, 'active', 0, ?, ?, 0, 0)",
                       id, "u\(i)@example.com", "u\(i)@example.com", "L\(i)", hash, "f l\(i) u\(i)@example.com")
        }
        try db.run("INSERT INTO teams (id, name, name_key, created_at, updated_at) VALUES ('team_bench', 'Big team', 'big team', 0, 0)")
        for t in 0..<3 { try db.run("INSERT INTO team_required_types (team_id, type_id) VALUES ('team_bench', ?)", "ctype_bench\(t)") }
        for u in users.prefix(teamSize) { try db.run("INSERT INTO team_members (team_id, user_id) VALUES ('team_bench', ?)", u) }
        let approvals = ["approved", "approved", "approved", "pending", "rejected"]
        for i in 0..<scaleCredentials {
            let id = ids.next(prefix: "cred", millis: 1_700_000_000_000 + Int64(i))
            let exp = CalendarDate(daysSinceEpoch: 19_700 + Int.random(in: 0..<1500, using: &rng)).description
            let approval = approvals[i % approvals.count]
            let user = users[Int.random(in: 0..<users.count, using: &rng)]
            try db.run("INSERT INTO credentials (id, user_id, type_id, version_count, latest_expiration, latest_approval, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, 0, 0)",
                       id, user, "ctype_bench\(i % 20)", exp, approval)
            try db.run("INSERT INTO credential_versions (credential_id, number, issue_date, expiration_date, document_number, approval_status, created_by, created_at) VALUES (?, 1, '2023-01-01', ?, ?, ?, ?, 0)",
                       id, exp, "DOC-\(i)", approval, bigAdmin)
            try db.run("INSERT INTO credential_events (credential_id, version, at, actor_id, changes) VALUES (?, 1, 0, ?, '[{\"field\":\"issueDate\",\"from\":null,\"to\":\"2023-01-01\"}]')", id, bigAdmin)
        }
    }
    try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
}()

log("queries at scale...")
let big = try Child(options.service, ["--db", bigPath])
_ = big.call("session.login", ["email": "ada@example.com", "password": "Admin#1234"])
let sample = big.call("credentials.list", ["limit": 1]).flatMap { ($0["items"] as? [[String: Any]])?.first }
let someUser = sample?["userId"] as? String ?? ""
let firstPage = big.call("credentials.list", ["expiryStatus": "expiring", "asOf": "2026-01-01"])
let expiringCursor = firstPage?["nextCursor"] as? String
let historyIDs: [String] = (big.call("credentials.list", ["limit": 200])?["items"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
let samples = q ? 60 : 300
var queries: [(String, [String: Any], String)] = [
    ("credentials.list first page", [:], "credentials.list"),
    ("credentials.list by user", ["userId": someUser], "credentials.list"),
    ("credentials.list by type and approval", ["typeId": "ctype_bench3", "approvalStatus": "pending"], "credentials.list"),
    ("credentials.list expiring", ["expiryStatus": "expiring", "asOf": "2026-01-01"], "credentials.list"),
    ("credentials.list expired", ["expiryStatus": "expired", "asOf": "2026-01-01"], "credentials.list"),
    ("credentials.list expiring of a type", ["expiryStatus": "expiring", "typeId": "ctype_bench5", "asOf": "2026-01-01"], "credentials.list"),
]
if let expiringCursor { queries.append(("credentials.list expiring, page 2", ["expiryStatus": "expiring", "asOf": "2026-01-01", "cursor": expiringCursor], "credentials.list")) }
for (name, params, method) in queries {
    let times = roundTrips(big, request(1, method, params), samples)
    rows.append(Row(name: "\(name) p50", value: percentile(times, 0.5), unit: "ms", ceiling: nil, target: "-", ok: nil))
    rows.append(Row(name: "\(name) p99", value: percentile(times, 0.99), unit: "ms", ceiling: nil, target: "< 5 ms", ok: percentile(times, 0.99) < 5))
}
let historyTimes = (0..<samples).map { i -> Double in
    let t = now()
    big.send(request(1, "credentials.history", ["credentialId": historyIDs.isEmpty ? "" : historyIDs[i % historyIDs.count]]))
    _ = big.line()
    return (now() - t) * 1000
}
rows.append(Row(name: "credentials.history p99", value: percentile(historyTimes, 0.99), unit: "ms", ceiling: nil, target: "< 5 ms", ok: percentile(historyTimes, 0.99) < 5))
let reportTimes = roundTrips(big, request(1, "compliance.report", ["teamId": "team_bench"]), q ? 10 : 40)
rows.append(Row(name: "compliance.report (\(teamSize) members) p50", value: percentile(reportTimes, 0.5), unit: "ms", ceiling: nil, target: "-", ok: nil))
rows.append(Row(name: "compliance.report (\(teamSize) members) p99", value: percentile(reportTimes, 0.99), unit: "ms", ceiling: nil, target: "< 5 ms", ok: percentile(reportTimes, 0.99) < 5))
// Contract §12 / issue 19: a page of 5,000 exported credentials at scale comes well under a second.
let exportTimes = roundTrips(big, request(1, "credentials.export", ["limit": 5000, "asOf": "2026-01-01"]), q ? 5 : 20)
rows.append(Row(name: "credentials.export (5,000 rows) p50", value: percentile(exportTimes, 0.5), unit: "ms", ceiling: nil, target: "-", ok: nil))
rows.append(Row(name: "credentials.export (5,000 rows) p99", value: percentile(exportTimes, 0.99), unit: "ms", ceiling: nil,
                target: "< 1000 ms", ok: percentile(exportTimes, 0.99) < 1000))
let dueTimes = roundTrips(big, request(1, "notifications.due", ["asOf": "2026-01-01", "limit": 100]), q ? 10 : 40)
rows.append(Row(name: "notifications.due (100) p99", value: percentile(dueTimes, 0.99), unit: "ms", ceiling: nil, target: "< 5 ms", ok: percentile(dueTimes, 0.99) < 5))
let rss = Double(big.peakKiB) / 1024
rows.append(Row(name: "service peak RSS at scale", value: rss, unit: "MiB", ceiling: nil, target: "< 64 MiB", ok: rss < 64))
big.finish()
if let keep = options.keepDB {
    try? FileManager.default.removeItem(atPath: keep)
    try FileManager.default.copyItem(atPath: bigPath, toPath: keep)
    log("kept the scale database at \(keep)")
}

// MARK: - Report

func fmt(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
print("credentials-rpc-bench\(q ? " (quick: small counts, figures not comparable)" : "") — \(scaleCredentials) credentials, \(scaleUsers) users")
print("| measure | service | ceiling | ratio | target | met |")
print("|---|---|---|---|---|---|")
for r in rows {
    let ceiling = r.ceiling.map { "\(fmt($0)) \(r.unit)" } ?? "-"
    let ratio = r.ceiling.map { String(format: "%.2fx", r.value / $0) } ?? "-"
    print("| \(r.name) | \(fmt(r.value)) \(r.unit) | \(ceiling) | \(ratio) | \(r.target) | \(r.ok.map { $0 ? "yes" : "NO" } ?? "") |")
}
let json: [[String: Any]] = rows.map { r in
    var o: [String: Any] = ["name": r.name, "value": r.value, "unit": r.unit, "target": r.target]
    if let c = r.ceiling { o["ceiling"] = c; o["ratio"] = r.value / c }
    if let ok = r.ok { o["met"] = ok }
    return o
}
let doc: [String: Any] = ["quick": q, "credentials": scaleCredentials, "users": scaleUsers, "results": json]
try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: options.jsonPath))
log("figures written to \(options.jsonPath)")
