#define _GNU_SOURCE
#include "accord_shim.h"
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

int accord_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -errno;
    *pid = cred.pid; *uid = cred.uid; *gid = cred.gid;
    return 0;
}

int accord_peer_groups(int fd, gid_t *groups, int capacity) {
    socklen_t len = (socklen_t)(capacity * (int)sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
        if (errno == ERANGE) return -(int)(len / sizeof(gid_t)) - 1;
        return INT_MIN;
    }
    return (int)(len / sizeof(gid_t));
}

int accord_accept_nonblocking(int listen_fd) {
    return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* The expiry the clock-change timer is armed at: the largest time_t the kernel takes. An
 * absolute CLOCK_REALTIME expiry is only validated for tv_sec >= 0 and then clamped to
 * KTIME_MAX (2262-04-11), so on 64-bit Linux that is the largest time_t itself; the halving
 * below is for kernels or ABIs that refuse it with EINVAL. INT_MAX, used before, is
 * 2038-01-19T03:14:07Z: after it the timer expired once and the watch was never re-armed. */
int accord_clock_change_arm_at(int fd, time_t at) {
    struct itimerspec spec = { .it_value = { .tv_sec = at, .tv_nsec = 0 } };
    if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL) < 0) return -errno;
    return 0;
}

int accord_clock_change_rearm(int fd) {
    time_t at = (time_t)(((uint64_t)1 << (sizeof(time_t) * 8 - 1)) - 1);
    for (;;) {
        int r = accord_clock_change_arm_at(fd, at);
        if (r != -EINVAL || at <= (time_t)INT_MAX) return r;
        at /= 2;
    }
}

int accord_clock_change_fd(void) {
    int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -errno;
    int r = accord_clock_change_rearm(fd);
    if (r < 0) { close(fd); return r; }
    return fd;
}

int accord_clock_change_read(int fd) {
    uint64_t expirations = 0;
    ssize_t n = read(fd, &expirations, sizeof expirations);
    if (n < 0 && errno == EAGAIN) return 0;
    int changed = n < 0 && errno == ECANCELED;
    int failed = n < 0 && !changed ? -errno : 0;
    /* A set clock cancels the timer and an expiry disarms it: either way it must be armed
     * again, or no later clock change would ever be reported. */
    int r = accord_clock_change_rearm(fd);
    if (failed) return failed;
    if (r < 0) return r;
    return changed ? 1 : 2;
}

int64_t accord_clock_change_remaining(int fd) {
    struct itimerspec spec;
    if (timerfd_gettime(fd, &spec) < 0) return -errno;
    if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) return 0;
    return (int64_t)spec.it_value.tv_sec + (spec.it_value.tv_nsec > 0);
}

ssize_t accord_send(int fd, const void *buf, size_t len) {
    return send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}
