/// Group commit: several requests' writes in one transaction and one fsync (see `beginGroup`).
extension SQLiteConnection {
    /// Where a group stands; kept by the connection, changed here and read by `write`,
    /// `checkpoint` and the file check.
    struct GroupState {
        var open = false
        /// A read transaction holds the group's reads until its first write (`beginGroup`).
        var reading = false
        var begun = false
        var rolledBack = false
        var checkpointAfter = false
        var fileChecked = false
    }

    /// Starts a group: the writes until `endGroup` share one transaction (begun at the first
    /// write) and one commit, so one fsync makes them all durable.
    ///
    /// A request's write that fails before changing anything (the usual case: its checks come
    /// first) leaves the group as it was. One that fails after changing rows cannot be undone
    /// alone without a savepoint per request, which cost 14% of an add; instead the whole group is
    /// rolled back, every later write in it is refused, and `endGroup` throws
    /// `GroupRolledBack`: the caller runs each request of the group again alone.
    ///
    /// Until its first write the group reads in one read transaction (`BEGIN`, deferred: one
    /// snapshot of the file), so what its requests read agrees, and the read cache serves the
    /// caller, the types and the settings once for all of them, as it does inside a write
    /// transaction: a pipelined `users.get` spent a sixth of its instructions checking the
    /// session again. The first write ends that read transaction and begins the write one.
    func beginGroup() {
        group.open = true
        group.begun = false
        group.rolledBack = false
        group.fileChecked = false
        group.reading = (try? beginRead()) != nil
    }

    private func beginRead() throws {
        try run("BEGIN", [])
        nextTransaction()
    }

    /// Takes a new snapshot for the group's reads, when it is still reading: requests read from
    /// the input after the snapshot was taken may have been sent after another process committed
    /// (a deactivation, say), and must see that commit (Protocol/README.md §9: at their next call). Inside the
    /// group's write transaction nothing is needed: it holds the lock, so nobody else commits.
    func renewReadSnapshot() {
        guard group.reading else { return }
        endRead()
        group.reading = (try? beginRead()) != nil
    }

    /// Whether the open group has begun no write (nor failed one): all it read was committed
    /// before it began, so its answers may go out before it ends.
    var groupChangedNothing: Bool { group.open && !group.begun && !group.rolledBack }

    /// Ends the group's read transaction, if one is open: it changed nothing.
    private func endRead() {
        guard group.reading else { return }
        group.reading = false
        if isInTransaction { _ = try? run("COMMIT", []) }
    }

    /// Commits the group. On failure everything in it is rolled back and the error thrown: the
    /// caller runs its requests again one by one.
    func endGroup() throws {
        group.open = false
        endRead()
        if group.rolledBack {
            group.rolledBack = false
            group.begun = false
            group.checkpointAfter = false
            throw GroupRolledBack()
        }
        guard group.begun else { return }
        group.begun = false
        do {
            try run("COMMIT", [])
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK", []) }
            group.checkpointAfter = false
            throw error
        }
        if group.checkpointAfter {
            group.checkpointAfter = false
            checkpoint()
        }
    }

    func writeInGroup<T>(_ body: () throws -> T) throws -> T {
        if group.rolledBack { throw GroupRolledBack() }
        if !group.begun {
            endRead()
            try begin()
            group.begun = true
        }
        let before = totalChanges
        do {
            return try body()
        } catch {
            // SQLite may have ended the transaction itself (some I/O errors do): that too loses
            // the group's earlier writes.
            if totalChanges != before || !isInTransaction {
                if isInTransaction { _ = try? run("ROLLBACK", []) }
                group.rolledBack = true
            }
            throw error
        }
    }
}
