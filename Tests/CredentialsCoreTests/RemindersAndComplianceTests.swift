import Testing
@testable import CredentialsCore

struct ReminderRulesTests {
    let exp = CalendarDate("2026-03-31")!

    func keys(_ asOf: String, _ offsets: [Int] = [30, 7, 1]) -> [String] {
        Reminders.due(expiration: exp, offsets: offsets, asOf: CalendarDate(asOf)!).map { "\($0.0.key)@\($0.1)" }
    }

    @Test func offsetsFallDueInTurnThenTheExpiredOneAlone() {
        #expect(keys("2026-02-28") == [])
        #expect(keys("2026-03-01") == ["30@2026-03-01"])
        #expect(keys("2026-03-24") == ["30@2026-03-01", "7@2026-03-24"])
        #expect(keys("2026-03-31") == ["30@2026-03-01", "7@2026-03-24", "1@2026-03-30"])
        #expect(keys("2026-04-01") == ["expired@2026-04-01"])
        #expect(keys("2027-01-01") == ["expired@2026-04-01"])
        #expect(keys("2026-03-30", []) == [])
        #expect(keys("2026-03-30", [1, 60]) == ["60@2026-01-30", "1@2026-03-30"])
    }

    @Test func offsetKeysRoundTrip() {
        for o in [Reminders.Offset.daysBefore(1), .daysBefore(365), .expired] { #expect(Reminders.Offset(key: o.key) == o) }
        for bad in ["0", "366", "-1", "07", "x", ""] { #expect(Reminders.Offset(key: bad) == nil) }
    }
}

struct ComplianceRulesTests {
    let asOf = CalendarDate("2026-01-01")!

    @Test("status of one credential", arguments: [
        (ApprovalStatus.approved, "2026-06-01", Compliance.Status.compliant),
        (.approved, nil, .compliant),
        (.approved, "2026-01-20", .expiring),
        (.approved, "2025-12-31", .expired),
        (.pending, "2026-06-01", .notApproved),
        (.rejected, "2026-06-01", .notApproved),
    ] as [(ApprovalStatus, String?, Compliance.Status)])
    func status(approval: ApprovalStatus, expiration: String?, expected: Compliance.Status) {
        #expect(Compliance.status(approval: approval, expiration: expiration.flatMap(CalendarDate.init), asOf: asOf, windowDays: 30) == expected)
    }

    @Test func theBestCredentialCountsAndTheVerdictFollowsTheWorstType() {
        func best(_ statuses: [Compliance.Status]) -> (Compliance.Status, Int?) {
            let b = Compliance.best(Array(statuses.enumerated())) { $0.element }
            return (b.status, b.item?.offset)
        }
        #expect(best([]) == (.missing, nil))
        #expect(best([.expired, .notApproved]) == (.notApproved, 1))
        #expect(best([.expired, .expiring, .notApproved]) == (.expiring, 1))
        // The first of equals decides.
        #expect(best([.notApproved, .compliant, .compliant]) == (.compliant, 1))
        #expect(best([.missing]) == (.missing, 0))
        // Among equals, decidesBefore chooses: later expiration, none latest, then the smaller id.
        let held: [(expiration: CalendarDate?, id: String)] = [(CalendarDate("2027-01-01"), "c3"), (CalendarDate("2028-01-01"), "c2"),
                                                               (nil, "c5"), (nil, "c4"), (CalendarDate("2028-01-01"), "c1")]
        let decided = Compliance.best(held, status: { _ in .compliant }, decidesBefore: { a, b in Compliance.decidesBefore(a, b, idPrecedes: <) })
        #expect(decided.item?.id == "c4")
        let dated = Compliance.best(held.filter { $0.expiration != nil }, status: { _ in .expired },
                                    decidesBefore: { a, b in Compliance.decidesBefore(a, b, idPrecedes: <) })
        #expect(dated.item?.id == "c1")
        #expect(Compliance.verdict([]) == .compliant)
        #expect(Compliance.verdict([.compliant, .compliant]) == .compliant)
        #expect(Compliance.verdict([.compliant, .expiring]) == .expiring)
        #expect(Compliance.verdict([.compliant, .missing]) == .nonCompliant)
        #expect(Compliance.verdict([.expired]) == .nonCompliant)
        #expect(Compliance.Status.compliant.isBetter(than: .expiring))
        #expect(Compliance.worstFirst(.missing, .expired))
    }
}
