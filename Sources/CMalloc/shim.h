/* glibc's allocator settings (mallopt, in libc itself: nothing to link). Elsewhere a no-op. */
#if defined(__linux__)
#include <malloc.h>
#endif

/* Blocks up to mmap_threshold bytes come from the heap instead of a mapping of their own, and
 * up to trim_threshold bytes of free memory at the heap's top stay with the process instead of
 * going back to the kernel. Returns 1 when both were set. */
static inline int crpc_keep_heap(int mmap_threshold, int trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
#else
    (void)mmap_threshold; (void)trim_threshold;
    return 0;
#endif
}
