import Foundation

/// One request at a time, each timed to its answer: a lone round trip against the strong echo, an
/// import of failing rows against one of good rows, and start-up against a minimal program.
enum RoundTrips {
    /// glibc's sched_setaffinity, which Swift's Glibc module does not import (it needs _GNU_SOURCE).
    typealias SetAffinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
    static let setAffinity: SetAffinity? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity").map { unsafeBitCast($0, to: SetAffinity.self) }

    /// Runs `pid` (0: this thread) on the CPUs given (all when nil).
    static func pin(_ pid: Int32, cpu: Int?) {
        var mask = [UInt8](repeating: cpu == nil ? 0xFF : 0, count: 128)  // cpu_set_t: 1024 bits
        if let cpu { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        _ = mask.withUnsafeBytes { setAffinity?(pid, $0.count, $0.baseAddress!) }
    }

    static func credentialsGet(_ s: SeededService, _ run: Run, _ table: inout Table) throws {
        let service = s.service
        log("round trips...")
        let trips = run.quick ? 300 : 3000
        let get = request(1, "credentials.get", ["credentialId": s.credentialIDs[0]])
        // Round trips of tens of microseconds swing several times over with where the scheduler puts the
        // two ends (same core or not, a core waking from idle). So this thread and each child are pinned
        // to the same two CPUs for both measures, and the trips are interleaved, one to each in turn.
        let echo = try Child(run.selfPath, ["--strong-echo", String(Throughput.answerBytes(service, get))])
        let pong = try Child(run.selfPath, ["--ping-pong"])
        let pinned = ProcessInfo.processInfo.activeProcessorCount >= 2
        if pinned {
            pin(0, cpu: 0)
            pin(service.process.processIdentifier, cpu: 1)
            pin(echo.process.processIdentifier, cpu: 1)
            pin(pong.process.processIdentifier, cpu: 1)
        }
        var rtt: [Double] = [], echoRTT: [Double] = [], pongRTT: [Double] = []
        for _ in 0..<trips {
            rtt += roundTrips(service, get, 1)
            echoRTT += roundTrips(echo, get, 1)
            pongRTT += roundTrips(pong, get, 1)
        }
        echo.finish()
        pong.finish()
        if pinned { pin(0, cpu: nil) }
        table.ratio("round trip p50 (credentials.get)", percentile(rtt, 0.5), "ms", ceiling: percentile(echoRTT, 0.5), atMost: 1.5)
        table.rows.append(Row(name: "round trip p99 (credentials.get)", value: percentile(rtt, 0.99), unit: "ms", ceiling: percentile(echoRTT, 0.99), target: "-", ok: nil))
        table.rows.append(Row(name: "round trip p50 against a bare pipe ping-pong", value: percentile(rtt, 0.5), unit: "ms",
                              ceiling: percentile(pongRTT, 0.5), target: "-", ok: nil))
    }

    // Protocol/README.md §8, CSV import: an import's cost is linear in its rows, failed rows included. A dry run of rows
    // that all fail (unknown emails, so each is looked up and reported) against the same number of
    // good rows, best of three each.
    static func imports(_ s: SeededService, _ run: Run, _ table: inout Table) {
        let service = s.service
        log("imports of failing and good rows...")
        let importRows = run.quick ? 2000 : 20_000
        let importHeader = "email,credential_type,issue_date,expiration_date,document_number\n"
        let goodCSV = importHeader + (0..<importRows).map { "ada@example.com,Licence,2026-01-01,2027-01-01,IMP-\($0)\n" }.joined()
        let failingCSV = importHeader + (0..<importRows).map { "nobody\($0)@example.com,Licence,2026-01-01,2027-01-01,IMP-\($0)\n" }.joined()
        func importSeconds(_ csv: String) -> Double {
            let t = now()
            service.send(request(0, "credentials.import", ["csv": csv, "dryRun": true]))
            _ = service.line()  // the answer read, not parsed: the failing one is larger to parse
            return now() - t
        }
        // In turn, best of three each, so that the ratio does not carry the machine's drift.
        var good = Double.infinity, failing = Double.infinity
        for _ in 0..<3 {
            good = min(good, importSeconds(goodCSV))
            failing = min(failing, importSeconds(failingCSV))
        }
        table.ratio("import dry run, \(importRows) failing rows (vs as many good)", failing, "s", ceiling: good, atMost: 2)
    }

    /// The service's start-up on the small database against the smallest Foundation program's.
    static func startup(_ run: Run, dbPath: String, _ table: inout Table) throws {
        log("start-up...")
        let startRuns = run.quick ? 5 : 25
        let serviceStart = try startup(run.service, ["--db", dbPath], startRuns)
        let minimalStart = try startup(run.selfPath, ["--minimal"], startRuns)
        table.ratio("start-up to first answer", serviceStart, "ms", ceiling: minimalStart, atMost: 1.5)
    }

    /// Median milliseconds from spawning to reading the first answer.
    static func startup(_ path: String, _ args: [String], _ runs: Int) throws -> Double {
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
}
