// credentials-rpc-bench: measures the real service over pipes, and in the same run the ceilings it
// is judged against. Prints a table and writes the figures as JSON. See README.md, "Benchmark".
//
//   swift run -c release credentials-rpc-bench [--quick] [--json PATH] [--service PATH] [--keep-db PATH]
//
// --keep-db copies the scale database (sign in as ada@example.com / Admin#1234) to PATH, for profiling.
//
// This file is the command line and the order of the run. The measures are in Throughput.swift,
// RoundTrips.swift, ColdCalls.swift, QueriesAtScale.swift and OnPostgres.swift, the databases they run on in
// Seeding.swift, the ceilings in Ceilings.swift.
import Foundation

// The ceilings are this same executable run in another mode, so they start the way the bench does.
switch CommandLine.arguments.dropFirst().first {
case "--echo": Ceilings.echo()
case "--strong-echo": Ceilings.strongEcho(answerBytes: Int(CommandLine.arguments.dropFirst(2).first ?? "") ?? 600)
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

/// What every measure needs to know of the run.
struct Run {
    let quick: Bool
    /// The service's executable.
    let service: String
    /// This executable, which the ceilings are run as.
    let selfPath: String
    /// Holds the databases; removed when the run ends.
    let workDir: URL
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
let run = Run(quick: options.quick, service: options.service, selfPath: URL(fileURLWithPath: CommandLine.arguments[0]).path,
              workDir: FileManager.default.temporaryDirectory.appendingPathComponent("crpc-bench-\(getpid())"))
try? FileManager.default.createDirectory(at: run.workDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: run.workDir) }
var table = Table()

// 1. Reads, writes, round trips against their ceilings, on the small database.
let seeded = try SeededService.start(run)
try Throughput.reads(seeded, run, &table)
try Throughput.writes(seeded, run, &table)
try RoundTrips.credentialsGet(seeded, run, &table)
RoundTrips.imports(seeded, run, &table)
seeded.service.finish()
try RoundTrips.startup(run, dbPath: seeded.dbPath, &table)
try ColdCalls.measure(run, &table)

// 2. Queries at scale, against absolute targets.
let scale = Scale(quick: run.quick)
let bigPath = try ScaleDatabase.build(run, scale)
try QueriesAtScale.measure(run, scale, db: bigPath, &table)

// 3. The same on PostgreSQL, against its own ceiling, when a server is named.
try OnPostgres.measure(run, scale, bigPath: bigPath, &table)
if let keep = options.keepDB {
    try? FileManager.default.removeItem(atPath: keep)
    try FileManager.default.copyItem(atPath: bigPath, toPath: keep)
    log("kept the scale database at \(keep)")
}

table.print(quick: run.quick, scale: scale)
try table.writeJSON(to: options.jsonPath, quick: run.quick, scale: scale)
log("figures written to \(options.jsonPath)")
