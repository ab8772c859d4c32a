/// A HEIC/HEIF image as readers open it (ISO/IEC 23008-12 on the ISO base media file format,
/// ISO/IEC 14496-12): a sequence of boxes, each a 4-byte big-endian size and a 4-character
/// type (size 1: a 64-bit size follows; size 0: the box runs to the end, so only the last box
/// may have it), that exactly cover the file. The first box is `ftyp`, whose major brand or one
/// of whose compatible brands is a HEIF brand; a top-level `meta` box holds the image items,
/// and its own child boxes exactly cover it, one of them the handler `hdlr` of type `pict`.
/// Item properties, locations and the coded image (HEVC) are not parsed.
enum HEIFFormat {
    /// The brands of HEIF still images and sequences (ISO/IEC 23008-12, Annex B and its HEVC
    /// brands): what `ftyp` must name for the file to be a HEIC here.
    static let brands: [UInt32] = ["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1"].map { (s: StaticString) in fourCC(s) }

    static let ftyp = fourCC("ftyp"), meta = fourCC("meta"), hdlr = fourCC("hdlr"), pict = fourCC("pict")

    /// Whether the file starts with an `ftyp` box that names a HEIF brand; the detection of
    /// the kind, before the whole file is checked.
    static func declaresHEIFBrand(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard b.count >= 16, b.be32(4) == ftyp else { return false }
        let size = Int(b.be32(0))
        guard size >= 16, size <= b.count, (size - 16) % 4 == 0 else { return false }
        var at = 8  // the major brand, then (after the minor version) the compatible brands
        while at + 4 <= size {
            if brands.contains(b.be32(at)) { return true }
            at += at == 8 ? 8 : 4
        }
        return false
    }

    static func problem(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        guard b.count >= 8, b.be32(4) == ftyp else { return "it does not start with an ftyp box" }
        if b.be32(0) == 1 || b.be32(0) == 0 || !declaresHEIFBrand(b) {
            return "its ftyp box does not name a HEIF brand (heic, heix, heim, heis, hevc, hevx, hevm, hevs, mif1, msf1)"
        }
        var sawMeta = false
        let p = walk(b, 0..<b.count, what: "box") { type, index, body in
            if index > 0 && type == ftyp { return "it has a second ftyp box (box \(index))" }
            guard type == meta else { return nil }
            if sawMeta { return "it has a second top-level meta box (box \(index))" }
            sawMeta = true
            return metaProblem(b, body)
        }
        if let p { return p }
        return sawMeta ? nil : "it has no meta box: no image items"
    }

    /// `meta` is a full box (4 bytes of version and flags) of child boxes, one of them `hdlr`
    /// naming the `pict` handler: what tells a reader the items are images.
    static func metaProblem(_ b: UnsafeBufferPointer<UInt8>, _ body: Range<Int>) -> String? {
        guard body.count >= 4 else { return "its meta box is too short to be a full box" }
        var handler: UInt32?
        let p = walk(b, (body.lowerBound + 4)..<body.upperBound, what: "box inside meta") { type, _, child in
            if type == hdlr && handler == nil {
                // version and flags (4), pre_defined (4), then handler_type.
                guard child.count >= 12 else { return "its hdlr box is too short" }
                handler = b.be32(child.lowerBound + 8)
            }
            return nil
        }
        if let p { return p }
        guard let handler else { return "its meta box has no hdlr box" }
        return handler == pict ? nil : "its meta box's handler is \(fourCCName(handler)), not 'pict' (image items)"
    }

    /// Visits each box of `range` in order with its type, index and body (the bytes after its
    /// header), checking that the boxes exactly cover the range; stops at the first problem.
    static func walk(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, what: String,
                     _ visit: (UInt32, Int, Range<Int>) -> String?) -> String? {
        var at = range.lowerBound
        var index = 0
        while at < range.upperBound {
            let left = range.upperBound - at
            if left < 8 { return "it ends inside the header of \(what) \(index), \(left) bytes from the end" }
            let size32 = b.be32(at), type = b.be32(at + 4)
            // Named only when something is wrong: no string is made per box.
            func name() -> String { "\(what) \(index) (\(fourCCName(type)))" }
            for k in 4..<8 where !(0x20...0x7E).contains(b[at + k]) { return "\(what) \(index) has a type that is not four printable characters" }
            let header: Int, size: Int
            switch size32 {
            case 0:
                // To the end: only the last box may be this one, which it is by definition.
                (header, size) = (8, left)
            case 1:
                if left < 16 { return "\(name()) ends inside its 64-bit size" }
                let large = b.be64(at + 8)
                if large < 16 { return "\(name()) declares a 64-bit size of \(large), under its 16-byte header" }
                if large > UInt64(left) { return "\(name()) declares \(large) bytes, but only \(left) are left" }
                (header, size) = (16, Int(large))
            default:
                if size32 < 8 { return "\(name()) declares a size of \(size32), under its 8-byte header" }
                if Int(size32) > left { return "\(name()) declares \(size32) bytes, but only \(left) are left" }
                (header, size) = (8, Int(size32))
            }
            if let p = visit(type, index, (at + header)..<(at + size)) { return p }
            at += size
            index += 1
        }
        return nil
    }
}
