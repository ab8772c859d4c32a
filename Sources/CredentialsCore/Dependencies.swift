import CCrypto
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
    /// `count` bytes for a secret (an API token's): OpenSSL's CSPRNG.
    public var secretBytes: (_ count: Int) -> [UInt8]
    /// The key cursors are sealed with, when fixed for reproducible runs; nil: the database's own.
    public var cursorKey: [UInt8]?

    public init(nowMillis: @escaping () -> Int64, newID: @escaping (_ prefix: String) -> String,
                secretBytes: @escaping (_ count: Int) -> [UInt8] = Dependencies.cryptoRandomBytes, cursorKey: [UInt8]? = nil) {
        self.nowMillis = nowMillis
        self.newID = newID
        self.secretBytes = secretBytes
        self.cursorKey = cursorKey
    }

    /// Bytes from OpenSSL's CSPRNG (`RAND_bytes`), or, should it ever fail, the OS's own secure
    /// generator (getrandom), which is what OpenSSL seeds from.
    public static func cryptoRandomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        if RAND_bytes(&bytes, Int32(count)) != 1 {
            var rng = SystemRandomNumberGenerator()
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        }
        return bytes
    }

    /// The real clock and time-ordered random ids.
    public static func live() -> Dependencies {
        let ids = TimeOrderedIDs()
        let clock: () -> Int64 = { SystemClock.nowMillis() }
        return Dependencies(nowMillis: clock, newID: { ids.next(prefix: $0, millis: clock()) })
    }

    /// A fixed clock, sequential ids and secrets made from a counter, for conformance vectors and
    /// tests only: the same session gives the same answers, token secrets included.
    public static func fixed(at millis: Int64) -> Dependencies {
        var counter: UInt64 = 0
        var secrets: UInt8 = 0
        return Dependencies(nowMillis: { millis }, newID: { prefix in
            counter += 1
            return TimeOrderedIDs.encode(prefix: prefix, millis: millis, random: (0, counter))
        }, secretBytes: { count in
            secrets &+= 1
            return (0..<count).map { UInt8(truncatingIfNeeded: $0) &+ secrets }
        }, cursorKey: [UInt8](repeating: 0x5C, count: 32))
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
        return TimeOrderedIDs.encode(prefix: prefix, millis: max(millis, lastMillis), random: last)
    }

    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Whether `text` is an id `encode` can make with `prefix`: `prefix_` then 26 digits of the
    /// alphabet, the first 0 to 7 (the top two of the 130 bits are zero). Paging cursors carry
    /// ids, and one carrying anything else was not made by the service.
    public static func isID(_ text: String, prefix: String) -> Bool {
        let u = text.utf8, p = prefix.utf8
        guard u.count == p.count + 27, u.starts(with: p) else { return false }
        let rest = u.dropFirst(p.count)
        guard rest.first == UInt8(ascii: "_"), let lead = rest.dropFirst().first, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(lead)
        else { return false }
        return rest.dropFirst().allSatisfy(alphabet.contains)
    }

    public static func encode(millis: Int64, random: (hi: UInt16, lo: UInt64)) -> String {
        encode(prefix: "", millis: millis, random: random)
    }

    /// `prefix_` (when `prefix` is not empty), then 128 bits: 48 time | 16 hi | 64 lo, as 26 base32
    /// digits of 5 bits (130 bits: the top 2 are zero), written in place.
    public static func encode(prefix: String, millis: Int64, random: (hi: UInt16, lo: UInt64)) -> String {
        let top = (UInt64(UInt64(bitPattern: millis) & 0xFFFF_FFFF_FFFF) << 16) | UInt64(random.hi)
        let bottom = random.lo
        var prefix = prefix
        return prefix.withUTF8 { head in
            let lead = head.isEmpty ? 0 : head.count + 1
            return String(unsafeUninitializedCapacity: lead + 26) { out in
                if lead > 0 {
                    _ = out.initialize(from: head)
                    out[head.count] = UInt8(ascii: "_")
                }
                for i in 0..<26 {
                    let low = 125 - i * 5  // the bit position of this digit's lowest bit
                    let v = low >= 64 ? top >> UInt64(low - 64)
                        : low > 59 ? (bottom >> UInt64(low)) | (top << UInt64(64 - low))
                        : bottom >> UInt64(low)
                    out[lead + i] = alphabet[Int(v & 31)]
                }
                return lead + 26
            }
        }
    }
}
