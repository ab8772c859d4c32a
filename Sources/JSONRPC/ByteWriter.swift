#if canImport(Glibc)
import Glibc
#endif

/// A growable byte buffer for answers written in thousands of small pieces (a team's compliance
/// report: a few fields per member, thousands of members). An append is a capacity check and a
/// copy; `Array`'s append also checks that its storage is unshared and goes through generic code,
/// which is most of the cost when each piece is a few bytes.
public final class ByteWriter {
    @exclusivity(unchecked) @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) @usableFromInline var capacity: Int
    @exclusivity(unchecked) @usableFromInline var written = 0
    public var count: Int { written }

    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @usableFromInline func grow(toHold n: Int) {
        capacity = max(capacity * 2, written + n)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: base, count: written)
        base.deallocate()
        base = bigger
    }

    @inlinable public func append(_ b: UInt8) {
        if written == capacity { grow(toHold: 1) }
        base[written] = b
        written += 1
    }

    public func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let p = bytes.baseAddress, !bytes.isEmpty else { return }
        if capacity - written < bytes.count { grow(toHold: bytes.count) }
        (base + written).update(from: p, count: bytes.count)
        written += bytes.count
    }

    /// A literal from the code, such as `,"email":`.
    public func append(_ s: StaticString) {
        append(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public func append(_ bytes: [UInt8]) { bytes.withUnsafeBufferPointer { append($0) } }

    /// `s` as a JSON string, quoted and escaped as `JSONWriter` does.
    public func appendString(_ s: String) {
        var s = s
        s.withUTF8 { appendString(bytes: $0) }
    }

    public func appendString(bytes: UnsafeBufferPointer<UInt8>) {
        // Escaping is rare: in that case the Array-based writer does it.
        guard JSONWriter.firstEscape(in: bytes) == nil else {
            var escaped: [UInt8] = []
            JSONWriter.writeString(bytes: bytes, into: &escaped)
            append(escaped)
            return
        }
        if capacity - written < bytes.count + 2 { grow(toHold: bytes.count + 2) }
        base[written] = UInt8(ascii: "\"")
        if let p = bytes.baseAddress { (base + written + 1).update(from: p, count: bytes.count) }
        base[written + 1 + bytes.count] = UInt8(ascii: "\"")
        written += bytes.count + 2
    }

    /// `value` in decimal.
    public func append(decimal value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes on the stack: room for any Int
        withUnsafeMutableBytes(of: &digits) { raw in
            let buf = raw.bindMemory(to: UInt8.self)
            var v = value.magnitude, i = buf.count
            repeat { i -= 1; buf[i] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 } while v > 0
            if value < 0 { i -= 1; buf[i] = UInt8(ascii: "-") }
            append(UnsafeBufferPointer(rebasing: buf[i...]))
        }
    }

    /// `count` bytes that `fill` writes in place, between quotes: a JSON string whose bytes are
    /// known to need no escaping (a timestamp).
    public func appendQuoted(count: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        if capacity - written < count + 2 { grow(toHold: count + 2) }
        base[written] = UInt8(ascii: "\"")
        fill(UnsafeMutableBufferPointer(start: base + written + 1, count: count))
        base[written + 1 + count] = UInt8(ascii: "\"")
        written += count + 2
    }

    /// The bytes written from `range`, valid until the next append.
    public func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        precondition(range.lowerBound >= 0 && range.upperBound <= written)
        return UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Whether the bytes in `a` sort before those in `b`: byte by byte, then shorter first.
    public func precedes(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        let c = memcmp(base + a.lowerBound, base + b.lowerBound, min(a.count, b.count))
        return c != 0 ? c < 0 : a.count < b.count
    }

    /// Everything written, as an array.
    public var array: [UInt8] { Array(bytes(0..<written)) }
}
