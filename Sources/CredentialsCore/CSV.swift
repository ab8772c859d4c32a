import Foundation

/// RFC 4180 CSV, read and written by our own code: quoted fields with commas, quotes and newlines,
/// CRLF or LF line ends, a UTF-8 byte order mark. Every record knows the physical line it starts on.
public enum CSV {
    public struct Record: Equatable, Sendable {
        /// 1-based physical line where the record starts.
        public var line: Int
        public var fields: [String]
        /// Why this record could not be read (a quote where none may stand); its fields are then partial.
        public var problem: String?
        /// The record's text as it came, without its line end: kept for a record with a problem
        /// only, so that it can be written back unmended (`appendUnmended`).
        public var text: String? = nil
    }

    public enum ReadError: Error, Equatable {
        /// A quoted field that never closes swallows the rest of the file.
        case unterminatedQuote(line: Int)
    }

    public static func read(_ text: String) throws(ReadError) -> [Record] {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var problem: String? = nil
        var i = 0
        var recordStart = 0
        var fieldWasQuoted = false

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            // A blank line (one empty unquoted field) is no record.
            if !(fields.count == 1 && fields[0].isEmpty && problem == nil) {
                records.append(Record(line: recordLine, fields: fields, problem: problem,
                                      text: problem == nil ? nil : String(decoding: bytes[recordStart..<i], as: UTF8.self)))
            }
            fields.removeAll(keepingCapacity: true)
            problem = nil
        }

        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") && field.isEmpty && !fieldWasQuoted {
                // A quoted field: runs to the next lone quote.
                let start = line
                i += 1
                fieldWasQuoted = true
                var closed = false
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\"") {
                        if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                            field.append(c)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    // A line break inside quotes is a physical line too: LF, CRLF, or a lone CR as
                    // outside them.
                    if c == 0x0A || (c == 0x0D && !(i + 1 < bytes.count && bytes[i + 1] == 0x0A)) { line += 1 }
                    field.append(c)
                    i += 1
                }
                if !closed { throw .unterminatedQuote(line: start) }
                // After the closing quote only a separator or a line end may follow.
                if i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x0A, bytes[i] != 0x0D {
                    problem = problem ?? "text after a closing quote"
                    while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x0A, bytes[i] != 0x0D {
                        field.append(bytes[i])
                        i += 1
                    }
                }
                continue
            }
            switch b {
            case UInt8(ascii: ","):
                endField()
                i += 1
            case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
                endRecord()
                i += 2
                line += 1
                recordLine = line
                recordStart = i
            case 0x0A, 0x0D:
                endRecord()
                i += 1
                line += 1
                recordLine = line
                recordStart = i
            case UInt8(ascii: "\""):
                problem = problem ?? "a quote inside an unquoted field"
                field.append(b)
                i += 1
            default:
                field.append(b)
                i += 1
            }
        }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// One record as CSV text, quoting only fields that need it, each cell formula-escaped
    /// (`escapeFormula`); CRLF line end. Every CSV the service writes goes through here.
    public static func line(_ fields: [String]) -> String {
        var out: [UInt8] = []
        appendLine(fields, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `line(fields)`'s bytes, appended: a file of many lines is built in one buffer.
    public static func appendLine(_ fields: [String], to out: inout [UInt8]) {
        for (i, cell) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendCell(cell, to: &out)
        }
        out.append(0x0D)
        out.append(0x0A)
    }

    /// One cell, formula-escaped, quoted (its quotes doubled) when it holds a comma, a quote, a
    /// CR or an LF, or starts or ends with a space. Bytes, not Characters: "\r\n" is one
    /// Character and would hide both, and bytes are written at the speed of a copy.
    public static func appendCell(_ cell: String, to out: inout [UInt8]) {
        let apostrophe = quotesBeforeTrigger(cell) != nil
        var cell = cell
        cell.withUTF8 { u in
            let quoted = (!apostrophe && u.first == 0x20) || u.last == 0x20
                || u.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
            if quoted { out.append(UInt8(ascii: "\"")) }
            if apostrophe { out.append(UInt8(ascii: "'")) }
            if quoted {
                for b in u {
                    out.append(b)
                    if b == UInt8(ascii: "\"") { out.append(b) }
                }
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: u)
            }
        }
    }

    /// A record that could not be read (`Record.text`), as it came, each cell formula-escaped as
    /// `appendCell` would (a `'` before it, inside its opening quote when it has one) and
    /// nothing else changed: read again, it gives the same fields and the same problem, so a
    /// failed row written back keeps failing until it is mended by hand.
    public static func appendUnmended(_ text: String, to out: inout [UInt8]) {
        let b = Array(text.utf8)
        var i = 0
        while true {
            // A cell starts here.
            let quoted = i < b.count && b[i] == UInt8(ascii: "\"")
            if quoted {
                out.append(b[i])
                i += 1
            }
            // A cell already written with its apostrophe reads as the value after it, which is
            // written so; one that starts with the trigger itself gets the apostrophe.
            if i < b.count, isFormulaTrigger(b[i]) { out.append(UInt8(ascii: "'")) }
            if quoted {
                // To the closing quote, doubled quotes inside.
                while i < b.count {
                    out.append(b[i])
                    i += 1
                    if b[i - 1] == UInt8(ascii: "\"") {
                        if i < b.count, b[i] == UInt8(ascii: "\"") { out.append(b[i]); i += 1 } else { break }
                    }
                }
            }
            // Then to the separator (a quote here is the stray one the record is refused for).
            while i < b.count, b[i] != UInt8(ascii: ",") {
                out.append(b[i])
                i += 1
            }
            guard i < b.count else { return }
            out.append(b[i])
            i += 1
        }
    }
}

extension CSV {
    /// The first characters that make a spreadsheet read a cell as a formula (`=1+1`,
    /// `+cmd|' /C calc'!A0`, `@SUM(...)`, `-2+3`), and the tab and CR some of them skip first.
    static func isFormulaTrigger(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "=") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: "@") || b == 0x09 || b == 0x0D
    }

    /// The number of leading apostrophes when a trigger follows them, else nil.
    static func quotesBeforeTrigger(_ f: String) -> Int? {
        var quotes = 0
        for b in f.utf8 {
            if b == UInt8(ascii: "'") { quotes += 1; continue }
            return isFormulaTrigger(b) ? quotes : nil
        }
        return nil
    }

    /// A cell as written (Protocol/README.md §8, Exports): one leading `'` when, after any apostrophes it already
    /// starts with, it would start with a formula trigger. So no spreadsheet runs it, and
    /// `unescapeFormula` gives back exactly the value, also one that itself starts with `'=`.
    public static func escapeFormula(_ f: String) -> String {
        quotesBeforeTrigger(f) == nil ? f : "'" + f
    }

    /// The cell without the spaces (U+0020 only) around it: a tab or a CR is part of the cell, and
    /// refused where a field may not hold it.
    public static func trimmingSpaces(_ f: String) -> String {
        let u = f.utf8
        guard u.first == 0x20 || u.last == 0x20 else { return f }
        let start = u.firstIndex { $0 != 0x20 } ?? u.endIndex
        let end = u.lastIndex { $0 != 0x20 }.map { u.index(after: $0) } ?? start
        return start < end ? String(f[start..<end]) : ""
    }

    /// A cell as read by the import: the inverse of `escapeFormula`, removing one leading `'`
    /// from a cell whose apostrophes are followed by a formula trigger.
    public static func unescapeFormula(_ f: String) -> String {
        guard let quotes = quotesBeforeTrigger(f), quotes > 0 else { return f }
        return String(f.dropFirst())
    }
}

extension String {
    /// The text without the blanks around it (Unicode's space separators and the tab), as
    /// Foundation's `trimmingCharacters(in: .whitespaces)` gives it, which it calls only when an
    /// end is not plain ASCII or is a space or tab: almost every cell is returned as it is, and
    /// Foundation's trim was a third of checking an import row. (`CSV.trimmingSpaces` trims
    /// U+0020 alone.)
    public func trimmingBlanks() -> String {
        guard let first = utf8.first, let last = utf8.last else { return self }
        func plain(_ b: UInt8) -> Bool { b < 0x80 && b != 0x20 && b != 0x09 }
        return plain(first) && plain(last) ? self : trimmingCharacters(in: .whitespaces)
    }
}
