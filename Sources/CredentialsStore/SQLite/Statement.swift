import CSQLite
import CredentialsCore
#if canImport(Glibc)
import Glibc
#endif

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
private let SQLITE_STATIC: sqlite3_destructor_type? = nil

/// A prepared statement. Finalized in `deinit`; owned by one `SQLiteConnection` and not `Sendable`.
final class Statement {
    let handle: OpaquePointer
    private unowned let db: SQLiteConnection
    /// The text of the last `bind`, copied here and bound as SQLITE_STATIC: SQLite reads bound
    /// values only while the statement runs, and every `bind` rebinds every parameter before the
    /// next run, so this outlives each use. (SQLITE_TRANSIENT made SQLite allocate, copy and free
    /// each text: most of what binding cost.) Text that does not fit is bound as transient.
    private let textBuffer: UnsafeMutablePointer<UInt8>
    private static let textBufferSize = 4096

    init(db: SQLiteConnection, sql: String) throws {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw db.error(rc) }
        self.handle = stmt
        self.db = db
        textBuffer = .allocate(capacity: Statement.textBufferSize)
    }

    deinit {
        sqlite3_finalize(handle)
        textBuffer.deallocate()
    }

    /// Binds every parameter. Callers pass one value per placeholder, so nothing bound before,
    /// text in `textBuffer` included, is left for a run to read; should a caller pass fewer, the
    /// rest are cleared to NULL first, as SQLite leaves parameters never bound.
    func bind(_ values: [SQLBindable]) throws {
        sqlite3_reset(handle)
        if values.count < Int(sqlite3_bind_parameter_count(handle)) { sqlite3_clear_bindings(handle) }
        var used = 0
        /// Binds UTF-8 bytes as TEXT by their count: no C string made, no strlen, nothing cut at a NUL.
        func bindText(_ idx: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
            // An empty text still needs a pointer (a null one would bind NULL), and one that lasts.
            guard let base = bytes.baseAddress, bytes.count > 0 else {
                return textBuffer.withMemoryRebound(to: CChar.self, capacity: 1) { sqlite3_bind_text64(handle, idx, $0, 0, SQLITE_STATIC, UInt8(SQLITE_UTF8)) }
            }
            guard used + bytes.count <= Statement.textBufferSize else {
                return sqlite3_bind_text64(handle, idx, base.assumingMemoryBound(to: CChar.self), sqlite3_uint64(bytes.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
            }
            let copy = textBuffer + used
            UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count)
            used += bytes.count
            return copy.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text64(handle, idx, $0, sqlite3_uint64(bytes.count), SQLITE_STATIC, UInt8(SQLITE_UTF8))
            }
        }
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v.sqlValue {
            case .null: rc = sqlite3_bind_null(handle, idx)
            case .int(let n): rc = sqlite3_bind_int64(handle, idx, n)
            case .double(let d): rc = sqlite3_bind_double(handle, idx, d)
            case .text(var s): rc = s.withUTF8 { bindText(idx, UnsafeRawBufferPointer($0)) }
            case .utf8(let b): rc = b.withUnsafeBytes { bindText(idx, $0) }
            case .blob(let b):
                rc = b.withUnsafeBytes { sqlite3_bind_blob64(handle, idx, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), sqlite3_uint64(b.count), SQLITE_TRANSIENT) }
            }
            guard rc == SQLITE_OK else { throw db.error(rc) }
        }
    }

    /// Steps once: true for a row, false when done; anything else throws.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = db.error(rc)
            sqlite3_reset(handle)
            throw e
        }
    }
}

/// The current row of a SQLite query, read by column index (what `Row` reads on SQLite).
struct SQLiteRow {
    let stmt: OpaquePointer

    func isNull(_ i: Int32) -> Bool { sqlite3_column_type(stmt, i) == SQLITE_NULL }
    func int(_ i: Int32) -> Int64 { sqlite3_column_int64(stmt, i) }
    func bool(_ i: Int32) -> Bool { sqlite3_column_int64(stmt, i) != 0 }
    func double(_ i: Int32) -> Double { sqlite3_column_double(stmt, i) }
    func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, i) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }
    /// Whether column `i` is text with exactly the bytes of `s`, without making a String of it.
    func text(_ i: Int32, equals s: String) -> Bool {
        var s = s
        return s.withUTF8 { equal(i, $0) }
    }
    func text(_ i: Int32, equals bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { equal(i, $0) }
    }
    /// Appends column `i`'s text (nothing for NULL) to `buffer`; returns where it went.
    func appendText(_ i: Int32, to buffer: inout [UInt8]) -> Range<Int> {
        let start = buffer.count
        if let p = sqlite3_column_text(stmt, i) {
            buffer.append(contentsOf: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))))
        }
        return start..<buffer.count
    }
    /// The position in `candidates` of column `i`'s text, compared by bytes.
    func text(_ i: Int32, in candidates: [[UInt8]]) -> Int? {
        candidates.firstIndex { c in c.withUnsafeBufferPointer { equal(i, $0) } }
    }
    /// Column `i` as a calendar date, nil for NULL or anything else.
    func calendarDate(_ i: Int32) -> CalendarDate? {
        guard let p = sqlite3_column_text(stmt, i) else { return nil }
        return CalendarDate(utf8: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, i))))
    }
    private func equal(_ i: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = sqlite3_column_text(stmt, i) else { return false }
        return Int(sqlite3_column_bytes(stmt, i)) == bytes.count && (bytes.isEmpty || memcmp(p, bytes.baseAddress!, bytes.count) == 0)
    }
    /// Column `i` as the file holds it, when that is `kind` or NULL; nil for a value of another
    /// storage class.
    func value(_ i: Int32, as kind: CopyTable.Kind) -> SQLValue? {
        switch (sqlite3_column_type(stmt, i), kind) {
        case (SQLITE_NULL, _): return .null
        case (SQLITE_INTEGER, .integer): return .int(int(i))
        case (SQLITE_FLOAT, .real): return .double(double(i))
        case (SQLITE_TEXT, .text): var b: [UInt8] = []; _ = appendText(i, to: &b); return .utf8(b)
        case (SQLITE_BLOB, .bytes): return .blob(blob(i))
        default: return nil
        }
    }

    func blob(_ i: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, i))
        guard n > 0, let p = sqlite3_column_blob(stmt, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}

