import Foundation
import Testing
@testable import JSONRPC

/// A handler that records groups, and can fail a group's commit.
final class GroupHandler: RPCMethodHandler {
    var calls: [String] = []
    var groups: [Int] = []  // requests run in each group
    var inGroup: Int? = nil
    var failNextCommit = false
    var nextCommitUnknown = false

    func hasMethod(_ method: String) -> Bool { true }
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        calls.append(method)
        if inGroup != nil { inGroup! += 1 }
        return .success(.string(method + (inGroup == nil ? " alone" : " grouped")))
    }
    func beginGroup() { inGroup = 0 }
    func endGroup() -> GroupOutcome {
        groups.append(inGroup ?? 0)
        inGroup = nil
        if failNextCommit { failNextCommit = false; return .runAlone }
        if nextCommitUnknown { nextCommitUnknown = false; return .unknown(RPCError(.internalError, "lost", reason: "storage_unavailable")) }
        return .committed
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
        // The count bound alone: 4,096 requests can take longer than the 100 ms bound on a busy machine.
        let out = LineTransport.process(lines(2 * max + 22), server: RPCServer(handler: h), maxMessageBytes: 1000,
                                        groupNanoseconds: 60_000_000_000)
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

    /// A commit that may or may not have taken effect: running the group again could make each
    /// change twice, so every request of it is answered the handler's error instead, and a
    /// notification of it gets nothing, as ever; the next group runs as usual.
    @Test func aCommitOfUnknownOutcomeAnswersEachRequestAndRunsNoneAgain() {
        let h = GroupHandler()
        h.nextCommitUnknown = true
        let input = lines(3) + Array(#"{"jsonrpc":"2.0","method":"note"}"#.utf8) + [0x0A]
        let out = LineTransport.process(input, server: RPCServer(handler: h), maxMessageBytes: 1000)
        let reasons = out.map { try? JSONParser.parse($0.dropLast()).value["error"]?["data"]?["reason"]?.stringValue }
        #expect(reasons == ["storage_unavailable", "storage_unavailable", "storage_unavailable"])
        #expect(out.map { try? JSONParser.parse($0.dropLast()).value["id"]?.intValue } == [0, 1, 2])
        #expect(h.calls == ["m0", "m1", "m2", "note"])
    }
}

/// A handler whose every call does `work`, recording how many calls each group took.
final class GroupRecorder: RPCMethodHandler {
    var groups: [Int] = []
    var inGroup = 0
    let work: () -> JSON
    init(work: @escaping () -> JSON) { self.work = work }
    func hasMethod(_ method: String) -> Bool { true }
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        inGroup += 1
        return .success(work())
    }
    func beginGroup() { inGroup = 0 }
    func endGroup() -> GroupOutcome { groups.append(inGroup); return .committed }

    func run(_ count: Int) -> Int {
        let input: [UInt8] = (0..<count).flatMap { i -> [UInt8] in Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"m"}"#.utf8) + [0x0A] }
        return LineTransport.process(input, server: RPCServer(handler: self), maxMessageBytes: 1000).count
    }
}

/// A group stops taking requests once it has run for `maxGroupNanoseconds`, or once its held
/// answers pass `maxGroupAnswerBytes`: a burst of slow or large requests is answered in parts.
struct GroupBoundTests {
    @Test func aGroupEndsWhenItHasRunLongEnough() {
        let h = GroupRecorder { usleep(10_000); return "m" }
        #expect(h.run(20) == 20)
        // 10 ms a request against a 100 ms bound: at most 11 in a group, however fast the machine.
        let most = Int(LineTransport.maxGroupNanoseconds / 10_000_000) + 1
        #expect(h.groups.allSatisfy { $0 <= most }, "\(h.groups)")
        #expect(h.groups.reduce(0, +) >= 19)  // the last may be alone
    }

    @Test func aGroupEndsOnceItsAnswersAreLarge() {
        let h = GroupRecorder { .string(String(repeating: "a", count: 1 << 20)) }
        #expect(h.run(20) == 20)
        let most = LineTransport.maxGroupAnswerBytes / (1 << 20) + 1
        #expect(!h.groups.isEmpty && h.groups.allSatisfy { $0 <= most }, "\(h.groups)")
    }
}

/// A handler whose methods named `w…` write and every other reads, each answering `size` bytes.
final class ReadWriteHandler: RPCMethodHandler {
    var groups: [[String]] = []
    var current: [String]?
    var wrote = false
    let size: Int
    init(answerBytes: Int) { size = answerBytes }
    func hasMethod(_ method: String) -> Bool { true }
    func call(method: String, params: JSONObject) -> Result<JSON, RPCError> {
        calls += 1
        current?.append(method)
        if method.hasPrefix("w") { wrote = true }
        return .success(.string(method + String(repeating: ".", count: size)))
    }
    func beginGroup() { current = []; wrote = false }
    func endGroup() -> GroupOutcome { groups.append(current ?? []); current = nil; return .committed }
    var groupChangedNothing: Bool { current != nil && !wrote }
    var calls = 0
    var exiting = false
    var exitStatus: Int32? { exiting ? 0 : nil }
}

/// A flood of reads is answered as it runs, in parts of about `readGroupAnswerBytes`; once a
/// group has written, what it holds waits for its end (its commit), however much it is.
struct ReadGroupTests {
    func run(_ methods: [String], _ h: ReadWriteHandler) -> [String] {
        var input: [UInt8] = []
        for (i, m) in methods.enumerated() { input += Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"\#(m)"}"#.utf8) + [0x0A] }
        let out = LineTransport.process(input, server: RPCServer(handler: h), maxMessageBytes: 1000, groupNanoseconds: 60_000_000_000)
        return out.compactMap { try? JSONParser.parse($0.dropLast()).value["result"]?.stringValue?.prefix { $0 != "." } }.map(String.init)
    }

    @Test func readsAreAnsweredInPartsAsTheyRun() {
        let h = ReadWriteHandler(answerBytes: 10_000)
        let methods = (0..<40).map { "r\($0)" }
        #expect(run(methods, h) == methods)
        let most = LineTransport.readGroupAnswerBytes / 10_000 + 1
        #expect(h.groups.count >= 40 / most && h.groups.allSatisfy { $0.count <= most }, "\(h.groups.map(\.count))")
        #expect(h.groups.flatMap { $0 } == methods)
    }

    /// Sending a read group's answers can take long (a slow reader): an exit (or a stop) that
    /// came meanwhile is seen before the next request runs.
    @Test func nothingRunsAfterAnExitSeenWhileAnswersWentOut() {
        let h = ReadWriteHandler(answerBytes: 30_000)
        var input: [UInt8] = []
        for i in 0..<10 { input += Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"r\#(i)"}"#.utf8) + [0x0A] }
        var offset = 0
        var reader = LineReader(maxLineBytes: 1000, inputReady: { true }) { ptr, count in
            let n = min(count, input.count - offset)
            input.withUnsafeBytes { src in if n > 0 { ptr.copyMemory(from: src.baseAddress! + offset, byteCount: n) } }
            offset += n
            return n
        }
        var sent = 0
        LineTransport.serve(&reader, server: RPCServer(handler: h), groupNanoseconds: 60_000_000_000) { messages, _ in
            sent += messages.count
            h.exiting = true
            return true
        }
        #expect(h.calls == 3 && sent == 3, "ran \(h.calls), sent \(sent)")
    }

    @Test func aGroupThatWroteHoldsItsAnswersToItsEnd() {
        let h = ReadWriteHandler(answerBytes: 30_000)
        let methods = ["r0", "r1", "r2", "w3"] + (4..<24).map { "r\($0)" }
        #expect(run(methods, h) == methods)
        // Three reads pass 64 KiB: they go out; the write and every read after it wait together.
        #expect(h.groups == [["r0", "r1", "r2"], Array(methods.dropFirst(3))], "\(h.groups)")
    }
}
