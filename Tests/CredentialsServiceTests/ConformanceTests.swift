import Foundation
import TestScratch
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
        "user_deactivated": "ImportRaceTests (two connections)",
        "storage_busy": "FaultTests", "storage_full": "FaultTests", "storage_read_only": "FaultTests",
        "storage_corrupt": "FaultTests", "storage_io_error": "FaultTests", "storage_replaced": "FaultTests",
        "storage_error": "FaultTests", "internal_error": "none can be caused from outside",
        "storage_unavailable": "PostgresServiceTests (the server must end the connection)",
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

    /// Every result the service gives in every vector's replay matches its method's result
    /// schema as `rpc.discover` and `tools/list` render it, so no encoder can drift from its
    /// schema without this failing.
    @Test func everyResultMatchesItsMethodsResultSchema() throws {
        var checked: [String: Int] = [:]
        for v in try VectorFile.all() {
            let (server, _) = try makeServer(maxMediaBytes: v.maxMediaBytes)
            var answers = LineTransport.process(v.input, server: server, maxMessageBytes: v.maxMessageBytes).makeIterator()
            for (request, expected) in zip(v.requests, v.expected) where expected != nil {
                guard let line = answers.next(), let answered = try? JSONParser.parse(line.dropLast()).value,
                      let sent = try? JSONParser.parse(request).value else { continue }
                var methodOf: [String: String] = [:]
                for r in sent.arrayValue ?? [sent] {
                    guard let id = r["id"], var m = r["method"]?.stringValue else { continue }
                    // A tool call's structuredContent is its method's result.
                    if m == "tools/call", let tool = r["params"]?["name"]?.stringValue,
                       let method = Service.methods.first(where: { ServiceTools.toolName($0.name) == tool }) { m = method.name }
                    methodOf[JSONWriter.string(id)] = m
                }
                for var answer in answered.arrayValue ?? [answered] {
                    switch answer["result"]?["isError"] {
                    case nil: break
                    case false?: answer = ["id": answer["id"] ?? .null, "result": answer["result"]?["structuredContent"] ?? .null]
                    default: continue  // a failed tool: no result to check
                    }
                    guard let result = answer["result"], let id = answer["id"],
                          let name = methodOf[JSONWriter.string(id)], let method = Service.table[name] else { continue }
                    var components = SchemaComponents(inline: true)
                    let problems = MiniSchema.problems(result, components.render(method.result))
                    #expect(problems == [], "\(v.name) id \(JSONWriter.string(id)) (\(name)): \(problems.prefix(5))")
                    checked[name, default: 0] += 1
                }
            }
        }
        #expect(Set(checked.keys) == Set(Service.methods.map(\.name)), "methods whose results no vector checks")
        #expect(checked.values.reduce(0, +) >= 200)
    }

    /// The check above can fail: a result with a member missing, one too many, or a wrong type
    /// does not pass.
    @Test func aDriftedResultFailsItsSchema() throws {
        let method = try #require(Service.table["teams.create"])
        var components = SchemaComponents(inline: true)
        let schema = components.render(method.result)
        let good: JSON = ["id": "team_1", "name": "A", "memberIds": [], "requiredTypeIds": [],
                          "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"]
        #expect(MiniSchema.problems(good, schema) == [])
        var missing = good.objectValue!
        missing["name"] = nil
        #expect(!MiniSchema.problems(.object(missing), schema).isEmpty)
        var extra = good.objectValue!
        extra["colour"] = "red"
        #expect(!MiniSchema.problems(.object(extra), schema).isEmpty)
        var wrong = good.objectValue!
        wrong["memberIds"] = "usr_1"
        #expect(!MiniSchema.problems(.object(wrong), schema).isEmpty)
    }

    @Test("vectors replayed in process", arguments: files)
    func inProcess(file: String) throws {
        let v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        let (server, _) = try makeServer(maxMediaBytes: v.maxMediaBytes)
        compareResponses(v, LineTransport.process(v.input, server: server, maxMessageBytes: v.maxMessageBytes))
    }

    /// Contract §13: every promise holds on PostgreSQL too. Each file runs on a database of its
    /// own; `service.info` says which engine answered, and nothing else may differ.
    @Test("vectors replayed in process on PostgreSQL", .enabled(if: TestPostgres.runs, TestPostgres.skip), arguments: files)
    func inProcessOnPostgres(file: String) throws {
        var v = try VectorFile.load(packageRoot.appendingPathComponent("Protocol/conformance/\(file)"))
        v.expected = v.expected.map { $0.map(Self.answeredByPostgres) }
        let scratch = try ScratchPostgresDatabase()
        let (server, _) = try makeServer(maxMediaBytes: v.maxMediaBytes, db: Database(postgres: ConnectionString(scratch.uri)))
        compareResponses(v, LineTransport.process(v.input, server: server, maxMessageBytes: v.maxMessageBytes))
    }

    static func answeredByPostgres(_ answer: JSON) -> JSON {
        guard var object = answer.objectValue, var result = object["result"]?.objectValue, result["storage"] == "sqlite" else { return answer }
        result["storage"] = "postgresql"
        object["result"] = .object(result)
        return .object(object)
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
