/*
 * common.h - what the three HTTP candidates share: the fixed GetRecord-shaped
 * response body (about 300 bytes of JSON) and the port/thread arguments.
 * These programs exist only to measure HTTP layers (docs/server.md); they are
 * not part of Larder.
 */
#ifndef BENCH_HTTP_COMMON_H
#define BENCH_HTTP_COMMON_H

#include <stdlib.h>

static const char cand_body[] =
    "{\"Record\":[{\"FeatureName\":\"meter_id\",\"ValueAsString\":\"m-0000123456\"},"
    "{\"FeatureName\":\"event_time\",\"ValueAsString\":\"2026-11-21T10:00:00Z\"},"
    "{\"FeatureName\":\"kwh\",\"ValueAsString\":\"12.345\"},"
    "{\"FeatureName\":\"voltage\",\"ValueAsString\":\"229.8\"},"
    "{\"FeatureName\":\"region\",\"ValueAsString\":\"north-east\"},"
    "{\"FeatureName\":\"tariff\",\"ValueAsString\":\"standard\"}]}";

static inline int cand_port(int argc, char **argv) { return argc > 1 ? atoi(argv[1]) : 18080; }
static inline int cand_threads(int argc, char **argv) { return argc > 2 ? atoi(argv[2]) : 2; }

#endif
