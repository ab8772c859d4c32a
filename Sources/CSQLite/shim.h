#include <sqlite3.h>

/// Turns off SQLite's memory-use statistics, which take a global mutex on every allocation.
/// Swift cannot call the variadic sqlite3_config itself. Must run before the first connection
/// opens; later it does nothing (SQLITE_MISUSE).
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
