import CredentialsCore
import Foundation
import JSONRPC

/// `limit` and `cursor` of every paged list, and the `{items, nextCursor}` answer.
///
/// A cursor is the sort key of the last item returned, sealed for its list (`CursorSeal`: an
/// HMAC under a key kept in the database). The service keeps no state for it, so it works in any
/// process on the same file; a cursor it did not make (forged, edited, from another list) does
/// not open and is `invalid_cursor`, never a first page. The key inside is also checked to have
/// the one shape its list makes (an id of the list's kind, an audit seq, or the credential list's
/// own composite keys).
struct Page {
    static let defaultLimit = 100
    static let maxLimit = 1000
    /// Far longer than any key a list makes (the longest, a credential's expiry key, is 43 bytes).
    static let maxCursorLength = 512

    /// The params every paged list takes. `cursor` has no length bounds here: a cursor the
    /// service did not make is `invalid_cursor`, whatever its length, not `invalid_params`.
    static let limitParam = Property.optional("limit", .integer(1...maxLimit), "Items per page (default 100).")
    static let cursorParam = Property.optional("cursor", .string(), "nextCursor from the previous page of this list with the same filters; any other string is invalid_cursor.")
    static let params: [Property] = [
        limitParam, cursorParam,
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
    let seal: CursorSeal

    init(_ p: Params, key: Key, seal: CursorSeal) throws {
        limit = p.int(Page.limitParam) ?? Page.defaultLimit
        self.seal = seal
        after = try p.string(Page.cursorParam).map { try Page.decode($0, key: key, seal: seal) }
    }

    static let invalidCursor = DomainError.invalid(reason: "invalid_cursor", fields: [
        FieldIssue("cursor", "is not a cursor this list returned (with these filters)"),
    ])

    /// The key in a cursor this list's seal made, or `invalidCursor`.
    static func decode(_ cursor: String, key: Key, seal: CursorSeal) throws -> String {
        guard cursor.utf8.count <= maxCursorLength, let k = seal.open(cursor) else { throw invalidCursor }
        switch key {
        case .id(let prefix): guard TimeOrderedIDs.isID(k, prefix: prefix) else { throw invalidCursor }
        case .seq: guard let n = Int64(k), n > 0, String(n) == k else { throw invalidCursor }
        case .checkedByList: break
        }
        return k
    }

    /// `{items, nextCursor}`: `nextCursor` is null on the last page.
    func result(_ items: [JSON], lastKey: String?, more: Bool) -> JSON {
        ["items": .array(items), "nextCursor": more ? .optional(lastKey.map(seal.seal)) : .null]
    }

    static func schema(_ name: String, of item: Schema) -> Schema {
        .named(name, .object([
            Property("items", .array(item)),
            Property("nextCursor", .nullable(.string()), "Pass as cursor for the next page; null on the last page."),
        ]))
    }
}
