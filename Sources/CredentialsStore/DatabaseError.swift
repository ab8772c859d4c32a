import CSQLite
import CredentialsCore
#if canImport(Glibc)
import Glibc
#endif

/// A group's writes were rolled back because one request failed after changing rows; its
/// requests must run again one by one (see `Database.beginGroup`).
public struct GroupRolledBack: Error {}

/// A group's COMMIT was sent and no answer came back (the connection to the server broke): it
/// may or may not have taken effect, so its requests must not run again (`GroupOutcome.unknown`).
public struct GroupOutcomeUnknown: Error {
    public let failure: StorageFailure
}

/// An engine's error, as the service reports it: the kind of fault, and a line for the log that
/// never reaches a client.
public protocol StorageFailure: Error {
    var fault: StorageFault { get }
    var logLine: String { get }
}

/// What went wrong in SQLite. `code` is the extended result code; `message` is for stderr logs
/// only and never reaches a client.
public struct DatabaseError: StorageFailure, Equatable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    /// The OS error behind an I/O failure (EROFS, ENOSPC, ...), or 0.
    public var systemErrno: Int32 = 0

    public var primaryCode: Int32 { code & 0xFF }
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }
    public var isConstraint: Bool { primaryCode == SQLITE_CONSTRAINT }
    public var description: String { "SQLite error \(code): \(message)" }
    public var logLine: String { "storage error \(code) errno \(systemErrno) (\(fault.rawValue))" }

    /// What a client is told: the kind of fault, never SQLite's text.
    public var fault: StorageFault {
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_FULL: return .full
        case SQLITE_READONLY, SQLITE_PERM: return .readOnly
        case SQLITE_CORRUPT, SQLITE_NOTADB: return .corrupt
        case SQLITE_IOERR, SQLITE_CANTOPEN:
            // SQLite reports a refused write as an I/O error; the OS says why.
            switch systemErrno {
            case EROFS, EPERM, EACCES: return .readOnly
            case ENOSPC, EDQUOT: return .full
            default: return .ioError
            }
        default: return .other
        }
    }
}

/// Why the database could not serve a request, as the service reports it (`error.data.reason`).
public enum StorageFault: String, Sendable, CaseIterable {
    case busy = "storage_busy"
    case full = "storage_full"
    case readOnly = "storage_read_only"
    case corrupt = "storage_corrupt"
    case ioError = "storage_io_error"
    /// The file was deleted or replaced by another while this process had it open.
    case replaced = "storage_replaced"
    /// The database server could not be reached, or the connection to it broke (PostgreSQL).
    case unavailable = "storage_unavailable"
    case other = "storage_error"

    public var message: String {
        switch self {
        case .busy: return "The database stayed locked by another connection past the busy timeout; nothing was changed"
        case .full: return "The disk (or the database's size limit) is full; nothing was changed"
        case .readOnly: return "The database cannot be written (read-only file or file system); nothing was changed"
        case .corrupt: return "The database file is damaged; nothing was changed"
        case .ioError: return "The database file could not be read or written; nothing was changed"
        case .replaced: return "The database file was deleted or replaced while the service ran; restart the service"
        case .unavailable: return "The database server could not be reached, or the connection to it broke; the next request connects again. A change sent as the connection broke may or may not have been saved: read before sending it again"
        case .other: return "The database could not complete the request; nothing was changed"
        }
    }
}

/// The database file is no longer the one this connection opened.
public struct FileReplacedError: Error {}

/// Why the database could not be opened. The executable prints `description` as its one stderr
/// line and exits with status 2.
public enum OpenError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notADatabase(path: String)
    case newerSchema(path: String, found: Int, known: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open database \(path): \(reason)"
        case .notADatabase(let path): return "\(path) is not a credentials-rpc database (not an SQLite file, or damaged)"
        case .newerSchema(let path, let found, let known):
            return "\(path) has schema version \(found), newer than this build knows (\(known)); use a newer credentials-rpc"
        }
    }
}
