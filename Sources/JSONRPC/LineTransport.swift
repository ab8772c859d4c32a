#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process loop: lines in, one response line out per request, in order.
public enum LineTransport {
    /// Serves stdin/stdout (or any descriptors) until end of input, a stop signal, or a vanished reader.
    public static func run(server: RPCServer, input: Int32, output: Int32, stopFD: Int32, maxMessageBytes: Int) {
        var reader = LineReader(fd: input, stopFD: stopFD, maxLineBytes: maxMessageBytes)
        widenPipe(output)
        // A stop must end the process even when the client has stopped reading and a write
        // waits on it; the output is given its flags back at the end.
        StopSignals.unblockOnStop(output)
        defer { StopSignals.restoreOutput() }
        var out: [UInt8] = []
        serve(&reader, server: server) { messages, framing in
            // One write for the whole group: fewer system calls, and the reader gets it all at once.
            out.removeAll(keepingCapacity: true)
            for m in messages { frame(m, framing, into: &out) }
            return FDWriter.writeAll(output, out, stopFD: stopFD)
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
    /// Tests and the conformance replay use it to drive exactly what the process does; a test of
    /// the count bound lifts the time bound (`groupNanoseconds`), which a loaded machine can hit first.
    public static func process(_ input: [UInt8], server: RPCServer, maxMessageBytes: Int,
                               groupNanoseconds: Int64 = maxGroupNanoseconds) -> [[UInt8]] {
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
        serve(&reader, server: server, groupNanoseconds: groupNanoseconds) { messages, framing in
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
    /// A group that has changed nothing sends its answers once they pass this many bytes and goes
    /// on as a new group: a flood of reads is answered as it runs, as the strong echo answers,
    /// instead of in bursts of up to 4 MiB that a client drains while the service waits on the
    /// full pipe (the first answer of 4,096 pipelined `credentials.get` waited for all of them).
    public static let readGroupAnswerBytes = 64 << 10

    /// Reads lines and emits responses (each group's lines at once, without newlines) until the
    /// input ends or `emit` reports the reader gone.
    ///
    /// Group commit: when more requests are already waiting in the input, they are handled as one
    /// group (one transaction, one fsync) and their answers written after it commits, in order.
    /// A lone request is handled, committed and answered at once: no added latency.
    static func serve(_ reader: inout LineReader, server: RPCServer, groupNanoseconds: Int64 = maxGroupNanoseconds,
                      emit: @escaping ([[UInt8]], LineReader.Framing) -> Bool) {
        // A notification the handler sends mid-request goes out at once, in the session's framing
        // (known by then: a request has been read), ahead of the answers held for the group.
        let framing = FramingBox()
        server.handler.attach { message in _ = emit([message], framing.value) }
        var lookedAt = -1
        /// Runs one request, after showing the handler any cancellation waiting behind it, so a
        /// request cancelled before it ran is not run (MCP and LSP sessions only: the look is a
        /// scan of the buffer, done again only once more bytes have arrived).
        func run(_ event: LineReader.Event) -> [UInt8]? {
            if server.handler.looksAhead, case .line(let line) = event, reader.bytesRead != lookedAt {
                lookedAt = reader.bytesRead
                if reader.holds(cancelMarker) { server.lookAhead([line] + reader.bufferedMessages(limit: maxGroup)) }
            }
            return respond(event, server, reader.maxLineBytes)
        }
        /// The answers a group gets instead of those it ran with, when its commit did not stand.
        func afterGroup(_ outcome: GroupOutcome, _ events: [LineReader.Event]) -> [[UInt8]?]? {
            switch outcome {
            case .committed: return nil
            case .runAlone: return events.map { respond($0, server, reader.maxLineBytes) }
            case .unknown(let error): return events.map { respond($0, server, reader.maxLineBytes, instead: error) }
            }
        }
        while !StopSignals.stopRequested && server.handler.exitStatus == nil {
            let first = reader.next()
            if first == .end || first == .stopped { return }
            framing.value = reader.framing ?? .lines
            var events = [first]
            var responses: [[UInt8]?]
            // A group starts only when the last read brought more than one request: a lone
            // request costs no extra system call.
            if !reader.hasBufferedLine(readAhead: false) {
                responses = [run(first)]
            } else {
                server.handler.beginGroup()
                var deadline = monotonicNanoseconds() + groupNanoseconds
                responses = [run(first)]
                var held = responses[0]?.count ?? 0
                var readAt = reader.bytesRead
                // A stop ends the group at the request in hand: it is committed and answered.
                while events.count < maxGroup && held < maxGroupAnswerBytes && monotonicNanoseconds() < deadline
                        && !StopSignals.stopRequested && server.handler.exitStatus == nil && reader.hasBufferedLine() {
                    if held >= readGroupAnswerBytes && server.handler.groupChangedNothing {
                        // Nothing to commit: what it answered is final. The rest is a new group.
                        if let again = afterGroup(server.handler.endGroup(), events) { responses = again }
                        let answers = responses.compactMap { $0 }
                        if !answers.isEmpty && !emit(answers, reader.framing ?? .lines) { return }
                        events = []
                        responses = []
                        held = 0
                        server.handler.beginGroup()
                        deadline = monotonicNanoseconds() + groupNanoseconds
                        continue  // the write may have taken long: a stop or an exit seen meanwhile ends the group here
                    }
                    let event = reader.next()
                    if reader.bytesRead != readAt {
                        readAt = reader.bytesRead
                        server.handler.groupReadMore()
                    }
                    events.append(event)
                    responses.append(run(event))
                    held += responses.last!?.count ?? 0
                }
                if let again = afterGroup(server.handler.endGroup(), events) { responses = again }
            }
            let answers = responses.compactMap { $0 }
            if !answers.isEmpty && !emit(answers, reader.framing ?? .lines) { return }
        }
    }

    /// In both cancellation notifications' names (`notifications/cancelled`, `$/cancelRequest`).
    private static let cancelMarker = Array("ancel".utf8)

    /// The framing notifications are sent in, as the reader last found it.
    private final class FramingBox {
        var value: LineReader.Framing = .lines
    }

    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private static func respond(_ event: LineReader.Event, _ server: RPCServer, _ limit: Int, instead: RPCError? = nil) -> [UInt8]? {
        switch event {
        case .line(let line): return server.handle(line: line, instead: instead)
        case .oversize: return RPCServer.oversizeResponse(limit: limit)
        case .malformedFrame: return RPCServer.malformedFrameResponse()
        case .end, .stopped: return nil
        }
    }
}
