// PostgreSQL's client library, libpq (Debian: libpq-dev; pkg-config names it "libpq", which
// gives the include path /usr/include/postgresql).
#include <libpq-fe.h>
