// Loads libpq.so.5 on first use and resolves the calls accord makes (see include/clibpq.h).
#include "clibpq.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct accord_libpq table;
static const struct accord_libpq *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define RESOLVE(field, symbol)                                                              \
    do {                                                                                    \
        *(void **)(&table.field) = dlsym(handle, #symbol);                                  \
        if (table.field == NULL) {                                                          \
            snprintf(failure, sizeof failure, "libpq.so.5 has no %s: %s", #symbol, dlerror()); \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static void load(void) {
    void *handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(failure, sizeof failure, "cannot load libpq.so.5 (apt-get install libpq5): %s", dlerror());
        return;
    }
    RESOLVE(connectdbParams, PQconnectdbParams);
    RESOLVE(status, PQstatus);
    RESOLVE(errorMessage, PQerrorMessage);
    RESOLVE(finish, PQfinish);
    RESOLVE(setNoticeProcessor, PQsetNoticeProcessor);
    RESOLVE(exec, PQexec);
    RESOLVE(execParams, PQexecParams);
    RESOLVE(resultStatus, PQresultStatus);
    RESOLVE(resultErrorMessage, PQresultErrorMessage);
    RESOLVE(resultErrorField, PQresultErrorField);
    RESOLVE(ntuples, PQntuples);
    RESOLVE(nfields, PQnfields);
    RESOLVE(getisnull, PQgetisnull);
    RESOLVE(getvalue, PQgetvalue);
    RESOLVE(cmdTuples, PQcmdTuples);
    RESOLVE(clear, PQclear);
    loaded = &table;
}

const struct accord_libpq *accord_libpq_load(char *error, size_t size) {
    pthread_once(&once, load);
    if (loaded == NULL && error != NULL && size > 0) {
        snprintf(error, size, "%s", failure);
    }
    return loaded;
}
