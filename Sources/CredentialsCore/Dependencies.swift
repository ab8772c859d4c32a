#if canImport(Glibc)
import Glibc
#endif

/// What the core needs from the outside world, as closures, so tests fix time and ids and stay
/// deterministic (Point-Free's "designing dependencies").
public struct Dependencies {
    /// Milliseconds since the Unix epoch, UTC.
    public var nowMillis: () -> Int64
    /// A new opaque id with a short prefix naming its kind (`usr`, `cred`, ...).
    public var newID: (_ prefix: String) -> String

    public init(nowMillis: @escaping () -> Int64, newID: @escaping (_ prefix: String) -> String) {
        self.nowMillis = nowMillis
        self.newID = newID
    }

    /// The real clock and time-ordered random ids.
    public static func live() -> Dependencies {
        let ids = TimeOrderedIDs()
        let clock: () -> Int64 = { SystemClock.nowMillis() }
        return Dependencies(nowMillis: clock, newID: { ids.next(prefix: $0, millis: clock()) })
    }

    /// A fixed clock and sequential ids, for conformance vectors and tests only.
    public static func fixed(at millis: Int64) -> Dependencies {
        var counter: UInt64 = 0
        return Dependencies(nowMillis: { millis }, newID: { prefix in
            counter += 1
            return prefix + "_" + TimeOrderedIDs.encode(millis: millis, random: (0, counter))
        })
    }
}

public enum SystemClock {
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// A monotonic clock for durations.
    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// ULID-shaped ids: 48 bits of milliseconds then 80 random bits, Crockford base32, 26 characters.
/// Ids made later sort later, so new rows land at the end of their index (random keys made batched
/// inserts several times slower). Within one millisecond the random part counts up.
public final class TimeOrderedIDs {
    private var lastMillis: Int64 = -1
    private var last: (hi: UInt16, lo: UInt64) = (0, 0)
    private var rng = SystemRandomNumberGenerator()

    public init() {}

    public func next(prefix: String, millis: Int64) -> String {
        if millis <= lastMillis {
            // Same (or a stepped-back) millisecond: keep order by counting up from the last id.
            let (lo, overflow) = last.lo.addingReportingOverflow(1)
            last = (overflow ? last.hi &+ 1 : last.hi, lo)
        } else {
            lastMillis = millis
            last = (UInt16.random(in: 0...UInt16.max, using: &rng), UInt64.random(in: 0...UInt64.max, using: &rng))
        }
        return prefix + "_" + TimeOrderedIDs.encode(millis: max(millis, lastMillis), random: last)
    }

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func encode(millis: Int64, random: (hi: UInt16, lo: UInt64)) -> String {
        // 128 bits: 48 time | 16 hi | 64 lo, as 26 base32 digits of 5 bits (130 bits: the top 2 are zero).
        let top = (UInt64(UInt64(bitPattern: millis) & 0xFFFF_FFFF_FFFF) << 16) | UInt64(random.hi)
        let bottom = random.lo
        var out = [UInt8](repeating: 0, count: 26)
        for i in 0..<26 {
            let shift = 129 - i * 5  // bit position of this digit's high bit, counting from 0 at the bottom
            var v: UInt64 = 0
            for b in 0..<5 {
                let bit = shift - b
                let set: Bool = bit >= 128 ? false : bit >= 64 ? (top >> UInt64(bit - 64)) & 1 == 1 : (bottom >> UInt64(bit)) & 1 == 1
                v = v << 1 | (set ? 1 : 0)
            }
            out[i] = alphabet[Int(v)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
