import Foundation
import JSONRPC
import MediaSamples

/// Small real files of each accepted kind (MediaSamples builds them; readers open them), and
/// media params holding them.
enum Fixtures {
    static let pdf: [UInt8] = MediaSamples.pdf()
    static let png: [UInt8] = MediaSamples.png()
    static let jpeg: [UInt8] = MediaSamples.jpeg()
    static let heic: [UInt8] = MediaSamples.heic()

    static func media(_ name: String, _ type: String, _ bytes: [UInt8]) -> JSON {
        ["fileName": .string(name), "contentType": .string(type), "dataBase64": .string(Data(bytes).base64EncodedString())]
    }
}
