#define _GNU_SOURCE
#include "accord_shim.h"
#include <errno.h>
#include <limits.h>
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

int accord_clock_change_rearm(int fd) {
    /* An absolute expiry far away: the timer itself never fires, only the cancel-on-set does. */
    struct itimerspec spec = { .it_value = { .tv_sec = (time_t)INT_MAX, .tv_nsec = 0 } };
    if (timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL) < 0) return -errno;
    return 0;
}

int accord_clock_change_fd(void) {
    int fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -errno;
    int r = accord_clock_change_rearm(fd);
    if (r < 0) { close(fd); return r; }
    return fd;
}

ssize_t accord_send(int fd, const void *buf, size_t len) {
    return send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}
