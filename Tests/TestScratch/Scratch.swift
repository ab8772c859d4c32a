import Foundation

/// Where tests put their files: one directory per test process, `<tmp>/crpc-tests/<pid>`, with a
/// fresh directory inside it for each caller. It is removed when the process exits; the first use
/// also removes those of test processes that ended without that (killed, crashed), so repeated
/// runs do not pile databases up in the temporary folder.
public enum Scratch {
    nonisolated(unsafe) private static var root: URL?
    private static let lock = NSLock()

    /// A new, empty directory named after `label`.
    public static func directory(_ label: String) -> URL {
        let dir = processRoot().appendingPathComponent("\(label)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private static func processRoot() -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let root { return root }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("crpc-tests")
        try? FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] {
            guard let pid = Int32(name), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
        }
        let mine = base.appendingPathComponent(String(getpid()))
        try! FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        root = mine
        atexit { if let root = Scratch.root { try? FileManager.default.removeItem(at: root) } }
        return mine
    }
}
