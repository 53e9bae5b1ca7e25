/*
 * holder.c - who runs a job or holds a lease, and whether it is still alive.
 *
 * A holder is (host name, boot id, pid, start time of the process in clock
 * ticks since boot). On the machine that ran it, a holder is dead the
 * moment its process is gone: /proc/PID/stat is missing, names a zombie,
 * or shows another start time (the pid was reused). The boot id tells
 * whether "this machine" is the one the holder ran on since the last boot;
 * the host name must match too, so two containers with separate pid
 * namespaces but one kernel are not confused as long as their host names
 * differ. A holder on another machine cannot be checked: it is alive until
 * its lease (or its job's expiry) lapses without renewal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compact/compact_internal.h"

static bool read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/*
 * Reads /proc/PID/stat: the state letter and the start time (field 22).
 * The command name (field 2) is in parentheses and may hold spaces or
 * parentheses itself, so fields are counted from the last ')'.
 */
static bool proc_stat(int64_t pid, char *state, int64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return false;
    p += 2;
    *state = *p;
    /* After ')': field 3 is the state; the start time is field 22, 19 fields on. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return false;
        p++;
    }
    char *e;
    errno = 0;
    long long v = strtoll(p, &e, 10);
    if (errno != 0 || e == p)
        return false;
    *start = v;
    return true;
}

lr_status lr__holder_self(lr_job_holder *h, lr_error *err)
{
    char state;
    memset(h, 0, sizeof *h);
    if (gethostname(h->host, sizeof h->host - 1) != 0 || h->host[0] == '\0')
        snprintf(h->host, sizeof h->host, "localhost");
    h->host[sizeof h->host - 1] = '\0';
    if (!read_line("/proc/sys/kernel/random/boot_id", h->boot_id, sizeof h->boot_id))
        h->boot_id[0] = '\0';
    h->pid = (int64_t)getpid();
    if (!proc_stat(h->pid, &state, &h->start_ticks))
        return lr_error_set(err, LR_EIO,
                            "cannot read /proc/self/stat: compaction needs /proc to identify "
                            "its process");
    return LR_OK;
}

/* True when h ran on this machine since its last boot. */
static bool same_machine(const lr_job_holder *h)
{
    static __thread lr_job_holder self;
    static __thread bool have;
    if (!have) {
        if (lr__holder_self(&self, NULL) != LR_OK)
            return false;
        have = true;
    }
    return h->boot_id[0] != '\0' && strcmp(h->boot_id, self.boot_id) == 0 &&
           strcmp(h->host, self.host) == 0;
}

bool lr__holder_alive(void *ctx, const lr_job_holder *h)
{
    char state;
    int64_t start;
    (void)ctx;
    if (!same_machine(h))
        return true; /* another machine: its expiry decides */
    if (!proc_stat(h->pid, &state, &start))
        return false;
    if (state == 'Z' || state == 'X')
        return false;
    return start == h->start_ticks;
}

bool lr__job_dead(const lr_compact_job *j, int64_t now_us)
{
    if (j->status != LR_JOB_IN_PROGRESS)
        return false;
    if (!lr__holder_alive(NULL, &j->holder))
        return true;
    return j->expires_us < now_us;
}
