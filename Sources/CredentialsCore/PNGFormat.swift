/// A PNG as decoders read it (PNG specification, ISO/IEC 15948): the 8-byte signature, then
/// chunks of a 4-byte big-endian length (at most 2^31 - 1), a 4-letter type, the data and a
/// CRC-32 of type and data. The first chunk is `IHDR` (13 bytes: non-zero width and height, a
/// valid bit depth for the colour type, compression and filter method 0, interlace 0 or 1); a
/// palette image has `PLTE` before its data; the `IDAT` chunks are consecutive, at least one;
/// the last chunk is an empty `IEND`, and nothing follows it. Unknown ancillary chunks (a
/// lowercase first letter) are allowed, as decoders skip them; unknown critical ones are not,
/// as decoders stop at them. The image data itself is not inflated.
enum PNGFormat {
    static let signatureBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static let IHDR = fourCC("IHDR"), PLTE = fourCC("PLTE"), IDAT = fourCC("IDAT"), IEND = fourCC("IEND")

    static func problem(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        guard b.count >= 8, (0..<8).allSatisfy({ b[$0] == signatureBytes[$0] }) else { return "it does not start with the PNG signature" }
        var at = 8
        var index = 0
        var colorType: UInt8 = 0
        var sawPalette = false, inData = false, dataEnded = false
        while true {
            let left = b.count - at
            if left == 0 { return "it ends without an IEND chunk" }
            if left < 12 { return "it ends inside chunk \(index)'s header, \(left) bytes from the end" }
            let declared = b.be32(at)
            let type = b.be32(at + 4)
            // Named only when something is wrong: no string is made per chunk.
            var name: String { fourCCName(type) }
            if declared > 0x7FFF_FFFF { return "chunk \(index) (\(name)) declares \(declared) bytes, over the 2^31 - 1 a chunk may hold" }
            let length = Int(declared)
            if length > left - 12 { return "chunk \(index) (\(name)) declares \(length) bytes, but only \(left - 12) follow it" }
            for k in 4..<8 where !isLetter(b[at + k]) { return "chunk \(index) has a type (\(name)) that is not four ASCII letters" }
            let data = at + 8
            if CRC32.checksum(b, (at + 4)..<(data + length)) != b.be32(data + length) {
                return "chunk \(index) (\(name)) has a wrong CRC: the file is damaged or not a PNG"
            }
            if index == 0 {
                if type != IHDR { return "its first chunk is \(name), not IHDR" }
                if let p = headerProblem(b, data, length) { return p }
                colorType = b[data + 9]
            } else if type == IHDR {
                return "it has a second IHDR chunk (chunk \(index))"
            } else if type == IDAT {
                if dataEnded { return "its IDAT chunks are not consecutive (chunk \(index))" }
                if colorType == 3 && !sawPalette { return "it is a palette image without a PLTE chunk before its data" }
                inData = true
            } else {
                if inData { dataEnded = true }
                if type == PLTE { sawPalette = true }
                if type == IEND {
                    if length != 0 { return "its IEND chunk holds \(length) bytes; it must be empty" }
                    if !inData { return "it has no IDAT chunk: no image data" }
                    let after = b.count - (data + length + 4)
                    return after == 0 ? nil : "it has \(after) bytes after its IEND chunk"
                }
                // A critical chunk (uppercase first letter) that decoders do not know stops them.
                if b[at + 4] & 0x20 == 0 && type != PLTE { return "chunk \(index) (\(name)) is a critical chunk decoders do not know" }
            }
            at = data + length + 4
            index += 1
        }
    }

    static func isLetter(_ c: UInt8) -> Bool { (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }

    /// The IHDR fields a decoder needs to size and read the image.
    static func headerProblem(_ b: UnsafeBufferPointer<UInt8>, _ at: Int, _ length: Int) -> String? {
        guard length == 13 else { return "its IHDR chunk holds \(length) bytes, not 13" }
        let width = b.be32(at), height = b.be32(at + 4)
        if width == 0 || height == 0 || width > 0x7FFF_FFFF || height > 0x7FFF_FFFF {
            return "its size, \(width) x \(height), is not 1 to 2^31 - 1 pixels each way"
        }
        let depth = b[at + 8], color = b[at + 9]
        let depths: [UInt8]
        switch color {
        case 0: depths = [1, 2, 4, 8, 16]
        case 3: depths = [1, 2, 4, 8]
        case 2, 4, 6: depths = [8, 16]
        default: return "its colour type, \(color), is not 0, 2, 3, 4 or 6"
        }
        if !depths.contains(depth) { return "its bit depth, \(depth), is not one colour type \(color) allows" }
        if b[at + 10] != 0 || b[at + 11] != 0 { return "its compression or filter method is not 0" }
        if b[at + 12] > 1 { return "its interlace method, \(b[at + 12]), is not 0 or 1" }
        return nil
    }
}
