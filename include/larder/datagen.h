/*
 * datagen.h - deterministic sample data: daily household energy readings in
 * the shape of the public "Smart meters in London" daily dataset (the one
 * used in the well-known Keyspaces feature-store study).
 *
 * Rows are (household_id, day, energy_median, energy_mean, energy_max,
 * energy_count, energy_std, energy_sum, energy_min, event_time): household
 * ids MAC000002.., days from 2011-11-23, each day summarising 48 half-hourly
 * kWh readings (fewer on a household's first and last day), with seasonal,
 * weekly and daily patterns, households joining over the first year and some
 * leaving early, and missing days. The same seed gives the same bytes.
 */
#ifndef LARDER_DATAGEN_H
#define LARDER_DATAGEN_H

#include <stdint.h>
#include <stdio.h>

#include "larder/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_datagen_opts {
    uint32_t households; /* default 5566 */
    uint32_t days;       /* default 829 */
    uint64_t seed;       /* default 1 */
} lr_datagen_opts;

typedef struct lr_datagen_stats {
    uint64_t rows;
    uint64_t partial_days; /* rows with energy_count < 48 */
    uint64_t bytes;
} lr_datagen_stats;

void lr_datagen_opts_init(lr_datagen_opts *o);

/*
 * Writes the CSV (header line first) to `out`. Errors: LR_EINVAL for zero
 * households/days or more than 999999 households or 100000 days, LR_EIO
 * when writing fails.
 */
lr_status lr_datagen_smart_meter_csv(const lr_datagen_opts *o, FILE *out, lr_datagen_stats *stats,
                                     lr_error *err);

/* The feature-group definition (CreateFeatureGroup JSON) for the data, named `name`. */
const char *lr_datagen_smart_meter_definition(void);

#ifdef __cplusplus
}
#endif
#endif
