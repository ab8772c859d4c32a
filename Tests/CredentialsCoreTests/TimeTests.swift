import Testing
@testable import CredentialsCore

struct TimeTests {
    @Test("real calendar dates only", arguments: [
        ("2026-02-28", true), ("2026-02-29", false), ("2024-02-29", true), ("1900-02-29", false), ("2000-02-29", true),
        ("2026-02-30", false), ("2026-04-31", false), ("2026-12-31", true), ("2026-13-01", false), ("2026-00-10", false),
        ("2026-01-00", false), ("2026-1-01", false), ("20260101", false), ("2026-01-01T00", false), ("abcd-ef-gh", false),
        ("0000-01-01", false), ("9999-12-31", true), ("", false), ("2026-0１-01", false),
    ] as [(String, Bool)])
    func calendarDates(text: String, valid: Bool) {
        let d = CalendarDate(text)
        #expect((d != nil) == valid)
        if let d { #expect(d.description == text) }
    }

    @Test func daysRoundTrip() {
        for days in stride(from: -800_000, through: 2_900_000, by: 997) {
            let d = CalendarDate(daysSinceEpoch: days)
            #expect(d.daysSinceEpoch == days)
            if (1...9999).contains(d.year) { #expect(CalendarDate(d.description) == d, "\(d)") }
        }
        #expect(CalendarDate(year: 999, month: 1, day: 5)!.description == "0999-01-05")
        #expect(CalendarDate(year: 9999, month: 12, day: 31)!.description == "9999-12-31")
        #expect(CalendarDate("1970-01-01")!.daysSinceEpoch == 0)
        #expect(CalendarDate("2026-03-01")!.adding(days: -1).description == "2026-02-28")
        #expect(CalendarDate("2026-01-01")! < CalendarDate("2026-01-02")!)
    }

    @Test func timestamps() {
        #expect(Timestamp.format(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(millis: 1_798_761_600_123) == "2027-01-01T00:00:00.123Z")
        #expect(Timestamp.format(millis: -1) == "1969-12-31T23:59:59.999Z")
        for ms: Int64 in [0, 1, 999, 86_399_999, 1_767_225_600_000, 253_402_300_799_999] {
            #expect(Timestamp.parse(Timestamp.format(millis: ms)) == ms)
        }
        #expect(Timestamp.parse("2026-01-01T24:00:00.000Z") == nil)
        #expect(Timestamp.parse("2026-01-01T00:00:00Z") == nil)
        #expect(CalendarDate.today(nowMillis: Timestamp.parse("2026-11-22T23:59:59.999Z")!).description == "2026-11-22")
    }

    @Test func idsAreTimeOrderedAndUnique() {
        let gen = TimeOrderedIDs()
        var ids: [String] = []
        for i in 0..<5000 { ids.append(gen.next(prefix: "usr", millis: 1_767_225_600_000 + Int64(i / 100))) }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.hasPrefix("usr_") && $0.count == 30 })
        // The standard ULID layout: 10 characters of time, then 16 of randomness.
        #expect(TimeOrderedIDs.encode(millis: 1_469_918_176_385, random: (0, 0)) == "01ARYZ6S410000000000000000")
        #expect(TimeOrderedIDs.encode(millis: 0, random: (0, 1)) == "00000000000000000000000001")
        #expect(TimeOrderedIDs.encode(millis: 0xFFFF_FFFF_FFFF, random: (0xFFFF, UInt64.max)) == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // Later milliseconds sort later even against a clock that steps back.
        let back = gen.next(prefix: "usr", millis: 1_000)
        #expect(back > ids.last!)
    }

    /// Every bit lands in its digit: the encoder against a plain bit-by-bit reading of the 128 bits.
    @Test func idDigitsMatchTheirBits() {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let millis = Int64.random(in: 0...0xFFFF_FFFF_FFFF, using: &rng)
            let random = (hi: UInt16.random(in: 0...UInt16.max, using: &rng), lo: UInt64.random(in: 0...UInt64.max, using: &rng))
            var bits: [Bool] = [false, false]  // 130 bits, most significant first
            for b in (0..<48).reversed() { bits.append((millis >> Int64(b)) & 1 == 1) }
            for b in (0..<16).reversed() { bits.append((random.hi >> UInt16(b)) & 1 == 1) }
            for b in (0..<64).reversed() { bits.append((random.lo >> UInt64(b)) & 1 == 1) }
            let expected = String((0..<26).map { i in alphabet[bits[i * 5..<i * 5 + 5].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }] })
            #expect(TimeOrderedIDs.encode(millis: millis, random: random) == expected)
            #expect(TimeOrderedIDs.encode(prefix: "cred", millis: millis, random: random) == "cred_" + expected)
        }
    }

    @Test func fixedDependenciesAreDeterministic() {
        let a = Dependencies.fixed(at: 1_767_225_600_000)
        let b = Dependencies.fixed(at: 1_767_225_600_000)
        #expect(a.newID("usr") == b.newID("usr"))
        #expect(a.newID("usr") != a.newID("usr"))
        #expect(a.nowMillis() == 1_767_225_600_000)
    }
}
