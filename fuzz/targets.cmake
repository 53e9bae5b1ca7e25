# The fuzz targets: one line each (see cmake/fuzz.cmake). Included by
# fuzz/CMakeLists.txt (libFuzzer) and tests/fuzz/CMakeLists.txt (replay).
lr_add_fuzz_target(fuzz_fgdef SOURCE fuzz_fgdef.c CORPUS corpus/fgdef DEPS lr_core)
