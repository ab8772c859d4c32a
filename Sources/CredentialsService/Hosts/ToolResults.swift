import JSONRPC

/// How a method's answer becomes an MCP `CallToolResult` (Protocol/README.md §13): the result both as
/// text and as `structuredContent` (which matches the tool's `outputSchema`), or an error as an
/// `isError` result whose text a model can act on.
enum ToolResults {
    static func text(_ s: String) -> JSON { ["type": "text", "text": .string(s)] }

    static func success(_ method: String, _ answer: JSON) -> JSON {
        // A large answer may come pre-encoded (media.get writes its base64 straight into bytes):
        // the typed items need its members.
        var result = answer
        if method == "media.get", case .encoded(let bytes) = answer, let parsed = try? JSONParser.parse(bytes).value { result = parsed }
        var content: [JSON] = []
        if method == "media.get", case .object(let media) = result, let data = media["dataBase64"]?.stringValue,
           let type = media["contentType"]?.stringValue {
            // The bytes travel once as a typed item a host can show; the text leaves them out,
            // since a model reads the text and base64 is only noise to it.
            var summary = media
            summary["dataBase64"] = nil
            content.append(text(JSONWriter.string(.object(summary))))
            if type.hasPrefix("image/") {
                content.append(["type": "image", "data": .string(data), "mimeType": .string(type)])
            } else {
                let id = media["id"]?.stringValue ?? ""
                content.append(["type": "resource", "resource": [
                    "uri": .string("credentials-rpc://media/\(id)"), "mimeType": .string(type), "blob": .string(data),
                ]])
            }
        } else {
            content.append(text(JSONWriter.string(result)))
        }
        return ["content": .array(content), "structuredContent": result, "isError": false]
    }

    /// The text names the error's reason and every field at fault; a delete's preview is shown
    /// so a host can ask the user before calling again with `confirm: true`.
    static func failure(_ error: RPCError) -> JSON {
        var s = "Error \(error.code.rawValue) (\(error.reason)): \(error.message)"
        if let fields = error.data["fields"]?.arrayValue, !fields.isEmpty {
            let named = fields.compactMap { f -> String? in
                guard let field = f["field"]?.stringValue, let message = f["message"]?.stringValue else { return nil }
                return "\(field) \(message)"
            }
            s += "\nFields: " + named.joined(separator: "; ")
        }
        if error.code == .unauthenticated {
            s += "\nThe server signs in with CREDENTIALS_RPC_TOKEN: ask the user to set a valid API token in the host's configuration."
        }
        if let preview = error.data["preview"] {
            s += "\nPreview of what would be deleted: \(JSONWriter.string(preview))"
            s += "\nShow this to the user; only after they agree, call again with confirm: true."
        }
        return ["content": [text(s)], "isError": true]
    }
}
