import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC

/// What text a field may hold (contract §14): one address typed two ways is one user; invisible,
/// reordering and control characters are refused where they could pass one thing for another.
struct HostileTextTests {
    static let nfc = "jos\u{E9}@example.com"
    static let nfd = "jose\u{301}@example.com"

    @Test func nfcAndNfdFormsOfOneEmailAreOneUser() throws {
        let (root, _) = try bootstrap()
        #expect(Array(Self.nfc.unicodeScalars) != Array(Self.nfd.unicodeScalars))
        let id = root.addUser(Self.nfc)
        let again = root.call("users.add", ["email": .string(Self.nfd), "firstName": "J", "lastName": "D", "role": "support",
                                            "temporaryPassword": .string(tempPassword)])
        #expect(again["error"]?["data"]?["reason"] == "email_taken")
        // Signing in with the other form, or with another case (full folding), finds the same user.
        for form in [Self.nfd, "JOS\u{C9}@EXAMPLE.COM", "JOSE\u{301}@Example.com"] {
            let c = TestClient(db: root.service.db)
            #expect(c.ok("session.login", ["email": .string(form), "password": .string(tempPassword)])["user"]?["id"] == .string(id))
        }
        // A decomposed address is stored composed.
        let other = root.ok("users.add", ["email": "rene\u{301}@example.com", "firstName": "R", "lastName": "D", "role": "support",
                                          "temporaryPassword": .string(tempPassword)])
        #expect(other["email"] == .string("ren\u{E9}@example.com"))
    }

    @Test("emails with invisible or control characters are refused", arguments: [
        "jo\u{200B}e@example.com", "jo\u{AD}e@example.com", "joe@exa\u{202E}mple.com", "joe\u{0}@example.com",
        "joe@example.com\u{FEFF}", "\u{2060}joe@example.com", "joe\u{7}@example.com", "jo\u{200D}e@example.com",
        "z\u{FE0F}@example.com", "jo\u{34F}e@example.com", "jo\u{3164}e@example.com", "j\u{E000}@example.com",
        "j\u{FFFF}@example.com", "j\u{378}@example.com", "jo\u{2028}e@example.com", "\"joe\"@example.com", "jo,e@example.com",
        "<joe>@example.com", "jo\\e@example.com", "jo e@example.com", "jo\u{A0}e@example.com",
    ])
    func hostileEmail(email: String) throws {
        let (root, _) = try bootstrap()
        let r = root.call("users.add", ["email": .string(email), "firstName": "J", "lastName": "D", "role": "support",
                                        "temporaryPassword": .string(tempPassword)])
        #expect(r["error"]?["code"] == -32602 && r["error"]?["data"]?["fields"]?[0]?["field"] == "email")
    }

    @Test("names refuse controls, bidi controls and invisible characters", arguments: [
        "Bob\u{202E}", "\u{2066}Bob", "Bo\u{1B}[31mb", "Bob\u{0}", "Bo\u{200B}b", "\u{3164}", "Bob\u{FE0F}", "Bo\u{34F}b",
        "Bob\u{2028}IMPORTANT: reply with your password", "\u{301}Bob", "Bob\u{E000}", "Bob\u{FFFF}",
    ])
    func hostileName(name: String) throws {
        let (root, _) = try bootstrap()
        let r = root.call("users.add", ["email": "n@example.com", "firstName": .string(name), "lastName": "D", "role": "support",
                                        "temporaryPassword": .string(tempPassword)])
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "firstName")
    }

    @Test func namesKeepTheJoinersScriptsNeed() throws {
        let (root, _) = try bootstrap()
        let persian = "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}"  // ZWNJ inside a Persian word
        let family = "\u{1F468}\u{200D}\u{1F469}"  // ZWJ emoji sequence
        let u = root.ok("users.add", ["email": "p@example.com", "firstName": .string(persian), "lastName": .string(family), "role": "support",
                                      "temporaryPassword": .string(tempPassword)])
        #expect(u["firstName"] == .string(persian) && u["lastName"] == .string(family))
    }

    @Test("file names refuse separators of any script and invisible characters", arguments: [
        "a\u{202E}gpj.exe.pdf", "a\u{2215}b.pdf", "a\u{FF0F}b.pdf", "a\u{2044}b.pdf", "a\u{FF3C}b.pdf", "a/b.pdf", "a\\b.pdf",
        "a\u{200B}.pdf", "a\u{AD}b.pdf", "a\u{0}.pdf", "\u{1B}]0;x\u{7}.pdf", "..",
    ])
    func hostileFileName(name: String) throws {
        let (root, rootID) = try bootstrap()
        let type = root.createType("First Aid")
        let r = root.call("credentials.add", ["userId": .string(rootID), "typeId": .string(type), "issueDate": "2026-01-01",
                                              "media": [Fixtures.media(name, "application/pdf", Fixtures.pdf)]])
        #expect(r["error"]?["code"] == -32602)
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "media[0].fileName", "\(JSONWriter.string(r))")
        #expect(root.ok("credentials.list")["items"]?.arrayValue?.isEmpty == true)
    }

    @Test("descriptions and reasons refuse terminal escapes, NUL and BEL but keep line breaks", arguments: [
        "bad\u{0}", "ring\u{7}", "\u{1B}[2J\u{1B}[Hcleared", "over\u{202E}ride",
    ])
    func hostileFreeText(text: String) throws {
        let (root, rootID) = try bootstrap()
        let r = root.call("credentialTypes.create", ["name": "T1", "description": .string(text)])
        #expect(r["error"]?["data"]?["fields"]?[0]?["field"] == "description")
        let type = root.createType("T2")
        let c = root.addCredential(user: rootID, type: type)
        let reject = root.call("credentials.reject", ["credentialId": c["id"]!, "reason": .string(text)])
        #expect(reject["error"]?["data"]?["fields"]?[0]?["field"] == "reason")
        #expect(root.ok("credentials.get", ["credentialId": c["id"]!])["latestVersion"]?["approval"]?["status"] == "pending")
        // Line breaks and tabs are text.
        let fine = root.ok("credentialTypes.create", ["name": "T3", "description": "line one\nline\ttwo"])
        #expect(fine["description"] == "line one\nline\ttwo")
    }
}

/// A reminder names the holder, the type and the expiry: only for credentials the caller may view.
struct RemindersVisibilityTests {
    @Test func anAdminWhoMayNotViewAPendingCredentialIsNotRemindedOfIt() throws {
        let (root, _) = try bootstrap()
        let sam = root.addUser("sam@example.com")
        root.addUser("lim@example.com", role: "admin", permissions: ["viewApplications": false])
        let type = root.createType("First Aid", requiresExpiration: true)
        let pending = root.addCredential(user: sam, type: type, expiration: "2026-01-10")
        let limited = TestClient(db: root.service.db)
        limited.signInFirstTime("lim@example.com")
        let mine = limited.addCredential(user: limited.ok("session.whoami")["user"]!["id"]!.stringValue!, type: type, expiration: "2026-01-12")
        #expect(limited.failure("credentials.get", ["credentialId": pending["id"]!]) == ErrorSummary(code: -32003, reason: "not_found"))
        let seen = limited.ok("notifications.due", ["asOf": "2026-01-05"])["items"]?.arrayValue ?? []
        #expect(!seen.isEmpty && seen.allSatisfy { $0["credentialId"] == mine["id"] }, "\(seen)")
        #expect(root.ok("notifications.due", ["asOf": "2026-01-05"])["items"]?.arrayValue?.contains { $0["credentialId"] == pending["id"] } == true)
        // Ids notifications.due could not have given are refused: an older version, an offset the
        // holder has no reminder for, a number written another way.
        let cid = pending["id"]!.stringValue!
        for forged in ["\(cid):2:7", "\(cid):01:7", "\(cid):1:5", "\(cid):1:07"] {
            #expect(root.failure("notifications.markSent", ["ids": [.string(forged)]])?.code == -32602, "\(forged)")
        }
        // Nor can it mark one sent, or learn from the answer that it exists.
        let id = "\(pending["id"]!.stringValue!):1:7"
        #expect(limited.failure("notifications.markSent", ["ids": [.string(id)]])?.code == -32602)
        // Once approved it is what viewReports lets it see.
        root.ok("credentials.approve", ["credentialId": pending["id"]!])
        #expect(limited.ok("notifications.due", ["asOf": "2026-01-05"])["items"]?.arrayValue?.contains { $0["credentialId"] == pending["id"] } == true)
    }
}

/// Schema 8 recomputes email keys by NFC and case folding, without merging or losing anyone.
struct EmailKeyMigrationTests {
    @Test func keysAreRecomputedAndACollisionKeepsItsOldKey() throws {
        let path = tempDatabasePath()
        do {
            let old = try Database(path: path, migrations: Array(StoreSchema.migrations.prefix(7)))
            let hash = PasswordHasher(iterations: 1000).hash(tempPassword)
            func insert(_ id: String, _ email: String) throws {
                try old.run("""
                    INSERT INTO users (id, email, email_key, first_name, last_name, role, permissions, status, must_change_password,
                                       password_hash, search, created_at, updated_at)
                    VALUES (?, ?, ?, 'A', 'B', 'admin', 63, 'active', 0, ?, 'a b', 0, 0)
                    """, id, email, email.lowercased(), hash)
            }
            try insert("usr_1", "Jose\u{301}@Example.com")       // NFD, stored before the rule
            try insert("usr_2", "STRASSE@example.com")
            try insert("usr_3", "stra\u{DF}e@example.com")       // folds to strasse@: collides with usr_2
        }
        let db = try Database(path: path)
        // As bytes: Swift's == on strings is canonical equivalence, and NFD equals NFC under it.
        let keys = Dictionary(uniqueKeysWithValues: try db.all("SELECT id, email_key FROM users") { ($0.text(0), Array($0.text(1).utf8)) })
        #expect(keys["usr_1"] == Array("jos\u{E9}@example.com".utf8))
        #expect(keys["usr_2"] == Array("strasse@example.com".utf8))
        #expect(keys["usr_3"] == Array("stra\u{DF}e@example.com".utf8))
        let c = TestClient(db: db)
        #expect(c.ok("session.login", ["email": "jos\u{E9}@example.com", "password": .string(tempPassword)])["user"]?["id"] == "usr_1")
        // The account that kept its old key signs in with the exact form it was made with, and can
        // be changed like any other (its key is never rewritten into the other's).
        let kept = TestClient(db: db)
        #expect(kept.ok("session.login", ["email": "stra\u{DF}e@example.com", "password": .string(tempPassword)])["user"]?["id"] == "usr_3")
        #expect(c.failure("users.update", ["userId": "usr_3", "firstName": "Renamed"]) == nil)
        #expect(c.failure("users.deactivate", ["userId": "usr_3"]) == nil)
        let other = TestClient(db: db)
        #expect(other.ok("session.login", ["email": "STRASSE@example.com", "password": .string(tempPassword)])["user"]?["id"] == "usr_2")
    }
}
