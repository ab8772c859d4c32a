/// Small real files of each media kind, built byte by byte for the tests, and the pieces to
/// build hostile ones from. Written apart from the service's checks (their own CRC-32 and
/// Adler-32, bit by bit), so a mistake in a check is not repeated here and hidden. The defaults
/// open in real readers: `pngcheck`, libjpeg's `djpeg`, `qpdf --check`, `file`.
public enum MediaSamples {
    // MARK: PNG

    public static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A chunk: length, type, data, and the CRC-32 of type and data (`crc` overrides it).
    public static func pngChunk(_ type: String, _ data: [UInt8], crc: UInt32? = nil) -> [UInt8] {
        let t = Array(type.utf8)
        return be32(UInt32(data.count)) + t + data + be32(crc ?? crc32(t + data))
    }

    public static func ihdr(width: UInt32 = 1, height: UInt32 = 1, depth: UInt8 = 8, color: UInt8 = 0) -> [UInt8] {
        pngChunk("IHDR", be32(width) + be32(height) + [depth, color, 0, 0, 0])
    }

    /// A grey image `width` x `height`, its rows in stored (uncompressed) deflate blocks;
    /// `extra` chunks go between IHDR and IDAT (a text chunk, say, to reach a size).
    public static func png(width: Int = 1, height: Int = 1, extra: [UInt8] = []) -> [UInt8] {
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: 0x80, count: width) }
        return pngSignature + ihdr(width: UInt32(width), height: UInt32(height)) + extra + pngChunk("IDAT", zlibStored(raw)) + pngChunk("IEND", [])
    }

    /// A PNG of exactly `size` bytes (at least 69), filled out with a `tEXt` chunk.
    public static func png(size: Int) -> [UInt8] {
        let bare = png().count
        precondition(size == bare || size >= bare + 20, "no PNG of \(size) bytes")
        if size == bare { return png() }
        let text = Array("Comment\u{0}".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: size - bare - 12 - 8)
        return png(extra: pngChunk("tEXt", text))
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var at = 0
        repeat {
            let n = min(65535, data.count - at)
            let last: UInt8 = at + n == data.count ? 1 : 0
            out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)] + data[at..<(at + n)]
            at += n
        } while at < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32(b << 16 | a)
    }

    // MARK: JPEG

    public static func jpegSegment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] {
        [0xFF, marker] + be16(body.count + 2) + body
    }

    /// The segments of a baseline 1x1 grey JPEG up to and including its scan header.
    public static func jpegHead(width: Int = 1, app: [UInt8] = []) -> [UInt8] {
        let oneCode = [UInt8]([1] + [UInt8](repeating: 0, count: 15)) + [0]  // one code, '0', for symbol 0
        return [0xFF, 0xD8]
            + jpegSegment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]) + app
            + jpegSegment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
            + jpegSegment(0xC0, [8, 0, 1] + be16(width) + [1, 1, 0x11, 0])
            + jpegSegment(0xC4, [0x00] + oneCode) + jpegSegment(0xC4, [0x10] + oneCode)
            + jpegSegment(0xDA, [1, 1, 0x00, 0, 63, 0])
    }

    /// The entropy-coded data of that one block: DC difference 0 ('0'), end of block ('0'),
    /// padded with 1 bits.
    public static let jpegScan: [UInt8] = [0x3F]
    public static let eoi: [UInt8] = [0xFF, 0xD9]

    /// A baseline 1x1 grey JPEG; `app` segments go after the JFIF one.
    public static func jpeg(app: [UInt8] = []) -> [UInt8] { jpegHead(app: app) + jpegScan + eoi }

    /// A JPEG of exactly `size` bytes, filled out with APP15 segments of `filler`, repeated
    /// (a segment's body may hold any bytes).
    public static func jpeg(size: Int, filler: [UInt8] = [UInt8(ascii: "c")]) -> [UInt8] {
        var left = size - jpeg().count
        var app: [UInt8] = []
        app.reserveCapacity(max(0, left))
        var used = 0
        while left > 0 {
            // A segment is 4 to 65,537 bytes; leave no remainder under 4.
            var n = min(left, 65537)
            if left - n > 0 && left - n < 4 { n -= 4 }
            precondition(n >= 4, "no JPEG of \(size) bytes")
            app += [0xFF, 0xEF] + be16(n - 2)
            for _ in 0..<(n - 4) { app.append(filler[used % filler.count]); used += 1 }
            left -= n
        }
        return jpeg(app: app)
    }

    // MARK: PDF

    /// A one-page PDF with its cross-reference table, trailer, startxref and %%EOF. `comment`
    /// goes on a comment line after the header, `padding` on one after the trailer (where it
    /// moves no offset); line breaks in either are turned into spaces.
    public static func pdf(comment: [UInt8] = [], padding: [UInt8] = [], version: String = "1.4") -> [UInt8] {
        func line(_ bytes: [UInt8]) -> [UInt8] {
            bytes.isEmpty ? [] : [UInt8(ascii: "%")] + bytes.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 } + [0x0A]
        }
        var out = Array("%PDF-\(version)\n".utf8) + line(comment)
        let objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>"]
        var offsets: [Int] = []
        for (i, o) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(i + 1) 0 obj\n\(o)\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for o in offsets { out += Array((String(repeating: "0", count: 10 - String(o).count) + "\(o) 00000 n \n").utf8) }
        out += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\n".utf8) + line(padding)
        return out + Array("startxref\n\(xref)\n%%EOF\n".utf8)
    }

    /// A PDF of exactly `size` bytes (its bare size, or 2 more at least), filled out with
    /// `filler`, repeated, on a comment line; `comment` as above.
    public static func pdf(size: Int, comment: [UInt8] = [], filler: [UInt8] = [UInt8(ascii: "x")]) -> [UInt8] {
        let bare = pdf(comment: comment).count
        if size == bare { return pdf(comment: comment) }
        precondition(size >= bare + 3, "no PDF of \(size) bytes")
        return pdf(comment: comment, padding: (0..<(size - bare - 2)).map { filler[$0 % filler.count] })
    }

    // MARK: HEIC

    public static func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(UInt32(body.count + 8)) + Array(type.utf8) + body }

    public static func fullBox(_ type: String, _ body: [UInt8]) -> [UInt8] { box(type, [0, 0, 0, 0] + body) }

    public static func ftyp(major: String = "heic", compatible: [String] = ["mif1", "heic"]) -> [UInt8] {
        box("ftyp", Array(major.utf8) + [0, 0, 0, 0] + compatible.flatMap { Array($0.utf8) })
    }

    /// `meta` with the `pict` handler and a primary item.
    public static func meta(handler: String = "pict") -> [UInt8] {
        fullBox("meta", fullBox("hdlr", [0, 0, 0, 0] + Array(handler.utf8) + [UInt8](repeating: 0, count: 12) + [0])
                + fullBox("pitm", [0, 1]))
    }

    /// ftyp, meta and an mdat of `payload` bytes.
    public static func heic(payload: Int = 4) -> [UInt8] {
        ftyp() + meta() + box("mdat", [UInt8](repeating: 0, count: payload))
    }

    // MARK: Bytes

    public static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    public static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    public static func be64(_ v: UInt64) -> [UInt8] { be32(UInt32(v >> 32)) + be32(UInt32(v & 0xFFFF_FFFF)) }

    /// CRC-32 bit by bit, as the PNG specification's sample code computes it.
    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }
}
