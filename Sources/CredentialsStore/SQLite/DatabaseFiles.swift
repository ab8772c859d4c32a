#if canImport(Glibc)
import Glibc
#endif

/// The files of a database are their owner's alone (Protocol/README.md §12, threat model): they hold emails, names,
/// password hashes and licence photos. SQLite creates a database's `-wal` and `-shm` with the
/// database file's own mode, whatever the umask, so making the file (and any folder above it)
/// before SQLite opens it is enough for all three.
///
/// Files that already exist keep their mode: an operator may share one on purpose with a group
/// whose processes all serve it (several processes may share one file). `isReadableByOthers`
/// lets the executable warn about it.
enum DatabaseFiles {
    /// A path SQLite will open as a plain file (not `:memory:`, not a `file:` URI).
    static func isPlainPath(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
    }

    /// Makes every missing folder of `path` with mode 0700 and, when missing, the file itself
    /// with mode 0600 (an empty file is an empty database to SQLite). The modes are set after
    /// creation too, so an unusual umask cannot take the owner's own rights away.
    static func prepare(_ path: String) throws {
        guard isPlainPath(path) else { return }
        try makeFolders(above: path)
        // O_EXCL makes the file only where none is; a symlink to a file not made yet is followed
        // (SQLite would follow it to create the file), so its target is made 0600 too.
        var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if fd < 0 && errno == EEXIST && isDanglingSymlink(path) {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        }
        if fd >= 0 {
            var st = stat()
            // Only a file made just now (empty and ours) has its mode set: one that was there is left as it is.
            if fstat(fd, &st) == 0 && st.st_size == 0 && st.st_uid == getuid() { _ = fchmod(fd, 0o600) }
            close(fd)
        } else if errno != EEXIST {
            throw OpenError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
    }

    private static func isDanglingSymlink(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return false }
        return stat(path, &st) != 0 && errno == ENOENT
    }

    private static func makeFolders(above path: String) throws {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        var missing: [String] = []
        while !parts.isEmpty {
            let folder = parts.joined(separator: "/")
            if folder.isEmpty || access(folder, F_OK) == 0 { break }
            missing.append(folder)
            parts = parts.dropLast()
        }
        for folder in missing.reversed() {
            if mkdir(folder, 0o700) != 0 && errno != EEXIST {
                throw OpenError.cannotOpen(path: path, reason: "cannot make the folder \(folder): \(String(cString: strerror(errno)))")
            }
            _ = chmod(folder, 0o700)
        }
    }

    /// Whether the group or others may read or write the file.
    static func isReadableByOthers(_ path: String) -> Bool {
        guard isPlainPath(path) else { return false }
        var st = stat()
        return stat(path, &st) == 0 && st.st_mode & 0o077 != 0
    }
}
