/*
 * repair.c - `larder repair`: Hive's MSCK REPAIR TABLE for the offline
 * store. Compares what storage holds under a group's root with what the
 * catalog lists, registers the Parquet files other tools wrote there when
 * their schema is the group's, and reports the rest (see
 * lr_offline_repair in offline.h).
 *
 * Files Larder's own flusher wrote but never registered (an interrupted
 * flush) carry the log range in their key-value metadata; their rows were
 * replayed from the log into other files, so adopting them would duplicate
 * rows: repair rejects them and garbage collection removes them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "larder/log.h"
#include "offline/offline_internal.h"

bool lr__offline_column_matches(const lr_fg_def *def, uint32_t i, const lr_pq_column_def *c);

typedef struct obj {
    char *key;
    uint64_t size;
} obj;

typedef struct objlist {
    obj *v;
    size_t n, cap;
} objlist;

static lr_status collect(void *arg, const lr_object_info *o, lr_error *err)
{
    objlist *l = arg;
    size_t kl = strlen(o->key);
    if (kl < 8 || strcmp(o->key + kl - 8, ".parquet") != 0)
        return LR_OK;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        obj *nv = realloc(l->v, nc * sizeof *nv);
        if (nv == NULL)
            return lr_error_set(err, LR_ENOMEM, "out of memory");
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n].key = strdup(o->key);
    if (l->v[l->n].key == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    l->v[l->n].size = o->size;
    l->n++;
    return LR_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool contains(const char **sorted, size_t n, const char *k)
{
    return n > 0 && bsearch(&k, sorted, n, sizeof *sorted, str_cmp) != NULL;
}

static lr_status add_item(lr_offline_repair_item **v, size_t *n, const char *root, const char *key,
                          const char *reason, lr_error *err)
{
    lr_offline_repair_item *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (nv == NULL)
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    *v = nv;
    nv[*n].uri = NULL;
    nv[*n].reason = reason ? strdup(reason) : NULL;
    if (lr_objstore_uri_join(root, key, &nv[*n].uri, err) != LR_OK ||
        (reason && nv[*n].reason == NULL)) {
        free(nv[*n].uri);
        free(nv[*n].reason);
        return lr_error_set(err, LR_ENOMEM, "out of memory");
    }
    (*n)++;
    return LR_OK;
}

/* Splits "<4 partition folders>/<file>" and parses the partition. */
static bool parse_layout(const char *key, int64_t *start_us)
{
    const char *p = key;
    int slashes = 0;
    const char *last = NULL;
    for (; *p; p++) {
        if (*p == '/') {
            slashes++;
            last = p;
        }
    }
    if (slashes != 4)
        return false;
    return lr_offline_partition_parse(key, (size_t)(last - key), start_us, NULL) == LR_OK;
}

/*
 * Checks a file's schema against the group's and computes its event-time
 * bounds. On a mismatch returns LR_OK with a reason in `why`.
 */
static lr_status inspect(lr_objstore *os, const lr_fg_def *def, const char *key, char *why,
                         size_t cap, int64_t *rows, int64_t *min_us, int64_t *max_us,
                         lr_error *err)
{
    lr_pq_source src;
    lr_pq_reader *rd = NULL;
    lr_pq_scan *ps = NULL;
    lr_error e;
    lr_status st;
    uint32_t nfull = def->n_features + 3, n, nkv = 0;
    const lr_pq_kv *kv;
    bool any = false;
    int32_t etc = -1;

    why[0] = '\0';
    st = lr__pq_source_objstore(os, key, &src, err);
    if (st != LR_OK)
        return st;
    if (lr_pq_reader_open(&src, &rd, &e) != LR_OK) {
        snprintf(why, cap, "not a readable Parquet file: %s", lr_error_message(&e));
        goto done;
    }
    kv = lr_pq_reader_kv(rd, &nkv);
    for (uint32_t i = 0; i < nkv; i++) {
        if (kv[i].key != NULL && strcmp(kv[i].key, "larder.offline.log_range") == 0) {
            snprintf(why, cap, "left by an interrupted Larder flush (its rows were replayed "
                               "from the log); garbage collection removes it");
            goto done;
        }
    }
    n = lr_pq_reader_num_columns(rd);
    for (uint32_t i = 0; i < nfull && why[0] == '\0'; i++) {
        const char *name = i < def->n_features ? def->features[i].name
                           : i == def->n_features   ? LR_OFFLINE_COL_WRITE_TIME
                           : i == def->n_features + 1 ? LR_OFFLINE_COL_API_TIME
                                                      : LR_OFFLINE_COL_IS_DELETED;
        int32_t c = lr_pq_reader_find_column(rd, name);
        if (c < 0) {
            snprintf(why, cap, "schema differs: no column %s", name);
            break;
        }
        const lr_pq_column_def *cd = lr_pq_reader_column(rd, (uint32_t)c);
        if (!lr__offline_column_matches(def, i, cd))
            snprintf(why, cap, "schema differs: column %s is %s%s%s%s", name,
                     cd->list ? "a list of " : "", lr_pq_type_name(cd->type),
                     cd->logical ? " " : "", cd->logical ? lr_pq_logical_name(cd->logical) : "");
        if (i == def->event_time_index)
            etc = c;
    }
    if (why[0] == '\0' && n != nfull) {
        for (uint32_t c = 0; c < n; c++) {
            const char *cn = lr_pq_reader_column(rd, c)->name;
            bool known = false;
            for (uint32_t i = 0; i < def->n_features && !known; i++)
                known = strcmp(cn, def->features[i].name) == 0;
            known = known || strcmp(cn, LR_OFFLINE_COL_WRITE_TIME) == 0 ||
                    strcmp(cn, LR_OFFLINE_COL_API_TIME) == 0 ||
                    strcmp(cn, LR_OFFLINE_COL_IS_DELETED) == 0;
            if (!known) {
                snprintf(why, cap, "schema differs: extra column %s", cn);
                break;
            }
        }
        if (why[0] == '\0')
            snprintf(why, cap, "schema differs: %u columns where the group has %u", n, nfull);
    }
    if (why[0] != '\0')
        goto done;
    /* Event-time bounds from the data itself. */
    *rows = lr_pq_reader_num_rows(rd);
    *min_us = INT64_MAX;
    *max_us = INT64_MIN;
    {
        uint32_t col = (uint32_t)etc;
        lr_pq_scan_options po;
        memset(&po, 0, sizeof po);
        po.columns = &col;
        po.n_columns = 1;
        if (lr_pq_scan_open(rd, &po, &ps, &e) != LR_OK) {
            snprintf(why, cap, "cannot read: %s", lr_error_message(&e));
            goto done;
        }
        lr_feature_type t = def->features[def->event_time_index].type;
        for (;;) {
            const lr_pq_batch *b = NULL;
            if (lr_pq_scan_next(ps, &b, &e) != LR_OK) {
                snprintf(why, cap, "cannot read: %s", lr_error_message(&e));
                goto done;
            }
            if (b == NULL)
                break;
            const lr_pq_column_batch *cb = &b->columns[0];
            for (uint32_t r = 0; r < b->n_rows; r++) {
                int64_t us;
                lr_status ps_st;
                if (cb->validity != NULL && !cb->validity[r]) {
                    snprintf(why, cap, "row %lld has no event time",
                             (long long)(b->first_row + r + 1));
                    goto done;
                }
                if (t == LR_FT_STRING) {
                    uint32_t a = cb->offsets[r], z = cb->offsets[r + 1];
                    ps_st = lr_time_parse_iso8601((const char *)cb->bytes + a, z - a, &us, NULL);
                } else {
                    double x = cb->f64[r] * 1e6;
                    ps_st = isfinite(x) && x >= (double)LR_TIME_MIN_US &&
                                    x <= (double)LR_TIME_MAX_US
                                ? LR_OK
                                : LR_EINVAL;
                    us = ps_st == LR_OK ? (int64_t)llround(x) : 0;
                }
                if (ps_st != LR_OK) {
                    snprintf(why, cap, "row %lld: the event time does not parse",
                             (long long)(b->first_row + r + 1));
                    goto done;
                }
                any = true;
                if (us < *min_us)
                    *min_us = us;
                if (us > *max_us)
                    *max_us = us;
            }
        }
    }
    if (!any) {
        snprintf(why, cap, "no rows");
        goto done;
    }
done:
    lr_pq_scan_free(ps);
    lr_pq_reader_free(rd);
    lr__pq_source_objstore_free(&src);
    return LR_OK;
}

void lr_offline_repair_report_free(lr_offline_repair_report *r)
{
    if (r == NULL)
        return;
    lr_offline_repair_item *lists[3] = {r->added, r->rejected, r->missing};
    size_t ns[3] = {r->n_added, r->n_rejected, r->n_missing};
    for (int l = 0; l < 3; l++) {
        for (size_t i = 0; i < ns[l]; i++) {
            free(lists[l][i].uri);
            free(lists[l][i].reason);
        }
        free(lists[l]);
    }
    memset(r, 0, sizeof *r);
}

lr_status lr_offline_repair(lr_catalog *cat, const char *fg, bool dry_run,
                            lr_offline_repair_report *out, lr_error *err)
{
    lr_fg_def *def = NULL;
    lr_objstore *os = NULL;
    lr_offline_file_list live = {0}, ann = {0};
    objlist objs = {0};
    const char **live_keys = NULL, **ann_keys = NULL, **seen = NULL;
    size_t n_live = 0, n_ann = 0, n_seen = 0;
    lr_offline_file *add = NULL;
    char (*parts)[LR_OFFLINE_PARTITION_MAX] = NULL;
    size_t n_add = 0;
    lr_status st;

    memset(out, 0, sizeof *out);
    st = lr__offline_group(cat, fg, &def, err);
    if (st != LR_OK)
        goto done;
    const char *root = def->resolved_offline_uri;
    st = lr__offline_objstore_open(root, def->name, &os, err);
    if (st != LR_OK)
        goto done;
    st = lr_catalog_offline_files(cat, def->name, def->creation_time_us, INT64_MIN, INT64_MAX,
                                  &live, err);
    if (st == LR_OK)
        st = lr_catalog_offline_announced(cat, INT64_MAX, 0, &ann, err);
    if (st == LR_OK)
        st = lr_objstore_list(os, "", collect, &objs, err);
    if (st != LR_OK)
        goto done;
    live_keys = calloc(live.n + 1, sizeof *live_keys);
    ann_keys = calloc(ann.n + 1, sizeof *ann_keys);
    seen = calloc(objs.n + 1, sizeof *seen);
    add = calloc(objs.n + 1, sizeof *add);
    parts = calloc(objs.n + 1, sizeof *parts);
    if (!live_keys || !ann_keys || !seen || !add || !parts) {
        st = lr_error_set(err, LR_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < live.n; i++)
        if (strcmp(live.items[i].root, root) == 0)
            live_keys[n_live++] = live.items[i].key;
    for (size_t i = 0; i < ann.n; i++)
        if (strcmp(ann.items[i].root, root) == 0)
            ann_keys[n_ann++] = ann.items[i].key;
    qsort(live_keys, n_live, sizeof *live_keys, str_cmp);
    qsort(ann_keys, n_ann, sizeof *ann_keys, str_cmp);

    for (size_t i = 0; i < objs.n; i++) {
        const char *key = objs.v[i].key;
        char why[LR_ERROR_MSG_MAX];
        int64_t start, rows = 0, min_us = 0, max_us = 0;
        out->files_in_storage++;
        seen[n_seen++] = key;
        if (contains(live_keys, n_live, key)) {
            out->files_registered++;
            continue;
        }
        if (contains(ann_keys, n_ann, key))
            continue; /* a flush is writing it right now */
        if (!parse_layout(key, &start)) {
            st = add_item(&out->rejected, &out->n_rejected, root, key,
                          "not in a year=YYYY/month=MM/day=DD/hour=HH folder", err);
            if (st != LR_OK)
                goto done;
            continue;
        }
        st = inspect(os, def, key, why, sizeof why, &rows, &min_us, &max_us, err);
        if (st == LR_ENOTFOUND) {
            st = LR_OK; /* removed since the listing */
            continue;
        }
        if (st != LR_OK)
            goto done;
        if (why[0] != '\0') {
            st = add_item(&out->rejected, &out->n_rejected, root, key, why, err);
            if (st != LR_OK)
                goto done;
            continue;
        }
        lr_offline_file *f = &add[n_add];
        st = lr_offline_partition_of(start, parts[n_add], NULL, err);
        if (st != LR_OK)
            goto done;
        f->fg_name = def->name;
        f->fg_created_us = def->creation_time_us;
        f->partition = parts[n_add];
        f->partition_start_us = start;
        f->root = root;
        f->key = key;
        f->rows = rows;
        f->bytes = (int64_t)objs.v[i].size;
        f->min_event_us = min_us;
        f->max_event_us = max_us;
        n_add++;
        st = add_item(&out->added, &out->n_added, root, key, NULL, err);
        if (st != LR_OK)
            goto done;
    }
    /* Partitions that had no live file before. */
    for (size_t i = 0; i < n_add; i++) {
        bool known = false;
        for (size_t j = 0; j < live.n && !known; j++)
            known = strcmp(live.items[j].partition, add[i].partition) == 0;
        for (size_t j = 0; j < i && !known; j++)
            known = strcmp(add[j].partition, add[i].partition) == 0;
        if (!known)
            out->partitions_added++;
    }
    /* Files the catalog lists but storage lacks. */
    qsort(seen, n_seen, sizeof *seen, str_cmp);
    for (size_t i = 0; i < live.n; i++) {
        const lr_offline_file *f = &live.items[i];
        if (strcmp(f->root, root) == 0 && contains(seen, n_seen, f->key))
            continue;
        if (strcmp(f->root, root) != 0) {
            lr_objstore *o2 = NULL;
            lr_error e;
            bool there = lr_objstore_open(f->root, &o2, &e) == LR_OK &&
                         lr_objstore_head(o2, f->key, NULL, NULL, &e) == LR_OK;
            lr_objstore_close(o2);
            if (there)
                continue;
        }
        st = add_item(&out->missing, &out->n_missing, f->root, f->key, NULL, err);
        if (st != LR_OK)
            goto done;
    }
    if (!dry_run && n_add > 0) {
        st = lr_catalog_offline_commit(cat, NULL, 0, 0, add, n_add, err);
        if (st == LR_EEXIST)
            lr_error_set(err, st, "another process registered some of these files meanwhile: "
                                  "run repair again");
    }
done:
    if (st != LR_OK)
        lr_offline_repair_report_free(out);
    for (size_t i = 0; i < objs.n; i++)
        free(objs.v[i].key);
    free(objs.v);
    free(live_keys);
    free(ann_keys);
    free(seen);
    free(add);
    free(parts);
    lr_offline_file_list_free(&live);
    lr_offline_file_list_free(&ann);
    lr_objstore_close(os);
    lr_fg_def_free(def);
    return st;
}
