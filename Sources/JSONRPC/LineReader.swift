#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into messages with a bounded buffer: one per line, or, when the stream
/// starts with `Content-Length` (LSP base protocol framing), one per header block and body.
///
/// Lines: a line longer than `maxLineBytes` is reported once as `.oversize` and then discarded up
/// to its newline chunk by chunk, so it is never held whole in memory: the buffer never grows past
/// `maxLineBytes + chunkSize`. A trailing CR is dropped, blank lines are skipped, a UTF-8 BOM at the
/// very start of the stream is ignored (RFC 8259 §8.1), and a last line without a newline is
/// still delivered at end of input.
///
/// Content-Length: headers end with an empty line (CRLF, or LF, line ends), names are
/// case-insensitive, `Content-Length` is required and other headers are ignored. A body longer
/// than `maxLineBytes` is `.oversize` and skipped by count; a header block without a valid length,
/// or a message cut off by the end of input, is `.malformedFrame`. A header block longer than
/// `maxHeaderBytes` is one `.malformedFrame`, reported when it passes the limit; the rest of it is
/// dropped as it arrives, up to its empty line, and so is its body when its first
/// `maxHeaderBytes` gave a usable length. Line ends between messages are dropped as they come.
/// In every case the buffer holds at most one header block of `maxHeaderBytes`, one body of
/// `maxLineBytes`, and one read.
public struct LineReader {
    public enum Event: Equatable {
        case line([UInt8])
        case oversize
        /// Content-Length framing only: a header block without a usable length, or a message cut short.
        case malformedFrame
        case end
        /// A stop signal arrived while waiting for input.
        case stopped
    }

    /// How the stream is split, decided from its first bytes.
    public enum Framing: Equatable, Sendable {
        case lines
        case contentLength
    }

    /// Reads up to `count` bytes into the buffer; returns the count, 0 at end of input,
    /// or nil when a stop was requested before any byte arrived.
    public typealias ReadFunction = (UnsafeMutableRawPointer, Int) -> Int?

    public let maxLineBytes: Int
    private let read: ReadFunction
    private let chunkSize: Int
    /// Where each read lands; allocated once.
    private var chunk: [UInt8]
    /// The unconsumed part of the stream (never more than `maxLineBytes + chunkSize`).
    var buffer: [UInt8] = []
    var start = 0  // first unconsumed byte in `buffer`
    private var scanned = 0  // bytes after `start` known to hold no newline
    /// Skipping the rest of an oversize line: reads are scanned for its newline and not kept.
    private var discarding = false
    var atStreamStart = true
    var eof = false
    /// Nil until the first bytes show which framing the client speaks.
    public internal(set) var framing: Framing?
    /// Content-Length framing: body bytes of an oversize message still to be skipped.
    var skipRemaining = 0
    /// Content-Length framing: the rest of a header block longer than `maxHeaderBytes`, being
    /// dropped as it arrives.
    var oversizeHeader: OversizeHeader?
    /// Content-Length framing: the longest header block accepted, its empty line included.
    static let maxHeaderBytes = 8192

    /// Whether a read would return at once (input waiting, or its end): lets a group of
    /// waiting requests span several reads. Nil: never read ahead.
    private let inputReady: (() -> Bool)?
    /// Every byte read so far: tells a look-ahead whether the buffer changed since the last one.
    public private(set) var bytesRead = 0
    /// Set on the copy `bufferedMessages` walks: it must never read, only look.
    private var peeking = false

    public init(maxLineBytes: Int, chunkSize: Int = 64 * 1024, inputReady: (() -> Bool)? = nil, read: @escaping ReadFunction) {
        self.maxLineBytes = maxLineBytes
        self.chunkSize = chunkSize
        self.chunk = [UInt8](repeating: 0, count: chunkSize)
        self.inputReady = inputReady
        self.read = read
    }

    /// Reads from a file descriptor, waking early when `stopFD` (the signal pipe) becomes readable.
    public init(fd: Int32, stopFD: Int32 = -1, maxLineBytes: Int) {
        let ready: () -> Bool = {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&p, 1, 0) > 0
        }
        self.init(maxLineBytes: maxLineBytes, inputReady: ready) { ptr, count in
            while true {
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
                let r = poll(&fds, 2, -1)
                if r < 0 {
                    if errno == EINTR { continue }
                    return 0
                }
                if fds[1].revents != 0 { return nil }
                let n = Glibc.read(fd, ptr, count)
                if n >= 0 { return n }
                if errno == EINTR || errno == EAGAIN { continue }
                return 0  // a read error ends input
            }
        }
    }

    /// Bytes held right now: never more than `maxLineBytes + chunkSize`.
    public var bufferedBytes: Int { buffer.count }

    /// Whether `next()` would return at once with a message, without waiting for input: one is in
    /// the buffer, or (with `readAhead`) input already waiting completes one (read now, within the
    /// buffer's bound).
    public mutating func hasBufferedLine(readAhead: Bool = true) -> Bool {
        while !messageInBuffer() {
            guard readAhead, !eof, framing != nil, buffer.count - start <= maxLineBytes, inputReady?() == true else { return false }
            switch fill() {
            case .some(0): eof = true
            case .some: break
            case .none: return false
            }
        }
        return true
    }

    /// The complete messages the buffer holds after the one in hand (at most `limit`), without
    /// consuming them or reading: lets the transport see a cancellation that arrived behind the
    /// request it names. The walk is on a copy, so the buffer is copied only if the walk drops
    /// something (an oversize line).
    public func bufferedMessages(limit: Int) -> [[UInt8]] {
        var probe = self
        probe.peeking = true
        var out: [[UInt8]] = []
        while out.count < limit && probe.hasBufferedLine(readAhead: false) {
            switch probe.next() {
            case .line(let message): out.append(message)
            case .oversize, .malformedFrame: continue
            case .end, .stopped: return out
            }
        }
        return out
    }

    /// Whether the unconsumed bytes hold `needle` anywhere.
    public func holds(_ needle: [UInt8]) -> Bool {
        guard buffer.count - start >= needle.count else { return false }
        // memchr for the first byte, then a compare (Glibc's module does not export memmem).
        return buffer.withUnsafeBufferPointer { b in
            needle.withUnsafeBufferPointer { n in
                var i = start
                let last = b.count - n.count
                while i <= last {
                    guard let p = memchr(b.baseAddress! + i, Int32(n[0]), last - i + 1) else { return false }
                    i = b.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                    if memcmp(b.baseAddress! + i, n.baseAddress!, n.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    private mutating func messageInBuffer() -> Bool {
        switch framing {
        case nil: return false
        case .lines: return findNewline() != nil || (eof && start < buffer.count)
        case .contentLength: return framedMessageReady()
        }
    }

    public mutating func next() -> Event {
        if framing == nil, let stop = decideFraming() { return stop }
        if framing == .contentLength { return nextFramed() }
        while true {
            if let lf = findNewline() {
                let lineStart = start
                start = lf + 1
                scanned = 0
                if lf - lineStart > maxLineBytes {
                    atStreamStart = false
                    return .oversize
                }
                if let line = trimmed(lineStart, lf) { return .line(line) }
                continue
            }
            // No newline in what we hold.
            if buffer.count - start > maxLineBytes {
                discarding = true
                atStreamStart = false
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
                return .oversize
            }
            if eof {
                if start >= buffer.count {
                    buffer = []
                    start = 0
                    return .end
                }
                let lineStart = start
                start = buffer.count
                if let line = trimmed(lineStart, buffer.count) { return .line(line) }
                continue
            }
            switch fill() {
            case .some(0): eof = true
            case .some: break
            case .none: return .stopped
            }
        }
    }

    private mutating func findNewline() -> Int? {
        let from = start + scanned
        let end = buffer.count
        guard from < end else { return nil }
        let found: Int? = buffer.withUnsafeBufferPointer { buf in
            guard let p = memchr(buf.baseAddress! + from, 0x0A, end - from) else { return nil }
            return buf.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
        }
        scanned = (found ?? end) - start
        return found
    }

    /// The line's bytes without a trailing CR, or nil when it is blank.
    private mutating func trimmed(_ from: Int, _ to: Int) -> [UInt8]? {
        var lo = from
        var hi = to
        if atStreamStart {
            atStreamStart = false
            if hi - lo >= 3 && buffer[lo] == 0xEF && buffer[lo + 1] == 0xBB && buffer[lo + 2] == 0xBF { lo += 3 }
        }
        if hi > lo && buffer[hi - 1] == 0x0D { hi -= 1 }
        var blank = true
        for k in lo..<hi where !(buffer[k] == 0x20 || buffer[k] == 0x09 || buffer[k] == 0x0D) {
            blank = false
            break
        }
        return blank ? nil : Array(buffer[lo..<hi])
    }

    /// One read. While discarding, only the bytes after the oversize line's newline are kept.
    mutating func fill() -> Int? {
        if peeking { return nil }
        if start > 0 && (start >= buffer.count || start > chunkSize) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let n = chunk.withUnsafeMutableBytes { read($0.baseAddress!, chunkSize) }
        guard let n else { return nil }
        guard n > 0 else { return 0 }
        bytesRead += n
        chunk.withUnsafeBufferPointer { c in
            var keepFrom = 0
            if skipRemaining > 0 {  // the rest of an oversize Content-Length body
                keepFrom = min(n, skipRemaining)
                skipRemaining -= keepFrom
            }
            if discarding {
                guard let p = memchr(c.baseAddress!, 0x0A, n) else { return }
                discarding = false
                keepFrom = c.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self)) + 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: c[keepFrom..<n]))
        }
        return n
    }
}
