// `credentials-rpc copy --from DB --to DB`: the copy itself is `StoreCopy` (CredentialsStore);
// this file only reports it on stderr.
import CredentialsStore
import Foundation

/// Copies, then prints one line per table and a verdict. A progress line goes out at most once
/// a second while a large table is copied. Returns the exit status: 0 only when every table matched.
func copyStores(from: String, to: String) -> Int32 {
    let started = Date()
    var lastProgress = started
    do {
        let source = try StoreLocation(from), target = try StoreLocation(to)
        writeLine(2, "credentials-rpc: copying \(source.displayName) into \(target.displayName)")
        let reports = try StoreCopy.run(from: source, to: target) { progress in
            switch progress {
            case .step(let step): writeLine(2, "credentials-rpc: copy: \(step)")
            case .rows(let table, let done, let total):
                let now = Date()
                guard now.timeIntervalSince(lastProgress) >= 1 else { return }
                lastProgress = now
                writeLine(2, "credentials-rpc: copy: \(table) \(done)/\(total) rows")
            }
        }
        printTables(reports)
        let rows = reports.reduce(0) { $0 + $1.rows }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        writeLine(2, "credentials-rpc: copied \(rows) rows in \(reports.count) tables in \(seconds) s; every table's rows and digest match")
        return 0
    } catch let mismatch as StoreCopy.CopyMismatch {
        printTables(mismatch.reports)
        writeLine(2, "credentials-rpc: copy failed: \(mismatch)")
        return 1
    } catch {
        writeLine(2, "credentials-rpc: copy failed, the target is unchanged: \(error)")
        return 1
    }
}

func printTables(_ reports: [StoreCopy.TableReport]) {
    for r in reports {
        let media = r.mediaBytes > 0 ? ", \(r.mediaBytes) bytes of blobs" : ""
        writeLine(2, "  \(r.table): \(r.rows) rows\(media), \(r.matched ? "matched" : "DID NOT MATCH")")
    }
}
