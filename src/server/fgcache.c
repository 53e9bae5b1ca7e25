/*
 * fgcache.c - each worker's cache of feature-group definitions, so the
 * record path finds a group without a lock, a catalog query or an
 * allocation.
 *
 * The cache is an open-addressing table owned by one worker. A server-wide
 * generation counter (atomic) is bumped after every control-plane change;
 * a worker that sees a new generation retires its whole table. Entries are
 * also reloaded after ENTRY_TTL_MS, which bounds how long a change made by
 * another process on the same data directory (`larder fg update`) takes to
 * be seen. Retired definitions are freed only at the end of the worker's
 * loop turn, because requests of the current turn may still point at them.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

#define ENTRY_TTL_MS 2000

static uint32_t hash_name(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static bool retire(lr__fg_cache *c, lr_fg_def *def)
{
    if (c->n_grave == c->cap_grave) {
        uint32_t nc = c->cap_grave ? c->cap_grave * 2 : 64;
        lr_fg_def **g = realloc(c->grave, nc * sizeof *g);
        if (g == NULL)
            return false;
        c->grave = g;
        c->cap_grave = nc;
    }
    c->grave[c->n_grave++] = def;
    return true;
}

static void retire_all(lr__fg_cache *c)
{
    for (uint32_t i = 0; i < LR__FG_CACHE_SLOTS; i++) {
        lr__fg_entry *e = &c->slots[i];
        if (e->def == NULL)
            continue;
        if (!retire(c, e->def))
            return; /* keep the rest cached rather than free what may be in use */
        e->def = NULL;
        e->name[0] = '\0';
        c->n--;
    }
}

void lr__fg_invalidate(struct lr_server *s)
{
    atomic_fetch_add_explicit(&s->fg_gen, 1, memory_order_release);
}

static lr_status bad_name(const char *name, size_t len, lr_error *err)
{
    return lr_error_set(err, LR_EINVAL,
                        "1 validation error detected: Value '%.*s' at 'featureGroupName' "
                        "failed to satisfy constraint: Member must satisfy regular "
                        "expression pattern: [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}",
                        (int)(len > 200 ? 200 : len), name);
}

lr_status lr__fg_lookup(lr__worker *w, const char *name, size_t len, const lr_fg_def **out,
                        lr_error *err)
{
    lr__fg_cache *c = &w->cache;
    uint64_t gen = atomic_load_explicit(&w->srv->fg_gen, memory_order_acquire);
    char key[LR_FG_NAME_MAX + 1];
    uint32_t slot, mask = LR__FG_CACHE_SLOTS - 1;
    lr__fg_entry *e = NULL;
    lr_fg_def *def = NULL;
    lr_status st;

    if (len > LR_FG_NAME_MAX)
        return bad_name(name, len, err);
    if (c->gen != gen) {
        retire_all(c);
        c->gen = gen;
    }
    slot = hash_name(name, len) & mask;
    for (uint32_t i = 0; i < LR__FG_CACHE_SLOTS; i++, slot = (slot + 1) & mask) {
        lr__fg_entry *s = &c->slots[slot];
        if (s->def == NULL) {
            if (s->name[0] == '\0') /* never used: the name is not cached */
                break;
            continue; /* a tombstone */
        }
        if (strlen(s->name) == len && memcmp(s->name, name, len) == 0) {
            e = s;
            break;
        }
    }
    if (e != NULL && w->now_ms - e->loaded_ms < ENTRY_TTL_MS) {
        *out = e->def; /* a cached name was valid when it was loaded */
        return LR_OK;
    }
    if (!lr_fg_name_valid(name, len))
        return bad_name(name, len, err);
    memcpy(key, name, len);
    key[len] = '\0';
    st = lr_catalog_fg_get(w->cat, key, &def, err);
    if (st != LR_OK) {
        if (e != NULL && retire(c, e->def)) {
            e->def = NULL; /* leave a tombstone (name kept non-empty) */
            c->n--;
        }
        return st;
    }
    if (e != NULL) {
        if (!retire(c, e->def)) {
            lr_fg_def_free(def);
            *out = e->def; /* keep serving the old one */
            return LR_OK;
        }
        e->def = def;
        e->loaded_ms = w->now_ms;
        *out = def;
        return LR_OK;
    }
    if (c->n >= LR__FG_CACHE_SLOTS / 2) {
        retire_all(c);
        for (uint32_t i = 0; i < LR__FG_CACHE_SLOTS; i++) {
            if (c->slots[i].def == NULL)
                c->slots[i].name[0] = '\0'; /* clear tombstones */
        }
    }
    slot = hash_name(name, len) & mask;
    while (c->slots[slot].def != NULL)
        slot = (slot + 1) & mask;
    e = &c->slots[slot];
    memcpy(e->name, key, len + 1);
    e->def = def;
    e->loaded_ms = w->now_ms;
    c->n++;
    *out = def;
    return LR_OK;
}

void lr__fg_cache_end_turn(lr__fg_cache *c)
{
    for (uint32_t i = 0; i < c->n_grave; i++)
        lr_fg_def_free(c->grave[i]);
    c->n_grave = 0;
}

void lr__fg_cache_free(lr__fg_cache *c)
{
    for (uint32_t i = 0; i < LR__FG_CACHE_SLOTS; i++) {
        lr_fg_def_free(c->slots[i].def);
        c->slots[i].def = NULL;
        c->slots[i].name[0] = '\0';
    }
    c->n = 0;
    lr__fg_cache_end_turn(c);
    free(c->grave);
    c->grave = NULL;
    c->cap_grave = 0;
}
