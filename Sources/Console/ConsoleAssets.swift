import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TesseraCore
import TesseraHTTP

/// The console's stylesheet and script, and Debian's CodeMirror when `libjs-codemirror` is installed (the editors fall
/// back to plain text areas without it).
struct ConsoleAssets: Sendable {
    static let types = ["css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"]
    let files: [String: ByteBuffer]

    init(codeMirror: String) throws {
        var files: [String: ByteBuffer] = [:]
        for name in ["console.css", "console.js"] { files[name] = try BundledFile.load(name, subdirectory: "assets", from: .module) }
        let optional = ["codemirror.js": "lib/codemirror.js", "codemirror.css": "lib/codemirror.css",
                        "mode-javascript.js": "mode/javascript/javascript.js", "mode-sql.js": "mode/sql/sql.js"]
        for (name, path) in optional {
            if let data = FileManager.default.contents(atPath: codeMirror + "/" + path) { files[name] = ByteBuffer(bytes: data) }
        }
        self.files = files
    }

    func serve(_ name: String) -> Response {
        guard let body = files[name], let type = Self.types[URL(fileURLWithPath: name).pathExtension] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "Not found")))
        }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: body))
    }
}
