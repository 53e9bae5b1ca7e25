/*
 * testutil.h - helpers shared by Larder's tests: temporary directories,
 * running the larder binary (or any program) and capturing its stdout,
 * stderr and exit status, and writing files.
 */
#ifndef LARDER_TESTUTIL_H
#define LARDER_TESTUTIL_H

#include <stddef.h>

typedef struct lr_test_proc {
    char *out;      /* stdout, NUL-terminated (owned) */
    size_t out_len;
    char *err;      /* stderr, NUL-terminated (owned) */
    size_t err_len;
    int status;     /* exit status, or 128+signal */
} lr_test_proc;

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *lr_test_tmpdir(const char *prefix);

/* Removes a directory tree (rm -rf semantics); NULL is fine. */
void lr_test_rmtree(const char *path);

/* Path of the larder binary: $LARDER_BIN (set by ctest), else build/larder. */
const char *lr_test_larder_bin(void);

/*
 * Runs argv[0] (a path) with argv, feeding `in` (may be NULL) to stdin, and
 * captures output. Returns 0 when the program ran (whatever its status).
 */
int lr_test_run(char *const argv[], const char *in, lr_test_proc *p);

/*
 * Runs `larder --data-dir DIR ARGS...` (NULL-terminated varargs of char *).
 */
int lr_test_larder(lr_test_proc *p, const char *data_dir, ...);

void lr_test_proc_free(lr_test_proc *p);

/* Writes a whole file; returns 0 on success. */
int lr_test_write_file(const char *path, const char *data, size_t len);

/* Joins dir and name into a malloc'd path. */
char *lr_test_path(const char *dir, const char *name);

/* Counts the lines of a NUL-terminated string (a trailing line without \n counts). */
int lr_test_count_lines(const char *s);

#endif
