import CredentialsCore

/// The current row of a query, read by column index, on either engine: what the stores read
/// their results through. Each read goes to the engine's own row (`SQLiteRow`, `PostgresRow`).
public struct Row {
    enum Source {
        case sqlite(SQLiteRow)
        case postgresql(PostgresRow)
    }
    let source: Source

    init(_ source: Source) { self.source = source }

    public func isNull(_ i: Int32) -> Bool {
        switch source { case .sqlite(let r): r.isNull(i); case .postgresql(let r): r.isNull(i) }
    }
    public func int(_ i: Int32) -> Int64 {
        switch source { case .sqlite(let r): r.int(i); case .postgresql(let r): r.int(i) }
    }
    public func bool(_ i: Int32) -> Bool {
        switch source { case .sqlite(let r): r.bool(i); case .postgresql(let r): r.bool(i) }
    }
    public func double(_ i: Int32) -> Double {
        switch source { case .sqlite(let r): r.double(i); case .postgresql(let r): r.double(i) }
    }
    public func text(_ i: Int32) -> String {
        switch source { case .sqlite(let r): r.text(i); case .postgresql(let r): r.text(i) }
    }
    public func optionalText(_ i: Int32) -> String? {
        switch source { case .sqlite(let r): r.optionalText(i); case .postgresql(let r): r.optionalText(i) }
    }
    /// Whether column `i` is text with exactly the bytes of `s`, without making a String of it.
    public func text(_ i: Int32, equals s: String) -> Bool {
        switch source { case .sqlite(let r): r.text(i, equals: s); case .postgresql(let r): r.text(i, equals: s) }
    }
    public func text(_ i: Int32, equals bytes: ArraySlice<UInt8>) -> Bool {
        switch source { case .sqlite(let r): r.text(i, equals: bytes); case .postgresql(let r): r.text(i, equals: bytes) }
    }
    /// Appends column `i`'s text (nothing for NULL) to `buffer`; returns where it went.
    public func appendText(_ i: Int32, to buffer: inout [UInt8]) -> Range<Int> {
        switch source { case .sqlite(let r): r.appendText(i, to: &buffer); case .postgresql(let r): r.appendText(i, to: &buffer) }
    }
    /// The position in `candidates` of column `i`'s text, compared by bytes.
    public func text(_ i: Int32, in candidates: [[UInt8]]) -> Int? {
        switch source { case .sqlite(let r): r.text(i, in: candidates); case .postgresql(let r): r.text(i, in: candidates) }
    }
    /// Column `i` as a calendar date, nil for NULL or anything else.
    public func calendarDate(_ i: Int32) -> CalendarDate? {
        switch source { case .sqlite(let r): r.calendarDate(i); case .postgresql(let r): r.calendarDate(i) }
    }
    public func blob(_ i: Int32) -> [UInt8] {
        switch source { case .sqlite(let r): r.blob(i); case .postgresql(let r): r.blob(i) }
    }
}
