#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "accord_shim.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* --- the notify hook's process ---------------------------------------------------------------
 * Landlock (Linux 5.13+): an unprivileged process can take away its own file system rights.
 * The rules are built in the daemon; the child applies them just before exec. The numbers
 * are the kernel ABI's, spelled out so that older kernel headers still build this. */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif
#define ACCORD_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define ACCORD_LANDLOCK_RULE_PATH_BENEATH 1

struct accord_landlock_ruleset_attr { uint64_t handled_access_fs; };
struct accord_landlock_path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

int accord_landlock_abi(void) {
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, ACCORD_LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? -errno : (int)abi;
}

int accord_landlock_ruleset(uint64_t handled) {
    struct accord_landlock_ruleset_attr attr = { .handled_access_fs = handled };
    long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    return fd < 0 ? -errno : (int)fd;
}

int accord_landlock_allow(int ruleset, const char *path, uint64_t access) {
    int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct accord_landlock_path_beneath_attr attr = { .allowed_access = access, .parent_fd = fd };
    long r = syscall(SYS_landlock_add_rule, ruleset, ACCORD_LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
    int saved = errno;
    close(fd);
    return r < 0 ? -saved : 0;
}

/* fork and exec, because posix_spawn cannot apply Landlock or clear groups in between. The
 * child does only async-signal-safe things (it is a copy of a multithreaded process). */
int accord_spawn_hook(const char *path, char *const argv[], char *const envp[], int ruleset,
                      int clear_groups, pid_t *pid_out) {
    return accord_spawn_hook_input(path, argv, envp, ruleset, clear_groups, -1, pid_out);
}

int accord_input_file(const void *data, size_t length) {
    int fd = memfd_create("accord-hook-input", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    const char *bytes = data;
    size_t done = 0;
    while (done < length) {
        ssize_t n = write(fd, bytes + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { int error = errno; close(fd); return -error; }
        done += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) { int error = errno; close(fd); return -error; }
    return fd;
}

int accord_spawn_hook_input(const char *path, char *const argv[], char *const envp[], int ruleset,
                            int clear_groups, int input, pid_t *pid_out) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -errno;
    /* Every signal blocked across the fork, so that no handler of the daemon runs in the
     * child before the dispositions are reset; the parent's mask is restored after. */
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid_t pid = _Fork();
    if (pid == 0) {
        int error = 0;
        struct sigaction action = { .sa_handler = SIG_DFL };
        sigemptyset(&action.sa_mask);
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &action, NULL);  /* 32, 33: EINVAL, fine */
        }
        if (setpgid(0, 0) < 0) { error = errno; goto failed; }
        int null = input >= 0 ? input : open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0) { error = errno; goto failed; }
        if (dup2(null, 0) < 0) { error = errno; goto failed; }  /* dup2 clears close-on-exec on 0 */
        /* Root drops its supplementary groups; any other uid cannot (EPERM) and keeps them. */
        if (clear_groups && setgroups(0, NULL) < 0 && errno != EPERM) { error = errno; goto failed; }
        if (ruleset >= 0) {
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { error = errno; goto failed; }
            if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) { error = errno; goto failed; }
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
        error = errno;
    failed:
        (void)!write(report[1], &error, sizeof error);
        _exit(127);
    }
    int fork_error = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    close(report[1]);
    if (pid < 0) { close(report[0]); return -fork_error; }
    setpgid(pid, pid);  /* both sides, so the group exists before either goes on (EACCES after exec: fine) */
    int child_error = 0;
    ssize_t n;
    do { n = read(report[0], &child_error, sizeof child_error); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof child_error) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -child_error;
    }
    *pid_out = pid;
    return 0;
}

pid_t accord_exited_child(void) {
    siginfo_t info;
    info.si_pid = 0;
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0) return -errno;
    return info.si_pid;
}

int accord_signal_ignored(int signal_number) {
    struct sigaction current;
    if (sigaction(signal_number, NULL, &current) != 0) return -errno;
    return (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_IGN;
}

long accord_unsorted_free_chunks(void) {
    char *report = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&report, &length);
    if (stream == NULL) return -errno;
    int failed = malloc_info(0, stream);
    fclose(stream);
    if (failed != 0) { free(report); return -EIO; }
    long chunks = 0;
    for (const char *at = report; (at = strstr(at, "<unsorted ")) != NULL; at++) {
        const char *count = strstr(at, "count=\"");
        if (count != NULL) chunks += strtol(count + 7, NULL, 10);
    }
    free(report);
    return chunks;
}

int accord_malloc_is_glibc(void) {
    return dlsym(RTLD_DEFAULT, "__asan_init") == NULL && dlsym(RTLD_DEFAULT, "__tsan_init") == NULL;
}

void accord_trim_free_memory(void) {
    malloc_trim(0);
}

void accord_sort_unsorted_chunks(void) {
    // One request too large for the small bins sorts at most 10,000 chunks of the unsorted bin
    // (glibc's MAX_ITERS) and then takes its block from the top of the heap; freed, the block
    // goes back there. 1,024 of them sort up to 10 million chunks, and cost a few microseconds
    // each once the bin is empty.
    for (int round = 0; round < 1024; round++) {
        void *volatile block = malloc(64 * 1024);
        free(block);
    }
}

void accord_release_free_memory(void) {
    accord_trim_free_memory();
    accord_sort_unsorted_chunks();
}

long accord_release_clean_code_pages(void) {
    FILE *smaps = fopen("/proc/self/smaps", "re");
    if (smaps == NULL) return -errno;
    char line[4096];
    unsigned long start = 0, end = 0;
    long rss = 0, released = 0;
    int candidate = 0;
    while (fgets(line, sizeof line, smaps) != NULL) {
        unsigned long from, to;
        char perms[5];
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &from, &to, perms, &path_at) == 3) {
            // Executable code mapped from a file: the binary's text and the libraries'.
            candidate = strcmp(perms, "r-xp") == 0 && path_at > 0 && line[path_at] == '/';
            start = from;
            end = to;
            rss = 0;
            continue;
        }
        if (!candidate) continue;
        long kb;
        if (sscanf(line, "Rss: %ld kB", &kb) == 1) rss = kb;
        // Anonymous follows Rss in every smaps entry: it counts the pages of the mapping that
        // were written since it was mapped (copied on write, e.g. a debugger's breakpoint),
        // which MADV_DONTNEED would lose, so such a mapping is left alone. (Private_Dirty would
        // not do: it also counts page-cache pages not yet written back, as after a build.)
        if (sscanf(line, "Anonymous: %ld kB", &kb) == 1) {
            candidate = 0;
            if (kb == 0 && rss > 0 && madvise((void *)start, end - start, MADV_DONTNEED) == 0) released += rss;
        }
    }
    fclose(smaps);
    return released;
}

int accord_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int accord_epoll_watch(int epoll_fd, int fd, uint64_t token) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLRDHUP, .data.u64 = token };
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

int accord_epoll_forget(int epoll_fd, int fd) {
    return epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL) == 0 ? 0 : -errno;
}

int accord_epoll_wait(int epoll_fd, uint64_t *tokens, int capacity) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int ready = epoll_wait(epoll_fd, events, capacity, -1);
    if (ready < 0) return -errno;
    for (int index = 0; index < ready; index++) tokens[index] = events[index].data.u64;
    return ready;
}

int accord_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}
