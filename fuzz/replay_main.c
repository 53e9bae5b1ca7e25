/*
 * replay_main.c - runs a libFuzzer target's LLVMFuzzerTestOneInput over
 * every file in the directories (or the files) named on the command line,
 * without libFuzzer: this is how each corpus runs as a ctest regression
 * test in gcc and clang builds alike (cmake/fuzz.cmake).
 *
 * Files are replayed in name order, so a failure reproduces the same way.
 * A target reports a bug by crashing or aborting, as under libFuzzer; this
 * driver only fails when it cannot read its inputs or finds none.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Inputs larger than this are not fuzz inputs; refuse rather than load them. */
#define REPLAY_MAX_INPUT ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Replays one file; 0 on success, -1 when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: %s: cannot size the file\n", path);
        goto cleanup;
    }
    if ((size_t)len > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: %ld bytes, over the %zu-byte limit\n", path, len,
                REPLAY_MAX_INPUT);
        goto cleanup;
    }
    /* One byte more so an empty file still has a valid buffer. */
    data = malloc((size_t)len + 1);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        goto cleanup;
    }
    if (len > 0 && fread(data, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: %s: short read\n", path);
        goto cleanup;
    }
    LLVMFuzzerTestOneInput(data, (size_t)len);
    rc = 0;

cleanup:
    free(data);
    fclose(f);
    return rc;
}

/* Replays every regular file of a directory; returns the count or -1. */
static long replay_dir(const char *dir)
{
    struct dirent **names = NULL;
    long count = 0;
    int n = scandir(dir, &names, NULL, alphasort);

    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int w = snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (w < 0 || (size_t)w >= sizeof path) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]->d_name);
            count = -1;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) != 0)
                count = -1;
            else if (count >= 0)
                count++;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

int main(int argc, char **argv)
{
    long total = 0;
    int failed = 0;

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            n = replay_dir(argv[i]);
        } else {
            n = replay_file(argv[i]) == 0 ? 1 : -1;
        }
        if (n < 0)
            failed = 1;
        else
            total += n;
        printf("replay: %s: %ld input%s\n", argv[i], n < 0 ? 0 : n, n == 1 ? "" : "s");
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        failed = 1;
    }
    return failed;
}
