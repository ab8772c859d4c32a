#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
