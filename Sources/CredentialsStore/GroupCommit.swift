/// Group commit: several requests' writes in one transaction and one fsync (see `beginGroup`).
extension Database {
    /// Where a group stands; kept by the connection, changed here and read by `write`,
    /// `checkpoint` and the file check.
    struct GroupState {
        var open = false
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
    public func beginGroup() {
        group.open = true
        group.begun = false
        group.rolledBack = false
        group.fileChecked = false
    }

    /// Commits the group. On failure everything in it is rolled back and the error thrown: the
    /// caller runs its requests again one by one.
    public func endGroup() throws {
        group.open = false
        if group.rolledBack {
            group.rolledBack = false
            group.begun = false
            group.checkpointAfter = false
            throw GroupRolledBack()
        }
        guard group.begun else { return }
        group.begun = false
        do {
            try run("COMMIT")
        } catch {
            if isInTransaction { _ = try? run("ROLLBACK") }
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
                if isInTransaction { _ = try? run("ROLLBACK") }
                group.rolledBack = true
            }
            throw error
        }
    }
}
