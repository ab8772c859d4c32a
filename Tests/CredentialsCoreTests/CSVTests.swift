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

    /// A record that cannot be read, written back unmended, reads again as the same fields with
    /// the same problem; its formula cells gain one `'` (inside the quote of a quoted one).
    @Test("unreadable records written back read the same", arguments: [
        #""a"b,x"#, #"a"b,"c""d"e"#, #""ab" ,=1+1,"@x"y"#, "\"multi\r\nline\"z,-2", #"'=x,"'+y"q"#,
    ])
    func unreadableRoundTrip(text: String) throws {
        let first = try #require(try CSV.read(text).first)
        let recorded = try #require(first.text)
        #expect(recorded == text)
        var out: [UInt8] = []
        CSV.appendUnmended(recorded, to: &out)
        let again = try #require(try CSV.read(String(decoding: out, as: UTF8.self)).first)
        #expect(again.problem != nil && again.problem == first.problem, "\(String(decoding: out, as: UTF8.self))")
        // Each cell is its value as the import reads it, written as every cell is written.
        #expect(again.fields.map(CSV.unescapeFormula) == first.fields.map(CSV.unescapeFormula))
        #expect(again.fields == first.fields.map { CSV.escapeFormula(CSV.unescapeFormula($0)) })
    }

    /// The import's trim: what Foundation's `.whitespaces` trim gives, for plain and Unicode
    /// spaces at either end, inside, alone, and for characters that are not spaces.
    @Test func aCellIsTrimmedAsFoundationTrimsIt() {
        let spaces = ["", " ", "\t", "\u{A0}", "\u{3000}", "\u{2003}", "\n", "\r", "\u{85}", "\u{200B}"]
        let cores = ["", "Licence", "a b", "é", "2026-01-01", "\u{A0}x\u{A0}", "x\t"]
        for lead in spaces {
            for core in cores {
                for trail in spaces {
                    let cell = lead + core + trail
                    #expect(cell.trimmingBlanks() == cell.trimmingCharacters(in: .whitespaces), "\(Array(cell.unicodeScalars))")
                }
            }
        }
    }

    /// `CSV.line` writes bytes as the Character-based writer it replaced wrote text, for cells
    /// with every special: commas, quotes, CR, LF, CRLF, spaces at the ends, formula triggers
    /// behind apostrophes, non-ASCII.
    @Test func linesAreWrittenAsTheTextWriterWroteThem() throws {
        func reference(_ fields: [String]) -> String {
            fields.map { cell in
                let f = CSV.escapeFormula(cell)
                let needsQuotes = f.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                    || f.first == " " || f.last == " "
                return needsQuotes ? "\"" + f.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : f
            }.joined(separator: ",") + "\r\n"
        }
        let cells = ["", "plain", "a,b", "say \"hi\"", "two\nlines", "crlf\r\nend", "\r", " lead", "trail ", " ", "=1+1", "'=x", "''@y",
                     "-2", "+", "\t=cmd", "é ü", "\"", ",", "a\"\"b", " =1", "= "]
        for a in cells {
            for b in cells { #expect(CSV.line([a, b]) == reference([a, b]), "\([a, b])") }
        }
        #expect(CSV.line([]) == "\r\n")
        // Where the text writer was wrong: a quote or a leading space that a combining mark
        // joins into one Character was missed, and the cell did not read back. Bytes see them.
        let joined = ["x\"\u{301}y", " \u{301}lead", "a,\u{301}"]
        #expect(try CSV.read(CSV.line(joined)).first?.fields == joined)
    }
}
