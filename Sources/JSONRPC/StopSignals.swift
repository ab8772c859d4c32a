#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT ask for a stop after the request in hand; SIGPIPE is ignored so a vanished
/// reader shows up as EPIPE on write, not as a crash.
///
/// A stop must also reach a `write` blocked on a client that stopped reading: the handler makes
/// the output descriptor (named by `unblockOnStop`) non-blocking, so that write returns (the
/// signal interrupts it, and once restarted it finds the descriptor non-blocking; one begun just
/// after the handler ran finds it so too) and `FDWriter` gives what is left a short grace.
public enum StopSignals {
    nonisolated(unsafe) private static var pipeFDs: (read: Int32, write: Int32) = (-1, -1)
    nonisolated(unsafe) private static var requested: sig_atomic_t = 0
    /// The descriptor answers are written to (-1: none), and its file status flags as found.
    nonisolated(unsafe) private static var output: Int32 = -1
    nonisolated(unsafe) private static var outputFlags: Int32 = 0

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
            let saved = errno  // the code interrupted may be about to read it
            StopSignals.requested = 1
            var b: UInt8 = 1
            _ = write(StopSignals.pipeFDs.write, &b, 1)
            let fd = StopSignals.output
            if fd >= 0 { _ = fcntl(fd, F_SETFL, StopSignals.outputFlags | O_NONBLOCK) }
            errno = saved
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

    /// Makes `fd` non-blocking the moment a stop is asked (at once if one already was), so that
    /// writing answers to a client that has stopped reading cannot hold the process past a stop.
    /// Until then writes block as before: a slow reader is legal, and is waited for.
    public static func unblockOnStop(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return }
        outputFlags = flags
        output = fd
        if stopRequested { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Gives the output descriptor back the flags it had: its open file may be shared with the
    /// process that started us (a terminal, or a pipe another process also writes to).
    public static func restoreOutput() {
        let fd = output
        guard fd >= 0 else { return }
        output = -1
        _ = fcntl(fd, F_SETFL, outputFlags)
    }
}
