/*
 * arena.h - a region allocator for request- and batch-scoped memory.
 *
 * Allocations come from large blocks and are freed all at once by
 * lr_arena_reset() or lr_arena_free(). An arena has a cap on the total bytes
 * it may hold, so input-driven work (a JSON body, a batch of rows) fails with
 * LR_ELIMIT/NULL instead of exhausting memory. Not thread-safe: one arena per
 * thread or per request.
 */
#ifndef LARDER_ARENA_H
#define LARDER_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_arena lr_arena;

/*
 * Creates an arena whose blocks are at least `block_size` bytes (0: 64 KiB)
 * and whose total may not exceed `cap` bytes (0: no cap). NULL on OOM.
 */
lr_arena *lr_arena_new(size_t block_size, size_t cap);

/* Frees every block and the arena. NULL is fine. */
void lr_arena_free(lr_arena *a);

/*
 * Returns `n` bytes aligned to 16, valid until the next reset or free.
 * NULL when out of memory or when the cap would be exceeded. n == 0 gives a
 * valid unique pointer.
 */
void *lr_arena_alloc(lr_arena *a, size_t n);

/* As lr_arena_alloc, zero-filled. Checks count*size for overflow. */
void *lr_arena_calloc(lr_arena *a, size_t count, size_t size);

/* Copies `n` bytes and appends a NUL; the copy lives as long as the arena. */
char *lr_arena_strndup(lr_arena *a, const char *s, size_t n);
char *lr_arena_strdup(lr_arena *a, const char *s);

/* printf into the arena. NULL on OOM/cap. */
char *lr_arena_sprintf(lr_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Releases every allocation but keeps the first block for reuse. */
void lr_arena_reset(lr_arena *a);

/*
 * Makes lr_arena_reset() keep up to `bytes` of further normal-sized blocks
 * for reuse (default 0), for an arena refilled to about the same size over
 * and over: its memory is then not given back and faulted in again each
 * time. Spare blocks do not count toward the cap.
 */
void lr_arena_retain(lr_arena *a, size_t bytes);

/* Bytes of spare blocks lr_arena_reset() kept and no allocation took yet. */
size_t lr_arena_spare(const lr_arena *a);

/* Bytes handed out since the last reset (excluding block overhead). */
size_t lr_arena_used(const lr_arena *a);

#ifdef __cplusplus
}
#endif
#endif
