/*
 * fuzz_fgdef.c - fuzz target for feature-group definitions (fg.h).
 *
 * Each input is parsed both as a CreateFeatureGroup request and as the
 * stored form. A rejected input must come back with a one-line message; an
 * accepted one must write itself in all three JSON forms, and the forms must
 * read back to the same definition:
 *   parse(to_json(REQUEST))        == the request fields of the definition
 *   parse_stored(to_json(STORED))  == the definition, assigned fields too
 *   to_json(DESCRIBE)              is well-formed JSON
 * and every feature must be found by name at its own index. Any difference
 * aborts, which libFuzzer and the replay driver both report.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/fg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_fgdef: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static char *write_form(const lr_fg_def *def, lr_fg_json_form form)
{
    lr_buf b;
    lr_buf_init(&b, 0);
    if (lr_fg_def_to_json(def, form, &b) != LR_OK)
        die("to_json failed", NULL);
    return lr_buf_detach(&b, NULL);
}

static void check_error(lr_status st, const lr_error *err)
{
    if (st != LR_EINVAL && st != LR_ENOMEM)
        die("unexpected status", lr_status_name(st));
    if (err->code != st)
        die("error code differs from the status", err->msg);
    if (err->msg[0] == '\0' || strlen(err->msg) >= LR_ERROR_MSG_MAX)
        die("bad error message length", NULL);
    if (strchr(err->msg, '\n') || strchr(err->msg, '\r'))
        die("multi-line error message", err->msg);
}

static void round_trip(const lr_fg_def *def)
{
    lr_fg_def *back = NULL, *req_only = NULL;
    lr_error err;
    char *s;
    json_t *j;
    json_error_t je;

    for (uint32_t i = 0; i < def->n_features; i++) {
        const char *n = def->features[i].name;
        if (lr_fg_def_find_feature(def, n, strlen(n)) != (int32_t)i)
            die("feature not found at its index", n);
    }

    /* REQUEST keeps the request fields only. */
    req_only = lr_fg_def_clone(def);
    if (req_only == NULL)
        die("clone failed", NULL);
    if (!lr_fg_def_equal(def, req_only))
        die("clone differs", def->name);
    req_only->arn = NULL;
    req_only->creation_time_us = 0;
    req_only->last_modified_time_us = 0;
    req_only->status = 0;
    req_only->offline_status = 0;
    req_only->resolved_offline_uri = NULL;
    s = write_form(def, LR_FG_JSON_REQUEST);
    if (lr_fg_def_parse(s, strlen(s), &back, &err) != LR_OK)
        die("REQUEST form does not parse", err.msg);
    if (!lr_fg_def_equal(req_only, back))
        die("REQUEST round trip differs", s);
    lr_fg_def_free(back);
    back = NULL;
    free(s);

    s = write_form(def, LR_FG_JSON_STORED);
    if (lr_fg_def_parse_stored(s, strlen(s), &back, &err) != LR_OK)
        die("STORED form does not parse", err.msg);
    if (!lr_fg_def_equal(def, back))
        die("STORED round trip differs", s);
    lr_fg_def_free(back);
    free(s);

    s = write_form(def, LR_FG_JSON_DESCRIBE);
    j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL || !json_is_object(j))
        die("DESCRIBE form is not a JSON object", s);
    json_decref(j);
    free(s);
    lr_fg_def_free(req_only);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int stored = 0; stored <= 1; stored++) {
        lr_fg_def *def = NULL;
        lr_error err;
        lr_status st;

        lr_error_clear(&err);
        st = stored ? lr_fg_def_parse_stored((const char *)data, size, &def, &err)
                    : lr_fg_def_parse((const char *)data, size, &def, &err);
        if (st != LR_OK) {
            check_error(st, &err);
            if (def != NULL)
                die("definition returned with an error", NULL);
            continue;
        }
        round_trip(def);
        lr_fg_def_free(def);
    }
    return 0;
}
