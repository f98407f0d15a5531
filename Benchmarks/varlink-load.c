/* varlink-load: N clients each send io.accord.Tracker.Status and wait for the reply, for a
 * fixed time, over the accordd socket; prints requests per second and latency percentiles.
 * The load side of `make bench`'s control round-trip row (redis-benchmark is its anchor).
 *   usage: varlink-load SOCKET CLIENTS SECONDS */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "{\"method\":\"io.accord.Tracker.Status\"}";
static const char *path;
static double seconds;

struct worker { pthread_t thread; double *latencies; size_t count, capacity; int failed; };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void *run(void *arg) {
    struct worker *w = arg;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { w->failed = 1; return NULL; }
    char buffer[65536];
    double end = now() + seconds;
    while (now() < end) {
        double start = now();
        if (send(fd, request, sizeof request, MSG_NOSIGNAL) != sizeof request) { w->failed = 1; break; }
        for (;;) {
            ssize_t n = read(fd, buffer, sizeof buffer);
            if (n <= 0) { w->failed = 1; goto done; }
            if (buffer[n - 1] == 0) break;
        }
        if (w->count == w->capacity) {
            w->capacity = w->capacity ? w->capacity * 2 : 4096;
            w->latencies = realloc(w->latencies, w->capacity * sizeof *w->latencies);
        }
        w->latencies[w->count++] = now() - start;
    }
done:
    close(fd);
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: varlink-load SOCKET CLIENTS SECONDS\n"); return 2; }
    path = argv[1];
    int clients = atoi(argv[2]);
    seconds = atof(argv[3]);
    struct worker *workers = calloc(clients, sizeof *workers);
    for (int i = 0; i < clients; i++) pthread_create(&workers[i].thread, NULL, run, &workers[i]);
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) { pthread_join(workers[i].thread, NULL); total += workers[i].count; failed |= workers[i].failed; }
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) { memcpy(all + k, workers[i].latencies, workers[i].count * sizeof *all); k += workers[i].count; }
    qsort(all, total, sizeof *all, compare);
    printf("{\"requests\": %zu, \"rps\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"failed\": %d}\n", total, total / seconds,
           total ? all[total / 2] * 1000 : 0, total ? all[(size_t)(total * 0.99)] * 1000 : 0, failed);
    return failed;
}
