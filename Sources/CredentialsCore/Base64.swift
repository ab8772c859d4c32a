/// Strict base64 as RFC 4648 §4 defines it, and nothing else: media arrive in this form, and
/// Foundation's `Data(base64Encoded:)` also takes what the protocol does not promise (missing or
/// extra padding, the URL-safe alphabet, set bits after the last byte), so two clients could
/// send two different strings for one file and a third the service reads differently.
///
/// Accepted: the standard alphabet (`A–Z a–z 0–9 + /`), a length that is a multiple of 4, `=`
/// only as the last one or two characters, and the unused low bits of the last character before
/// the padding equal to zero. No whitespace, no line breaks, not empty. Then every file has
/// exactly one encoding, the one every standard encoder writes.
public enum Base64 {
    /// Why a text is not strict base64.
    public enum Problem: Error, Equatable, Sendable {
        case empty
        /// The length in bytes, not a multiple of 4 (padding is required).
        case length(Int)
        /// A byte that may not stand at `offset` (outside the alphabet, or `=` before the end).
        case character(UInt8, offset: Int)
        /// The last character before the padding has bits set that belong to no byte.
        case trailingBits

        /// What is wrong, for a field error's message.
        public var message: String {
            switch self {
            case .empty: return "is empty"
            case .length(let n):
                return "is \(n) characters long, not a multiple of 4: base64 here is padded with = (RFC 4648 §4)"
            case .character(let byte, let offset):
                return "has \(Self.describe(byte)) at offset \(offset): only A-Z, a-z, 0-9, + and /, then = padding at the end (RFC 4648 §4)"
            case .trailingBits:
                return "has bits set after its last byte: not the canonical encoding (RFC 4648 §3.5)"
            }
        }

        private static func describe(_ byte: UInt8) -> String {
            switch byte {
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return "'\(Character(Unicode.Scalar(byte)))' (the URL-safe alphabet is not accepted)"
            case UInt8(ascii: "="): return "'=' before the end"
            case 0x0A, 0x0D: return "a line break"
            case 0x20, 0x09: return "a space"
            case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
            default: return "the byte 0x\(String(byte, radix: 16, uppercase: true))"
            }
        }
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Each byte's 6-bit value, or 0xFF for a byte outside the alphabet (`=` included: padding is
    /// handled apart, in the last group only).
    static let values: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// The same values already shifted to their place in a group's 24 bits, one table per
    /// position (256 entries each), with bit 31 set for a byte outside the alphabet: a group is
    /// four loads and three ORs, and one test finds any bad byte among its four.
    static let placed: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 1024)
        for position in 0..<4 {
            for byte in 0..<256 {
                let v = values[byte]
                t[position * 256 + byte] = v == 0xFF ? 0x8000_0000 : UInt32(v) << (18 - 6 * position)
            }
        }
        return t
    }()

    /// How many bytes a text of `length` characters decodes to at most; for refusing oversize
    /// input before decoding it.
    public static func maxDecodedCount(length: Int) -> Int { length / 4 * 3 }

    /// Whether `b` is in RFC 4648's URL-safe alphabet (`A-Z a-z 0-9 - _`).
    public static func isURLSafe(_ b: UInt8) -> Bool {
        (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == 0x2D || b == 0x5F
    }

    static let urlSafeAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648 §5 base64url without padding: token secrets and cursors.
    public static func encodeURLSafe(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let n = bytes.count - i
            let v = UInt32(bytes[i]) << 16 | (n > 1 ? UInt32(bytes[i + 1]) << 8 : 0) | (n > 2 ? UInt32(bytes[i + 2]) : 0)
            out.append(urlSafeAlphabet[Int(v >> 18 & 63)])
            out.append(urlSafeAlphabet[Int(v >> 12 & 63)])
            if n > 1 { out.append(urlSafeAlphabet[Int(v >> 6 & 63)]) }
            if n > 2 { out.append(urlSafeAlphabet[Int(v & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes.
    public static func decode(_ text: String) throws(Problem) -> [UInt8] {
        var text = text
        // Strings parsed from JSON are native UTF-8, so this finds the bytes in place.
        if let result = text.utf8.withContiguousStorageIfAvailable({ decodeResult($0) }) { return try result.get() }
        text.makeContiguousUTF8()
        return try text.utf8.withContiguousStorageIfAvailable({ decodeResult($0) })!.get()
    }

    public static func decode(_ input: UnsafeBufferPointer<UInt8>) throws(Problem) -> [UInt8] {
        try decodeResult(input).get()
    }

    /// One pass: four characters in, three bytes out, straight into the answer's storage.
    static func decodeResult(_ input: UnsafeBufferPointer<UInt8>) -> Result<[UInt8], Problem> {
        let n = input.count
        if n == 0 { return .failure(.empty) }
        if n % 4 != 0 { return .failure(.length(n)) }
        let pad = input[n - 1] != UInt8(ascii: "=") ? 0 : input[n - 2] != UInt8(ascii: "=") ? 1 : 2
        let full = n / 4 - (pad > 0 ? 1 : 0)  // groups of four alphabet characters
        var problem: Problem?
        let out = placed.withUnsafeBufferPointer { p in values.withUnsafeBufferPointer { t in
            [UInt8](unsafeUninitializedCapacity: n / 4 * 3 - pad) { out, initialized in
                var i = 0, o = 0
                for _ in 0..<full {
                    let v = p[Int(input[i])] | p[256 + Int(input[i + 1])] | p[512 + Int(input[i + 2])] | p[768 + Int(input[i + 3])]
                    if v & 0x8000_0000 != 0 { break }
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    o += 3
                }
                if i < full * 4 {
                    problem = firstBad(input, from: i, t)
                    initialized = 0
                    return
                }
                if pad > 0 {
                    // "xy==" is one byte, "xyz=" two; the bits after them must be zero.
                    let a = t[Int(input[i])], b = t[Int(input[i + 1])], c = pad == 1 ? t[Int(input[i + 2])] : 0
                    if (a | b | c) & 0x80 != 0 {
                        problem = firstBad(input, from: i, t)
                    } else if (pad == 2 ? b & 0x0F : c & 0x03) != 0 {
                        problem = .trailingBits
                    } else {
                        out[o] = a << 2 | b >> 4
                        if pad == 1 { out[o + 1] = b << 4 | c >> 2 }
                        o += 3 - pad
                    }
                }
                initialized = problem == nil ? o : 0
            }
        } }
        if let problem { return .failure(problem) }
        return .success(out)
    }

    /// The first byte from `start` on that is outside the alphabet.
    private static func firstBad(_ input: UnsafeBufferPointer<UInt8>, from start: Int, _ t: UnsafeBufferPointer<UInt8>) -> Problem {
        var i = start
        while i < input.count && t[Int(input[i])] != 0xFF { i += 1 }
        return .character(i < input.count ? input[i] : 0, offset: i)
    }
}
