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
