/// What a media file must be beyond its first bytes. A signature alone let through a PDF header
/// followed by HTML and script, a PNG signature followed by SVG, a 3-byte "JPEG": files no
/// reader opens, and that a browser shown the bytes under another name runs. Each check walks
/// the structure a reader relies on (PNG chunks and their CRCs, JPEG markers to the end of the
/// image, a PDF's header, cross-reference pointer and end marker, ISO BMFF boxes) and refuses
/// what does not parse. Pure functions over bytes: linear time, no allocation, and no input,
/// however hostile (lengths near `UInt32.max`, 64-bit sizes that overflow), traps.
public enum MediaFormat {
    /// Why `bytes` are not a well-formed file of `kind`, as a field error's message; nil when
    /// they are.
    public static func problem(_ bytes: [UInt8], as kind: MediaKind) -> String? {
        bytes.withUnsafeBufferPointer { b in
            let detail: String?
            switch kind {
            case .png: detail = PNGFormat.problem(b)
            case .jpeg: detail = JPEGFormat.problem(b)
            case .pdf: detail = PDFFormat.problem(b)
            case .heic: detail = HEIFFormat.problem(b)
            }
            return detail.map { "is not a well-formed \(kind.name) file: \($0)" }
        }
    }
}

/// The file-name rule: a name's extension, when it has one, says what the file is to whoever
/// opens it later, so it must fit the type the bytes are (`x.html` holding a PDF would open as a
/// web page from a download folder).
extension MediaKind {
    /// What people call the kind, for messages.
    public var name: String {
        switch self {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .heic: return "HEIC"
        case .pdf: return "PDF"
        }
    }

    /// The extensions that fit the kind, lowercase, without the dot.
    public var fileExtensions: [String] {
        switch self {
        case .jpeg: return ["jpg", "jpeg", "jpe", "jfif"]
        case .png: return ["png"]
        case .heic: return ["heic", "heif"]
        case .pdf: return ["pdf"]
        }
    }

    /// The extension of `fileName`: what follows its last `.` (empty for a name ending in `.`),
    /// or nil when it has no `.` at all.
    public static func fileExtension(_ fileName: String) -> Substring? {
        guard let dot = fileName.lastIndex(of: ".") else { return nil }
        return fileName[fileName.index(after: dot)...]
    }

    /// Whether `fileName` may hold this kind: it has no extension, or one of `fileExtensions`
    /// in any ASCII case.
    public func fits(fileName: String) -> Bool {
        guard let ext = Self.fileExtension(fileName) else { return true }
        let lower = String(decoding: ext.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        return fileExtensions.contains(lower)
    }

    /// Why `fileName` may not hold this kind, as a field error's message; nil when it may.
    public func fileNameProblem(_ fileName: String) -> String? {
        guard !fits(fileName: fileName), let ext = Self.fileExtension(fileName) else { return nil }
        let allowed = fileExtensions.map { "." + $0 }.joined(separator: ", ")
        if ext.isEmpty { return "ends in '.', with no extension after it: a \(name) file's name ends in \(allowed), or has no extension" }
        return "ends in .\(ext.prefix(20)), which does not fit a \(name) file: use \(allowed), or no extension"
    }
}

/// Reading big-endian integers at an offset the caller has bounds-checked.
extension UnsafeBufferPointer<UInt8> {
    func be16(_ i: Int) -> Int { Int(self[i]) << 8 | Int(self[i + 1]) }

    func be32(_ i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    func be64(_ i: Int) -> UInt64 { UInt64(be32(i)) << 32 | UInt64(be32(i + 4)) }

    /// Whether the bytes at `i` are `literal`; false when they would run past the end.
    func has(_ literal: StaticString, at i: Int) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i >= 0, n <= count - i else { return false }
        let p = literal.utf8Start
        for k in 0..<n where self[i + k] != p[k] { return false }
        return true
    }
}

/// A four-character code (a PNG chunk or an ISO BMFF box type) as the big-endian integer its
/// bytes read as, for comparing without making strings.
func fourCC(_ s: StaticString) -> UInt32 {
    let p = s.utf8Start
    return UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
}

/// A four-character code for a message: printable ASCII as is, anything else as hex.
func fourCCName(_ code: UInt32) -> String {
    let bytes = [UInt8(code >> 24), UInt8((code >> 16) & 0xFF), UInt8((code >> 8) & 0xFF), UInt8(code & 0xFF)]
    if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) { return "'\(String(decoding: bytes, as: UTF8.self))'" }
    return "0x" + String(code, radix: 16, uppercase: true)
}
