import Foundation
import Testing
@testable import CredentialsService
import CredentialsCore
import CredentialsStore
import JSONRPC
import MediaSamples

/// How media params are refused on the wire: the reason, the field named, and nothing stored.
struct MediaCheckTests {
    /// A signed-in admin with a credential type, and a function that adds a credential with a
    /// valid PDF first and `m` second, returning the error (nil when it was added).
    func attempt() throws -> (TestClient, (JSON) -> JSON?) {
        let (admin, me) = try bootstrap()
        let t = admin.createType("ID")
        return (admin, { m in
            admin.call("credentials.add", ["userId": .string(me), "typeId": .string(t), "issueDate": "2026-01-01",
                                           "media": [Fixtures.media("ok.pdf", "application/pdf", Fixtures.pdf), m]])["error"]
        })
    }

    func storedMedia(_ admin: TestClient) throws -> Int64 { try admin.service.db.scalarInt("SELECT count(*) FROM media") ?? -1 }

    /// Contract: base64 is RFC 4648 §4. Forms Foundation's decoder also takes are refused.
    @Test func dataBase64IsStrictBase64() throws {
        let (admin, attempt) = try attempt()
        // A file whose encoding ends in "==", so that it has trailing bits to set.
        var pdf = Fixtures.pdf
        while pdf.count % 3 != 1 { pdf.append(0x0A) }
        let good = Data(pdf).base64EncodedString()
        #expect(good.hasSuffix("=="))
        #expect(attempt(Fixtures.media("a.pdf", "application/pdf", pdf)) == nil)
        // The last character before "==" with its lowest bit set: a bit after the last byte.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bits = Array(good.utf8)
        bits[bits.count - 3] = alphabet[(alphabet.firstIndex(of: bits[bits.count - 3]) ?? 0) | 1]
        let variants = [good + "====", good + "=", String(decoding: bits, as: UTF8.self), String(good.dropLast(2)),
                        good.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "+", with: "-") + "A===",
                        String(good.prefix(8)) + "\n" + String(good.dropFirst(8)), " " + good]
        let before = try storedMedia(admin)
        for data in variants {
            let e = attempt(["fileName": "a.pdf", "contentType": "application/pdf", "dataBase64": .string(data)])
            #expect(e?["code"] == -32602, "\(data.suffix(12).debugDescription)")
            #expect(e?["data"]?["reason"] == "invalid_params")
            #expect(e?["data"]?["fields"]?.arrayValue?.count == 1)
            #expect(e?["data"]?["fields"]?[0]?["field"] == "media[1].dataBase64")
            #expect(e?["data"]?["fields"]?[0]?["message"]?.stringValue?.contains("RFC 4648") == true)
        }
        #expect(try storedMedia(admin) == before)
    }

    /// The attacker's files: each declared as the type its first bytes claim, each refused as
    /// unsupported_media on its dataBase64, and none stored.
    @Test func filesThatAreOnlyASignatureAreRefused() throws {
        let (admin, attempt) = try attempt()
        let html = Array("<html><script>alert(document.cookie)</script></html>".utf8)
        let cases: [(String, String, [UInt8])] = [
            ("x.pdf", "application/pdf", Array("%PDF-1.4\n".utf8) + html),
            ("x.png", "image/png", MediaSamples.pngSignature + Array("<svg onload=\"alert(1)\"/>".utf8)),
            ("x.jpg", "image/jpeg", [0xFF, 0xD8, 0xFF]),
            ("x.jpg", "image/jpeg", MediaSamples.jpeg() + html),
            ("x.png", "image/png", MediaSamples.png() + html),
            ("x.png", "image/png", MediaSamples.pngSignature + MediaSamples.ihdr() + MediaSamples.pngChunk("IDAT", [1], crc: 7) + MediaSamples.pngChunk("IEND", [])),
            ("x.heic", "image/heic", MediaSamples.ftyp() + MediaSamples.box("mdat", html)),
            ("x.heic", "image/heic", MediaSamples.ftyp() + MediaSamples.meta() + MediaSamples.be32(1) + Array("mdat".utf8) + MediaSamples.be64(.max)),
        ]
        for (name, type, bytes) in cases {
            let e = attempt(Fixtures.media(name, type, bytes))
            #expect(e?["code"] == -32602)
            #expect(e?["data"]?["reason"] == "unsupported_media", "\(name) \(bytes.prefix(12))")
            #expect(e?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["media[1].dataBase64"])
            #expect(e?["data"]?["fields"]?[0]?["message"]?.stringValue?.hasPrefix("is not a well-formed") == true)
        }
        #expect(try storedMedia(admin) == 0)
    }

    /// A name's extension must fit what the bytes are: a PDF named x.html would open as a web
    /// page. A name without an extension, or in another case, is fine.
    @Test func theFileNameMustFitTheType() throws {
        let (admin, attempt) = try attempt()
        for (name, type, bytes) in [("x.html", "application/pdf", Fixtures.pdf), ("x.svg", "image/png", Fixtures.png),
                                    ("photo.png", "image/jpeg", Fixtures.jpeg), ("x.", "image/heic", Fixtures.heic),
                                    ("card.pdf.html", "application/pdf", Fixtures.pdf)] {
            let e = attempt(Fixtures.media(name, type, bytes))
            #expect(e?["code"] == -32602)
            #expect(e?["data"]?["reason"] == "unsupported_media", "\(name)")
            #expect(e?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["media[1].fileName"])
        }
        #expect(try storedMedia(admin) == 0)
        for (name, type, bytes) in [("scan", "application/pdf", Fixtures.pdf), ("CARD.PDF", "application/pdf", Fixtures.pdf),
                                    ("x.Png", "image/png", Fixtures.png), ("IMG_1.JPEG", "image/jpeg", Fixtures.jpeg),
                                    ("a.jfif", "image/jpeg", Fixtures.jpeg), ("IMG_2.HEIF", "image/heic", Fixtures.heic)] {
            #expect(attempt(Fixtures.media(name, type, bytes)) == nil, "\(name)")
        }
        #expect(try storedMedia(admin) == 12)
    }

    /// Contract: a content type other than the four is `-32602 unsupported_media`, whatever else
    /// is wrong in the same request; the other fields' errors are still listed.
    @Test func aContentTypeOutsideTheFourIsUnsupportedMedia() throws {
        let (admin, attempt) = try attempt()
        let pdf = Data(Fixtures.pdf).base64EncodedString()
        for type in ["text/html", "image/gif", "image/svg+xml", "application/PDF", "image/jpg", ""] {
            let e = attempt(["fileName": "x.pdf", "contentType": .string(type), "dataBase64": .string(pdf)])
            #expect(e?["code"] == -32602)
            #expect(e?["data"]?["reason"] == "unsupported_media", "\(type)")
            #expect(e?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["media[1].contentType"])
        }
        let mixed = attempt(["fileName": "", "contentType": "text/html", "dataBase64": .string(pdf)])
        #expect(mixed?["data"]?["reason"] == "unsupported_media")
        #expect(mixed?["data"]?["fields"]?.arrayValue?.compactMap { $0["field"]?.stringValue } == ["media[1].fileName", "media[1].contentType"])
        // A content type that is not a string is malformed params, as before.
        #expect(attempt(["fileName": "x.pdf", "contentType": 7, "dataBase64": .string(pdf)])?["data"]?["reason"] == "invalid_params")
        #expect(try storedMedia(admin) == 0)
    }
}
