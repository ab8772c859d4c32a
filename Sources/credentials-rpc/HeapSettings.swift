import CMalloc

/// How the process's allocator keeps memory between requests.
enum HeapSettings {
    /// Large answers are built and copied in buffers of their own size: a team's compliance
    /// report of 1,000 members is 466 KB, in four of them. With glibc's defaults each such block
    /// got a mapping of its own, and freed memory at the heap's top went back to the kernel, so
    /// every report faulted its pages in again (177 page faults a report; on this machine's
    /// virtual CPUs a fault with its zeroed page costs several microseconds). Blocks up to
    /// 16 MiB now come from the heap, and up to 64 MiB of free heap stays. 100 reports: 20,357
    /// -> 2,270 page faults, 558 -> 400 ms of CPU (Protocol/PERFORMANCE.md, "2026-12-03 (night)").
    /// The peak RSS the memory target measures is the same either way: memory kept is memory
    /// that was in use at the peak.
    static let mmapThresholdBytes: Int32 = 16 << 20
    static let trimThresholdBytes: Int32 = 64 << 20

    @discardableResult
    static func apply() -> Bool { crpc_keep_heap(mmapThresholdBytes, trimThresholdBytes) == 1 }
}
