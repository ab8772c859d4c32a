#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole buffers to a file descriptor, retrying short writes and EINTR.
public enum FDWriter {
    /// How long answers already made may still take to go out once a stop is asked.
    public static let stopGraceNanoseconds: Int64 = 2_000_000_000

    /// False when the reader is gone (EPIPE), the descriptor failed, or a stop was asked and the
    /// bytes could not all be written within `graceNanoseconds` of it: the caller stops quietly.
    ///
    /// Without a stop this waits as long as the reader takes (a slow reader is legal). Once one is
    /// asked (`StopSignals`, which also makes the answers' descriptor non-blocking so a blocked
    /// `write` returns), what is left gets the grace and is then abandoned. That loses no
    /// acknowledged write: an answer is written only after the writes it reports have committed,
    /// so an answer never sent is a write that is durable but unacknowledged, or a read.
    /// `stopFD` (the signal pipe) wakes a wait for a descriptor that was non-blocking already.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], stopFD: Int32 = -1,
                                graceNanoseconds: Int64 = stopGraceNanoseconds) -> Bool {
        bytes.withUnsafeBytes { raw in
            var off = 0
            var deadline: Int64?  // set once a stop is seen
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n > 0 { off += n; continue }
                guard n < 0 && (errno == EINTR || errno == EAGAIN) else { return false }
                if errno == EINTR { continue }
                // Not writable now: the descriptor is non-blocking (made so by a stop, or so from
                // the start) and the reader is behind.
                if deadline == nil && StopSignals.stopRequested { deadline = LineTransport.monotonicNanoseconds() + graceNanoseconds }
                if let deadline {
                    let left = deadline - LineTransport.monotonicNanoseconds()
                    if left <= 0 { return false }  // the grace is over: abandon the rest
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, Int32(min(left / 1_000_000 + 1, 60_000)))
                } else {
                    var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0),
                               pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
                    _ = poll(&fds, 2, -1)
                }
            }
            return true
        }
    }
}
