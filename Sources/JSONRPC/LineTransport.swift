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
/// or a message cut off by the end of input, is `.malformedFrame`.
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
    private var buffer: [UInt8] = []
    private var start = 0  // first unconsumed byte in `buffer`
    private var scanned = 0  // bytes after `start` known to hold no newline
    /// Skipping the rest of an oversize line: reads are scanned for its newline and not kept.
    private var discarding = false
    private var atStreamStart = true
    private var eof = false
    /// Nil until the first bytes show which framing the client speaks.
    public private(set) var framing: Framing?
    /// Content-Length framing: body bytes of an oversize message still to be skipped.
    private var skipRemaining = 0
    /// Content-Length framing: the longest header block accepted.
    static let maxHeaderBytes = 8192

    /// Whether a read would return at once (input waiting, or its end): lets a group of
    /// waiting requests span several reads. Nil: never read ahead.
    private let inputReady: (() -> Bool)?

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

    private mutating func messageInBuffer() -> Bool {
        switch framing {
        case nil: return false
        case .lines: return findNewline() != nil || (eof && start < buffer.count)
        case .contentLength: return skipRemaining == 0 && framedMessage().map { !$0.incomplete } ?? false
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

    private static let contentLengthName = Array("content-length".utf8)

    /// ASCII letters in lower case; every other byte as it is.
    private static func lowercased(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }

    /// Reads until the first bytes tell the framing: `Content-Length` (any case) is LSP framing,
    /// anything else (or input that ends first) is lines. Returns `.stopped` when a stop comes first.
    private mutating func decideFraming() -> Event? {
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
    private func framedMessage() -> (bodyStart: Int, length: Int?, incomplete: Bool)? {
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

    private mutating func nextFramed() -> Event {
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
    private mutating func fill() -> Int? {
        if start > 0 && (start >= buffer.count || start > chunkSize) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let n = chunk.withUnsafeMutableBytes { read($0.baseAddress!, chunkSize) }
        guard let n else { return nil }
        guard n > 0 else { return 0 }
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

/// Writes whole buffers to a file descriptor, retrying short writes and EINTR.
public enum FDWriter {
    /// False when the reader is gone (EPIPE) or the descriptor failed: the caller stops quietly.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n > 0 { off += n; continue }
                if n < 0 && (errno == EINTR || errno == EAGAIN) {
                    if errno == EAGAIN {
                        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                        _ = poll(&p, 1, -1)
                    }
                    continue
                }
                return false
            }
            return true
        }
    }
}

/// SIGTERM and SIGINT ask for a stop after the request in hand; SIGPIPE is ignored so a vanished
/// reader shows up as EPIPE on write, not as a crash.
public enum StopSignals {
    nonisolated(unsafe) private static var pipeFDs: (read: Int32, write: Int32) = (-1, -1)
    nonisolated(unsafe) private static var requested: sig_atomic_t = 0

    /// Installs the handlers and returns the descriptor that becomes readable when a stop is asked.
    public static func install() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            pipeFDs = (fds[0], fds[1])
        }
        let handler: @convention(c) (Int32) -> Void = { _ in
            StopSignals.requested = 1
            var b: UInt8 = 1
            _ = write(StopSignals.pipeFDs.write, &b, 1)
        }
        signal(SIGTERM, handler)
        signal(SIGINT, handler)
        // A parent may spawn us with these blocked (a signal mask is inherited): unblock them,
        // or a polite stop would never arrive.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        return pipeFDs.read
    }

    public static var stopRequested: Bool { requested != 0 }
}

/// The process loop: lines in, one response line out per request, in order.
public enum LineTransport {
    /// Serves stdin/stdout (or any descriptors) until end of input, a stop signal, or a vanished reader.
    public static func run(server: RPCServer, input: Int32, output: Int32, stopFD: Int32, maxMessageBytes: Int) {
        var reader = LineReader(fd: input, stopFD: stopFD, maxLineBytes: maxMessageBytes)
        widenPipe(output)
        var out: [UInt8] = []
        serve(&reader, server: server) { messages, framing in
            // One write for the whole group: fewer system calls, and the reader gets it all at once.
            out.removeAll(keepingCapacity: true)
            for m in messages { frame(m, framing, into: &out) }
            return FDWriter.writeAll(output, out)
        }
    }

    /// When `fd` is a pipe, asks for it to hold 1 MiB (Linux's default most without privilege)
    /// instead of 64 KiB, so a large answer, such as a team's compliance report, goes out in one
    /// `write` instead of waking the reader and waiting for it every 64 KiB. Anything else is left
    /// as it is.
    static func widenPipe(_ fd: Int32) {
        #if os(Linux)
        let F_SETPIPE_SZ: Int32 = 1031  // <fcntl.h> under _GNU_SOURCE, which Swift does not see
        _ = fcntl(fd, F_SETPIPE_SZ, 1 << 20)
        #endif
    }

    /// The same loop over bytes in memory: the responses in order, each framed as sent (a line
    /// with its newline, or a Content-Length header and body).
    /// Tests and the conformance replay use it to drive exactly what the process does.
    public static func process(_ input: [UInt8], server: RPCServer, maxMessageBytes: Int) -> [[UInt8]] {
        var offset = 0
        var reader = LineReader(maxLineBytes: maxMessageBytes, inputReady: { true }) { ptr, count in
            let n = min(count, input.count - offset)
            input.withUnsafeBytes { src in
                if n > 0 { ptr.copyMemory(from: src.baseAddress! + offset, byteCount: n) }
            }
            offset += n
            return n
        }
        var out: [[UInt8]] = []
        serve(&reader, server: server) { messages, framing in
            for m in messages {
                var framed: [UInt8] = []
                frame(m, framing, into: &framed)
                out.append(framed)
            }
            return true
        }
        return out
    }

    /// A response as the client's framing wants it: a line, or a Content-Length header and body.
    static func frame(_ message: [UInt8], _ framing: LineReader.Framing, into out: inout [UInt8]) {
        switch framing {
        case .lines:
            out += message
            out.append(0x0A)
        case .contentLength:
            out += "Content-Length: \(message.count)\r\n\r\n".utf8
            out += message
        }
    }

    /// The most requests one group commit takes.
    public static let maxGroup = 4096
    /// A group takes no more requests once it has run this long: the first answer of a flood
    /// waits for the group's commit, so this bounds that wait (plus one request). Longer groups
    /// write fewer pages per request (a page that many requests of a group change is written
    /// once): renewals scattered over a table ran 7% faster at 50 ms than at 25 ms, and 9% faster
    /// again at 100 ms. A burst that fits in the input at once is committed when it runs out.
    public static let maxGroupNanoseconds: Int64 = 100_000_000
    /// Nor once its answers, held until the commit, pass this many bytes (large reads fill it).
    public static let maxGroupAnswerBytes = 4 << 20

    /// Reads lines and emits responses (each group's lines at once, without newlines) until the
    /// input ends or `emit` reports the reader gone.
    ///
    /// Group commit: when more requests are already waiting in the input, they are handled as one
    /// group (one transaction, one fsync) and their answers written after it commits, in order.
    /// A lone request is handled, committed and answered at once: no added latency.
    static func serve(_ reader: inout LineReader, server: RPCServer, emit: ([[UInt8]], LineReader.Framing) -> Bool) {
        while !StopSignals.stopRequested {
            let first = reader.next()
            if first == .end || first == .stopped { return }
            var events = [first]
            var responses: [[UInt8]?]
            // A group starts only when the last read brought more than one request: a lone
            // request costs no extra system call.
            if !reader.hasBufferedLine(readAhead: false) {
                responses = [respond(first, server, reader.maxLineBytes)]
            } else {
                server.handler.beginGroup()
                let deadline = monotonicNanoseconds() + maxGroupNanoseconds
                responses = [respond(first, server, reader.maxLineBytes)]
                var held = responses[0]?.count ?? 0
                while events.count < maxGroup && held < maxGroupAnswerBytes && monotonicNanoseconds() < deadline && reader.hasBufferedLine() {
                    let event = reader.next()
                    events.append(event)
                    responses.append(respond(event, server, reader.maxLineBytes))
                    held += responses.last!?.count ?? 0
                }
                if !server.handler.endGroup() {
                    // The group's commit failed and it left nothing: each request runs again alone.
                    responses = events.map { respond($0, server, reader.maxLineBytes) }
                }
            }
            let answers = responses.compactMap { $0 }
            if !answers.isEmpty && !emit(answers, reader.framing ?? .lines) { return }
        }
    }

    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private static func respond(_ event: LineReader.Event, _ server: RPCServer, _ limit: Int) -> [UInt8]? {
        switch event {
        case .line(let line): return server.handle(line: line)
        case .oversize: return RPCServer.oversizeResponse(limit: limit)
        case .malformedFrame: return RPCServer.malformedFrameResponse()
        case .end, .stopped: return nil
        }
    }
}
