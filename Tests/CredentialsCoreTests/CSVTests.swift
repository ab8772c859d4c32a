import Foundation
import Testing
@testable import CredentialsCore
import JSONRPC

/// The CSV corpus in Tests/Corpus/csv: each file beside a `.expected.json` with its records
/// (`[line, fields, problem?]`) or the read error.
struct CSVTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus/csv")
    static let files: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? [])
        .filter { $0.hasSuffix(".csv") }.sorted()

    @Test func theCorpusIsThere() { #expect(Self.files.count >= 15) }

    @Test("corpus files read as expected", arguments: files)
    func corpus(file: String) throws {
        let text = String(decoding: try Data(contentsOf: Self.corpus.appendingPathComponent(file)), as: UTF8.self)
        let expected = try JSONParser.parse(Array(try Data(contentsOf: Self.corpus.appendingPathComponent(file + ".expected.json")))).value
        if let line = expected["unterminatedQuote"]?.intValue {
            #expect(throws: CSV.ReadError.unterminatedQuote(line: line)) { try CSV.read(text) }
            return
        }
        let records = try CSV.read(text)
        let want = expected.arrayValue ?? []
        #expect(records.count == want.count, "\(file): \(records)")
        for (r, w) in zip(records, want) {
            #expect(r.line == w[0]?.intValue, "\(file)")
            #expect(r.fields == (w[1]?.arrayValue ?? []).compactMap(\.stringValue), "\(file)")
            #expect(r.problem == w[2]?.stringValue, "\(file)")
        }
    }

    @Test("written lines read back the same", arguments: [
        ["plain", "with, comma", "with \"quotes\"", "multi\r\nline", "lf\nonly", " padded ", "", "日本"],
        ["", ""], ["x"],
    ])
    func roundTrip(fields: [String]) throws {
        let text = CSV.line(["h"] + fields.dropFirst().map { _ in "h" }) + CSV.line(fields)
        let records = try CSV.read(text)
        #expect(records.last?.fields == (fields == [""] ? nil : fields))
        #expect(text.hasSuffix("\r\n"))
    }
}

struct ReminderRulesTests {
    let exp = CalendarDate("2026-03-31")!

    func keys(_ asOf: String, _ offsets: [Int] = [30, 7, 1]) -> [String] {
        Reminders.due(expiration: exp, offsets: offsets, asOf: CalendarDate(asOf)!).map { "\($0.0.key)@\($0.1)" }
    }

    @Test func offsetsFallDueInTurnThenTheExpiredOneAlone() {
        #expect(keys("2026-02-28") == [])
        #expect(keys("2026-03-01") == ["30@2026-03-01"])
        #expect(keys("2026-03-24") == ["30@2026-03-01", "7@2026-03-24"])
        #expect(keys("2026-03-31") == ["30@2026-03-01", "7@2026-03-24", "1@2026-03-30"])
        #expect(keys("2026-04-01") == ["expired@2026-04-01"])
        #expect(keys("2027-01-01") == ["expired@2026-04-01"])
        #expect(keys("2026-03-30", []) == [])
        #expect(keys("2026-03-30", [1, 60]) == ["60@2026-01-30", "1@2026-03-30"])
    }

    @Test func offsetKeysRoundTrip() {
        for o in [Reminders.Offset.daysBefore(1), .daysBefore(365), .expired] { #expect(Reminders.Offset(key: o.key) == o) }
        for bad in ["0", "366", "-1", "07", "x", ""] { #expect(Reminders.Offset(key: bad) == nil) }
    }
}

struct ComplianceRulesTests {
    let asOf = CalendarDate("2026-01-01")!

    @Test("status of one credential", arguments: [
        (ApprovalStatus.approved, "2026-06-01", Compliance.Status.compliant),
        (.approved, nil, .compliant),
        (.approved, "2026-01-20", .expiring),
        (.approved, "2025-12-31", .expired),
        (.pending, "2026-06-01", .notApproved),
        (.rejected, "2026-06-01", .notApproved),
    ] as [(ApprovalStatus, String?, Compliance.Status)])
    func status(approval: ApprovalStatus, expiration: String?, expected: Compliance.Status) {
        #expect(Compliance.status(approval: approval, expiration: expiration.flatMap(CalendarDate.init), asOf: asOf, windowDays: 30) == expected)
    }

    @Test func theBestCredentialCountsAndTheVerdictFollowsTheWorstType() {
        #expect(Compliance.best([]) == .missing)
        #expect(Compliance.best([.expired, .notApproved]) == .notApproved)
        #expect(Compliance.best([.expired, .expiring, .notApproved]) == .expiring)
        #expect(Compliance.verdict([]) == .compliant)
        #expect(Compliance.verdict([.compliant, .compliant]) == .compliant)
        #expect(Compliance.verdict([.compliant, .expiring]) == .expiring)
        #expect(Compliance.verdict([.compliant, .missing]) == .nonCompliant)
        #expect(Compliance.verdict([.expired]) == .nonCompliant)
        #expect(Compliance.Status.compliant.isBetter(than: .expiring))
        #expect(Compliance.worstFirst(.missing, .expired))
    }
}
