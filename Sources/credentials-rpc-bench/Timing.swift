import Foundation

// How one figure is taken: the clock, the two ways of timing requests, and percentiles.

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
