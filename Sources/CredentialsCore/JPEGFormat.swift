import Glibc

/// A JPEG as decoders read it (ITU-T T.81, with JFIF and Exif): SOI `FF D8`, then marker
/// segments, each `FF xx` with a 2-byte big-endian length that covers it (APPn, DQT, DHT, DRI,
/// COM...); a frame header (SOFn: non-zero width, 1 to 4 components, its length matching them)
/// before the first scan; each scan (SOS, its length matching its components) followed by
/// entropy-coded data, in which `FF` appears only as `FF 00` (a stuffed byte) or a restart
/// marker `FF D0`-`FF D7`, until the next marker; and EOI `FF D9` after at least one scan. `FF`
/// fill bytes before a marker are allowed, as T.81 allows them.
///
/// After the EOI only zero bytes (padding some cameras write) or further complete JPEG images
/// may follow: phones append a second image (a gain map or a preview, in the Multi-Picture
/// Format) after the first's EOI, and refusing those would refuse ordinary photos. Anything else
/// after the end is refused.
enum JPEGFormat {
    static func problem(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        var at = 0
        var images = 0
        while true {
            switch image(b, from: at) {
            case .failure(let p):
                return images == 0 ? p.text : "after its end (EOI) at offset \(at) it has bytes that are not another complete image: \(p.text)"
            case .success(let end):
                images += 1
                var next = end
                while next < b.count && b[next] == 0 { next += 1 }
                if next == b.count { return nil }
                at = next
                if at + 1 >= b.count || b[at] != 0xFF || b[at + 1] != 0xD8 {
                    return "it has \(b.count - end) bytes after its end (EOI) that are neither zero padding nor another JPEG image"
                }
            }
        }
    }

    struct Problem: Error { var text: String }

    /// Where the image starting with SOI at `start` ends (just after its EOI).
    static func image(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Result<Int, Problem> {
        func fail(_ s: String) -> Result<Int, Problem> { .failure(Problem(text: s)) }
        let count = b.count
        guard count - start >= 2, b[start] == 0xFF, b[start + 1] == 0xD8 else { return fail("it does not start with SOI (FF D8)") }
        var i = start + 2
        var sawFrame = false
        var scans = 0
        while true {
            guard i < count else { return fail("it ends without an end-of-image marker (FF D9)") }
            guard b[i] == 0xFF else { return fail("it has the byte 0x\(hex(b[i])) at offset \(i), where a marker should start") }
            while i < count && b[i] == 0xFF { i += 1 }  // fill bytes
            guard i < count else { return fail("it ends inside a marker") }
            let marker = b[i]
            let at = i - 1
            i += 1
            switch marker {
            case 0xD9:
                if scans == 0 { return fail("it ends (EOI) before any image data (SOS)") }
                return .success(i)
            case 0xD8:
                return fail("it has a second start-of-image marker at offset \(at)")
            case 0x00, 0x01, 0xD0...0xD7:
                return fail("it has a stray marker FF \(hex(marker)) at offset \(at), outside image data")
            case 0x02...0xBF:
                return fail("it has the reserved marker FF \(hex(marker)) at offset \(at)")
            default:
                break
            }
            guard count - i >= 2 else { return fail("it ends inside the length of marker FF \(hex(marker)) at offset \(at)") }
            let length = b.be16(i)
            if length < 2 { return fail("marker FF \(hex(marker)) at offset \(at) declares a length of \(length), under 2") }
            if length > count - i { return fail("marker FF \(hex(marker)) at offset \(at) declares \(length) bytes, but only \(count - i) follow it") }
            let body = i + 2
            if isFrameHeader(marker) {
                if sawFrame { return fail("it has a second frame header (SOF) at offset \(at)") }
                guard length >= 8 else { return fail("its frame header (SOF) is \(length) bytes, too short") }
                let width = b.be16(body + 3), components = Int(b[body + 5])
                if width == 0 { return fail("its frame header gives a width of 0") }
                if components < 1 || components > 4 || length != 8 + 3 * components {
                    return fail("its frame header's length, \(length), does not match its \(components) components")
                }
                sawFrame = true
            } else if marker == 0xDA {
                if !sawFrame { return fail("it has image data (SOS) before any frame header (SOF)") }
                guard length >= 3 else { return fail("its scan header (SOS) is \(length) bytes, too short") }
                let components = Int(b[body])
                if components < 1 || components > 4 || length != 6 + 2 * components {
                    return fail("its scan header's length, \(length), does not match its \(components) components")
                }
                scans += 1
                i += length
                switch entropyCodedEnd(b, from: i) {
                case nil: return fail("it ends inside its image data, without an end-of-image marker (FF D9)")
                case let end?: i = end
                }
                continue
            }
            i += length
        }
    }

    /// The offset of the marker that ends the entropy-coded data starting at `start`: the first
    /// `FF` followed by neither `00` (a stuffed byte), a restart marker nor another `FF`; nil when
    /// the data runs to the end. `memchr` finds each `FF`, so the scan runs at memory speed.
    static func entropyCodedEnd(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = b.baseAddress else { return nil }
        var i = start
        while i < b.count {
            guard let hit = memchr(base + i, 0xFF, b.count - i) else { return nil }
            i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            guard i + 1 < b.count else { return nil }
            let next = b[i + 1]
            if next == 0x00 || (0xD0...0xD7).contains(next) { i += 2; continue }
            if next == 0xFF { i += 1; continue }  // a fill byte; the marker follows it
            return i
        }
        return nil
    }

    /// SOF0-SOF3, SOF5-SOF7, SOF9-SOF11, SOF13-SOF15: C4 (DHT), C8 (reserved) and CC (DAC) are
    /// the other markers of that range.
    static func isFrameHeader(_ m: UInt8) -> Bool { (0xC0...0xCF).contains(m) && m != 0xC4 && m != 0xC8 && m != 0xCC }

    static func hex(_ byte: UInt8) -> String { byte < 0x10 ? "0" + String(byte, radix: 16, uppercase: true) : String(byte, radix: 16, uppercase: true) }
}
