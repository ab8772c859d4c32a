import Foundation
import Testing
import JSONRPC
import CredentialsStore
@testable import CredentialsService

/// Replays every file of `Protocol/conformance/` in process, through `LineTransport.process` (the
/// same reader and server as the executable), and through the real executable over pipes.
struct ConformanceTests {
    static let files: [String] = {
        let dir = packageRoot.appendingPathComponent("Protocol/conformance")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }()

    @Test func thereAreVectors() throws {
        #expect(Self.files.count >= 4)
        let total = try VectorFile.all().reduce(0) { $0 + $1.requests.count }
        #expect(total >= 50)
    }

    /// Reasons no vector can show: they need a second process, a file system fault or a broken
    /// build, or another framing than lines. Each has its own test, named here.
    static let reasonsShownElsewhere: [String: String] = [
        "version_changed": "EditRaceTests (two connections)",
        "storage_busy": "FaultTests", "storage_full": "FaultTests", "storage_read_only": "FaultTests",
        "storage_corrupt": "FaultTests", "storage_io_error": "FaultTests", "storage_replaced": "FaultTests",
        "storage_error": "FaultTests", "internal_error": "none can be caused from outside",
        "invalid_frame": "FramingTests (Content-Length framing)",
        "token_expired": "TokenTests (the clock must move; vectors run on a stopped one)",
    ]

    /// Every method's main path and every error reason is in some vector, so the kit is a whole
    /// description of the protocol for other implementations and for clients.
    @Test func vectorsCoverEveryMethodAndEveryReason() throws {
        var answered: Set<String> = []
        var reasons: Set<String> = []
        for v in try VectorFile.all() {
            for (request, expected) in zip(v.requests, v.expected) {
                guard let expected else { continue }
                for answer in expected.arrayValue ?? [expected] {
                    if let r = answer["error"]?["data"]?["reason"]?.stringValue { reasons.insert(r) }
                }
                if expected["result"] != nil, let method = (try? JSONParser.parse(request).value)?["method"]?.stringValue {
                    answered.insert(method)
                }
            }
        }
        let methods = Service.methods.map(\.name)
        #expect(methods.filter { !answered.contains($0) } == [], "methods without a successful call in a vector")
        var declared: Set<String> = ["parse_error", "invalid_request", "method_not_found", "invalid_params", "message_too_large",
                                     "empty_batch", "batch_too_large", "invalid_utf8", "duplicate_key", "nesting_too_deep", "invalid_string"]
        declared.formUnion(StorageFault.allCases.map(\.rawValue))
        for m in Service.openRPC["methods"]?.arrayValue ?? [] {
            for e in m["errors"]?.arrayValue ?? [] { if let r = e["data"]?["reason"]?.stringValue { declared.insert(r) } }
        }
        declared.insert("invalid_frame")
        let missing = declared.subtracting(reasons).subtracting(Self.reasonsShownElsewhere.keys).sorted()
        #expect(missing == [], "error reasons no vector shows")
    }

    @Test("vectors replayed in process", arguments: files)
    func inProcess(file: String) throws {
        let v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        let (server, _) = try makeServer(maxMediaBytes: v.maxMediaBytes)
        compareResponses(v, LineTransport.process(v.input, server: server, maxMessageBytes: v.maxMessageBytes))
    }

    @Test("vectors replayed through the executable", arguments: files)
    func overPipes(file: String) throws {
        let v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        let media = v.maxMediaBytes.map { ["--max-media-bytes", String($0)] } ?? []
        let r = try runService(["--db", ":memory:", "--max-message-bytes", String(v.maxMessageBytes)] + media, input: v.input,
                               environment: ["CREDENTIALS_RPC_FIXED_TIME": vectorTime, "CREDENTIALS_RPC_INSECURE_TESTING": "1"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty || r.stdout.last == 0x0A)
        #expect(r.stderr.isEmpty, "stderr: \(r.stderr)")
        compareResponses(v, r.lines)
    }
}
