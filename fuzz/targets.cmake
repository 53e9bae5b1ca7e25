# The fuzz targets: one line each (see cmake/fuzz.cmake). Included by
# fuzz/CMakeLists.txt (libFuzzer) and tests/fuzz/CMakeLists.txt (replay).
lr_add_fuzz_target(fuzz_fgdef SOURCE fuzz_fgdef.c CORPUS corpus/fgdef DEPS lr_core)
lr_add_fuzz_target(fuzz_pq_read SOURCE fuzz_pq_read.c CORPUS corpus/pq_read DEPS lr_parquet)
lr_add_fuzz_target(fuzz_pq_roundtrip SOURCE fuzz_pq_roundtrip.c CORPUS corpus/pq_roundtrip DEPS lr_parquet)
lr_add_fuzz_target(fuzz_http SOURCE fuzz_http.c CORPUS corpus/http DEPS lr_server)
lr_add_fuzz_target(fuzz_wal_entry SOURCE fuzz_wal_entry.c CORPUS corpus/wal_entry DEPS lr_offline)
