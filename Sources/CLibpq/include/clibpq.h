// libpq, PostgreSQL's C client (Debian: libpq5, headers from libpq-dev), loaded with dlopen the
// first time a [state] url asks for PostgreSQL, rather than linked: linking it pulls 22 shared
// libraries (OpenSSL, GnuTLS, Kerberos, LDAP, SASL) into every accordd, and measured +5.2 MB of
// idle RSS for users who keep the state in SQLite, who need none of it.
#ifndef ACCORD_CLIBPQ_H
#define ACCORD_CLIBPQ_H
#include <stddef.h>
// An absolute path: Debian's libpq-dev installs here (pkg-config --cflags libpq says so), and a
// system library target would add -lpq, which this target exists to avoid.
#include "/usr/include/postgresql/libpq-fe.h"

// The libpq calls accord makes, as function pointers resolved from libpq.so.5.
struct accord_libpq {
    __typeof__(PQconnectdbParams) *connectdbParams;
    __typeof__(PQstatus) *status;
    __typeof__(PQerrorMessage) *errorMessage;
    __typeof__(PQfinish) *finish;
    __typeof__(PQsetNoticeProcessor) *setNoticeProcessor;
    __typeof__(PQexec) *exec;
    __typeof__(PQexecParams) *execParams;
    __typeof__(PQresultStatus) *resultStatus;
    __typeof__(PQresultErrorMessage) *resultErrorMessage;
    __typeof__(PQresultErrorField) *resultErrorField;
    __typeof__(PQntuples) *ntuples;
    __typeof__(PQnfields) *nfields;
    __typeof__(PQgetisnull) *getisnull;
    __typeof__(PQgetvalue) *getvalue;
    __typeof__(PQcmdTuples) *cmdTuples;
    __typeof__(PQclear) *clear;
};

// Loads libpq once (thread-safe); NULL with the reason in `error` when it cannot.
const struct accord_libpq *accord_libpq_load(char *error, size_t size);
#endif
