import Foundation
import Testing
@testable import JSONRPC

/// A handler that records groups, and can fail a group's commit.
final class GroupHandler: RPCMethodHandler {
    var calls: [String] = []
    var groups: [Int] = []  // requests run in each group
    var inGroup: Int? = nil
    var failNextCommit = false

    func hasMethod(_ method: String) -> Bool { true }
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        calls.append(method)
        if inGroup != nil { inGroup! += 1 }
        return .success(.string(method + (inGroup == nil ? " alone" : " grouped")))
    }
    func beginGroup() { inGroup = 0 }
    func endGroup() -> Bool {
        groups.append(inGroup ?? 0)
        inGroup = nil
        if failNextCommit { failNextCommit = false; return false }
        return true
    }
}

struct GroupCommitTests {
    func lines(_ n: Int) -> [UInt8] {
        (0..<n).flatMap { Array(#"{"jsonrpc":"2.0","id":\#($0),"method":"m\#($0)"}"#.utf8) + [0x0A] }
    }

    func results(_ out: [[UInt8]]) -> [String] {
        out.compactMap { try? JSONParser.parse($0.dropLast()).value["result"]?.stringValue }
    }

    @Test func aLoneRequestIsNotGrouped() {
        let h = GroupHandler()
        let out = LineTransport.process(lines(1), server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(results(out) == ["m0 alone"])
        #expect(h.groups.isEmpty)
    }

    @Test func waitingLinesFormOneGroupAnsweredInOrder() {
        let h = GroupHandler()
        let out = LineTransport.process(lines(10), server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(results(out) == (0..<10).map { "m\($0) grouped" })
        #expect(h.groups == [10])
    }

    @Test func groupsAreBounded() {
        let h = GroupHandler()
        let max = LineTransport.maxGroup
        let out = LineTransport.process(lines(2 * max + 22), server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(out.count == 2 * max + 22)
        #expect(h.groups == [max, max, 22])
    }

    @Test func aFailedCommitRunsEachRequestAgainAlone() {
        let h = GroupHandler()
        h.failNextCommit = true
        let out = LineTransport.process(lines(3), server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(results(out) == ["m0 alone", "m1 alone", "m2 alone"])
        #expect(h.calls == ["m0", "m1", "m2", "m0", "m1", "m2"])
    }
}

/// A group stops taking requests once it has run for `maxGroupNanoseconds`, so the first answer of
/// a burst of slow requests does not wait for all of them.
struct GroupTimeBoundTests {
    final class SlowHandler: RPCMethodHandler {
        var groups: [Int] = []
        var inGroup = 0
        func hasMethod(_ method: String) -> Bool { true }
        func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
            inGroup += 1
            usleep(5_000)
            return .success(.string(method))
        }
        func beginGroup() { inGroup = 0 }
        func endGroup() -> Bool { groups.append(inGroup); return true }
    }

    @Test func aGroupEndsWhenItHasRunLongEnough() {
        let h = SlowHandler()
        let input: [UInt8] = (0..<20).flatMap { i -> [UInt8] in Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"m"}"#.utf8) + [0x0A] }
        let out = LineTransport.process(input, server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(out.count == 20)
        // 5 ms a request against a 25 ms bound: at most 6 in a group, however fast the machine.
        let most = Int(LineTransport.maxGroupNanoseconds / 5_000_000) + 1
        #expect(h.groups.allSatisfy { $0 <= most }, "\(h.groups)")
        #expect(h.groups.reduce(0, +) >= 19)  // the last may be alone
    }
}

/// Nor does a group hold answers without bound until its commit.
struct GroupAnswerBoundTests {
    final class BigAnswers: RPCMethodHandler {
        var groups: [Int] = []
        var inGroup = 0
        func hasMethod(_ method: String) -> Bool { true }
        func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
            inGroup += 1
            return .success(.string(String(repeating: "a", count: 1 << 20)))
        }
        func beginGroup() { inGroup = 0 }
        func endGroup() -> Bool { groups.append(inGroup); return true }
    }

    @Test func aGroupEndsOnceItsAnswersAreLarge() {
        let h = BigAnswers()
        let input: [UInt8] = (0..<20).flatMap { i -> [UInt8] in Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"m"}"#.utf8) + [0x0A] }
        let out = LineTransport.process(input, server: RPCServer(handler: h), maxMessageBytes: 1000)
        #expect(out.count == 20)
        let most = LineTransport.maxGroupAnswerBytes / (1 << 20) + 1
        #expect(!h.groups.isEmpty && h.groups.allSatisfy { $0 <= most }, "\(h.groups)")
    }
}
