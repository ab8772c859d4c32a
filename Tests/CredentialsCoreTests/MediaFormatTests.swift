import TestScratch
import CredentialsCore
import MediaSamples
import Testing

/// Media are checked whole, not by their first bytes: real minimal files of each kind pass, and
/// every hostile or broken one an attacker sent is refused with what is wrong.
struct MediaFormatTests {
    typealias S = MediaSamples

    struct Sample: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: MediaKind
        var bytes: [UInt8]
        /// Lengths of proper prefixes that are themselves whole files (a PDF without its last
        /// line break, a HEIC without its last box).
        var wholePrefixes: Set<Int> = []
        var testDescription: String { name }
    }

    static let valid: [Sample] = [
        Sample(name: "PNG 1x1", kind: .png, bytes: S.png()),
        Sample(name: "PNG 3x2 with a text and a private ancillary chunk", kind: .png,
               bytes: S.png(width: 3, height: 2, extra: S.pngChunk("tEXt", Array("Title\u{0}card".utf8)) + S.pngChunk("prVt", [1, 2]))),
        Sample(name: "PNG with its data in two IDAT chunks", kind: .png, bytes: twoIDATs()),
        Sample(name: "baseline JPEG", kind: .jpeg, bytes: S.jpeg()),
        Sample(name: "JPEG with a comment, fill bytes and a restart marker", kind: .jpeg,
               bytes: S.jpeg(app: S.jpegSegment(0xFE, Array("hi".utf8)) + [0xFF, 0xFF] + S.jpegSegment(0xDD, [0, 1])).dropLast(3)
                   + [0x3F, 0xFF, 0xD0, 0x3F, 0xFF, 0x00, 0xFF, 0xFF, 0xD9]),
        Sample(name: "JPEG with a second image after it (MPF)", kind: .jpeg, bytes: S.jpeg() + S.jpeg(),
               wholePrefixes: [S.jpeg().count]),
        Sample(name: "JPEG padded with zeros", kind: .jpeg, bytes: S.jpeg() + [0, 0, 0], wholePrefixes: [S.jpeg().count, S.jpeg().count + 1, S.jpeg().count + 2]),
        Sample(name: "PDF 1.4", kind: .pdf, bytes: S.pdf(), wholePrefixes: [S.pdf().count - 1]),
        Sample(name: "PDF 2.0 with CRs and trailing whitespace", kind: .pdf,
               bytes: Array("%PDF-2.0\r".utf8) + S.pdf().dropFirst(9).dropLast(6) + Array("%%EOF\r\n \t\0".utf8),
               wholePrefixes: Set((S.pdf().count - 1)...(S.pdf().count + 3))),
        Sample(name: "PDF with a cross-reference stream", kind: .pdf, bytes: xrefStreamPDF(), wholePrefixes: [xrefStreamPDF().count - 1]),
        Sample(name: "HEIC ftyp meta mdat", kind: .heic, bytes: S.heic(), wholePrefixes: [S.ftyp().count + S.meta().count]),
        Sample(name: "HEIF with mif1 major brand and a free box", kind: .heic,
               bytes: S.ftyp(major: "mif1", compatible: ["heic"]) + S.meta() + S.box("free", []),
               wholePrefixes: [S.ftyp(major: "mif1", compatible: ["heic"]).count + S.meta().count]),
        Sample(name: "HEIF whose brand is only compatible", kind: .heic,
               bytes: S.ftyp(major: "isom", compatible: ["mp41", "msf1"]) + S.meta()),
        Sample(name: "HEIC with a 64-bit mdat", kind: .heic,
               bytes: S.ftyp() + S.meta() + S.be32(1) + Array("mdat".utf8) + S.be64(20) + [1, 2, 3, 4],
               wholePrefixes: [S.ftyp().count + S.meta().count]),
        Sample(name: "HEIC whose last box runs to the end", kind: .heic,
               bytes: S.ftyp() + S.meta() + S.be32(0) + Array("mdat".utf8) + [9, 9, 9],
               wholePrefixes: Set([0, 1, 2, 3].map { S.ftyp().count + S.meta().count + 8 + $0 } + [S.ftyp().count + S.meta().count])),
    ]

    static func twoIDATs() -> [UInt8] {
        let one = S.png()
        // Split the IDAT chunk's data (after signature 8 + IHDR 25 + IDAT header 8) in two chunks.
        let data = Array(one[41..<(one.count - 12 - 4)])
        return Array(one[0..<33]) + S.pngChunk("IDAT", Array(data[0..<3])) + S.pngChunk("IDAT", Array(data[3...])) + S.pngChunk("IEND", [])
    }

    /// startxref pointing at an object (`4 0 obj`) rather than at `xref`.
    static func xrefStreamPDF() -> [UInt8] {
        let head = Array("%PDF-1.5\n".utf8)
        let object = Array("4 0 obj\n<< /Type /XRef /Size 5 /W [1 1 1] /Length 0 >>\nstream\n\nendstream\nendobj\n".utf8)
        return head + object + Array("startxref\n\(head.count)\n%%EOF\n".utf8)
    }

    @Test(arguments: valid)
    func wholeFilesPassAndEveryCutOfThemIsRefused(_ s: Sample) {
        #expect(MediaKind.detect(s.bytes) == s.kind)
        #expect(MediaFormat.problem(s.bytes, as: s.kind) == nil)
        for n in 0..<s.bytes.count where !s.wholePrefixes.contains(n) {
            #expect(MediaFormat.problem(Array(s.bytes.prefix(n)), as: s.kind) != nil, "the first \(n) of \(s.bytes.count) bytes")
        }
    }

    struct Hostile: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: MediaKind
        var bytes: [UInt8]
        /// A part of the message that says what is wrong.
        var says: String
        var testDescription: String { name }
    }

    static let html = Array("<html><body><script>fetch('/steal?c='+document.cookie)</script></body></html>\n".utf8)
    static let svg = Array("<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".utf8)

    static func png(_ chunks: [UInt8]) -> [UInt8] { S.pngSignature + chunks }
    static let idat = S.pngChunk("IDAT", Array(S.png()[41..<(S.png().count - 16)]))
    static let iend = S.pngChunk("IEND", [])

    static let hostile: [Hostile] = [
        Hostile(name: "PDF header then HTML", kind: .pdf, bytes: Array("%PDF-1.4\n".utf8) + html, says: "%%EOF"),
        Hostile(name: "PDF header, HTML, %%EOF", kind: .pdf, bytes: Array("%PDF-1.4\n".utf8) + html + Array("%%EOF\n".utf8), says: "startxref"),
        Hostile(name: "PDF whose startxref points at HTML", kind: .pdf,
                bytes: Array("%PDF-1.4\n".utf8) + html + Array("startxref\n9\n%%EOF\n".utf8), says: "points at neither"),
        Hostile(name: "PDF whose startxref is past the end", kind: .pdf,
                bytes: withStartxref("999999\n%%EOF\n"), says: "past the end"),
        Hostile(name: "PDF whose startxref overflows", kind: .pdf,
                bytes: withStartxref("9999999999999999999\n%%EOF\n"), says: "past the end"),
        Hostile(name: "PDF whose startxref has over 20 digits", kind: .pdf,
                bytes: withStartxref("000000000000000000184\n%%EOF\n"), says: "startxref"),
        Hostile(name: "PDF whose startxref points into its header", kind: .pdf, bytes: withStartxref("0\n%%EOF\n"), says: "points at neither"),
        Hostile(name: "PDF whose startxref points past the keyword", kind: .pdf,
                bytes: withStartxref("\(S.pdf().count - 8)\n%%EOF\n"), says: "points at neither"),
        Hostile(name: "PDF with HTML after %%EOF", kind: .pdf, bytes: S.pdf() + html, says: "%%EOF"),
        Hostile(name: "PDF with %%EOF over 1024 bytes from the end", kind: .pdf,
                bytes: S.pdf() + [UInt8](repeating: 0x20, count: 1020), says: "1024"),
        Hostile(name: "PDF header with HTML on its line", kind: .pdf, bytes: Array("%PDF-<html>\n".utf8) + S.pdf().dropFirst(9), says: "header"),
        Hostile(name: "PDF of an unknown version", kind: .pdf, bytes: Array("%PDF-1.9\n".utf8) + S.pdf().dropFirst(9), says: "header"),
        Hostile(name: "PNG signature then SVG", kind: .png, bytes: S.pngSignature + svg, says: "declares"),
        Hostile(name: "PNG cut in its IDAT chunk", kind: .png, bytes: Array(S.png().dropLast(20)), says: "only"),
        Hostile(name: "PNG with a bad CRC", kind: .png,
                bytes: png(S.ihdr() + S.pngChunk("IDAT", [1, 2, 3], crc: 0x1234_5678) + iend), says: "CRC"),
        Hostile(name: "PNG chunk of length 0xFFFFFFFF", kind: .png,
                bytes: png(S.ihdr() + S.be32(0xFFFF_FFFF) + Array("IDAT".utf8) + [UInt8](repeating: 0, count: 16)), says: "2^31"),
        Hostile(name: "PNG chunk of length 2^31 - 1", kind: .png,
                bytes: png(S.ihdr() + S.be32(0x7FFF_FFFF) + Array("IDAT".utf8) + [UInt8](repeating: 0, count: 16)), says: "only"),
        Hostile(name: "PNG with HTML after IEND", kind: .png, bytes: S.png() + html, says: "after its IEND"),
        Hostile(name: "PNG with a byte after IEND", kind: .png, bytes: S.png() + [0], says: "1 bytes after its IEND"),
        Hostile(name: "PNG without image data", kind: .png, bytes: png(S.ihdr() + iend), says: "no IDAT"),
        Hostile(name: "PNG without IHDR first", kind: .png, bytes: png(idat + S.ihdr() + iend), says: "first chunk"),
        Hostile(name: "PNG 0 pixels wide", kind: .png, bytes: png(S.ihdr(width: 0) + idat + iend), says: "size"),
        Hostile(name: "PNG with a short IHDR", kind: .png, bytes: png(S.pngChunk("IHDR", [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0]) + idat + iend), says: "13"),
        Hostile(name: "PNG with a bit depth its colour type lacks", kind: .png, bytes: png(S.ihdr(depth: 4, color: 2) + idat + iend), says: "bit depth"),
        Hostile(name: "PNG with an unknown colour type", kind: .png, bytes: png(S.ihdr(color: 5) + idat + iend), says: "colour type"),
        Hostile(name: "PNG palette image without PLTE", kind: .png, bytes: png(S.ihdr(color: 3) + idat + iend), says: "PLTE"),
        Hostile(name: "PNG with IDAT chunks apart", kind: .png, bytes: png(S.ihdr() + idat + S.pngChunk("tEXt", [65, 0]) + idat + iend), says: "consecutive"),
        Hostile(name: "PNG with an IEND holding data", kind: .png, bytes: png(S.ihdr() + idat + S.pngChunk("IEND", [1])), says: "empty"),
        Hostile(name: "PNG with an unknown critical chunk", kind: .png, bytes: png(S.ihdr() + S.pngChunk("HTML", html) + idat + iend), says: "critical"),
        Hostile(name: "PNG with a chunk type that is not letters", kind: .png, bytes: png(S.ihdr() + S.pngChunk("<svg", svg) + idat + iend), says: "letters"),
        Hostile(name: "PNG with a second IHDR", kind: .png, bytes: png(S.ihdr() + S.ihdr() + idat + iend), says: "second IHDR"),
        Hostile(name: "3-byte JPEG", kind: .jpeg, bytes: [0xFF, 0xD8, 0xFF], says: "ends"),
        Hostile(name: "JPEG SOI then HTML", kind: .jpeg, bytes: [0xFF, 0xD8, 0xFF] + html, says: "reserved marker FF 3C"),
        Hostile(name: "JPEG without EOI", kind: .jpeg, bytes: S.jpegHead() + S.jpegScan, says: "without an end-of-image"),
        Hostile(name: "JPEG with HTML after EOI", kind: .jpeg, bytes: S.jpeg() + html, says: "after its end"),
        Hostile(name: "JPEG with zeros then HTML after EOI", kind: .jpeg, bytes: S.jpeg() + [0, 0] + html, says: "after its end"),
        Hostile(name: "JPEG followed by a broken JPEG", kind: .jpeg, bytes: S.jpeg() + [0xFF, 0xD8, 0xFF, 0xE0, 0, 16] + html, says: "not another complete image"),
        Hostile(name: "JPEG scan without a frame header", kind: .jpeg,
                bytes: [0xFF, 0xD8] + S.jpegSegment(0xDA, [1, 1, 0, 0, 63, 0]) + S.jpegScan + S.eoi, says: "before any frame header"),
        Hostile(name: "JPEG ending before its scan", kind: .jpeg, bytes: [0xFF, 0xD8] + S.jpegSegment(0xE0, Array("JFIF\u{0}".utf8)) + S.eoi, says: "before any image data"),
        Hostile(name: "JPEG segment longer than the file", kind: .jpeg, bytes: [0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF] + html, says: "declares 65535 bytes"),
        Hostile(name: "JPEG segment length under 2", kind: .jpeg, bytes: [0xFF, 0xD8, 0xFF, 0xE1, 0, 1] + S.jpeg().dropFirst(2), says: "under 2"),
        Hostile(name: "JPEG with a restart marker outside its scan", kind: .jpeg, bytes: [0xFF, 0xD8, 0xFF, 0xD0] + S.jpeg().dropFirst(2), says: "stray marker"),
        Hostile(name: "JPEG 0 pixels wide", kind: .jpeg, bytes: S.jpegHead(width: 0) + S.jpegScan + S.eoi, says: "width of 0"),
        Hostile(name: "JPEG with a second SOI", kind: .jpeg, bytes: [0xFF, 0xD8] + S.jpeg(), says: "second start-of-image"),
        Hostile(name: "HEIC without meta", kind: .heic, bytes: S.ftyp() + S.box("mdat", [1, 2, 3]), says: "no meta"),
        Hostile(name: "HEIC ftyp then HTML", kind: .heic, bytes: S.ftyp() + html, says: "declares"),
        Hostile(name: "HEIC 64-bit size overflowing", kind: .heic,
                bytes: S.ftyp() + S.meta() + S.be32(1) + Array("mdat".utf8) + S.be64(.max) + [1, 2, 3], says: "declares 18446744073709551615"),
        Hostile(name: "HEIC 64-bit size of 2^63", kind: .heic,
                bytes: S.ftyp() + S.meta() + S.be32(1) + Array("mdat".utf8) + S.be64(1 << 63), says: "declares"),
        Hostile(name: "HEIC 64-bit size under its header", kind: .heic,
                bytes: S.ftyp() + S.meta() + S.be32(1) + Array("mdat".utf8) + S.be64(8), says: "under its 16-byte header"),
        Hostile(name: "HEIC box size under 8", kind: .heic, bytes: S.ftyp() + S.meta() + S.be32(7) + Array("mdat".utf8), says: "under its 8-byte header"),
        Hostile(name: "HEIC box past the end", kind: .heic, bytes: S.ftyp() + S.meta() + S.be32(0xFFFF_FFFF) + Array("mdat".utf8), says: "declares 4294967295"),
        Hostile(name: "HEIC with bytes after its last box", kind: .heic, bytes: S.heic() + [1, 2, 3], says: "ends inside the header"),
        Hostile(name: "HEIC whose ftyp names no HEIF brand", kind: .heic, bytes: S.ftyp(major: "mp42", compatible: ["isom"]) + S.meta(), says: "HEIF brand"),
        Hostile(name: "HEIC with a second ftyp", kind: .heic, bytes: S.heic() + S.ftyp(), says: "second ftyp"),
        Hostile(name: "HEIC meta without hdlr", kind: .heic, bytes: S.ftyp() + S.fullBox("meta", S.fullBox("pitm", [0, 1])), says: "no hdlr"),
        Hostile(name: "HEIC meta of video", kind: .heic, bytes: S.ftyp() + S.meta(handler: "vide"), says: "'vide'"),
        Hostile(name: "HEIC meta whose boxes do not fit it", kind: .heic,
                bytes: S.ftyp() + S.fullBox("meta", S.be32(40) + Array("hdlr".utf8) + [0, 0, 0, 0]), says: "box inside meta"),
    ]

    /// The minimal PDF up to its `startxref` line, then `tail`.
    static func withStartxref(_ tail: String) -> [UInt8] {
        let pdf = S.pdf()
        let keyword = Array("startxref\n".utf8)
        let at = (0...(pdf.count - keyword.count)).last { Array(pdf[$0..<($0 + keyword.count)]) == keyword }!
        return Array(pdf[..<(at + keyword.count)]) + Array(tail.utf8)
    }

    @Test func theEndMarkerMayStartUpTo1024BytesFromTheEnd() {
        let pdf = S.pdf()
        #expect(MediaFormat.problem(pdf + [UInt8](repeating: 0x0A, count: 1024 - 6), as: .pdf) == nil)
        #expect(MediaFormat.problem(pdf + [UInt8](repeating: 0x0A, count: 1024 - 5), as: .pdf) != nil)
        #expect(MediaFormat.problem(pdf + [UInt8](repeating: 0x0A, count: 1_000_000), as: .pdf) != nil)
    }

    @Test(arguments: hostile)
    func hostileFilesAreRefusedSayingWhy(_ h: Hostile) throws {
        let problem = try #require(MediaFormat.problem(h.bytes, as: h.kind))
        #expect(problem.contains(h.says), "\(problem)")
        #expect(problem.hasPrefix("is not a well-formed \(h.kind.name) file: "))
    }

    /// CRC-32 detects every single-bit error, and every other byte of a PNG is a length, a type
    /// or the signature: no bit of a PNG can be flipped unnoticed.
    @Test func everySingleBitFlipOfAPNGIsRefused() {
        let png = S.png(width: 2, height: 2)
        for bit in 0..<(png.count * 8) {
            var flipped = png
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(MediaFormat.problem(flipped, as: .png) != nil, "bit \(bit)")
        }
    }

    /// Seeded mutations of every sample through every check: none traps (a trap ends the test
    /// process), and a changed PNG is always refused.
    @Test func noMutationTrapsAnyCheck() {
        var rng = SplitMix64(seed: 15948)
        let extremes: [[UInt8]] = [S.be32(0xFFFF_FFFF), S.be32(0x7FFF_FFFF), S.be32(0), S.be32(1), S.be64(.max), [0xFF, 0xFF], [0xFF], [0]]
        var refused = 0
        for i in 0..<30_000 {
            let sample = Self.valid[i % Self.valid.count]
            var bytes = sample.bytes
            let at = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 4 {
            case 0: bytes[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1: bytes.insert(contentsOf: extremes[Int(rng.next() % UInt64(extremes.count))], at: at)
            case 2:
                let e = extremes[Int(rng.next() % UInt64(extremes.count))]
                for (k, byte) in e.enumerated() where at + k < bytes.count { bytes[at + k] = byte }
            default: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(rng.next() % 8)))
            }
            for kind in MediaKind.allCases where MediaFormat.problem(bytes, as: kind) != nil { refused += 1 }
            if sample.kind == .png && bytes != sample.bytes {
                #expect(MediaFormat.problem(bytes, as: .png) != nil, "\(sample.name) mutated at \(at)")
            }
        }
        #expect(refused > 30_000 * 3)
    }

    @Test func crc32IsPNGs() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        var rng = SplitMix64(seed: 3309)
        for length in 0..<100 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(CRC32.checksum(bytes) == S.crc32(bytes), "\(length) bytes")
        }
    }

    @Test("the file name's extension fits the type, or there is none", arguments: [
        ("card.pdf", MediaKind.pdf, true), ("CARD.PDF", .pdf, true), ("card", .pdf, true), (".pdf", .pdf, true),
        ("x.html.pdf", .pdf, true), ("x.html", .pdf, false), ("x.pdf.html", .pdf, false), ("x.", .pdf, false),
        ("x.svg", .png, false), ("x.png", .png, true), ("x.Png", .png, true), ("x.jpg", .png, false),
        ("a.jpg", .jpeg, true), ("a.JPEG", .jpeg, true), ("a.jpe", .jpeg, true), ("a.jfif", .jpeg, true), ("a.png", .jpeg, false),
        ("a.heic", .heic, true), ("a.HEIF", .heic, true), ("a.jpg", .heic, false), ("a.pd\u{FF46}", .pdf, false),
        ("a.pdf\u{0}", .pdf, false), ("a.exe", .jpeg, false),
    ] as [(String, MediaKind, Bool)])
    func fileNames(_ name: String, _ kind: MediaKind, _ fits: Bool) {
        #expect(kind.fits(fileName: name) == fits)
    }
}
