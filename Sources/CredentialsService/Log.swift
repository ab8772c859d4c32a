#if canImport(Glibc)
import Glibc
#endif
import CredentialsCore

/// Log lines go to stderr only (stdout carries protocol). Callers pass what is safe to print:
/// method names, ids, durations and error kinds, never params, passwords or hashes.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case error, warning, info, debug

    public init?(name: String) {
        switch name.lowercased() {
        case "error": self = .error
        case "warning", "warn": self = .warning
        case "info": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public var name: String { ["error", "warning", "info", "debug"][rawValue] }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

public struct Logger {
    public var level: LogLevel
    public init(level: LogLevel) { self.level = level }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level <= self.level else { return }
        let line = "\(Timestamp.format(millis: SystemClock.nowMillis())) \(level.name) \(message())\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
