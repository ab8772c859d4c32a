import Foundation
import Testing
import CredentialsCore
import JSONRPC
import MediaSamples

/// Process-level: a whole session through the real executable, then a restart on the same file.
struct SecretsAndRestartTests {
    static let passwords = ["Admin#Secret1", "Temp#Secret2", "Changed#Secret3", "Reset#Secret4", "Wrong#Secret5"]

    func lines(_ calls: [(String, JSON)]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, (method, params)) in calls.enumerated() {
            out += Array(JSONWriter.string(["jsonrpc": "2.0", "id": .int(i + 1), "method": .string(method), "params": params]).utf8) + [0x0A]
        }
        return out
    }

    @Test func noPasswordOrHashInAnyResponseLogLineOrAuditRow() throws {
        let path = tempDatabasePath()
        let (admin, temp, changed, reset, wrong) = (Self.passwords[0], Self.passwords[1], Self.passwords[2], Self.passwords[3], Self.passwords[4])
        // Session 1: the admin bootstraps and adds Sam. Session 2: Sam signs in and changes the
        // password. Session 3: the admin resets Sam and looks at everything.
        let first = try runService(["--db", path, "--log-level", "debug"], input: lines([
            ("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": .string(admin)]),
            ("session.login", ["email": "ada@example.com", "password": .string(wrong)]),
            ("session.login", ["email": "nobody@example.com", "password": .string(wrong)]),
            ("session.login", ["email": "ada@example.com", "password": .string(admin)]),
            ("users.add", ["email": "sam@example.com", "firstName": "Sam", "lastName": "Smith", "role": "support", "temporaryPassword": .string(temp)]),
            ("users.add", ["email": "bad@example.com", "firstName": "B", "lastName": "B", "role": "support", "temporaryPassword": .string("weak" + wrong.lowercased())]),
            ("users.list", [:]),
        ]))
        let samID = try JSONParser.parse(first.lines[4]).value["result"]?["id"]?.stringValue ?? ""
        let second = try runService(["--db", path, "--log-level", "debug"], input: lines([
            ("session.login", ["email": "sam@example.com", "password": .string(temp)]),
            ("session.changePassword", ["currentPassword": .string(wrong), "newPassword": .string(changed)]),
            ("session.changePassword", ["currentPassword": .string(temp), "newPassword": .string(changed)]),
            ("session.whoami", [:]),
        ]))
        let third = try runService(["--db", path, "--log-level", "debug"], input: lines([
            ("session.login", ["email": "ada@example.com", "password": .string(admin)]),
            ("users.resetPassword", ["userId": .string(samID), "temporaryPassword": .string(reset)]),
            ("users.get", ["userId": .string(samID)]),
            ("users.invitation", ["userId": .string(samID)]),
            ("users.update", ["userId": .string(samID), "firstName": "Samuel"]),
            ("users.list", ["query": "sam"]),
        ]))
        var everything = ""
        for r in [first, second, third] {
            #expect(r.status == 0)
            #expect(r.lines.allSatisfy { (try? JSONParser.parse($0).value["jsonrpc"]) == "2.0" })
            everything += String(decoding: r.stdout, as: UTF8.self) + r.stderr
        }
        #expect(first.stderr.contains("session.login error -32001"), "the debug log was not written")
        // The responses are what they should be.
        #expect(try JSONParser.parse(second.lines[2]).value["result"]?["mustChangePassword"] == false)
        #expect(try JSONParser.parse(third.lines[2]).value["result"]?["mustChangePassword"] == true)
        let audit = try sqlite(path, "SELECT group_concat(action || ' ' || detail, char(10)) FROM audit_log")
        #expect(audit.contains("users.resetPassword"))
        everything += audit
        for secret in Self.passwords + ["pbkdf2-sha256", "pbkdf2"] {
            #expect(!everything.contains(secret), "found \(secret)")
        }
        // Nor in the database file in clear (only inside hashes).
        let raw = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)) + ((try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data()), as: UTF8.self)
        for secret in Self.passwords { #expect(!raw.contains(secret), "\(secret) in the database file") }
    }

    @Test func everythingIsStillThereAfterARestart() throws {
        let path = tempDatabasePath()
        let admin = "Admin#Secret1"
        let first = try runService(["--db", path], input: lines([
            ("setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": .string(admin)]),
            ("session.login", ["email": "ada@example.com", "password": .string(admin)]),
            ("users.add", ["email": "sam@example.com", "firstName": "Sam", "lastName": "Smith", "role": "support",
                           "permissions": ["shareReports": false], "temporaryPassword": "Temp#Secret2"]),
            ("users.add", ["email": "bo@example.com", "firstName": "Bo", "lastName": "Brown", "role": "admin", "temporaryPassword": "Temp#Secret2"]),
        ]))
        #expect(first.status == 0)
        let added = try first.lines.map { try JSONParser.parse($0).value["result"] ?? .null }
        let second = try runService(["--db", path], input: lines([
            ("session.login", ["email": "ada@example.com", "password": .string(admin)]),
            ("users.list", [:]),
            ("setup.createAdmin", ["email": "x@example.com", "firstName": "X", "lastName": "X", "password": .string(admin)]),
        ]))
        let results = try second.lines.map { try JSONParser.parse($0).value }
        #expect(results[0]["result"]?["user"] == added[0])
        #expect(results[1]["result"]?["items"] == [added[0], added[2], added[3]])
        #expect(results[2]["error"]?["data"]?["reason"] == "already_initialized")
        let third = try runService(["--db", path], input: lines([("session.login", ["email": "sam@example.com", "password": "Temp#Secret2"])]))
        #expect(try JSONParser.parse(third.lines[0]).value["result"]?["mustChangePassword"] == true)
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0] or '')", path, sql]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Credentials through the real executable: a large photo goes in and comes back bit for bit,
/// before and after a restart.
struct CredentialProcessTests {
    func line(_ id: Int, _ method: String, _ params: JSON) -> [UInt8] {
        Array(JSONWriter.string(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params]).utf8) + [0x0A]
    }

    @Test func aLargePhotoRoundTripsAcrossARestart() throws {
        let path = tempDatabasePath()
        var rng = SystemRandomNumberGenerator()
        let photo = MediaSamples.jpeg(size: 2 << 20, filler: (0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let login: JSON = ["email": "ada@example.com", "password": .string(adminPassword)]
        var input = line(1, "setup.createAdmin", ["email": "ada@example.com", "firstName": "Ada", "lastName": "Admin", "password": .string(adminPassword)])
        input += line(2, "session.login", login)
        input += line(3, "credentialTypes.create", ["name": "Photo ID"])
        let first = try runService(["--db", path], input: input)
        let results = try first.lines.map { try JSONParser.parse($0).value }
        let me = results[0]["result"]?["id"] ?? .null
        let type = results[2]["result"]?["id"] ?? .null
        input = line(1, "session.login", login)
        input += line(2, "credentials.add", ["userId": me, "typeId": type, "issueDate": "2026-01-01",
                                             "media": [Fixtures.media("photo.jpg", "image/jpeg", photo)]])
        let second = try runService(["--db", path], input: input)
        let added = try JSONParser.parse(second.lines[1]).value["result"]
        let media = try #require(added?["latestVersion"]?["media"]?[0])
        #expect(media["sha256"] == .string(Digest.sha256Hex(photo)))
        #expect(media["byteCount"] == .int(photo.count))
        let third = try runService(["--db", path], input: line(1, "session.login", login) + line(2, "media.get", ["mediaId": media["id"]!])
                                   + line(3, "credentials.history", ["credentialId": added?["id"] ?? .null]))
        #expect(third.status == 0)
        let got = try JSONParser.parse(third.lines[1]).value["result"]
        #expect(got?["dataBase64"]?.stringValue.flatMap { Data(base64Encoded: $0) } == Data(photo))
        #expect(try JSONParser.parse(third.lines[2]).value["result"]?["items"]?.arrayValue?.count == 1)
    }
}
