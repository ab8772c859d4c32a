/// Encodes `JSON` to UTF-8 bytes: compact (one line, for the wire) or pretty (for files in `Protocol/`).
///
/// Output never contains a raw newline in compact form, so every response is exactly one line.
public enum JSONWriter {
    public static func encode(_ value: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    public static func string(_ value: JSON) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Two-space indented, keys in their stored order, a final newline: stable for golden files.
    public static func pretty(_ value: JSON) -> String {
        var out: [UInt8] = []
        writePretty(value, indent: 0, into: &out)
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }

    public static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .encoded(let bytes): out.append(contentsOf: bytes)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in o.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writePretty(_ value: JSON, indent: Int, into out: inout [UInt8]) {
        func newline(_ level: Int) {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch value {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writePretty(item, indent: indent + 1, into: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let o) where !o.isEmpty:
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in o.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(indent + 1)
                writeString(k, into: &out)
                out.append(contentsOf: ": ".utf8)
                writePretty(v, indent: indent + 1, into: &out)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.makeContiguousUTF8()
        s.utf8.withContiguousStorageIfAvailable { writeString(bytes: $0, into: &out) }
    }

    private static func escape(_ b: UInt8, into out: inout [UInt8]) {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
        case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
        case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
        default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
        }
    }

    /// Copies runs of bytes that need no escape in one go; escapes the rest. A string with
    /// nothing to escape, the usual case, is copied with its quotes in one append.
    static func writeString(bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard let firstEscape = firstEscape(in: bytes) else {
            // No `reserveCapacity` for the exact size: called once per string, it reallocated the
            // whole array each time, and an answer of many strings cost the square of its length.
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in firstEscape..<bytes.count where needsEscape(bytes[i]) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            runStart = i + 1
            escape(bytes[i], into: &out)
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always) static func needsEscape(_ b: UInt8) -> Bool {
        b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\")
    }

    /// The index of the first byte that needs escaping, or nil: eight bytes at a time, since
    /// almost every string an answer holds (ids, dates, names) has none, and a byte at a time was
    /// a tenth of writing a credential.
    static func firstEscape(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i + 8 <= bytes.count {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            // The high bit of a byte is set when the byte is below 0x20 (or is a quote or a
            // backslash: zero after the xor); a borrow can only set bits above a true hit, so the
            // word has a hit exactly when one of its bytes needs escaping. Bytes of 0x80 and up
            // (UTF-8) never count: their own high bit is cleared by `~`.
            let hit = ((w &- ones &* 0x20) & ~w | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
            if hit != 0 { break }  // the exact byte is found one at a time below
            i += 8
        }
        while i < bytes.count {
            if needsEscape(base[i]) { return i }
            i += 1
        }
        return nil
    }
}

/// A JSON object written member by member straight into a `ByteWriter`, for answers where a
/// `JSON` tree would cost more than the bytes (every credential, a team's report). Objects nested
/// in it are written into the same writer (`add(_:writing:)`), so nothing is copied twice. Use
/// `JSON.encoded(closed())` to put the bytes into an answer.
public struct JSONObjectBytes {
    private let out: ByteWriter
    private var empty = true

    /// Starts an object at the end of `out` (by default a writer of its own).
    public init(into out: ByteWriter = ByteWriter(capacity: 512)) {
        self.out = out
        out.append(UInt8(ascii: "{"))
    }

    /// Keys are literals in code, written as their bytes (they need no escaping).
    private mutating func key(_ k: StaticString) {
        if !empty { out.append(UInt8(ascii: ",")) }
        empty = false
        out.append(UInt8(ascii: "\""))
        out.append(k)
        out.append(#"":"#)
    }

    /// A string member, or `null` for nil.
    public mutating func add(_ k: StaticString, _ value: String?) {
        key(k)
        if let value { out.appendString(value) } else { out.append("null") }
    }

    public mutating func add(_ k: StaticString, int value: Int) {
        key(k)
        out.append(decimal: value)
    }

    public mutating func add(_ k: StaticString, json value: JSON) {
        key(k)
        switch value {
        case .null: out.append("null")
        case .string(let s): out.appendString(s)
        case .encoded(let bytes): out.append(bytes)
        default: out.append(JSONWriter.encode(value))
        }
    }

    public mutating func add(_ k: StaticString, encoded: [UInt8]) {
        key(k)
        out.append(encoded)
    }

    /// A member whose value `body` writes into the same writer: a nested object or array.
    public mutating func add(_ k: StaticString, writing body: (ByteWriter) -> Void) {
        key(k)
        body(out)
    }

    /// Ends the object; the writer goes on with whatever follows it.
    public func close() { out.append(UInt8(ascii: "}")) }

    /// Ends the object and gives the writer's bytes: the object's own, when it had a writer of its own.
    public func closed() -> [UInt8] {
        close()
        return out.array
    }
}
