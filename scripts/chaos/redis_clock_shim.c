/* Moves the wall clock of the process it is preloaded into (LD_PRELOAD) by the milliseconds written in the
 * file named by $CHAOS_CLOCK_OFFSET_FILE, re-read every 5 ms of monotonic time: rewrite the file to step the
 * clock. The chaos scenario "clock-back" runs redis-server under it, as an NTP step or a failover to a
 * replica with a skewed clock would. libfaketime does the same in principle but cannot start Debian's
 * redis-server (its clock_gettime recurses through jemalloc's initialisation).
 *
 * Only CLOCK_REALTIME readings move (clock_gettime, gettimeofday, time); monotonic clocks do not, as with a
 * real NTP step. Nothing here allocates: it runs inside the allocator's own calls. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long cached_offset_ns;
static long long next_read_ns;

static long long offset_ns(void) {
    struct timespec now;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    long long monotonic = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (monotonic < next_read_ns) return cached_offset_ns;
    next_read_ns = monotonic + 5000000LL;
    const char *path = getenv("CHAOS_CLOCK_OFFSET_FILE");
    if (path == NULL) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return cached_offset_ns;
    char text[32];
    ssize_t length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length > 0) {
        text[length] = '\0';
        cached_offset_ns = strtoll(text, NULL, 10) * 1000000LL;
    }
    return cached_offset_ns;
}

int clock_gettime(clockid_t clock, struct timespec *time) {
    int result = (int)syscall(SYS_clock_gettime, clock, time);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        long long ns = (long long)time->tv_sec * 1000000000LL + time->tv_nsec + offset_ns();
        time->tv_sec = ns / 1000000000LL;
        time->tv_nsec = ns % 1000000000LL;
    }
    return result;
}

int gettimeofday(struct timeval *restrict value, void *restrict zone) {
    (void)zone;
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -1;
    value->tv_sec = now.tv_sec;
    value->tv_usec = now.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *result) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (result != NULL) *result = now.tv_sec;
    return now.tv_sec;
}
