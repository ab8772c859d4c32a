import Foundation

/// Lines gathered from several threads (errors, answers), in the order they came.
public final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    public init() {}
    public func add(_ s: String) { lock.withLock { list.append(s) } }
    public var all: [String] { lock.withLock { list } }
}
