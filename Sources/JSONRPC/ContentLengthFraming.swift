#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-Length framing (LSP base protocol): the part of `LineReader` that chooses the framing
/// from the first bytes and splits header blocks and bodies. Lines are in `LineReader.swift`.
extension LineReader {
    private static let contentLengthName = Array("content-length".utf8)

    /// ASCII letters in lower case; every other byte as it is.
    private static func lowercased(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }
    /// RFC 9110's tchar: letters, digits and !#$%&'*+-.^_`|~.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || Array("!#$%&'*+-.^_`|~".utf8).contains(b)
    }

    /// Reads until the first bytes tell the framing: `Content-Length` (any case) is LSP framing,
    /// anything else (or input that ends first) is lines. Returns `.stopped` when a stop comes first.
    mutating func decideFraming() -> Event? {
        let name = Self.contentLengthName
        while framing == nil {
            let held = buffer[start...].prefix(name.count).map(Self.lowercased)
            if held.count == name.count || eof || !name.starts(with: held) {
                framing = held.count == name.count && held.elementsEqual(name) ? .contentLength : .lines
                if framing == .contentLength { atStreamStart = false }
                break
            }
            switch fill() {
            case .some(0): eof = true
            case .some: break
            case .none: return .stopped
            }
        }
        return nil
    }

    /// The rest of a header block longer than `maxHeaderBytes`, being dropped. The block was
    /// answered once, when it passed the limit; its later bytes are dropped as they arrive, up to
    /// its empty line, so the buffer never holds more than one read of it whatever its size.
    struct OversizeHeader {
        /// The body length its first `maxHeaderBytes` gave (nil when they gave none usable): that
        /// many bytes after the block are its body and are skipped too, so the next message is
        /// read from its own first byte instead of from the refused one's body.
        var bodyLength: Int?
        /// Bytes of the current line seen so far, and whether the first was a CR: the block ends
        /// at a line that is empty or a lone CR.
        var lineBytes = 0
        var lineStartsWithCR = false
    }

    /// What the buffer holds next under Content-Length framing.
    enum FrameScan {
        /// The header block is still arriving.
        case incomplete
        /// A whole header block, its empty line ending just before `bodyStart`; `length` is nil
        /// when the block has no usable one (none, two, not decimal, or a line that is no header).
        case header(bodyStart: Int, length: Int?)
        /// No empty line within the block's first `maxHeaderBytes`: `resumeAt` is the start of
        /// the first line not wholly within them, `length` what the lines within them gave.
        case oversizeHeader(resumeAt: Int, length: Int?)
    }

    /// Scans the header block at `start` (line ends before it already skipped), never past its
    /// first `maxHeaderBytes`: a block is refused by its size however it is split into reads.
    func scanHeaderBlock() -> FrameScan {
        let limit = min(buffer.count, start + Self.maxHeaderBytes)
        var i = start
        var lineStart = i
        var length: Int?
        var valid = true
        while i < limit {
            guard buffer[i] == 0x0A else { i += 1; continue }
            var lineEnd = i
            if lineEnd > lineStart && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart {  // the empty line: the body follows
                return .header(bodyStart: i + 1, length: valid ? length : nil)
            }
            let line = buffer[lineStart..<lineEnd]
            if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let name = line[lineStart..<colon].map(Self.lowercased)
                // A header name is a token (RFC 9110 §5.1): a JSON message sent without a frame
                // (`{"jsonrpc":...}` has a colon too) is a broken block, answered, not a header.
                if name.isEmpty || !name.allSatisfy(Self.isTokenByte) { valid = false }
                if name.elementsEqual(Self.contentLengthName) {
                    let digits = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
                    if length != nil || digits.isEmpty || digits.count > 18 || !digits.allSatisfy({ (0x30...0x39).contains($0) }) {
                        valid = false
                    } else {
                        length = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    }
                }
            } else {
                valid = false
            }
            i += 1
            lineStart = i
        }
        if buffer.count - start >= Self.maxHeaderBytes {
            return .oversizeHeader(resumeAt: lineStart, length: valid ? length : nil)
        }
        return .incomplete
    }

    /// Line ends between messages are dropped as they come, never held: any number of them costs
    /// only the time to read them, and no answer.
    mutating func skipLineEnds() {
        let from = start
        start = buffer.withUnsafeBufferPointer { b in
            var i = from
            while i < b.count && (b[i] == 0x0D || b[i] == 0x0A) { i += 1 }
            return i
        }
    }

    /// Skips `count` body bytes from `start`: those held now, and the rest as `fill` reads them.
    mutating func skipBody(_ count: Int) {
        let held = buffer.count - start
        if held >= count {
            start += count
        } else {
            skipRemaining = count - held
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Drops the held bytes of an oversize header block's rest. True once no such block is being
    /// skipped: its empty line has gone by (its body, when its length was known, is then skipped).
    mutating func skipOversizeHeader() -> Bool {
        guard var o = oversizeHeader else { return true }
        let from = start
        let (end, done) = buffer.withUnsafeBufferPointer { b -> (Int, Bool) in
            var i = from
            while i < b.count {
                guard let p = memchr(b.baseAddress! + i, 0x0A, b.count - i) else {
                    if o.lineBytes == 0 { o.lineStartsWithCR = b[i] == 0x0D }
                    o.lineBytes += b.count - i
                    return (b.count, false)
                }
                let lf = b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                if o.lineBytes == 0 && lf > i { o.lineStartsWithCR = b[i] == 0x0D }
                o.lineBytes += lf - i
                let empty = o.lineBytes == 0 || (o.lineBytes == 1 && o.lineStartsWithCR)
                o.lineBytes = 0
                i = lf + 1
                if empty { return (i, true) }
            }
            return (i, false)
        }
        start = end
        guard done else {
            oversizeHeader = o
            return false
        }
        oversizeHeader = nil
        if let n = o.bodyLength { skipBody(n) }
        return true
    }

    /// The next event the buffer holds, after dropping what needs no answer (line ends between
    /// messages, the rest of an oversize header block or body); nil when more input is needed.
    mutating func takeFramed() -> Event? {
        guard skipRemaining == 0, skipOversizeHeader() else { return nil }
        skipLineEnds()
        switch scanHeaderBlock() {
        case .incomplete:
            return nil
        case .oversizeHeader(let resumeAt, let length):
            // Answered once, here; the rest of the block is dropped as it arrives.
            start = resumeAt
            oversizeHeader = OversizeHeader(bodyLength: length)
            return .malformedFrame
        case .header(let bodyStart, nil):
            start = bodyStart  // the header block is dropped; what follows is read as the next message
            return .malformedFrame
        case .header(let bodyStart, let length?):
            if length > maxLineBytes {
                start = bodyStart
                skipBody(length)
                return .oversize
            }
            guard buffer.count - bodyStart >= length else { return nil }
            start = bodyStart + length
            return .line(Array(buffer[bodyStart..<start]))
        }
    }

    /// Whether `takeFramed` would return an event now (what it drops, it may drop here already).
    mutating func framedMessageReady() -> Bool {
        guard skipRemaining == 0, skipOversizeHeader() else { return false }
        skipLineEnds()
        switch scanHeaderBlock() {
        case .incomplete: return false
        case .oversizeHeader, .header(_, nil): return true
        case .header(let bodyStart, let length?): return length > maxLineBytes || buffer.count - bodyStart >= length
        }
    }

    mutating func nextFramed() -> Event {
        while true {
            if let event = takeFramed() { return event }
            if eof {
                // What is left is a message cut off by the end of input, answered, unless it is
                // the rest of an oversize body or header block, answered already.
                let cut = skipRemaining == 0 && oversizeHeader == nil
                    && buffer[start...].contains { $0 != 0x0D && $0 != 0x0A && $0 != 0x20 && $0 != 0x09 }
                buffer.removeAll()
                start = 0
                skipRemaining = 0
                oversizeHeader = nil
                return cut ? .malformedFrame : .end
            }
            switch fill() {
            case .some(0): eof = true
            case .some: break
            case .none: return .stopped
            }
        }
    }
}
