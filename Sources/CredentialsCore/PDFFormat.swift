/// A PDF as readers find their way into it (ISO 32000): a reader checks the header, then reads
/// the file from its end: the `%%EOF` marker, the `startxref` keyword before it and the byte
/// offset of the last cross-reference section, and from there every object. So a PDF here has:
///
/// - the header line `%PDF-1.0` to `%PDF-1.7`, or `%PDF-2.0`, ended by CR or LF;
/// - `%%EOF` at its end, followed by nothing but PDF whitespace (NUL, TAB, LF, FF, CR, space),
///   and starting within the last 1024 bytes (where readers look for it);
/// - just before it, `startxref`, whitespace, the offset in decimal, whitespace;
/// - at that offset, inside the file and after the header, a cross-reference table (`xref`) or
///   a cross-reference stream object (`12 0 obj`).
///
/// Objects, streams and the trailer dictionary are not parsed: this is the frame every reader
/// needs before it can read anything, and what a header glued onto HTML does not have.
enum PDFFormat {
    static let headerLength = 9  // "%PDF-1.4" and its end of line

    static func problem(_ b: UnsafeBufferPointer<UInt8>) -> String? {
        guard b.has("%PDF-", at: 0) else { return "it does not start with %PDF-" }
        guard b.count >= headerLength, versionIsKnown(b[5], b[6], b[7]), b[8] == 0x0D || b[8] == 0x0A else {
            return "its header is not %PDF-1.0 to %PDF-1.7 or %PDF-2.0 on a line of its own"
        }
        // From the end: whitespace, %%EOF, whitespace, the offset, whitespace, startxref. Each
        // step is bounded, so this reads at most a little over 1 KiB whatever the file's size.
        var end = b.count
        while end > 0 && isWhitespace(b[end - 1]) && b.count - end < 1024 { end -= 1 }
        let eof = end - 5
        guard eof >= headerLength, b.has("%%EOF", at: eof), b.count - eof <= 1024 else {
            return "it does not end with %%EOF (then nothing but whitespace) within its last 1024 bytes"
        }
        let digitsEnd = skipWhitespace(b, back: eof, max: 64)
        var digitsStart = digitsEnd
        while digitsStart > 0 && isDigit(b[digitsStart - 1]) && digitsEnd - digitsStart < 20 { digitsStart -= 1 }
        let keywordEnd = skipWhitespace(b, back: digitsStart, max: 64)
        guard digitsEnd < eof, digitsStart < digitsEnd, keywordEnd < digitsStart, keywordEnd >= 9,
              b.has("startxref", at: keywordEnd - 9) else {
            return "it has no 'startxref' and the offset of its cross-reference section just before its %%EOF"
        }
        var offset = 0
        for k in digitsStart..<digitsEnd {
            let (times10, o1) = offset.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(b[k] - 0x30))
            guard !o1, !o2, sum < b.count else { return "its startxref offset is past the end of the file" }
            offset = sum
        }
        guard offset >= headerLength, offset < keywordEnd - 9,
              (b.has("xref", at: offset) && offset + 4 < b.count && isWhitespace(b[offset + 4])) || isObjectHeader(b, at: offset) else {
            return "its startxref offset, \(offset), points at neither a cross-reference table (xref) nor a cross-reference stream"
        }
        return nil
    }

    static func versionIsKnown(_ major: UInt8, _ dot: UInt8, _ minor: UInt8) -> Bool {
        guard dot == UInt8(ascii: ".") else { return false }
        return (major == UInt8(ascii: "1") && (0x30...0x37).contains(minor)) || (major == UInt8(ascii: "2") && minor == UInt8(ascii: "0"))
    }

    /// PDF's white-space characters (ISO 32000-1, 7.2.2).
    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 || c == 0x0C || c == 0x00 }

    static func isDigit(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) }

    /// Where a run of at most `max` whitespace bytes ending before `end` starts.
    static func skipWhitespace(_ b: UnsafeBufferPointer<UInt8>, back end: Int, max: Int) -> Int {
        var i = end
        while i > 0 && isWhitespace(b[i - 1]) && end - i < max { i -= 1 }
        return i
    }

    /// `N G obj`: an object number, a generation number and the keyword, as an indirect object
    /// (here a cross-reference stream) starts.
    static func isObjectHeader(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        var i = start
        for _ in 0..<2 {
            let digits = i
            while i < b.count && isDigit(b[i]) && i - digits < 10 { i += 1 }
            if i == digits { return false }
            let spaces = i
            while i < b.count && isWhitespace(b[i]) && i - spaces < 16 { i += 1 }
            if i == spaces { return false }
        }
        return b.has("obj", at: i)
    }
}
