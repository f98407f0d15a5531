// libpq, PostgreSQL's own C client (Debian: libpq-dev), for the optional PostgreSQL state store.
// Synchronous calls suit the engine, which runs on one Dispatch queue (docs/design.md §15).
#include <libpq-fe.h>
