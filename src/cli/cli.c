/*
 * cli.c - helpers shared by the CLI commands (see cli.h).
 */
#include "cli/cli.h"

#include "larder/catalog.h"
#include "larder/fg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cli_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) {
        if (*p == '\n')
            *p = ' ';
    }
    fprintf(stderr, "larder: %s\n", msg);
    return LR_EXIT_FAIL;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "larder: %s (see 'larder %s --help')\n", msg, cmd);
    return LR_EXIT_USAGE;
}

int cli_fail_err(const lr_error *err)
{
    return cli_fail("%s", lr_error_message(err));
}

lr_status cli_read_file(const char *path, size_t max, lr_buf *out, lr_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char chunk[65536];
    lr_status st = LR_OK;

    if (f == NULL)
        return lr_error_set(err, LR_EIO, "cannot open %s: %s", path, strerror(errno));
    lr_buf_init(out, max);
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && (st = lr_buf_append(out, chunk, n)) != LR_OK) {
            if (st == LR_ELIMIT)
                lr_error_set(err, st, "%s is larger than %zu bytes", path, max);
            else
                lr_error_set(err, st, "reading %s: %s", path, lr_strerror(st));
            break;
        }
        if (n < sizeof chunk) {
            if (ferror(f))
                st = lr_error_set(err, LR_EIO, "reading %s: %s", path, strerror(errno));
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (st == LR_OK && out->data == NULL)
        st = lr_buf_append(out, "", 0);
    if (st != LR_OK)
        lr_buf_free(out);
    return st;
}

lr_status cli_ensure_data_dir(const lr_cli *cli, lr_error *err)
{
    struct stat sb;
    if (stat(cli->data_dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return lr_error_set(err, LR_EIO, "data directory %s is not a directory",
                                cli->data_dir);
        return LR_OK;
    }
    if (mkdir(cli->data_dir, 0755) != 0 && errno != EEXIST)
        return lr_error_set(err, LR_EIO, "cannot create data directory %s: %s", cli->data_dir,
                            strerror(errno));
    return LR_OK;
}

void cli_print_buf(const lr_buf *b)
{
    if (b->len)
        fwrite(b->data, 1, b->len, stdout);
    fputc('\n', stdout);
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

const char *cli_online_uri(const lr_cli *cli, const char *flag)
{
    const char *env = getenv("LARDER_ONLINE");
    if (flag && flag[0])
        return flag;
    if (env && env[0])
        return env;
    return cli->data_dir;
}

int cli_load_group(lr_cli *cli, const char *ref, lr_catalog **cat, lr_fg_def **def)
{
    const char *name;
    size_t len;
    char buf[LR_FG_NAME_MAX + 1];
    lr_error err;

    *cat = NULL;
    *def = NULL;
    if (lr_fg_name_from_ref(ref, strlen(ref), &name, &len, &err) != LR_OK)
        return cli_fail_err(&err);
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (cli_ensure_data_dir(cli, &err) != LR_OK)
        return cli_fail_err(&err);
    if (lr_catalog_open(cli->data_dir, &cli->settings, cat, &err) != LR_OK)
        return cli_fail("cannot open the catalog in %s: %s", cli->data_dir,
                        lr_error_message(&err));
    if (lr_catalog_fg_get(*cat, buf, def, &err) != LR_OK) {
        lr_catalog_close(*cat);
        *cat = NULL;
        return cli_fail_err(&err);
    }
    return LR_EXIT_OK;
}
