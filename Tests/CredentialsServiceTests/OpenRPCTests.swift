import Foundation
import Testing
import CredentialsService
import JSONRPC

/// `Protocol/openrpc.json` is the document `rpc.discover` returns, held equal here. To regenerate
/// it on purpose: `CREDENTIALS_RPC_UPDATE_GOLDEN=1 swift test --filter OpenRPCTests`.
struct OpenRPCTests {
    let golden = packageRoot.appendingPathComponent("Protocol/openrpc.json")

    @Test func goldenDocumentMatchesTheMethodTable() throws {
        if ProcessInfo.processInfo.environment["CREDENTIALS_RPC_UPDATE_GOLDEN"] == "1" {
            try JSONWriter.pretty(Service.openRPC).write(to: golden, atomically: true, encoding: .utf8)
        }
        let onDisk = try JSONParser.parse(Array(try Data(contentsOf: golden))).value
        // Compared as a Bool so a failure names the difference's place, not two whole documents.
        let same = onDisk == Service.openRPC
        let methodsOnDisk = onDisk["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(same, "Protocol/openrpc.json differs from the method table (methods on disk: \(methodsOnDisk.count), in the table: \(Service.methods.count)); regenerate it on purpose")
    }

    @Test func rpcDiscoverReturnsTheDocument() throws {
        let (server, _) = try makeServer()
        let out = try #require(server.handle(line: Array(#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#.utf8)))
        let doc = try JSONParser.parse(out).value["result"]
        #expect(doc == Service.openRPC)
    }

    @Test func everyMethodIsDocumentedWithParamsResultAndErrors() throws {
        let methods = try #require(Service.openRPC["methods"]?.arrayValue)
        let names = methods.compactMap { $0["name"]?.stringValue }
        #expect(names == Service.methods.map(\.name))
        #expect(Set(names).count == names.count)
        for m in methods {
            #expect(m["paramStructure"] == "by-name")
            #expect(m["params"]?.arrayValue != nil)
            #expect(m["result"]?["schema"] != nil)
            #expect(m["errors"]?.arrayValue?.isEmpty == false)
        }
        #expect(Service.openRPC["openrpc"] == "1.3.2")
        // Every $ref points at a schema that exists.
        let schemas = try #require(Service.openRPC["components"]?["schemas"]?.objectValue)
        func refs(_ j: JSON) -> [String] {
            switch j {
            case .object(let o): return (o["$ref"]?.stringValue.map { [$0] } ?? []) + o.values.flatMap(refs)
            case .array(let a): return a.flatMap(refs)
            default: return []
            }
        }
        for r in refs(Service.openRPC) {
            let name = String(r.dropFirst("#/components/schemas/".count))
            #expect(schemas[name] != nil, "dangling \(r)")
        }
    }
}
