import Testing
@testable import CredentialsCore

/// Spreadsheet formula escaping of every CSV the service writes (contract §12).
struct FormulaEscapeTests {
    static let dangerous = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(A1:A2)", "-2+3", "\t=cmd", "\r=cmd"]

    @Test("a cell a spreadsheet would run is written with a leading '", arguments: dangerous)
    func escaped(cell: String) throws {
        let line = CSV.line([cell])
        let read = try CSV.read(line)[0].fields[0]
        #expect(read.hasPrefix("'"))
        #expect(CSV.unescapeFormula(read) == cell)
    }

    @Test("values round-trip exactly, apostrophes included", arguments: [
        "=1", "'=1", "''=1", "'", "'abc", "abc", "", "a=b", "O'Brien", "-", "'-'", "@", " =1",
    ])
    func roundTrip(value: String) throws {
        let read = try CSV.read(CSV.line([value, "x"]))[0].fields[0]
        #expect(CSV.unescapeFormula(read) == value)
        #expect(CSV.quotesBeforeTrigger(read).map { $0 > 0 } ?? true, "a written cell that starts a formula: \(read)")
    }
}
