import CredentialsCore
import JSONRPC

/// A media file from params: checked, hashed and given an id, ready to store.
struct NewMedia {
    var file: MediaFile
    var bytes: [UInt8]

    /// Every file of `json` (an array of NewMedia), or every problem with them at once.
    static func decode(_ json: JSON?, field: String, ctx: Context) throws -> [NewMedia] {
        guard let items = json?.arrayValue, !items.isEmpty else { return [] }
        let limit = ctx.limits.maxMediaBytes
        var out: [NewMedia] = []
        var issues: [FieldIssue] = []
        var reason = "invalid_params"
        for (i, item) in items.enumerated() {
            let path = "\(field)[\(i)]"
            guard let o = item.objectValue, let name = o["fileName"]?.stringValue, let declared = o["contentType"]?.stringValue,
                  let data = o["dataBase64"]?.stringValue else { continue }  // the schema already refused these
            let fileName: String
            do { fileName = try CredentialFields.fileName(name, field: "\(path).fileName") } catch {
                if case .invalid(_, let f) = error { issues += f }
                continue
            }
            // Refuse an oversize file from its base64 length, before decoding it.
            if Base64.maxDecodedCount(length: data.utf8.count) > limit + 2 {
                issues.append(FieldIssue("\(path).dataBase64", "is larger than \(limit) bytes"))
                reason = "media_too_large"
                continue
            }
            let bytes: [UInt8]
            do { bytes = try Base64.decode(data) } catch {
                issues.append(FieldIssue("\(path).dataBase64", error.message))
                continue
            }
            if bytes.count > limit {
                issues.append(FieldIssue("\(path).dataBase64", "is larger than \(limit) bytes"))
                reason = "media_too_large"
                continue
            }
            guard let kind = MediaKind.detect(bytes) else {
                issues.append(FieldIssue("\(path).dataBase64", "is not a JPEG, PNG, HEIC or PDF file"))
                reason = "unsupported_media"
                continue
            }
            guard kind.rawValue == declared else {
                issues.append(FieldIssue("\(path).contentType", "does not match the file, which is \(kind.rawValue)"))
                reason = "unsupported_media"
                continue
            }
            // The whole file, not only its first bytes; and a name that says what it is.
            let structure = MediaFormat.problem(bytes, as: kind)
            let naming = kind.fileNameProblem(fileName)
            if let structure { issues.append(FieldIssue("\(path).dataBase64", structure)) }
            if let naming { issues.append(FieldIssue("\(path).fileName", naming)) }
            if structure != nil || naming != nil {
                reason = "unsupported_media"
                continue
            }
            out.append(NewMedia(file: MediaFile(id: ctx.deps.newID("med"), fileName: fileName, contentType: kind.rawValue,
                                                byteCount: bytes.count, sha256: Digest.sha256Hex(bytes)), bytes: bytes))
        }
        if !issues.isEmpty { throw DomainError.invalid(reason: reason, fields: issues) }
        return out
    }
}
