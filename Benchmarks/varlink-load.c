/* varlink-load: N clients each send a call and wait for its reply, for a fixed time, over a
 * Unix socket; prints requests per second and latency percentiles. The load side of
 * `make bench`'s control round-trip rows, for both servers of a row:
 *   varlink-load SOCKET CLIENTS SECONDS          io.accord.Tracker.Status to accordd
 *   varlink-load --resp SOCKET CLIENTS SECONDS   GET key:__rand_int__ to redis-server, the
 *                                                 key and (nil) reply redis-benchmark -t get uses
 * One thread drives every client through epoll, one call in flight per client, as
 * redis-benchmark does: on a 2-core machine, a thread per client (this tool until 2026-12-06)
 * spent the cores on its own switches, which redis-benchmark, the anchor's load, did not, and
 * the row compared the two loaders as much as the two servers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char varlink_call[] = "{\"method\":\"io.accord.Tracker.Status\"}"; /* sent with its NUL */
static const char resp_call[] = "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";

struct client { int fd; double started; size_t have; char reply[65536]; };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

/* Whether `c->reply` holds one whole reply: a NUL-terminated Varlink message, or one RESP
 * bulk string ("$-1\r\n" for a missing key, "$N\r\n<N bytes>\r\n" otherwise). */
static int complete(const struct client *c, int resp) {
    if (!resp) return c->have > 0 && c->reply[c->have - 1] == 0;
    const char *end = memmem(c->reply, c->have, "\r\n", 2);
    if (end == NULL) return 0;
    if (c->reply[0] != '$') return 1; /* an error or a status line: one line */
    long length = strtol(c->reply + 1, NULL, 10);
    return length < 0 || c->have >= (size_t)(end - c->reply) + 2 + (size_t)length + 2;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int resp = argc > 1 && strcmp(argv[1], "--resp") == 0;
    if (argc != 4 + resp) { fprintf(stderr, "usage: varlink-load [--resp] SOCKET CLIENTS SECONDS\n"); return 2; }
    const char *path = argv[1 + resp];
    int count = atoi(argv[2 + resp]);
    double seconds = atof(argv[3 + resp]);
    const char *call = resp ? resp_call : varlink_call;
    size_t call_size = resp ? sizeof resp_call - 1 : sizeof varlink_call;
    struct client *clients = calloc(count, sizeof *clients);
    int epoll_fd = epoll_create1(0);
    size_t capacity = 1 << 20, total = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    int failed = 0;
    for (int i = 0; i < count; i++) {
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        strncpy(address.sun_path, path, sizeof address.sun_path - 1);
        clients[i].fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(clients[i].fd, (struct sockaddr *)&address, sizeof address) < 0) {
            perror(path);
            printf("{\"requests\": 0, \"rps\": 0, \"p50_ms\": 0, \"p99_ms\": 0, \"failed\": 1}\n");
            return 1;
        }
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &clients[i] };
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, clients[i].fd, &event);
    }
    double end = now() + seconds;
    for (int i = 0; i < count; i++) {
        clients[i].started = now();
        if (send(clients[i].fd, call, call_size, MSG_NOSIGNAL) != (ssize_t)call_size) failed = 1;
    }
    struct epoll_event events[256];
    int active = count;
    while (active > 0 && !failed) {
        int ready = epoll_wait(epoll_fd, events, 256, 1000);
        if (ready < 0) { perror("epoll_wait"); failed = 1; break; }
        /* A server that stops answering without closing fails the run instead of hanging it. */
        if (ready == 0 && now() > end + 10) { fprintf(stderr, "varlink-load: no reply for 10 s past the end\n"); failed = 1; }
        for (int e = 0; e < ready; e++) {
            struct client *c = events[e].data.ptr;
            ssize_t n = read(c->fd, c->reply + c->have, sizeof c->reply - c->have);
            if (n <= 0) { failed = 1; break; }
            c->have += n;
            if (!complete(c, resp)) {
                if (c->have == sizeof c->reply) { failed = 1; break; }
                continue;
            }
            double t = now();
            if (total == capacity) latencies = realloc(latencies, (capacity *= 2) * sizeof *latencies);
            latencies[total++] = t - c->started;
            c->have = 0;
            if (t >= end) {
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
                active--;
                continue;
            }
            c->started = t;
            if (send(c->fd, call, call_size, MSG_NOSIGNAL) != (ssize_t)call_size) { failed = 1; break; }
        }
    }
    qsort(latencies, total, sizeof *latencies, compare);
    printf("{\"requests\": %zu, \"rps\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"failed\": %d}\n", total, total / seconds,
           total ? latencies[total / 2] * 1000 : 0, total ? latencies[(size_t)(total * 0.99)] * 1000 : 0, failed);
    return failed;
}
