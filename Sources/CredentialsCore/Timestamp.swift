/// RFC 3339 UTC timestamps with milliseconds (`2026-11-22T15:30:00.000Z`), formatted without
/// Foundation's formatters so it is fast and the same on every platform.
public enum Timestamp {
    public static func format(millis: Int64) -> String {
        String(unsafeUninitializedCapacity: formattedCount) { format(millis: millis, into: $0) }
    }

    /// The length of every formatted timestamp: `2026-01-01T00:00:00.000Z`.
    public static let formattedCount = 24

    /// Writes the timestamp's `formattedCount` ASCII bytes into `buf`, digit by digit (this runs
    /// several times for every answer); returns the count.
    @discardableResult
    public static func format(millis: Int64, into buf: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(buf.count >= formattedCount)
        let (days, msOfDay) = millis.quotientAndRemainderFloored(dividingBy: 86_400_000)
        let date = CalendarDate(daysSinceEpoch: Int(days))
        let ms = Int(msOfDay)
        var i = 0
        func put(_ v: Int, _ width: Int) {
            var v = v
            for k in stride(from: width - 1, through: 0, by: -1) { buf[i + k] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
            i += width
        }
        func sep(_ c: UInt8) { buf[i] = c; i += 1 }
        put(date.year, 4); sep(UInt8(ascii: "-")); put(date.month, 2); sep(UInt8(ascii: "-")); put(date.day, 2); sep(UInt8(ascii: "T"))
        put(ms / 3_600_000, 2); sep(UInt8(ascii: ":")); put(ms / 60_000 % 60, 2); sep(UInt8(ascii: ":")); put(ms / 1000 % 60, 2)
        sep(UInt8(ascii: ".")); put(ms % 1000, 3); sep(UInt8(ascii: "Z"))
        return i
    }

    /// Parses exactly the form `format` writes; nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count == 24, u[10] == UInt8(ascii: "T"), u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              u[19] == UInt8(ascii: "."), u[23] == UInt8(ascii: "Z"),
              let date = CalendarDate(String(decoding: u[0..<10], as: UTF8.self)),
              let h = digits(u[11..<13]), let m = digits(u[14..<16]), let s = digits(u[17..<19]), let f = digits(u[20..<23]),
              h < 24, m < 60, s < 60
        else { return nil }
        return Int64(date.daysSinceEpoch) * 86_400_000 + Int64(((h * 60 + m) * 60 + s) * 1000 + f)
    }

    static func digits<C: Collection<UInt8>>(_ bytes: C) -> Int? {
        var v = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + Int(b - UInt8(ascii: "0"))
        }
        return v
    }
}

extension Int64 {
    func quotientAndRemainderFloored(dividingBy d: Int64) -> (Int64, Int64) {
        var (q, r) = quotientAndRemainder(dividingBy: d)
        if r < 0 { q -= 1; r += d }
        return (q, r)
    }
}

/// A calendar date `YYYY-MM-DD` (proleptic Gregorian). Only real dates parse: `2026-02-30` is nil.
public struct CalendarDate: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let year: Int, month: Int, day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= CalendarDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init?(_ text: String) {
        var text = text
        guard let date = text.withUTF8(CalendarDate.init(utf8:)) else { return nil }
        self = date
    }

    public init?(utf8 u: UnsafeBufferPointer<UInt8>) {
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              let y = Timestamp.digits(u[0..<4]), let m = Timestamp.digits(u[5..<7]), let d = Timestamp.digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// From days since 1970-01-01 (Howard Hinnant's civil_from_days).
    public init(daysSinceEpoch: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        month = m
        day = d
    }

    /// Days since 1970-01-01 (days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public func adding(days: Int) -> CalendarDate { CalendarDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// The first date the service accepts: every date computed from an accepted one (a due date,
    /// up to 365 days before an expiration) then still has a four-digit year after 0000.
    public static let earliestAccepted = CalendarDate(year: 1000, month: 1, day: 1)!
    /// The last date the service accepts, the last with a four-digit year. A window after an
    /// accepted date (up to 365 days) may run past it: see `windowEnd(days:)`.
    public static let latestAccepted = CalendarDate(year: 9999, month: 12, day: 31)!

    /// Whether the service accepts this date as input (issue and expiration dates, `asOf`, CSV).
    public var isAccepted: Bool { self >= .earliestAccepted && self <= .latestAccepted }

    /// The last day of the window of `days` days after this one, as a bound to compare stored
    /// dates with. No date after 9999-12-31 is stored (no parser ever took a five-digit year), so
    /// a window that runs past it ends there and still holds every stored date up to it, while
    /// `adding(days:)` would make year 10000, whose text ("0000-...") sorts before every date.
    public func windowEnd(days: Int) -> CalendarDate {
        CalendarDate(daysSinceEpoch: min(daysSinceEpoch + days, CalendarDate.latestAccepted.daysSinceEpoch))
    }

    /// Today in UTC by the given clock.
    public static func today(nowMillis: Int64) -> CalendarDate {
        CalendarDate(daysSinceEpoch: Int(nowMillis.quotientAndRemainderFloored(dividingBy: 86_400_000).0))
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `YYYY-MM-DD`, written digit by digit: an add formats its dates about eight times.
    public var description: String {
        String(unsafeUninitializedCapacity: 10) { buf in
            var v = year
            for k in stride(from: 3, through: 0, by: -1) { buf[k] = UInt8(ascii: "0") + UInt8(v % 10); v /= 10 }
            buf[4] = UInt8(ascii: "-")
            buf[5] = UInt8(ascii: "0") + UInt8(month / 10)
            buf[6] = UInt8(ascii: "0") + UInt8(month % 10)
            buf[7] = UInt8(ascii: "-")
            buf[8] = UInt8(ascii: "0") + UInt8(day / 10)
            buf[9] = UInt8(ascii: "0") + UInt8(day % 10)
            return 10
        }
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}
