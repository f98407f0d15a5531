#ifndef ACCORD_SHIM_H
#define ACCORD_SHIM_H
#include <sys/types.h>
#include <stdint.h>
#include <time.h>

/// Peer credentials of a connected Unix socket (SO_PEERCRED). Returns 0 or -errno.
int accord_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// The supplementary groups of a connected Unix socket's peer as the kernel recorded them at
/// connect time (SO_PEERGROUPS, Linux 4.13). Returns how many were written; when `capacity` is
/// too small, -(needed + 1); INT_MIN when the kernel cannot tell.
int accord_peer_groups(int fd, gid_t *groups, int capacity);

/// accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC. Returns the fd or -1 with errno set.
int accord_accept_nonblocking(int listen_fd);

/// A CLOCK_REALTIME timerfd armed at the largest expiry the kernel accepts (2262 on 64-bit
/// Linux) with TFD_TIMER_CANCEL_ON_SET, so that a read fails with ECANCELED when the wall
/// clock is set. Returns fd or -errno.
int accord_clock_change_fd(void);

/// Arms the timerfd at that largest expiry again. Returns 0 or -errno.
int accord_clock_change_rearm(int fd);

/// Arms the timerfd at the absolute CLOCK_REALTIME second `at` (tests: an expiry now). Returns 0 or -errno.
int accord_clock_change_arm_at(int fd, time_t at);

/// Reads the timerfd once it is readable and re-arms it, whether the clock was set or the
/// timer expired. Returns 1 when the wall clock was set, 2 when the timer expired (nothing
/// to do), 0 when there was nothing to read, or -errno.
int accord_clock_change_read(int fd);

/// Whole seconds until the timerfd expires (rounded up), 0 when it is disarmed, or -errno.
int64_t accord_clock_change_remaining(int fd);

/// Sends with MSG_NOSIGNAL|MSG_DONTWAIT so that a vanished client never raises SIGPIPE.
ssize_t accord_send(int fd, const void *buf, size_t len);

/// The Landlock ABI version the kernel offers (1, 2, ...), or -errno (ENOSYS, EOPNOTSUPP:
/// none; EPERM: a seccomp filter refuses it).
int accord_landlock_abi(void);

/// A Landlock ruleset handling the file system rights `handled`. Returns its fd (close-on-exec) or -errno.
int accord_landlock_ruleset(uint64_t handled);

/// Allows `access` beneath `path` (opened O_PATH|O_NOFOLLOW). Returns 0 or -errno.
int accord_landlock_allow(int ruleset, const char *path, uint64_t access);

/// Starts the notify hook `path` with `argv` and `envp`: every signal at its default
/// disposition and none blocked, in a process group of its own (pgid = its pid), stdin from
/// /dev/null, without supplementary groups when `clear_groups` and the daemon may drop them,
/// and restricted by the Landlock `ruleset` when it is >= 0. Returns 0 with *pid_out set, or
/// -errno when the child could not be set up or exec'd (the child is reaped then).
int accord_spawn_hook(const char *path, char *const argv[], char *const envp[], int ruleset,
                      int clear_groups, pid_t *pid_out);

/// As accord_spawn_hook, with standard input from `input` (an fd the child gets as 0; -1 for
/// /dev/null). The parent keeps `input` open; closing it is the caller's.
int accord_spawn_hook_input(const char *path, char *const argv[], char *const envp[], int ruleset,
                            int clear_groups, int input, pid_t *pid_out);

/// A memory file (memfd, close-on-exec) holding `length` bytes of `data`, positioned at its
/// start: a hook's standard input that never blocks the daemon, whatever its size. Returns the
/// fd or -errno.
int accord_input_file(const void *data, size_t length);

/// The pid of a child that exited, left unreaped (waitid WNOWAIT), so that its process group
/// id stays reserved while the rest of the group is killed; 0 when none, or -errno.
pid_t accord_exited_child(void);

/// 1 when the signal's disposition is SIG_IGN, 0 when not, -errno on error: the daemon waits
/// at start-up until Dispatch has put its handler in place of the SIG_IGN it starts with.
int accord_signal_ignored(int signal_number);

/// Hands the free memory of every malloc arena back to the kernel, then sorts the calling
/// thread's unsorted bin: accord_trim_free_memory and accord_sort_unsorted_chunks, in turn.
void accord_release_free_memory(void);

/// glibc malloc_trim(0): a thread's arena keeps what it freed, so a large transient buffer
/// stays resident otherwise. It merges the small freed chunks into the unsorted bin first.
void accord_trim_free_memory(void);

/// Sorts the calling thread's unsorted bin into the small and large bins, so that the next
/// request does not: after a plan of 100,000 items, the first reminder to fire spent 14-24 ms
/// in _int_malloc sorting what malloc_trim had left there.
void accord_sort_unsorted_chunks(void);

/// The chunks in the unsorted bins of all malloc arenas (glibc malloc_info), or -errno.
long accord_unsorted_free_chunks(void);

/// 1 when malloc is glibc's, 0 under AddressSanitizer or ThreadSanitizer, whose allocators
/// replace it (malloc_trim and malloc_info then report nothing).
int accord_malloc_is_glibc(void);

/// Drops this process's mappings of the clean pages of code mapped from files (its own text and
/// its libraries', `r-xp` in /proc/self/smaps, none of it written since it was mapped) with
/// madvise(MADV_DONTNEED). The pages stay in the page cache: the next call into them is a minor
/// fault that maps them back from there, the same code. A mapping with a page copied on write
/// is left alone. Returns the kB that were resident, or -errno when smaps cannot be read.
long accord_release_clean_code_pages(void);

/// epoll for the control clients (ReadinessLoop): a close-on-exec instance, or -1 with errno.
int accord_epoll_create(void);

/// Watches `fd` for input (or its peer's hang-up), level-triggered: it is reported by every
/// epoll_wait while it has unread input, until forgotten. 0 or -errno.
int accord_epoll_watch(int epoll_fd, int fd, uint64_t token);

/// Stops watching `fd`. 0 or -errno.
int accord_epoll_forget(int epoll_fd, int fd);

/// A non-blocking, close-on-exec eventfd (ReadinessLoop's stop signal), or -1 with errno.
int accord_eventfd(void);

/// Waits, without a timeout, for watched descriptors: puts the tokens of up to `capacity` (at
/// most 64) ready ones in `tokens` and returns how many, or -errno (-EINTR included).
int accord_epoll_wait(int epoll_fd, uint64_t *tokens, int capacity);

#endif
