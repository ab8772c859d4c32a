import TestScratch
import CredentialsCore
import Foundation
import Testing

/// The strict RFC 4648 §4 decoder media are read with: one encoding per file, the one standard
/// encoders write, and every other form refused with what is wrong.
struct Base64Tests {
    func problem(_ text: String) -> Base64.Problem? {
        do { _ = try Base64.decode(text); return nil } catch { return error }
    }

    @Test func roundTripsEveryLengthAgainstFoundationsEncoder() throws {
        var rng = SystemRandomNumberGenerator()
        for length in 0...300 {
            for _ in 0..<4 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let text = Data(bytes).base64EncodedString()
                if length == 0 {
                    #expect(problem(text) == .empty)
                } else {
                    #expect(try Base64.decode(text) == bytes, "\(length) bytes: \(text)")
                }
            }
        }
        // Every byte value in every position of a group.
        let all = (0..<768).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(try Base64.decode(Data(all).base64EncodedString()) == all)
    }

    @Test("what standard encoders never write is refused", arguments: [
        ("", Base64.Problem.empty),
        ("QQ", .length(2)),                                 // "A" without its padding
        ("QUI", .length(3)),
        ("QQ=", .length(3)),
        ("QQ===", .length(5)),                              // extra padding
        ("QUJD====", .character(UInt8(ascii: "="), offset: 4)),
        ("QQ==QQ==", .character(UInt8(ascii: "="), offset: 2)),
        ("Q===", .character(UInt8(ascii: "="), offset: 1)),
        ("====", .character(UInt8(ascii: "="), offset: 0)),
        ("-_8=", .character(UInt8(ascii: "-"), offset: 0)),  // the URL-safe alphabet
        ("+_8=", .character(UInt8(ascii: "_"), offset: 1)),
        ("QR==", .trailingBits),                            // "A" with a set bit after it
        ("QUJ=", .trailingBits),
        ("QUJD\n", .length(5)),
        ("QUJD\r\nQUJD", .length(10)),
        ("QU JD", .length(5)),
        ("QUJDQ\nJD", .character(0x0A, offset: 5)),         // a line break in a length that fits
        (" QUJ", .character(0x20, offset: 0)),
        ("QUJ\t", .character(0x09, offset: 3)),
        ("QU\u{E9}", .character(0xC3, offset: 2)),          // non-ASCII
        ("QUJ\u{0}", .character(0, offset: 3)),
        ("QUJD.AAA", .character(UInt8(ascii: "."), offset: 4)),
    ])
    func refused(_ text: String, _ expected: Base64.Problem) {
        #expect(problem(text) == expected, "\(text.debugDescription)")
        #expect(problem(text)?.message.isEmpty == false)
    }

    @Test func theStandardFormsOfTheSameBytesAreAccepted() throws {
        #expect(try Base64.decode("QQ==") == [0x41])
        #expect(try Base64.decode("QUI=") == [0x41, 0x42])
        #expect(try Base64.decode("QUJD") == [0x41, 0x42, 0x43])
        #expect(try Base64.decode("+/8=") == [0xFB, 0xFF])
        #expect(try Base64.decode("AAAA") == [0, 0, 0])
    }

    /// Wherever the strict decoder accepts a text, Foundation reads the same bytes from it: the
    /// strict form is a subset of what any decoder takes.
    @Test func acceptsOnlyWhatFoundationReadsTheSame() {
        var rng = SplitMix64(seed: 4648)
        let chars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n".utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 13)
            var text = (0..<length).map { _ in chars[Int(rng.next() % 64)] }  // alphabet only, mostly
            if rng.next() % 3 == 0, !text.isEmpty { text[Int(rng.next() % UInt64(text.count))] = chars[Int(rng.next() % UInt64(chars.count))] }
            let string = String(decoding: text, as: UTF8.self)
            if let strict = try? Base64.decode(string) {
                accepted += 1
                #expect(Data(base64Encoded: string).map(Array.init) == strict, "\(string)")
                #expect(Data(strict).base64EncodedString() == string, "\(string) is not the one encoding of its bytes")
            }
        }
        #expect(accepted > 1000)
    }
}
