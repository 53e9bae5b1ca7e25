/*
 * compact.h - compaction of the offline store: rewriting the many small
 * files of a partition into few large ones sorted by record identifier,
 * event time and api_invocation_time, swapped in atomically; jobs and their
 * status; a cron schedule; metrics (DESIGN.md 3.5, docs/compaction.md).
 *
 * What a run guarantees, whatever kills it and wherever:
 *   - readers (everything that lists files through the catalog) see either
 *     a partition's old files or its new ones, never both and never neither;
 *   - no row is lost or duplicated: the new files of a partition are read
 *     back and must hold the same rows (count and an order-independent
 *     checksum; minus the duplicates --dedup drops) before the catalog
 *     changes; the swap is one catalog transaction;
 *   - files that arrive during a run are left for the next run;
 *   - two runs never compact one partition at once (a lease per partition;
 *     a holder that died on this machine is recognised at once, one on
 *     another machine when its lease expires);
 *   - the next run (or lr_compact_cleanup) removes what a killed run left:
 *     files written but never swapped in, old files past their grace;
 *   - every run is a job in the catalog; a job is Completed only when every
 *     one of its partitions was swapped in; a job whose process died is
 *     reported Failed the next time jobs are looked at.
 *
 * Threading: lr_compact_run() uses opt->threads worker threads and its own
 * catalog handles; several runs may go on at once in one process or in
 * several. The job, cleanup and cron calls are thread-safe (no shared state
 * but the metrics, which are atomic).
 */
#ifndef LARDER_COMPACT_H
#define LARDER_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "larder/buf.h"
#include "larder/catalog.h"
#include "larder/parquet.h"
#include "larder/status.h"
#include "larder/value.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_compact_mode {
    LR_COMPACT_INCREMENTAL = 0, /* partitions that changed since their last compaction */
    LR_COMPACT_DAY = 1,         /* the partitions of one UTC date */
    LR_COMPACT_FULL = 2,        /* every partition */
} lr_compact_mode;

typedef enum lr_compact_partition_mode {
    LR_COMPACT_BY_HOUR = 0, /* one set of files per hour=HH/ folder */
    LR_COMPACT_BY_DAY = 1,  /* one set per day=DD/ folder (compacted copies only) */
} lr_compact_partition_mode;

/* "incremental", "day", "full"; "hour", "day". */
const char *lr_compact_mode_name(lr_compact_mode m);
const char *lr_compact_partition_mode_name(lr_compact_partition_mode m);
/* Parse the names above. Errors: LR_EINVAL. */
lr_status lr_compact_mode_parse(const char *s, lr_compact_mode *out, lr_error *err);
lr_status lr_compact_partition_mode_parse(const char *s, lr_compact_partition_mode *out,
                                          lr_error *err);

/* The segment of the offline path that a compacted copy replaces, and its replacement. */
#define LR_COMPACT_SOURCE_SEGMENT "offline-store"
#define LR_COMPACT_COPY_SEGMENT   "compact-offline-store"

/* Defaults (docs/compaction.md). */
#define LR_COMPACT_TARGET_FILE_BYTES_DEFAULT ((uint64_t)128 << 20)
#define LR_COMPACT_GRACE_US_DEFAULT          (15LL * 60 * 1000000) /* 15 minutes */
#define LR_COMPACT_MEMORY_DEFAULT            ((size_t)1 << 30)     /* 1 GiB, all threads */
#define LR_COMPACT_LEASE_US_DEFAULT          (120LL * 1000000) /* 2 minutes, renewed every 20 s */

/* Progress, reported about four times a second while a run works, and at its end. */
typedef struct lr_compact_progress {
    uint32_t partitions_total;
    uint32_t partitions_done; /* swapped in */
    uint32_t partitions_failed;
    uint64_t bytes_total; /* input bytes of every planned partition */
    uint64_t bytes_read;  /* input bytes read so far */
    uint64_t rows_read;
    uint64_t rows_written;
    int64_t elapsed_us;
} lr_compact_progress;

/* Options (lr_compact_options_init() sets the defaults shown). */
typedef struct lr_compact_options {
    const char *catalog_uri; /* NULL: the data directory (as lr_catalog_open) */
    lr_compact_mode mode;    /* INCREMENTAL */
    const char *date;        /* DAY: "YYYY-MM-DD" (UTC), required; otherwise NULL */
    lr_compact_partition_mode partition_mode; /* BY_HOUR */
    /*
     * Where the compacted files go. Neither: in place. `copy`: the default
     * compacted copy, the group's offline path with its "offline-store"
     * segment replaced by "compact-offline-store". `target`: an absolute
     * path or file:// URI; the copy goes to <target>/<name>-<creation
     * epoch>/data/. A copy is replaced partition by partition when compacted
     * again.
     */
    bool copy;
    const char *target;
    uint64_t target_file_bytes; /* about this many bytes per file: 128 MiB */
    bool dedup;                 /* drop superseded duplicates (API.md's rule) */
    int64_t grace_us;           /* old files are deleted this long after the swap: 15 min */
    bool dry_run;               /* plan only: nothing written, no job recorded */
    size_t memory_bytes;        /* budget for sorting, all threads together: 1 GiB */
    uint32_t threads;           /* worker threads: 0 means 2 */
    lr_pq_codec codec;          /* SNAPPY */
    int64_t lease_us;           /* lease and job expiry, renewed at a third of it: 2 min */
    const char *tmp_dir;        /* spill runs: NULL means <data dir>/compact-tmp */
    bool verify;                /* read the new files back before the swap: true */
    /* Called from the calling thread (never concurrently); may be NULL. */
    void (*progress)(void *ctx, const lr_compact_progress *p);
    void *progress_ctx;
    /* Polled between batches; returning true stops the run (the job ends Failed). */
    bool (*canceled)(void *ctx);
    void *cancel_ctx;
} lr_compact_options;

void lr_compact_options_init(lr_compact_options *opt);

/* The outcome of one partition of a run. */
typedef struct lr_compact_partition_result {
    char partition[48];   /* the output partition */
    lr_job_status status; /* Completed, Failed, or Pending (dry run, or not reached) */
    uint64_t files_in, files_out;
    uint64_t rows_in, rows_out, rows_dropped;
    uint64_t bytes_in, bytes_out;
    lr_status code; /* Failed: the error's code; else LR_OK */
    char *error;    /* Failed: why, with the path at fault; else NULL */
} lr_compact_partition_result;

typedef struct lr_compact_result {
    int64_t job_id;       /* 0 for a dry run, or when no job could be recorded */
    lr_job_status status; /* Completed or Failed */
    char *target_root;    /* the copy's root; NULL in place */
    uint32_t partitions;  /* planned */
    uint32_t partitions_done;
    uint32_t partitions_failed;
    uint64_t files_in, files_out;
    uint64_t rows_in, rows_out, rows_dropped;
    uint64_t bytes_in, bytes_out;
    int64_t elapsed_us;
    lr_compact_partition_result *parts; /* in partition order */
    size_t n_parts;
} lr_compact_result;

/* Frees what a result holds; it is zeroed. NULL is fine. */
void lr_compact_result_free(lr_compact_result *r);

/*
 * Compacts feature group `fg` (a name) of the data directory `data_dir` as
 * `opt` says (NULL: defaults). `settings` may be NULL (environment).
 *
 * Before planning, lr_compact_cleanup() runs. Then the partitions to
 * compact are chosen, a job is recorded (unless dry_run), and the partitions
 * are compacted by opt->threads workers, each partition: lease, read and
 * sort (spilling sorted runs under tmp_dir when the memory budget is
 * exceeded), write files of about target_file_bytes, read them back and
 * compare rows and checksum, swap, delete the old files when grace_us is 0.
 * A partition that fails does not stop the others. *res (may be NULL) is
 * filled in either case.
 *
 * Returns LR_OK when the job Completed (nothing to do counts). Otherwise an
 * error whose message names the failed partitions and the path at fault.
 * Before anything is recorded: LR_ENOTFOUND (no such group), LR_EINVAL (bad
 * options, a group without an offline store, --partition-mode day in
 * place), LR_EUNSUPPORTED (an s3:// root), the catalog's errors, LR_ENOMEM.
 * When partitions failed, the code of the first: LR_EBUSY (leased by
 * another run), LR_ECORRUPT or LR_EIO (a file cannot be read or written),
 * LR_EINTERNAL (the new files did not hold the rows read), LR_ECANCELED,
 * LR_ECONFLICT (the job was declared dead, or garbage collection removed
 * its output), the catalog's errors, LR_ENOMEM.
 */
lr_status lr_compact_run(const char *data_dir, const lr_settings *settings, const char *fg,
                         const lr_compact_options *opt, lr_compact_result *res, lr_error *err);

/* What lr_compact_cleanup() did. */
typedef struct lr_compact_cleanup_report {
    uint64_t jobs_failed;     /* InProgress jobs whose process died, now Failed */
    uint64_t pending_removed; /* files written by dead jobs and never swapped in */
    uint64_t retired_removed; /* old files whose grace ended */
    uint64_t spill_removed;   /* spill folders of dead jobs */
} lr_compact_cleanup_report;

/*
 * Finishes what dead runs left: marks InProgress jobs whose process died
 * Failed (same machine: at once; other machines: once their expiry passed),
 * deletes their unswapped output and spill folders, and deletes retired old
 * files whose grace period has ended. Safe to run at any time, from any
 * process, concurrently with runs. `tmp_dir` may be NULL (<data dir>/
 * compact-tmp). report may be NULL.
 * Errors: LR_EIO, the catalog's errors, LR_ENOMEM.
 */
lr_status lr_compact_cleanup(lr_catalog *cat, const char *data_dir, const char *tmp_dir,
                             lr_compact_cleanup_report *report, lr_error *err);

/* ------------------------------------------------------------------------ */
/* Jobs                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * Jobs, newest first, as lr_catalog_jobs_list(), after declaring dead the
 * InProgress jobs whose process died (so a killed run never shows as
 * running or Completed). *out: lr_compact_job_list_free().
 * Errors: as lr_catalog_jobs_list.
 */
lr_status lr_compact_jobs_list(lr_catalog *cat, const lr_compact_job_query *q,
                               lr_compact_job_list *out, lr_error *err);

/* One job with its partitions, after the same check. Errors: LR_ENOTFOUND, the catalog's. */
lr_status lr_compact_job_get(lr_catalog *cat, int64_t job_id, lr_compact_job_list *out,
                             lr_error *err);

/*
 * Appends the jobs matching `q` as JSON, for the server's GET /v1/jobs:
 *   {"Jobs":[JOB...],"NextToken":"<id>"}   (NextToken only when more remain)
 * where JOB is {"JobId","JobType":"Compaction","FeatureGroupName","Mode",
 * "Date"?,"PartitionMode","Target"?,"Dedup","Status","FailureReason"?,
 * "Holder":{"Host","Pid"},"StartTime","EndTime"? (ISO-8601 UTC),
 * "Partitions","PartitionsCompleted","PartitionsFailed","FilesIn","FilesOut",
 * "RowsIn","RowsOut","RowsDropped","BytesIn","BytesOut"} plus, with
 * q->with_partitions, "PartitionResults":[{"Partition","Status",
 * "FailureReason"?,"FilesIn",...}]. `next_token` (may be NULL) continues a
 * listing. Errors: LR_EINVAL (bad token), the catalog's, LR_ELIMIT/LR_ENOMEM
 * (out's cap).
 */
lr_status lr_compact_jobs_json(lr_catalog *cat, const lr_compact_job_query *q,
                               const char *next_token, lr_buf *out, lr_error *err);

/* One job as JSON (JOB above with PartitionResults), for GET /v1/jobs/ID. Errors: LR_ENOTFOUND...
 */
lr_status lr_compact_job_json(lr_catalog *cat, int64_t job_id, lr_buf *out, lr_error *err);

/* Appends JOB (and its partitions when parts != NULL) as JSON; used by the two above. */
lr_status lr_compact_job_to_json(const lr_compact_job *job, const lr_compact_job_partition *parts,
                                 size_t n_parts, lr_buf *out);

/* ------------------------------------------------------------------------ */
/* Schedule                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A cron expression, evaluated in UTC. Two forms:
 *   - 5 fields: minute hour day-of-month month day-of-week, as crontab(5):
 *     day-of-week 0-7 (0 and 7 are Sunday) or SUN-SAT; when both day fields
 *     are restricted a day matching either fires;
 *   - 6 fields, AWS EventBridge's: minute hour day-of-month month
 *     day-of-week year, day-of-week 1-7 (1 is Sunday) or SUN-SAT, one of
 *     the two day fields must be '?', year 1970-2199 ("0 0 * * ? *" is
 *     midnight UTC every day).
 * Fields take '*', numbers, ranges a-b, steps a-b/n and a/n (and '*'
 * followed by /n), lists a,b;
 * months JAN-DEC. Day-of-month also takes L (last day) and nW (weekday
 * nearest day n); day-of-week also takes nL (last such weekday of the
 * month) and n#k (k-th such weekday). '?' is '*' in either day field.
 */
typedef struct lr_cron {
    uint64_t minutes; /* bit m: minute m */
    uint32_t hours;
    uint32_t dom;          /* bit d: day d (1..31) */
    uint16_t months;       /* bit m: month m (1..12) */
    uint8_t dow;           /* bit w: weekday w (0 = Sunday) */
    bool dom_any, dow_any; /* '*' or '?' */
    bool dom_last;         /* L */
    uint32_t dom_weekday;  /* nW: bit n; LW: bit 0 */
    uint8_t dow_last;      /* nL: bit w */
    uint8_t dow_nth[7];    /* n#k: bit k (1..5) for weekday n */
    bool aws;              /* 6-field form: the day fields are ANDed ('?' is one of them) */
    uint64_t years[4];     /* bit y-1970 (1970..2199), 6-field form; all set for 5 fields */
} lr_cron;

/* Parses `expr`. Errors: LR_EINVAL naming the field and the token. */
lr_status lr_cron_parse(const char *expr, lr_cron *out, lr_error *err);

/*
 * The first time strictly after `after_us` (rounded up to the next whole
 * minute) that matches, into *next_us. Errors: LR_ENOTFOUND when no time
 * up to the end of 2199 matches (e.g. "0 0 30 2 *").
 */
lr_status lr_cron_next(const lr_cron *c, int64_t after_us, int64_t *next_us, lr_error *err);

/*
 * One scheduled round: runs `opt` (its mode forced to incremental, its
 * progress callback ignored) on every feature group that has an offline
 * store, one after the other, then lr_compact_cleanup(). Groups whose
 * run fails are logged and counted; the others go on. *failed (may be
 * NULL) receives the number of groups that failed.
 * Errors: the catalog's (listing groups), LR_ECANCELED.
 */
lr_status lr_compact_schedule_run_once(const char *data_dir, const lr_settings *settings,
                                       const lr_compact_options *opt, uint32_t *failed,
                                       lr_error *err);

typedef struct lr_compact_schedule lr_compact_schedule;

/*
 * Starts a thread that runs lr_compact_schedule_run_once() at every time
 * `cron` matches (UTC), and lr_compact_cleanup() once a minute in between.
 * `opt` (may be NULL) and the strings it points to are copied. For
 * `larder serve --compaction-schedule`.
 * Errors: LR_EINVAL (bad cron expression or options), LR_ENOMEM, LR_EINTERNAL
 * (no thread).
 */
lr_status lr_compact_schedule_start(const char *data_dir, const lr_settings *settings,
                                    const char *cron, const lr_compact_options *opt,
                                    lr_compact_schedule **out, lr_error *err);

/* The next time the schedule fires (microseconds; 0 when never). */
int64_t lr_compact_schedule_next_us(lr_compact_schedule *s);

/* Makes the thread run a round now (it then waits for the next time again). */
void lr_compact_schedule_trigger(lr_compact_schedule *s);

/*
 * Stops the thread: a round in progress is canceled (its job ends Failed,
 * "canceled"), then the thread is joined and everything freed. NULL is fine.
 */
void lr_compact_schedule_stop(lr_compact_schedule *s);

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

/* Totals since the process started, over every run in it. */
typedef struct lr_compact_metrics {
    uint64_t jobs_run; /* jobs recorded (dry runs excluded) */
    uint64_t jobs_failed;
    uint64_t jobs_running;
    uint64_t partitions_compacted;
    uint64_t partitions_failed;
    uint64_t files_in, files_out;
    uint64_t rows_in, rows_out, rows_dropped;
    uint64_t bytes_in, bytes_out;
    int64_t last_duration_us; /* of the last job that ended (0: none yet) */
    int64_t last_end_us;
    uint64_t schedule_rounds; /* rounds the scheduler ran */
} lr_compact_metrics;

void lr_compact_metrics_get(lr_compact_metrics *out);

/*
 * Appends the metrics in Prometheus text format (larder_compaction_*
 * counters and gauges with HELP and TYPE lines), for /metrics.
 * Errors: LR_ELIMIT / LR_ENOMEM (out's cap).
 */
lr_status lr_compact_metrics_prometheus(lr_buf *out);

#ifdef __cplusplus
}
#endif
#endif
