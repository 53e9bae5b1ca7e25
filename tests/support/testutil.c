/*
 * testutil.c - see testutil.h.
 */
#include "support/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

char *lr_test_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", base, prefix);
    if (mkdtemp(tmpl) == NULL)
        return NULL;
    return strdup(tmpl);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void lr_test_rmtree(const char *path)
{
    if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0)
        return;
    nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

const char *lr_test_larder_bin(void)
{
    const char *b = getenv("LARDER_BIN");
    return (b && b[0]) ? b : "build/larder";
}

static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = *cap ? *cap * 2 : 4096;
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (nb == NULL)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

int lr_test_run(char *const argv[], const char *in, lr_test_proc *p)
{
    int po[2], pe[2], pi[2];
    pid_t pid;
    size_t ocap = 0, ecap = 0, in_len = in ? strlen(in) : 0, in_off = 0;

    memset(p, 0, sizeof *p);
    if (pipe(po) || pipe(pe) || pipe(pi))
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pi[0], 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(pi[0]); close(pi[1]); close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(pi[0]);
    close(po[1]);
    close(pe[1]);
    signal(SIGPIPE, SIG_IGN);
    if (in_len == 0) {
        close(pi[1]);
        pi[1] = -1;
    } else {
        fcntl(pi[1], F_SETFL, O_NONBLOCK);
    }
    append(&p->out, &p->out_len, &ocap, "", 0);
    append(&p->err, &p->err_len, &ecap, "", 0);
    int open_fds = 2;
    while (open_fds > 0 || pi[1] >= 0) {
        struct pollfd fds[3];
        int n = 0;
        if (po[0] >= 0) fds[n++] = (struct pollfd){po[0], POLLIN, 0};
        if (pe[0] >= 0) fds[n++] = (struct pollfd){pe[0], POLLIN, 0};
        if (pi[1] >= 0) fds[n++] = (struct pollfd){pi[1], POLLOUT, 0};
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == pi[1]) {
                ssize_t w = write(pi[1], in + in_off, in_len - in_off);
                if (w > 0)
                    in_off += (size_t)w;
                if (w < 0 || in_off == in_len) {
                    close(pi[1]);
                    pi[1] = -1;
                }
                continue;
            }
            char chunk[65536];
            ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
            if (r <= 0) {
                if (fds[i].fd == po[0]) po[0] = -1; else pe[0] = -1;
                close(fds[i].fd);
                open_fds--;
            } else if (fds[i].fd == po[0]) {
                append(&p->out, &p->out_len, &ocap, chunk, (size_t)r);
            } else {
                append(&p->err, &p->err_len, &ecap, chunk, (size_t)r);
            }
        }
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

int lr_test_larder(lr_test_proc *p, const char *data_dir, ...)
{
    char *argv[64];
    int n = 0;
    va_list ap;
    argv[n++] = (char *)lr_test_larder_bin();
    if (data_dir) {
        argv[n++] = "--data-dir";
        argv[n++] = (char *)data_dir;
    }
    va_start(ap, data_dir);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < 63)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return lr_test_run(argv, NULL, p);
}

void lr_test_proc_free(lr_test_proc *p)
{
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
}

int lr_test_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

char *lr_test_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int lr_test_count_lines(const char *s)
{
    int n = 0;
    const char *last = s;
    for (; *s; s++) {
        if (*s == '\n') {
            n++;
            last = s + 1;
        }
    }
    return n + (*last != '\0');
}
