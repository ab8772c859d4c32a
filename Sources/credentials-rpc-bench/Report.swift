import Foundation

// The figures as they are collected, then printed as a Markdown table and written as JSON.

struct Row {
    var name: String
    var value: Double
    var unit: String
    var ceiling: Double?
    /// "ratio >= x" or "ratio <= x" or "value < x".
    var target: String
    var ok: Bool?
}

/// The rows in the order they were measured, which is the order they are reported in.
struct Table {
    var rows: [Row] = []

    /// A row judged by its ratio to the ceiling: at least `atLeast` times it, or at most `atMost`.
    mutating func ratio(_ name: String, _ value: Double, _ unit: String, ceiling: Double, atLeast: Double? = nil, atMost: Double? = nil) {
        let ratio = value / ceiling
        if let atLeast { rows.append(Row(name: name, value: value, unit: unit, ceiling: ceiling, target: "≥ \(atLeast)x", ok: ratio >= atLeast)) }
        else if let atMost { rows.append(Row(name: name, value: value, unit: unit, ceiling: ceiling, target: "≤ \(atMost)x", ok: ratio <= atMost)) }
    }

    /// The table on stdout, under a line saying how big the run was.
    func print(quick q: Bool, scale: Scale) {
        func fmt(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
        Swift.print("credentials-rpc-bench\(q ? " (quick: small counts, figures not comparable)" : "") — \(scale.credentials) credentials, \(scale.users) users")
        Swift.print("| measure | service | ceiling | ratio | target | met |")
        Swift.print("|---|---|---|---|---|---|")
        for r in rows {
            let ceiling = r.ceiling.map { "\(fmt($0)) \(r.unit)" } ?? "-"
            let ratio = r.ceiling.map { String(format: "%.2fx", r.value / $0) } ?? "-"
            Swift.print("| \(r.name) | \(fmt(r.value)) \(r.unit) | \(ceiling) | \(ratio) | \(r.target) | \(r.ok.map { $0 ? "yes" : "NO" } ?? "") |")
        }
    }

    /// The same figures as JSON at `path`, unrounded: a ceiling and ratio only where there is a
    /// ceiling, and `met` only where there is a target.
    func writeJSON(to path: String, quick q: Bool, scale: Scale) throws {
        let json: [[String: Any]] = rows.map { r in
            var o: [String: Any] = ["name": r.name, "value": r.value, "unit": r.unit, "target": r.target]
            if let c = r.ceiling { o["ceiling"] = c; o["ratio"] = r.value / c }
            if let ok = r.ok { o["met"] = ok }
            return o
        }
        let doc: [String: Any] = ["quick": q, "credentials": scale.credentials, "users": scale.users, "results": json]
        try JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
    }
}

/// Progress goes to stderr, so that stdout holds the table alone.
func log(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
