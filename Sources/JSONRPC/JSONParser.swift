/// Why a line is not acceptable JSON. Each case maps to `-32700` with its own `error.data.reason`.
public enum JSONParseError: Error, Equatable, Sendable {
    /// Not JSON by RFC 8259: a trailing comma, a single quote, `NaN`, a leading zero, two values...
    case syntax(offset: Int, message: String)
    /// Bytes that are not UTF-8 (including UTF-16 text, overlong forms and encoded surrogates).
    case invalidUTF8(offset: Int)
    /// A `\u` escape that leaves a lone surrogate: not a Unicode string.
    case loneSurrogate(offset: Int)
    /// The same key twice in one object; which one wins differs between parsers, so we refuse both.
    case duplicateKey(offset: Int, key: String)
    /// Arrays and objects nested deeper than `JSONParser.maxDepth`.
    case tooDeep(offset: Int)

    public var reason: String {
        switch self {
        case .syntax: return "parse_error"
        case .invalidUTF8: return "invalid_utf8"
        case .loneSurrogate: return "invalid_string"
        case .duplicateKey: return "duplicate_key"
        case .tooDeep: return "nesting_too_deep"
        }
    }

    public var message: String {
        switch self {
        case .syntax(let o, let m): return "\(m) at byte \(o)"
        case .invalidUTF8(let o): return "invalid UTF-8 at byte \(o)"
        case .loneSurrogate(let o): return "a \\u escape leaves a lone surrogate at byte \(o)"
        case .duplicateKey(let o, let k): return "duplicate key \"\(k.prefix(64))\" at byte \(o)"
        case .tooDeep(let o): return "nesting deeper than \(JSONParser.maxDepth) at byte \(o)"
        }
    }
}

/// A strict RFC 8259 parser over bytes.
///
/// Stricter than Foundation's `JSONSerialization` on purpose (see Protocol/README.md): no trailing
/// commas, no comments, no BOM, no UTF-16, no NaN/Infinity, no duplicate keys, no lone surrogates,
/// nesting at most `maxDepth`. It also records the raw text of `id` members of the top-level object
/// (or of each object in a top-level array), so a response can echo an id byte for byte.
public struct JSONParser {
    public static let maxDepth = 128

    /// The parsed value and the raw bytes of the request ids it saw.
    public struct Document {
        public var value: JSON
        public var rawIDs: RawIDs
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var pos = 0
    private var depth = 0
    private var rawIDs = RawIDs()
    private var arrayIndexAtTop = -1

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public static func parse<C: Collection>(_ input: C) throws(JSONParseError) -> Document where C.Element == UInt8 {
        // A line read into a buffer is parsed where it lies; any other collection is copied first.
        var failure: JSONParseError?
        let parsed = input.withContiguousStorageIfAvailable { buf -> Document? in
            do throws(JSONParseError) { return try parse(buffer: buf) } catch { failure = error; return nil }
        }
        if let failure { throw failure }
        if let parsed, let doc = parsed { return doc }
        return try Array(input).withUnsafeBufferPointer { (buf) throws(JSONParseError) -> Document in try parse(buffer: buf) }
    }

    private static func parse(buffer buf: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> Document {
        var p = JSONParser(buf)
        p.skipWhitespace()
        let v = try p.parseValue()
        p.skipWhitespace()
        if p.pos != buf.count { throw p.syntax("unexpected data after the JSON value") }
        return Document(value: v, rawIDs: p.rawIDs)
    }

    public static func parseValue(_ text: String) throws(JSONParseError) -> JSON {
        try parse(Array(text.utf8)).value
    }

    // MARK: - Values

    private mutating func parseValue() throws(JSONParseError) -> JSON {
        guard pos < bytes.count else { throw syntax("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case 0xEF where pos + 2 < bytes.count && bytes[pos + 1] == 0xBB && bytes[pos + 2] == 0xBF:
            throw syntax("a byte order mark is not JSON")
        case let b where b >= 0x80:
            if !isValidUTF8Sequence(at: pos) { throw .invalidUTF8(offset: pos) }
            throw syntax("unexpected character")
        default:
            throw syntax("unexpected character")
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maxDepth { throw .tooDeep(offset: pos) }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        pos += 1
        var keys: [String] = []
        var values: [JSON] = []
        var keySet: Set<String>? = nil
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { pos += 1; return .object(JSONObject()) }
        // Room for a request's envelope or params at once: growing 1, 2, 4, 8 reallocated both
        // arrays three times, 3% of a renewal.
        keys.reserveCapacity(8)
        values.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw syntax("expected a string key") }
            let keyOffset = pos
            let key = try parseString()
            // Linear search while small, a set once the object grows.
            if keys.count >= 16 && keySet == nil { keySet = Set(keys) }
            if let set = keySet { if set.contains(key) { throw .duplicateKey(offset: keyOffset, key: key) } }
            else if keys.contains(key) { throw .duplicateKey(offset: keyOffset, key: key) }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw syntax("expected ':'") }
            pos += 1
            skipWhitespace()
            let valueStart = pos
            let value = try parseValue()
            if key == "id" && isRequestLevel {
                rawIDs[arrayIndexAtTop] = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<pos]), as: UTF8.self)
            }
            keys.append(key)
            keySet?.insert(key)
            values.append(value)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "}"): pos += 1; return .object(JSONObject(uncheckedKeys: keys, values: values))
            default: throw syntax("expected ',' or '}'")
            }
        }
    }

    /// True inside the top-level object, or an object directly inside the top-level array.
    private var isRequestLevel: Bool {
        depth == 1 || (depth == 2 && arrayIndexAtTop >= 0)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        defer { depth -= 1 }
        let isTop = depth == 1
        pos += 1
        var items: [JSON] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            if isTop { arrayIndexAtTop = items.count }
            items.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"):
                pos += 1
                if isTop { arrayIndexAtTop = -1 }
                return .array(items)
            default: throw syntax("expected ',' or ']'")
            }
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = pos
        if peek() == UInt8(ascii: "-") { pos += 1 }
        guard let first = peek(), isDigit(first) else { throw syntax("expected a digit") }
        if first == UInt8(ascii: "0") {
            pos += 1
            if let d = peek(), isDigit(d) { throw syntax("leading zeros are not JSON") }
        } else {
            while let d = peek(), isDigit(d) { pos += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard let d = peek(), isDigit(d) else { throw syntax("expected a digit after '.'") }
            while let d = peek(), isDigit(d) { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard let d = peek(), isDigit(d) else { throw syntax("expected a digit in the exponent") }
            while let d = peek(), isDigit(d) { pos += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: plain ASCII with no escapes.
        while pos < bytes.count {
            let b = bytes[pos]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
            pos += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<pos]))
        while pos < bytes.count {
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &out)
            case 0..<0x20:
                throw syntax("control character in a string")
            case 0x80...:
                let n = utf8SequenceLength(at: pos)
                if n == 0 { throw .invalidUTF8(offset: pos) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[pos..<pos + n]))
                pos += n
            default:
                out.append(b)
                pos += 1
            }
        }
        throw syntax("unterminated string")
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        let escapeStart = pos
        pos += 1
        guard let c = peek() else { throw syntax("unterminated escape") }
        pos += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard peek() == UInt8(ascii: "\\"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw .loneSurrogate(offset: escapeStart)
                }
                pos += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw .loneSurrogate(offset: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw .loneSurrogate(offset: escapeStart)
            }
            // Surrogates were handled above, so this is always a valid scalar.
            guard let u = Unicode.Scalar(scalar) else { throw .loneSurrogate(offset: escapeStart) }
            UTF8.encode(u) { out.append($0) }
        default:
            throw syntax("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw syntax("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[pos]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw syntax("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    /// The length of a well-formed UTF-8 sequence at `i` (Unicode Table 3-7), or 0.
    private func utf8SequenceLength(at i: Int) -> Int {
        let b0 = bytes[i]
        func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            j < bytes.count && bytes[j] >= lo && bytes[j] <= hi
        }
        switch b0 {
        case 0xC2...0xDF: return cont(i + 1) ? 2 : 0
        case 0xE0: return cont(i + 1, 0xA0) && cont(i + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(i + 1) && cont(i + 2) ? 3 : 0
        case 0xED: return cont(i + 1, 0x80, 0x9F) && cont(i + 2) ? 3 : 0
        case 0xF0: return cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF1...0xF3: return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF4: return cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) ? 4 : 0
        default: return 0
        }
    }

    private func isValidUTF8Sequence(at i: Int) -> Bool { utf8SequenceLength(at: i) > 0 }

    // MARK: - Small helpers

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { throw syntax("unexpected end of input") }
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for k in 0..<n where bytes[pos + k] != w[k] { throw syntax("invalid literal") }
        pos += n
    }

    private func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private func syntax(_ message: String) -> JSONParseError { .syntax(offset: pos, message: message) }
}
