/*
 * arena.c - block-list region allocator (see arena.h).
 *
 * Blocks are singly linked, newest first. A request larger than a quarter of
 * the block size gets a block of its own so that big allocations do not waste
 * the tail of the current block.
 */
#include "larder/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_DEFAULT_BLOCK (64 * 1024)

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
} block;

struct lr_arena {
    block *head;
    size_t block_size;
    size_t cap;
    size_t held;  /* bytes of blocks held, for the cap */
    size_t used;  /* bytes handed out since reset */
    block *spare; /* normal-sized blocks kept by lr_arena_reset() for reuse */
    size_t spare_bytes, retain;
};

#define BLOCK_HDR (((sizeof(block) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)

static unsigned char *block_data(block *b)
{
    return (unsigned char *)b + BLOCK_HDR;
}

lr_arena *lr_arena_new(size_t block_size, size_t cap)
{
    lr_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
    a->cap = cap;
    return a;
}

static void free_chain(block *b)
{
    while (b) {
        block *next = b->next;
        free(b);
        b = next;
    }
}

void lr_arena_free(lr_arena *a)
{
    if (a == NULL)
        return;
    free_chain(a->head);
    free_chain(a->spare);
    free(a);
}

void lr_arena_retain(lr_arena *a, size_t bytes)
{
    a->retain = bytes;
}

static block *new_block(lr_arena *a, size_t need)
{
    size_t size = need > a->block_size ? need : a->block_size;
    if (size > SIZE_MAX - BLOCK_HDR)
        return NULL;
    if (a->cap && (a->held + size > a->cap || a->held + size < a->held))
        return NULL;
    if (a->spare != NULL && size == a->block_size) {
        block *r = a->spare;
        a->spare = r->next;
        a->spare_bytes -= r->size;
        r->used = 0;
        a->held += size;
        return r;
    }
    block *b = malloc(BLOCK_HDR + size);
    if (b == NULL)
        return NULL;
    b->size = size;
    b->used = 0;
    a->held += size;
    return b;
}

void *lr_arena_alloc(lr_arena *a, size_t n)
{
    size_t need;
    block *b;

    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need == 0)
        need = ARENA_ALIGN;

    b = a->head;
    if (b && b->size - b->used >= need) {
        void *p = block_data(b) + b->used;
        b->used += need;
        a->used += n;
        return p;
    }
    b = new_block(a, need);
    if (b == NULL)
        return NULL;
    b->used = need;
    if (a->head && need > a->block_size / 4) {
        /* Oversized: keep the current head block as the one to fill next. */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    a->used += n;
    return block_data(b);
}

void *lr_arena_calloc(lr_arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = lr_arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *lr_arena_strndup(lr_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = lr_arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *lr_arena_strdup(lr_arena *a, const char *s)
{
    return lr_arena_strndup(a, s, strlen(s));
}

char *lr_arena_sprintf(lr_arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = NULL;
    if (n >= 0) {
        p = lr_arena_alloc(a, (size_t)n + 1);
        if (p)
            vsnprintf(p, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    return p;
}

void lr_arena_reset(lr_arena *a)
{
    if (a == NULL || a->head == NULL)
        return;
    /*
     * Keep one normal-sized block to fill next, and more of them as spares
     * up to the retained bytes (lr_arena_retain); free the rest.
     */
    block *keep = NULL;
    block *b = a->head;
    while (b) {
        block *next = b->next;
        if (keep == NULL && b->size == a->block_size) {
            keep = b;
        } else if (b->size == a->block_size && a->spare_bytes + b->size <= a->retain) {
            b->next = a->spare;
            a->spare = b;
            a->spare_bytes += b->size;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = keep;
    a->held = 0;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
        a->held = keep->size;
    }
    a->used = 0;
}

size_t lr_arena_spare(const lr_arena *a)
{
    return a ? a->spare_bytes : 0;
}

size_t lr_arena_used(const lr_arena *a)
{
    return a ? a->used : 0;
}
