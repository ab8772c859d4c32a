import CredentialsCore
import Foundation
import JSONRPC

/// `limit` and `cursor` of every paged list, and the `{items, nextCursor}` answer.
///
/// A cursor is base64url (no padding) of `c1:` and the sort key of the last item returned. The
/// service keeps no state for it, so it works in any process on the same file; instead, every
/// cursor is checked to be exactly one the service can write: the canonical encoding, and a key
/// of the one shape its list makes (an id of the list's kind, an audit seq, or the credential
/// list's own composite keys). Anything else is `invalid_cursor`, never a first page. A cursor
/// of the right shape that no page ended on is only a position in the list: it shows nothing
/// that paging from the start would not.
struct Page {
    static let defaultLimit = 100
    static let maxLimit = 1000
    /// Far longer than any key a list makes (the longest, a credential's expiry key, is 43 bytes).
    static let maxCursorLength = 512

    /// The params every paged list takes. `cursor` has no length bounds here: a cursor the
    /// service did not make is `invalid_cursor`, whatever its length, not `invalid_params`.
    static let params: [Property] = [
        .optional("limit", .integer(1...maxLimit), "Items per page (default 100)."),
        .optional("cursor", .string(), "nextCursor from the previous page of this list with the same filters; any other string is invalid_cursor."),
    ]

    /// The errors every paged list adds to its own.
    static let errors = [ErrorDoc(.invalidParams, "invalid_cursor")]

    /// The shape of a list's sort keys, which a cursor must hold exactly.
    enum Key {
        /// An id made with this prefix (`usr`, `ctype`, `team`): lists in creation order.
        case id(prefix: String)
        /// An audit entry's seq: a positive decimal integer, written canonically.
        case seq
        /// Checked by the list's store, which makes its keys (`CredentialStore.list`).
        case checkedByList
    }

    let limit: Int
    /// The sort key of the last item already returned, or nil for the first page.
    let after: String?

    init(_ p: Params, key: Key) throws {
        limit = p.int("limit") ?? Page.defaultLimit
        after = try p.string("cursor").map { try Page.decode($0, key: key) }
    }

    static let invalidCursor = DomainError.invalid(reason: "invalid_cursor", fields: [
        FieldIssue("cursor", "is not a cursor this list returned (with these filters)"),
    ])

    /// Cursors are opaque to clients: base64url of a versioned key.
    static func encode(_ key: String) -> String {
        Data(("c1:" + key).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The key in a cursor `encode` wrote for this list, or `invalidCursor`.
    static func decode(_ cursor: String, key: Key) throws -> String {
        guard cursor.utf8.count <= maxCursorLength,
              cursor.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0)
                                       || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else { throw invalidCursor }
        var b64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.utf8.count % 4 != 0 { b64 += "=" }
        // Re-encoding must give the same text: no second spelling of one cursor is taken.
        guard let data = Data(base64Encoded: b64), let text = String(data: data, encoding: .utf8), text.hasPrefix("c1:"),
              encode(String(text.dropFirst(3))) == cursor else { throw invalidCursor }
        let k = String(text.dropFirst(3))
        switch key {
        case .id(let prefix): guard TimeOrderedIDs.isID(k, prefix: prefix) else { throw invalidCursor }
        case .seq: guard let n = Int64(k), n > 0, String(n) == k else { throw invalidCursor }
        case .checkedByList: break
        }
        return k
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
