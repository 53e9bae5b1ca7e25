/*
 * plan.c - which partitions a run compacts, grouped into units (what one
 * lease set, one swap and one job partition cover), and where a compacted
 * copy lives.
 *
 * Partitions come from the catalog (lr_catalog_offline_partitions), never
 * from parsing paths, so a feature group named "day-ahead-prices" or
 * "hourly_month_year" is compacted like any other (the tool teams use today
 * split paths on '=' and looked for "day" in them).
 *
 * Modes: full takes every partition with live files; day takes those whose
 * hour starts within the UTC date; incremental takes every partition whose
 * live files differ from what its last compaction to the same destination
 * left (compact_state holds a fingerprint of the file set after each swap),
 * including partitions never compacted. That covers yesterday, late data in
 * any old partition and files adopted by repair alike.
 *
 * Units: in place and for copies by hour, one hour partition. For copies
 * by day, one day (every hour of it with live files: the day's copy is
 * rewritten whole). A copy by hour of a day whose copy was last written by
 * day holds a day-level file covering every hour: that unit becomes the
 * whole day, written hour by hour, so the day-level file is retired in the
 * same swap as the hours replacing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compact/compact_internal.h"
#include "larder/hash.h"

#define US_PER_HOUR 3600000000LL
#define US_PER_DAY  86400000000LL

static uint64_t str_hash(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return lr_mix64(h);
}

uint64_t lr__files_fingerprint(const lr_offline_file *f, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = str_hash(f[i].root, 0xcbf29ce484222325ULL);
        h = str_hash("/", h);
        sum += str_hash(f[i].key, h);
    }
    return sum ^ lr_mix64(n);
}

void lr__plan_free(lr__plan *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        lr__unit *u = &p->units[i];
        for (size_t j = 0; j < u->n_outs; j++) {
            for (size_t k = 0; k < u->outs[j].n_sources; k++)
                free(u->outs[j].sources[k]);
            free(u->outs[j].sources);
        }
        free(u->outs);
        free(u->leases);
    }
    free(p->units);
    memset(p, 0, sizeof *p);
}

/* "year=YYYY/month=MM/day=DD" of an hour partition name. */
static void day_of(const char *hour_partition, char *out, size_t cap)
{
    const char *h = strstr(hour_partition, "/hour=");
    size_t n = h ? (size_t)(h - hour_partition) : strlen(hour_partition);
    snprintf(out, cap, "%.*s", (int)n, hour_partition);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Adds a unit with the given outputs; each output's sources are copied. */
typedef struct out_spec {
    const char *partition;
    int64_t start_us;
    const lr_offline_partition_info *const *src; /* source partitions */
    size_t n_src;
} out_spec;

static lr_status add_unit(lr__plan *p, size_t *cap, const char *name, const out_spec *outs,
                          size_t n_outs, lr_error *err)
{
    lr__unit *u;
    size_t total = 0;

    if (p->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        lr__unit *nu = realloc(p->units, nc * sizeof *nu);
        if (nu == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        p->units = nu;
        *cap = nc;
    }
    u = &p->units[p->n];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    for (size_t i = 0; i < n_outs; i++)
        total += outs[i].n_src;
    u->outs = calloc(n_outs ? n_outs : 1, sizeof *u->outs);
    u->leases = calloc(total ? total : 1, sizeof *u->leases);
    if (u->outs == NULL || u->leases == NULL)
        goto oom;
    p->n++; /* from here lr__plan_free releases it */
    u->n_outs = n_outs;
    for (size_t i = 0; i < n_outs; i++) {
        lr__output *o = &u->outs[i];
        snprintf(o->partition, sizeof o->partition, "%s", outs[i].partition);
        o->start_us = outs[i].start_us;
        o->sources = calloc(outs[i].n_src ? outs[i].n_src : 1, sizeof *o->sources);
        if (o->sources == NULL)
            goto oom;
        for (size_t k = 0; k < outs[i].n_src; k++) {
            const lr_offline_partition_info *s = outs[i].src[k];
            o->sources[k] = strdup(s->partition);
            if (o->sources[k] == NULL)
                goto oom;
            o->n_sources++;
            u->leases[u->n_leases++] = o->sources[k];
            u->files_planned += (uint64_t)s->files;
            u->rows_planned += (uint64_t)s->rows;
            u->bytes_planned += (uint64_t)s->bytes;
        }
    }
    return LR_OK;
oom:
    if (u == &p->units[p->n]) {
        free(u->outs);
        free(u->leases);
    }
    return lr_error_set(err, LR_ENOMEM, "out of memory");
}

/* Partition states of a destination, for incremental mode. */
static const lr_compact_state *find_state(const lr_compact_state *v, size_t n, const char *p)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(v[mid].partition, p);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_file_partition(const void *a, const void *b)
{
    const lr_offline_file *x = a, *y = b;
    return strcmp(x->partition, y->partition);
}

/*
 * Marks the partitions of `parts` that incremental mode takes: those whose
 * live file set differs from the recorded state (or has none).
 */
static lr_status select_changed(const lr__plan_input *in, const lr_offline_partition_info *parts,
                                size_t n, bool *sel, lr_error *err)
{
    lr_offline_file_list files = {0};
    lr_compact_state *states = NULL;
    size_t n_states = 0;
    lr_status st;

    st = lr_catalog_compact_states(in->cat, in->def->name, in->def->creation_time_us, in->dest,
                                   &states, &n_states, err);
    if (st == LR_OK)
        st = lr_catalog_offline_files(in->cat, in->def->name, in->def->creation_time_us, INT64_MIN,
                                      INT64_MAX, &files, err);
    if (st != LR_OK)
        goto done;
    qsort(files.items, files.n, sizeof *files.items, cmp_file_partition);
    /* Both lists are sorted by partition name; walk them together. */
    size_t fi = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i].partition;
        while (fi < files.n && strcmp(files.items[fi].partition, p) < 0)
            fi++;
        size_t f0 = fi;
        while (fi < files.n && strcmp(files.items[fi].partition, p) == 0)
            fi++;
        const lr_compact_state *s = find_state(states, n_states, p);
        uint64_t fp = lr__files_fingerprint(files.items + f0, fi - f0);
        sel[i] = s == NULL || s->fingerprint != fp || s->files != (int64_t)(fi - f0);
    }
done:
    lr_offline_file_list_free(&files);
    free(states);
    return st;
}

static int cmp_partition_name(const void *a, const void *b)
{
    const lr_offline_partition_info *x = a, *y = b;
    return strcmp(x->partition, y->partition);
}

lr_status lr__plan_make(const lr__plan_input *in, lr__plan *out, lr_error *err)
{
    const lr_compact_options *opt = in->opt;
    lr_offline_partition_info *parts = NULL;
    bool *sel = NULL;
    const lr_offline_partition_info **srcs = NULL;
    size_t n = 0, cap = 0;
    lr_offline_file_list copy_files = {0};
    lr_status st;

    memset(out, 0, sizeof *out);
    st = lr_catalog_offline_partitions(in->cat, in->def->name, in->def->creation_time_us, &parts,
                                       &n, err);
    if (st != LR_OK)
        goto done;
    /* Name order is time order for these names, and lets states be searched. */
    qsort(parts, n, sizeof *parts, cmp_partition_name);
    sel = calloc(n ? n : 1, sizeof *sel);
    srcs = calloc(n ? n : 1, sizeof *srcs);
    if (sel == NULL || srcs == NULL) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    switch (opt->mode) {
    case LR_COMPACT_FULL:
        for (size_t i = 0; i < n; i++)
            sel[i] = true;
        break;
    case LR_COMPACT_DAY:
        for (size_t i = 0; i < n; i++)
            sel[i] = parts[i].start_us >= in->day_start_us &&
                     parts[i].start_us < in->day_start_us + US_PER_DAY;
        break;
    case LR_COMPACT_INCREMENTAL:
    default:
        st = select_changed(in, parts, n, sel, err);
        if (st != LR_OK)
            goto done;
        break;
    }

    for (size_t i = 0; i < n;) {
        /* The partitions of one day: i .. j-1. */
        int64_t day = floor_div(parts[i].start_us, US_PER_DAY);
        size_t j = i + 1;
        while (j < n && floor_div(parts[j].start_us, US_PER_DAY) == day)
            j++;
        bool any = false;
        for (size_t k = i; k < j; k++)
            any = any || sel[k];
        if (!any) {
            i = j;
            continue;
        }
        char dname[48];
        day_of(parts[i].partition, dname, sizeof dname);
        bool whole_day = false;
        if (in->copy_root != NULL && opt->partition_mode == LR_COMPACT_BY_DAY) {
            whole_day = true;
        } else if (in->copy_root != NULL) {
            /* A copy by hour over a day last copied by day: the whole day (file comment). */
            st = lr_catalog_compact_partition_files(in->cat, in->copy_root, in->def->name,
                                                    in->def->creation_time_us, dname, &copy_files,
                                                    err);
            if (st != LR_OK)
                goto done;
            for (size_t k = 0; k < copy_files.n && !whole_day; k++)
                whole_day = strcmp(copy_files.items[k].partition, dname) == 0;
            lr_offline_file_list_free(&copy_files);
        }
        if (whole_day && opt->partition_mode == LR_COMPACT_BY_DAY) {
            out_spec o;
            size_t ns = 0;
            for (size_t k = i; k < j; k++)
                srcs[ns++] = &parts[k];
            o.partition = dname;
            o.start_us = day * US_PER_DAY;
            o.src = srcs;
            o.n_src = ns;
            st = add_unit(out, &cap, dname, &o, 1, err);
        } else if (whole_day) {
            out_spec *os = calloc(j - i, sizeof *os);
            if (os == NULL) {
                st = lr_error_set(err, LR_ENOMEM, "out of memory");
                goto done;
            }
            for (size_t k = i; k < j; k++) {
                srcs[k] = &parts[k];
                os[k - i].partition = parts[k].partition;
                os[k - i].start_us = parts[k].start_us;
                os[k - i].src = &srcs[k];
                os[k - i].n_src = 1;
            }
            st = add_unit(out, &cap, dname, os, j - i, err);
            free(os);
        } else {
            for (size_t k = i; k < j && st == LR_OK; k++) {
                if (!sel[k])
                    continue;
                out_spec o;
                srcs[k] = &parts[k];
                o.partition = parts[k].partition;
                o.start_us = parts[k].start_us;
                o.src = &srcs[k];
                o.n_src = 1;
                st = add_unit(out, &cap, parts[k].partition, &o, 1, err);
            }
        }
        if (st != LR_OK)
            goto done;
        i = j;
    }
done:
    lr_offline_file_list_free(&copy_files);
    if (st != LR_OK)
        lr__plan_free(out);
    free(parts);
    free(sel);
    free(srcs);
    return st;
}

lr_status lr__copy_root(const lr_fg_def *def, const char *target, char **out, lr_error *err)
{
    const char *root = def->resolved_offline_uri;
    *out = NULL;
    if (root == NULL || root[0] == '\0')
        return lr_error_set(err, LR_EINVAL, "feature group %s has no offline store", def->name);
    if (target != NULL) {
        const char *lp = NULL;
        size_t tl = strlen(target);
        while (tl > 1 && target[tl - 1] == '/')
            tl--;
        if (tl == 0 || (strstr(target, "://") == NULL && target[0] != '/'))
            return lr_error_set(err, LR_EINVAL,
                                "--target '%.200s' must be an absolute path or a URI", target);
        (void)lp;
        char *s = NULL;
        int k = asprintf(&s, "%.*s/%s-%lld/data", (int)tl, target, def->name,
                         (long long)floor_div(def->creation_time_us, 1000000));
        if (k < 0)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        *out = s;
        return LR_OK;
    }
    /*
     * The layout is <root>/<account>/sagemaker/<region>/offline-store/<name>-<epoch>/data:
     * replace exactly the segment before "<name>-<epoch>/data".
     */
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    const char *end = root + n;
    const char *seg_end = NULL, *seg = NULL;
    int slashes = 0;
    for (const char *p = end; p > root; p--) {
        if (p[-1] == '/') {
            slashes++;
            if (slashes == 2)
                seg_end = p - 1;
            if (slashes == 3) {
                seg = p;
                break;
            }
        }
    }
    static const char src_seg[] = LR_COMPACT_SOURCE_SEGMENT;
    if (seg == NULL || seg_end == NULL || (size_t)(seg_end - seg) != sizeof src_seg - 1 ||
        memcmp(seg, src_seg, sizeof src_seg - 1) != 0 || strncmp(end - 5, "/data", 5) != 0)
        return lr_error_set(err, LR_EINVAL,
                            "the offline path of %s (%.300s) does not end in "
                            "offline-store/<name>-<epoch>/data: give --target",
                            def->name, root);
    char *s = NULL;
    int k = asprintf(&s, "%.*s%s%.*s", (int)(seg - root), root, LR_COMPACT_COPY_SEGMENT,
                     (int)(end - seg_end), seg_end);
    if (k < 0)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    *out = s;
    return LR_OK;
}
