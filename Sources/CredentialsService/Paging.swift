import CredentialsCore
import Foundation
import JSONRPC

/// `limit` and `cursor` of every paged list, and the `{items, nextCursor}` answer.
struct Page {
    static let defaultLimit = 100
    static let maxLimit = 1000

    /// The params every paged list takes.
    static let params: [Property] = [
        .optional("limit", .integer(1...maxLimit), "Items per page (default 100)."),
        .optional("cursor", .string(minLength: 1, maxLength: 512), "nextCursor from the previous page."),
    ]

    let limit: Int
    /// The sort key of the last item already returned, or nil for the first page.
    let after: String?

    init(_ p: Params) throws {
        limit = p.int("limit") ?? Page.defaultLimit
        after = try p.string("cursor").map(Page.decode)
    }

    /// Cursors are opaque to clients: base64url of a versioned key.
    static func encode(_ key: String) -> String {
        Data(("c1:" + key).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) throws -> String {
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8), text.hasPrefix("c1:") else {
            throw DomainError.invalidField("cursor", "is not a cursor this list returned")
        }
        return String(text.dropFirst(3))
    }

    /// `{items, nextCursor}`: `nextCursor` is null on the last page.
    static func result(_ items: [JSON], lastKey: String?, more: Bool) -> JSON {
        ["items": .array(items), "nextCursor": more ? .optional(lastKey.map(encode)) : .null]
    }

    static func schema(_ name: String, of item: Schema) -> Schema {
        .named(name, .object([
            Property("items", .array(item)),
            Property("nextCursor", .nullable(.string()), "Pass as cursor for the next page; null on the last page."),
        ]))
    }
}
