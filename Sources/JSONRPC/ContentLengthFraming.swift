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

    /// The next complete message in the buffer under Content-Length framing: where its header
    /// block ends and body starts, and its length (nil when the header block has no usable one).
    /// `incomplete` when the header block or body is still arriving.
    func framedMessage() -> (bodyStart: Int, length: Int?, incomplete: Bool)? {
        var i = start
        // Line ends between messages are tolerated.
        while i < buffer.count && (buffer[i] == 0x0D || buffer[i] == 0x0A) { i += 1 }
        var lineStart = i
        var length: Int?
        var valid = true
        while i < buffer.count {
            guard buffer[i] == 0x0A else { i += 1; continue }
            var lineEnd = i
            if lineEnd > lineStart && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if lineEnd == lineStart {  // the empty line: the body follows
                let bodyStart = i + 1
                guard valid, let n = length else { return (bodyStart, nil, false) }
                return (bodyStart, n, buffer.count - bodyStart < n)
            }
            let line = buffer[lineStart..<lineEnd]
            if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                let name = line[lineStart..<colon].map(Self.lowercased)
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
        return nil
    }

    mutating func nextFramed() -> Event {
        while true {
            if skipRemaining == 0, let m = framedMessage() {
                guard let length = m.length else {
                    start = m.bodyStart  // the header block is dropped; what follows is read as the next message
                    return .malformedFrame
                }
                if length > maxLineBytes {
                    let held = buffer.count - m.bodyStart
                    if held >= length {
                        start = m.bodyStart + length
                    } else {
                        skipRemaining = length - held
                        buffer.removeAll(keepingCapacity: true)
                        start = 0
                    }
                    return .oversize
                }
                if !m.incomplete {
                    start = m.bodyStart + length
                    return .line(Array(buffer[m.bodyStart..<start]))
                }
            } else if skipRemaining == 0 && buffer.count - start > Self.maxHeaderBytes {
                // A header block that never ends: refuse it and drop what is held.
                buffer.removeAll(keepingCapacity: true)
                start = 0
                return .malformedFrame
            }
            if eof {
                let rest = buffer[start...].contains { $0 != 0x0D && $0 != 0x0A && $0 != 0x20 && $0 != 0x09 }
                buffer.removeAll()
                start = 0
                if rest && skipRemaining == 0 { return .malformedFrame }
                return .end
            }
            switch fill() {
            case .some(0): eof = true
            case .some: break
            case .none: return .stopped
            }
        }
    }
}
