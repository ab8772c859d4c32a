import Testing
import CredentialsCore
import JSONRPC

/// The supported date range, 1000-01-01 through 9999-12-31 (Protocol/README.md §7): what is
/// outside it is refused as `invalid_date`; inside it windows and due dates are exact, also where
/// a window runs past 9999-12-31 or a due date falls before 1000-01-01.
struct DateRangeTests {
    /// A signed-in admin, a type, and a user whose reminders are 365, 30 and 1 days before.
    func organization() throws -> (TestClient, String, String) {
        let (admin, me) = try bootstrap()
        let type = admin.createType("Licence")
        admin.ok("notifications.updateSettings", ["daysBefore": [365, 30, 1]])
        return (admin, me, type)
    }

    /// Every field that takes a date, with `date` in it: how each answers.
    func answers(_ date: String) throws -> [String: ErrorSummary?] {
        let (admin, me, type) = try organization()
        let id = admin.addCredential(user: me, type: type, issue: "2026-01-01", expiration: "2027-01-01")["id"]!
        let csv = "email,credential_type,issue_date,expiration_date\nada@example.com,Licence,\(date),\n"
        let imported = admin.ok("credentials.import", ["csv": .string(csv), "dryRun": true])
        let importError = imported["errors"]?[0].map { ErrorSummary(code: -32602, reason: $0["reason"]?.stringValue ?? "") }
        return [
            "issueDate": admin.failure("credentials.add", ["userId": .string(me), "typeId": .string(type), "issueDate": .string(date)]),
            "expirationDate": admin.failure("credentials.add", ["userId": .string(me), "typeId": .string(type), "issueDate": "1000-01-01",
                                                                "expirationDate": .string(date)]),
            "edit": admin.failure("credentials.editLatestVersion", ["credentialId": id, "issueDate": .string(date), "expirationDate": .null]),
            "renewal": admin.failure("credentials.addVersion", ["credentialId": id, "issueDate": .string(date)]),
            "list asOf": admin.failure("credentials.list", ["asOf": .string(date)]),
            "get asOf": admin.failure("credentials.get", ["credentialId": id, "asOf": .string(date)]),
            "due asOf": admin.failure("notifications.due", ["asOf": .string(date)]),
            "check asOf": admin.failure("compliance.check", ["userId": .string(me), "asOf": .string(date)]),
            "import issue_date": importError,
        ]
    }

    /// Dates and whether they are accepted: the range's ends and leap days are; what is outside
    /// the range or not a real date (2100 and 1900 are not leap years, 2000 and 1600 are) is not.
    static let dates: [(String, Bool)] = [
        ("1000-01-01", true), ("9999-12-31", true), ("2000-02-29", true), ("2024-02-29", true), ("1600-02-29", true),
        ("1000-12-31", true),
        ("0999-12-31", false), ("0000-01-01", false), ("0001-01-01", false), ("0500-06-15", false), ("2100-02-29", false),
        ("1900-02-29", false), ("1000-02-29", false), ("2026-02-30", false), ("10000-01-01", false), ("999-12-31", false),
    ]

    @Test(arguments: dates)
    func datesOutsideTheRangeOrNotRealAreInvalidDates(_ date: String, accepted: Bool) throws {
        let invalid = ErrorSummary(code: -32602, reason: "invalid_date")
        for (field, answer) in try answers(date) { #expect(answer == (accepted ? nil : invalid), "\(field) \(date)") }
        guard !accepted else { return }
        // The message names the range.
        let (admin, me, type) = try organization()
        let r = admin.call("credentials.add", ["userId": .string(me), "typeId": .string(type), "issueDate": .string(date)])
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "issueDate")
        #expect(r["error"]?["data"]?["fields"]?[0]?["message"]?.stringValue?.contains("1000-01-01 to 9999-12-31") == true)
    }

    func expiringIDs(_ admin: TestClient, _ status: String, asOf: String) -> [String] {
        var out: [String] = []
        var cursor: JSON = .null
        repeat {
            var p = JSONObject(["expiryStatus": .string(status), "asOf": .string(asOf), "limit": 1])
            if cursor != .null { p["cursor"] = cursor }
            let page = admin.ok("credentials.list", .object(p))
            for item in page["items"]?.arrayValue ?? [] {
                out.append(item["latestVersion"]?["expirationDate"]?.stringValue ?? "?")
                #expect(item["latestVersion"]?["expiryStatus"]?.stringValue == status, "as of \(asOf)")
            }
            cursor = page["nextCursor"] ?? .null
        } while cursor != .null && out.count < 50
        return out
    }

    @Test func expiringWindowsThatRunPast9999IncludeEverythingUpTo9999_12_31() throws {
        let (admin, me, type) = try organization()
        let dates = ["9998-12-31", "9999-01-01", "9999-12-01", "9999-12-30", "9999-12-31"]
        let last = dates.map { admin.addCredential(user: me, type: type, issue: "2026-01-01", expiration: $0)["id"]! }.last!
        // Window 30 (the default).
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-30") == ["9999-12-30", "9999-12-31"])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-31") == ["9999-12-31"])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-02") == ["9999-12-30", "9999-12-31"])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-01") == ["9999-12-01", "9999-12-30", "9999-12-31"])
        #expect(expiringIDs(admin, "valid", asOf: "9999-12-30") == [])
        #expect(expiringIDs(admin, "expired", asOf: "9999-12-31") == ["9999-12-30", "9999-12-01", "9999-01-01", "9998-12-31"])
        // The widest window, 365 days, from early in the last year and from its last day.
        admin.ok("settings.update", ["expiringWindowDays": 365])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-01-01") == ["9999-01-01", "9999-12-01", "9999-12-30", "9999-12-31"])
        #expect(expiringIDs(admin, "expiring", asOf: "9998-12-31") == dates)
        #expect(expiringIDs(admin, "valid", asOf: "9998-12-30") == ["9999-12-31"])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-31") == ["9999-12-31"])
        // A window of 0 days holds the day itself only.
        admin.ok("settings.update", ["expiringWindowDays": 0])
        #expect(expiringIDs(admin, "expiring", asOf: "9999-12-31") == ["9999-12-31"])
        #expect(expiringIDs(admin, "valid", asOf: "9999-12-30") == ["9999-12-31"])
        // Compliance uses the same window.
        let team = admin.ok("teams.create", ["name": "T"])["id"]!
        admin.ok("teams.addMember", ["teamId": team, "userId": .string(me)])
        admin.ok("teams.setRequiredTypes", ["teamId": team, "typeIds": [.string(type)]])
        admin.ok("settings.update", ["expiringWindowDays": 30])
        admin.ok("credentials.approve", ["credentialId": last])
        #expect(admin.ok("compliance.check", ["userId": .string(me), "asOf": "9999-12-31"])["items"]?[0]?["status"] == "expiring")
        // Windows across leap days: 2024-02-29 is a day; 2100-02-29 is not.
        admin.ok("settings.update", ["expiringWindowDays": 1])
        for d in ["2024-02-29", "2024-03-01", "2100-03-01"] { admin.addCredential(user: me, type: type, issue: "2024-01-01", expiration: d) }
        #expect(expiringIDs(admin, "expiring", asOf: "2024-02-28") == ["2024-02-29"])
        #expect(expiringIDs(admin, "expiring", asOf: "2100-02-28") == ["2100-03-01"])
    }

    /// `(kind, daysBefore, dueDate, expirationDate)` of each reminder due.
    func due(_ admin: TestClient, _ asOf: String) -> [String] {
        (admin.ok("notifications.due", ["asOf": .string(asOf)])["items"]?.arrayValue ?? []).map {
            "\($0["kind"]?.stringValue ?? "?") \($0["daysBefore"]?.intValue.map(String.init) ?? "-") due \($0["dueDate"]?.stringValue ?? "?") exp \($0["expirationDate"]?.stringValue ?? "?")"
        }
    }

    @Test func remindersAtTheTopOfTheRangeAreDue() throws {
        let (admin, me, type) = try organization()
        admin.addCredential(user: me, type: type, issue: "2026-01-01", expiration: "9999-12-31")
        // asOf + 365 runs past 9999-12-31: the 365-day reminder is still found.
        #expect(due(admin, "9999-01-01") == ["upcoming 365 due 9998-12-31 exp 9999-12-31"])
        #expect(due(admin, "9999-12-01") == ["upcoming 365 due 9998-12-31 exp 9999-12-31", "upcoming 30 due 9999-12-01 exp 9999-12-31"])
        admin.addCredential(user: me, type: type, issue: "2026-01-01", expiration: "9999-12-30")
        #expect(due(admin, "9999-12-31") == [
            "upcoming 365 due 9998-12-31 exp 9999-12-31", "upcoming 30 due 9999-12-01 exp 9999-12-31",
            "upcoming 1 due 9999-12-30 exp 9999-12-31", "expired - due 9999-12-31 exp 9999-12-30",
        ])
    }

    @Test func dueDatesAtTheBottomOfTheRangeAndOnLeapDaysAreExact() throws {
        let (admin, me, type) = try organization()
        // Refused: its reminders would fall in year 0000.
        #expect(admin.failure("credentials.add", ["userId": .string(me), "typeId": .string(type), "issueDate": "0001-01-01",
                                                  "expirationDate": "0001-01-01"])?.reason == "invalid_date")
        for d in ["1000-01-01", "1000-03-01", "1000-12-31"] { admin.addCredential(user: me, type: type, issue: "1000-01-01", expiration: d) }
        // 1000 is not a leap year (divisible by 100, not by 400): 1000-03-01 - 1 is 1000-02-28.
        #expect(due(admin, "1000-01-01") == [
            "upcoming 365 due 0999-01-01 exp 1000-01-01", "upcoming 365 due 0999-03-01 exp 1000-03-01",
            "upcoming 30 due 0999-12-02 exp 1000-01-01", "upcoming 1 due 0999-12-31 exp 1000-01-01",
            "upcoming 365 due 0999-12-31 exp 1000-12-31",
        ])
        #expect(due(admin, "1000-02-28").suffix(2) == ["upcoming 30 due 1000-01-30 exp 1000-03-01", "upcoming 1 due 1000-02-28 exp 1000-03-01"])
        #expect(due(admin, "1000-01-02").last == "expired - due 1000-01-02 exp 1000-01-01")
        for line in due(admin, "1000-12-31") {
            let dueDate = String(line.split(separator: " ")[3])
            #expect(dueDate.count == 10 && dueDate >= "0999-01-01", "\(line)")
        }
        // Leap days: 2024 is a leap year, so 2024-12-31 - 365 is 2024-01-01; 2100 is not, so
        // 2100-03-01 - 1 is 2100-02-28.
        let (leap, leapUser, leapType) = try organization()
        for d in ["2024-02-29", "2024-03-01", "2024-12-31", "2100-03-01"] {
            leap.addCredential(user: leapUser, type: leapType, issue: "2024-01-01", expiration: d)
        }
        #expect(due(leap, "2024-01-01") == ["upcoming 365 due 2023-03-01 exp 2024-02-29", "upcoming 365 due 2023-03-02 exp 2024-03-01",
                                            "upcoming 365 due 2024-01-01 exp 2024-12-31"])
        #expect(due(leap, "2024-02-28").contains("upcoming 1 due 2024-02-28 exp 2024-02-29"))
        #expect(due(leap, "2024-02-29").contains("upcoming 1 due 2024-02-29 exp 2024-03-01"))
        #expect(due(leap, "2100-02-28").last == "upcoming 1 due 2100-02-28 exp 2100-03-01")
    }
}
