import CCrypto

/// Cursors the service issues are sealed (Protocol/README.md §6, who may call what: a cursor the service did not issue is
/// `invalid_cursor`): a cursor is the base64url of 16 bytes of HMAC-SHA256, under a key kept in
/// the database, of the list's name and the sort key, followed by the sort key. The service keeps
/// no state per cursor, so any process on the same database pages on from any other's cursor;
/// one forged, edited, or taken from another list does not open.
public struct CursorSeal: Sendable {
    public static let keyBytes = 32
    static let macBytes = 16
    let key: [UInt8]
    let list: String

    public init(key: [UInt8], list: String) {
        self.key = key
        self.list = list
    }

    func mac(_ sortKey: String) -> [UInt8] {
        let message = Array(list.utf8) + [0] + Array(sortKey.utf8)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length)
        return Array(out.prefix(Self.macBytes))
    }

    /// The cursor for the page after `sortKey`.
    public func seal(_ sortKey: String) -> String {
        Base64.encodeURLSafe(mac(sortKey) + Array(sortKey.utf8))
    }

    /// The sort key a cursor of this list holds, or nil for any string the service did not make.
    public func open(_ cursor: String) -> String? {
        guard let bytes = Self.decodeBase64url(cursor), bytes.count > Self.macBytes,
              let sortKey = String(validating: bytes[Self.macBytes...], as: UTF8.self) else { return nil }
        let expected = mac(sortKey)
        guard CRYPTO_memcmp(expected, Array(bytes.prefix(Self.macBytes)), Self.macBytes) == 0 else { return nil }
        return sortKey
    }

    /// Strict: the URL-safe alphabet, no padding, and only the one spelling `Base64.encodeURLSafe` writes.
    static func decodeBase64url(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            switch c {
            case 0x41...0x5A: values.append(c - 0x41)
            case 0x61...0x7A: values.append(c - 0x61 + 26)
            case 0x30...0x39: values.append(c - 0x30 + 52)
            case 0x2D: values.append(62)
            case 0x5F: values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let n = min(4, values.count - i)
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 6 | UInt32(k < n ? values[i + k] : 0) }
            out.append(UInt8(v >> 16 & 0xFF))
            if n > 2 { out.append(UInt8(v >> 8 & 0xFF)) }
            if n > 3 { out.append(UInt8(v & 0xFF)) }
            i += 4
        }
        return Base64.encodeURLSafe(out) == text ? out : nil
    }
}
