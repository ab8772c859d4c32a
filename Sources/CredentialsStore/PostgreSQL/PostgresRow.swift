import CPostgres
import CredentialsCore

/// One row of a result, valid while the `run` call that gave it is running. Results come as
/// text: integers in decimal, booleans as `t` or `f` (a comparison or EXISTS, which SQLite
/// gives as 1 or 0), `bytea` in hex. The accessors are `Row`'s, read that way.
public struct PostgresRow {
    let result: OpaquePointer
    let index: Int32

    /// Column `column`'s bytes as the server sent them (empty for NULL).
    func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let length = Int(PQgetlength(result, index, column))
        return try PQgetvalue(result, index, column).withMemoryRebound(to: UInt8.self, capacity: max(length, 1)) {
            try body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    public func isNull(_ column: Int32) -> Bool { PQgetisnull(result, index, column) == 1 }

    public func text(_ column: Int32) -> String { withBytes(column) { String(decoding: $0, as: UTF8.self) } }

    public func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    public func int(_ column: Int32) -> Int64 {
        withBytes(column) { b in
            if b.count == 1 && b[0] == UInt8(ascii: "t") { return 1 }
            if b.count == 1 && b[0] == UInt8(ascii: "f") { return 0 }
            return Int64(String(decoding: b, as: UTF8.self)) ?? 0
        }
    }

    public func bool(_ column: Int32) -> Bool { int(column) != 0 }

    public func double(_ column: Int32) -> Double { Double(text(column)) ?? 0 }

    public func text(_ column: Int32, equals s: String) -> Bool {
        var s = s
        return s.withUTF8 { wanted in !isNull(column) && withBytes(column) { $0.elementsEqual(wanted) } }
    }

    public func text(_ column: Int32, equals bytes: ArraySlice<UInt8>) -> Bool {
        !isNull(column) && withBytes(column) { $0.elementsEqual(bytes) }
    }

    public func appendText(_ column: Int32, to buffer: inout [UInt8]) -> Range<Int> {
        let start = buffer.count
        withBytes(column) { buffer.append(contentsOf: $0) }
        return start..<buffer.count
    }

    public func text(_ column: Int32, in candidates: [[UInt8]]) -> Int? {
        guard !isNull(column) else { return nil }
        return withBytes(column) { b in candidates.firstIndex { $0.elementsEqual(b) } }
    }

    public func calendarDate(_ column: Int32) -> CalendarDate? {
        isNull(column) ? nil : withBytes(column) { CalendarDate(utf8: $0) }
    }

    /// A `bytea` column, which text results give in hex (`\x0a1b...`, PostgreSQL 9.0 and later).
    public func bytes(_ column: Int32) -> [UInt8] { withBytes(column) { PostgresDialect.byteaHex($0) ?? [] } }

    public func blob(_ column: Int32) -> [UInt8] { bytes(column) }
}
