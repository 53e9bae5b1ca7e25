/*
 * test_thrift.c - the Thrift compact protocol and Parquet's metadata
 * structures: round trips, the wire bytes of known cases, skipping unknown
 * fields, bool list elements typed 1 or 2, nesting and size limits, and
 * malformed input (every truncation, every single-byte corruption) giving
 * an error and never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "larder/arena.h"
#include "larder/buf.h"
#include "parquet/metadata.h"
#include "parquet/thrift.h"

static void test_wire_bytes(void **state)
{
    lr_buf b;
    lr__tw w;
    (void)state;
    lr_buf_init(&b, 0);
    lr__tw_init(&w, &b);
    lr__tw_i32(&w, 1, 3);                    /* 0x15 zigzag(3)=6 */
    lr__tw_i64(&w, 2, -1);                   /* 0x16 0x01 */
    lr__tw_bool(&w, 3, true);                /* 0x11 */
    lr__tw_bool(&w, 4, false);               /* 0x12 */
    lr__tw_string(&w, 5, "ab");              /* 0x18 0x02 'a' 'b' */
    lr__tw_i32(&w, 40, 1);                   /* long form: 0x05 zigzag(40)=80=0x50, value 0x02 */
    lr__tw_i32(&w, 41, 50399);               /* short form again: 0x15 0xBE 0x93 0x06 */
    lr__tw_list_begin(&w, 42, LR__T_I32, 2); /* 0x19 0x25 */
    lr__tw_elem_i32(&w, 1);
    lr__tw_elem_i32(&w, -2);
    lr__tw_struct_end(&w);
    assert_int_equal(lr__tw_status(&w), LR_OK);
    {
        static const uint8_t expect[] = {0x15, 0x06, 0x16, 0x01, 0x11, 0x12, 0x18, 0x02,
                                         'a',  'b',  0x05, 0x50, 0x02, 0x15, 0xBE, 0x93,
                                         0x06, 0x19, 0x25, 0x02, 0x03, 0x00};
        assert_int_equal(b.len, sizeof expect);
        assert_memory_equal(b.data, expect, sizeof expect);
    }
    lr_buf_free(&b);
}

static void test_roundtrip_values(void **state)
{
    static const int64_t vals[] = {0,  1,         -1,        63,        -64,
                                   64, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
    lr_buf b;
    lr__tw w;
    lr__tr r;
    int16_t last = 0, fid;
    uint8_t t;
    (void)state;
    lr_buf_init(&b, 0);
    lr__tw_init(&w, &b);
    for (int16_t i = 0; i < 10; i++)
        lr__tw_i64(&w, (int16_t)(i * 100 + 1), vals[i]);
    lr__tw_double(&w, 2000, -2.5);
    lr__tw_list_begin(&w, 2001, LR__T_BINARY, 20);
    for (int i = 0; i < 20; i++)
        lr__tw_elem_binary(&w, "xyz", (size_t)(i % 4));
    lr__tw_struct_end(&w);
    assert_int_equal(lr__tw_status(&w), LR_OK);

    lr__tr_init(&r, b.data, b.len, NULL);
    assert_int_equal(lr__tr_struct_enter(&r, &last), LR_OK);
    for (int i = 0; i < 10; i++) {
        int64_t v;
        assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
        assert_int_equal(fid, i * 100 + 1);
        assert_int_equal(t, LR__T_I64);
        assert_int_equal(lr__tr_i64(&r, t, &v), LR_OK);
        assert_true(v == vals[i]);
    }
    {
        double d;
        uint8_t elem;
        uint32_t n;
        assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
        assert_int_equal(lr__tr_double(&r, t, &d), LR_OK);
        assert_true(d == -2.5);
        assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
        assert_int_equal(fid, 2001);
        assert_int_equal(lr__tr_list(&r, t, &elem, &n), LR_OK);
        assert_int_equal(elem, LR__T_BINARY);
        assert_int_equal(n, 20);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *p;
            uint32_t len;
            assert_int_equal(lr__tr_binary(&r, elem, &p, &len), LR_OK);
            assert_int_equal(len, i % 4);
        }
    }
    assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
    assert_int_equal(t, LR__T_STOP);
    assert_true(r.p == r.end);
    lr_buf_free(&b);
}

/* An i32 read of an out-of-range i64 and type mismatches are errors. */
static void test_type_checks(void **state)
{
    lr_buf b;
    lr__tw w;
    lr__tr r;
    lr_error err;
    int16_t last = 0, fid;
    uint8_t t;
    int32_t v;
    (void)state;
    lr_buf_init(&b, 0);
    lr__tw_init(&w, &b);
    lr__tw_i64(&w, 1, (int64_t)INT32_MAX + 1);
    lr__tw_string(&w, 2, "s");
    lr__tw_struct_end(&w);
    lr__tr_init(&r, b.data, b.len, &err);
    assert_int_equal(lr__tr_struct_enter(&r, &last), LR_OK);
    assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
    assert_int_equal(lr__tr_i32(&r, t, &v), LR_ECORRUPT);
    lr__tr_init(&r, b.data, b.len, &err);
    last = 0;
    assert_int_equal(lr__tr_struct_enter(&r, &last), LR_OK);
    assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
    assert_int_equal(lr__tr_skip(&r, t), LR_OK);
    assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
    assert_int_equal(lr__tr_i32(&r, t, &v), LR_ECORRUPT);
    lr_buf_free(&b);
}

/* Skipping: nested structs, lists of structs, maps, sets, bools, doubles, uuids. */
static void test_skip_unknown(void **state)
{
    static const uint8_t data[] = {
        0x1C,             /* field 1: struct */
        0x15, 0x02,       /*   field 1: i32 1 */
        0x19, 0x2C,       /*   field 2: list<struct> of 2 */
        0x11, 0x00,       /*     { field 1 true } */
        0x00,             /*     {} */
        0x1B, 0x02, 0x58, /*   field 3: map size 2 key i32 value binary */
        0x02, 0x01, 'a',  0x04, 0x00, 0x1A, 0x21, 0x01, /*   field 4: set<bool> of 2, elements 1 and
                                                           0 */
        0x00, 0x00,                                     /*   stop */
        0x17, 0,    0,    0,    0,    0,    0,    0xF0, 0x3F, /* field 2: double 1.0 */
        0x1D, 1,    2,    3,    4,    5,    6,    7,    8,
        9,    10,   11,   12,   13,   14,   15,   16, /* field 3: uuid */
        0x19, 0x22, 0x01, 0x02, /* field 4: list<bool> typed 2, elements 1, 2 */
        0x19, 0x21, 0x01, 0x00, /* field 5: list<bool> typed 1 */
        0x13, 0xFF,             /* field 6: i8 */
        0x14, 0x03,             /* field 7: i16 */
        0x00,
    };
    lr__tr r;
    int16_t last = 0, fid;
    uint8_t t;
    int fields = 0;
    (void)state;
    lr__tr_init(&r, data, sizeof data, NULL);
    assert_int_equal(lr__tr_struct_enter(&r, &last), LR_OK);
    for (;;) {
        assert_int_equal(lr__tr_field(&r, &last, &fid, &t), LR_OK);
        if (t == LR__T_STOP)
            break;
        fields++;
        if (fid == 4) {
            uint8_t elem;
            uint32_t n;
            bool v;
            assert_int_equal(lr__tr_list(&r, t, &elem, &n), LR_OK);
            assert_int_equal(elem, LR__T_BOOL_TRUE);
            assert_int_equal(n, 2);
            assert_int_equal(lr__tr_elem_bool(&r, &v), LR_OK);
            assert_true(v);
            assert_int_equal(lr__tr_elem_bool(&r, &v), LR_OK);
            assert_false(v);
            continue;
        }
        assert_int_equal(lr__tr_skip(&r, t), LR_OK);
    }
    assert_int_equal(fields, 7);
    assert_true(r.p == r.end);
}

static void test_depth_and_size_limits(void **state)
{
    uint8_t deep[200];
    lr__tr r;
    lr_error err;
    (void)state;
    /* 100 nested struct fields: over the depth limit. */
    for (int i = 0; i < 100; i++)
        deep[i] = 0x1C;
    memset(deep + 100, 0, 100);
    lr__tr_init(&r, deep, sizeof deep, &err);
    assert_int_equal(lr__tr_skip(&r, LR__T_STRUCT), LR_ECORRUPT);
    assert_non_null(strstr(err.msg, "deep"));
    /* Nested lists of lists, also bounded. */
    for (int i = 0; i < 100; i++)
        deep[i] = 0x19;
    lr__tr_init(&r, deep, sizeof deep, &err);
    assert_int_equal(lr__tr_skip(&r, LR__T_LIST), LR_ECORRUPT);
    /* A list claiming more elements than bytes remain. */
    {
        static const uint8_t big[] = {0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x02};
        uint8_t elem;
        uint32_t n;
        lr__tr_init(&r, big, sizeof big, &err);
        assert_int_equal(lr__tr_list(&r, LR__T_LIST, &elem, &n), LR_ECORRUPT);
    }
    /* Binary length past the end; varint of 11 bytes. */
    {
        static const uint8_t bin[] = {0x05, 'a'};
        static const uint8_t v11[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                      0xFF, 0xFF, 0xFF, 0xFF, 0x01};
        const uint8_t *p;
        uint32_t n;
        int64_t v;
        lr__tr_init(&r, bin, sizeof bin, &err);
        assert_int_equal(lr__tr_binary(&r, LR__T_BINARY, &p, &n), LR_ECORRUPT);
        lr__tr_init(&r, v11, sizeof v11, &err);
        assert_int_equal(lr__tr_i64(&r, LR__T_I64, &v), LR_ECORRUPT);
    }
}

/* A FileMetaData with every field the writer and reader know. */
static void sample_meta(lr__pq_file_meta *m, lr_arena *a)
{
    static int32_t encs[3] = {0, 3, 8};
    static const char *path[3] = {"tags", "list", "element"};
    static lr__pq_kv kv[2] = {{"k1", "v1", 2, 2}, {"k2", NULL, 2, 0}};
    static uint8_t orders[2] = {LR__PQ_ORDER_TYPE_DEFINED, LR__PQ_ORDER_TYPE_DEFINED};
    static const uint8_t mn[4] = {1, 0, 0, 0}, mx[4] = {9, 0, 0, 0};
    lr__pq_schema_element *s = lr_arena_calloc(a, 5, sizeof *s);
    lr__pq_row_group *g = lr_arena_calloc(a, 2, sizeof *g);

    memset(m, 0, sizeof *m);
    for (int i = 0; i < 5; i++) {
        s[i].type = s[i].repetition = s[i].num_children = s[i].converted_type = -1;
        s[i].scale = s[i].precision = -1;
    }
    s[0].name = "schema";
    s[0].num_children = 2;
    s[1].name = "ts";
    s[1].type = 2;
    s[1].repetition = 1;
    s[1].converted_type = LR__PQ_CT_TIMESTAMP_MICROS;
    s[1].logical.kind = LR__PQ_LT_TIMESTAMP;
    s[1].logical.unit = LR__PQ_UNIT_MICROS;
    s[1].logical.utc = true;
    s[1].has_field_id = true;
    s[1].field_id = 7;
    s[2].name = "tags";
    s[2].repetition = 1;
    s[2].num_children = 1;
    s[2].converted_type = LR__PQ_CT_LIST;
    s[2].logical.kind = LR__PQ_LT_LIST;
    s[3].name = "list";
    s[3].repetition = 2;
    s[3].num_children = 1;
    s[4].name = "element";
    s[4].type = 1;
    s[4].repetition = 0;
    s[4].logical.kind = LR__PQ_LT_INTEGER;
    s[4].logical.bit_width = 16;
    s[4].logical.is_signed = false;
    s[4].converted_type = LR__PQ_CT_UINT_16;
    m->version = 1;
    m->schema = s;
    m->n_schema = 5;
    m->num_rows = 12345678901LL;
    m->row_groups = g;
    m->n_row_groups = 2;
    m->kv = kv;
    m->n_kv = 2;
    m->created_by = "larder version test";
    m->column_orders = orders;
    m->n_column_orders = 2;
    for (int i = 0; i < 2; i++) {
        lr__pq_column_chunk *c = lr_arena_calloc(a, 2, sizeof *c);
        g[i].columns = c;
        g[i].n_columns = 2;
        g[i].num_rows = 100 + i;
        g[i].total_byte_size = 5000;
        g[i].has_file_offset = true;
        g[i].file_offset = 4;
        g[i].has_total_compressed_size = true;
        g[i].total_compressed_size = 4000;
        g[i].has_ordinal = true;
        g[i].ordinal = (int16_t)i;
        for (int k = 0; k < 2; k++) {
            lr__pq_column_meta *cm = &c[k].meta_data;
            c[k].file_offset = 4 + k;
            c[k].has_meta_data = true;
            cm->type = k ? 1 : 2;
            cm->encodings = encs;
            cm->n_encodings = 3;
            cm->path = k ? path : (const char **)&s[1].name;
            cm->n_path = k ? 3 : 1;
            cm->codec = 6;
            cm->num_values = 1000;
            cm->total_uncompressed_size = 3000;
            cm->total_compressed_size = 2000;
            cm->data_page_offset = 77;
            cm->has_dictionary_page_offset = true;
            cm->dictionary_page_offset = 4;
            cm->has_statistics = true;
            cm->statistics.has_null_count = true;
            cm->statistics.null_count = 3;
            cm->statistics.has_min_value = cm->statistics.has_max_value = true;
            cm->statistics.min_value = mn;
            cm->statistics.min_value_len = 4;
            cm->statistics.max_value = mx;
            cm->statistics.max_value_len = 4;
            cm->statistics.has_is_max_value_exact = true;
            cm->statistics.is_max_value_exact = true;
            cm->kv = kv;
            cm->n_kv = 1;
        }
    }
}

static void test_file_meta_roundtrip(void **state)
{
    lr_arena *a = lr_arena_new(0, 0), *a2 = lr_arena_new(0, 0);
    lr__pq_file_meta m, d;
    lr_buf b, b2;
    lr_error err;
    (void)state;
    sample_meta(&m, a);
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_file_meta_encode(&m, &b), LR_OK);
    if (lr__pq_file_meta_decode((const uint8_t *)b.data, b.len, a2, &d, &err) != LR_OK)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(d.version, 1);
    assert_int_equal(d.n_schema, 5);
    assert_string_equal(d.schema[1].name, "ts");
    assert_int_equal(d.schema[1].logical.kind, LR__PQ_LT_TIMESTAMP);
    assert_int_equal(d.schema[1].logical.unit, LR__PQ_UNIT_MICROS);
    assert_true(d.schema[1].logical.utc);
    assert_int_equal(d.schema[1].field_id, 7);
    assert_int_equal(d.schema[3].repetition, 2);
    assert_int_equal(d.schema[4].logical.kind, LR__PQ_LT_INTEGER);
    assert_int_equal(d.schema[4].logical.bit_width, 16);
    assert_false(d.schema[4].logical.is_signed);
    assert_int_equal(d.num_rows, 12345678901LL);
    assert_int_equal(d.n_row_groups, 2);
    assert_int_equal(d.row_groups[1].ordinal, 1);
    assert_int_equal(d.row_groups[1].columns[1].meta_data.n_path, 3);
    assert_string_equal(d.row_groups[1].columns[1].meta_data.path[2], "element");
    assert_int_equal(d.row_groups[0].columns[0].meta_data.statistics.null_count, 3);
    assert_memory_equal(d.row_groups[0].columns[0].meta_data.statistics.max_value, "\x09\0\0\0", 4);
    assert_true(d.row_groups[0].columns[0].meta_data.has_dictionary_page_offset);
    assert_string_equal(d.created_by, "larder version test");
    assert_int_equal(d.n_kv, 2);
    assert_null(d.kv[1].value);
    assert_int_equal(d.n_column_orders, 2);
    assert_int_equal(d.column_orders[1], LR__PQ_ORDER_TYPE_DEFINED);
    /* Re-encoding the decoded form gives the same bytes. */
    lr_buf_init(&b2, 0);
    assert_int_equal(lr__pq_file_meta_encode(&d, &b2), LR_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    lr_buf_free(&b);
    lr_buf_free(&b2);
    lr_arena_free(a);
    lr_arena_free(a2);
}

/* Every prefix and every single-byte change of a footer: an error or a result, never a crash. */
static void test_file_meta_malformed(void **state)
{
    lr_arena *a = lr_arena_new(0, 0);
    lr__pq_file_meta m, d;
    lr_buf b;
    lr_error err;
    (void)state;
    sample_meta(&m, a);
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_file_meta_encode(&m, &b), LR_OK);
    for (size_t n = 0; n < b.len; n++) {
        lr_arena *t = lr_arena_new(0, 1 << 20);
        assert_int_not_equal(lr__pq_file_meta_decode((const uint8_t *)b.data, n, t, &d, &err),
                             LR_OK);
        lr_arena_free(t);
    }
    for (size_t i = 0; i < b.len; i++) {
        static const uint8_t xors[] = {0x01, 0x80, 0xFF, 0x0F, 0x10};
        for (size_t k = 0; k < sizeof xors; k++) {
            lr_arena *t = lr_arena_new(0, 1 << 20);
            b.data[i] ^= xors[k];
            (void)lr__pq_file_meta_decode((const uint8_t *)b.data, b.len, t, &d, &err);
            b.data[i] ^= xors[k];
            lr_arena_free(t);
        }
    }
    /* A footer of many empty row groups exhausts a small arena cap: LR_ELIMIT, not OOM. */
    {
        lr_buf h;
        lr_arena *t = lr_arena_new(0, 64 << 10);
        lr_buf_init(&h, 0);
        lr_buf_append(&h, "\x15\x02\x19\x0c", 4);             /* version, schema list of 0 */
        lr_buf_append(&h, "\x16\x00\x19\xfc\x80\x80\x04", 7); /* num_rows 0, 65536 row groups */
        for (int i = 0; i < 65536; i++)
            lr_buf_append(&h, "\x00", 1);
        lr_buf_append(&h, "\x00", 1);
        assert_int_equal(lr__pq_file_meta_decode((const uint8_t *)h.data, h.len, t, &d, &err),
                         LR_ELIMIT);
        lr_buf_free(&h);
        lr_arena_free(t);
    }
    lr_buf_free(&b);
    lr_arena_free(a);
}

static void test_page_header_roundtrip(void **state)
{
    lr__pq_page_header h, d;
    lr_buf b;
    size_t used;
    lr_error err;
    (void)state;
    memset(&h, 0, sizeof h);
    h.type = LR__PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = 1000;
    h.compressed_page_size = 600;
    h.has_crc = true;
    h.crc = -5;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = 100;
    h.data_page_header_v2.num_nulls = 10;
    h.data_page_header_v2.num_rows = 90;
    h.data_page_header_v2.encoding = LR__PQ_ENC_DELTA_BINARY_PACKED;
    h.data_page_header_v2.definition_levels_byte_length = 12;
    h.data_page_header_v2.repetition_levels_byte_length = 0;
    h.data_page_header_v2.is_compressed = false;
    lr_buf_init(&b, 0);
    assert_int_equal(lr__pq_page_header_encode(&h, &b), LR_OK);
    lr_buf_append(&b, "trailing", 8);
    assert_int_equal(lr__pq_page_header_decode((const uint8_t *)b.data, b.len, &d, &used, &err),
                     LR_OK);
    assert_int_equal(used, b.len - 8);
    assert_int_equal(d.type, LR__PQ_PAGE_DATA_V2);
    assert_int_equal(d.crc, -5);
    assert_false(d.data_page_header_v2.is_compressed);
    assert_int_equal(d.data_page_header_v2.num_nulls, 10);
    assert_int_equal(d.data_page_header_v2.definition_levels_byte_length, 12);
    for (size_t n = 0; n < used; n++)
        assert_int_not_equal(lr__pq_page_header_decode((const uint8_t *)b.data, n, &d, &used, &err),
                             LR_OK);
    lr_buf_free(&b);

    /* A data page header without its DataPageHeader is corrupt. */
    {
        static const uint8_t bad[] = {0x15, 0x00, 0x15, 0x02, 0x15, 0x02, 0x00};
        assert_int_equal(lr__pq_page_header_decode(bad, sizeof bad, &d, &used, &err), LR_ECORRUPT);
    }
    /* v2 with more nulls than values */
    {
        memset(&h, 0, sizeof h);
        h.type = LR__PQ_PAGE_DATA_V2;
        h.has_data_page_header_v2 = true;
        h.data_page_header_v2.num_values = 1;
        h.data_page_header_v2.num_nulls = 2;
        h.data_page_header_v2.is_compressed = true;
        lr_buf_init(&b, 0);
        assert_int_equal(lr__pq_page_header_encode(&h, &b), LR_OK);
        assert_int_equal(lr__pq_page_header_decode((const uint8_t *)b.data, b.len, &d, &used, &err),
                         LR_ECORRUPT);
        lr_buf_free(&b);
    }
}

/* An unknown logical type decodes as OTHER; unknown fields everywhere are skipped. */
static void test_unknown_logical_type(void **state)
{
    lr_arena *a = lr_arena_new(0, 0), *a2 = lr_arena_new(0, 0);
    lr__pq_file_meta m, d;
    lr_buf b;
    lr__tw w;
    lr_error err;
    (void)state;
    lr_buf_init(&b, 0);
    lr__tw_init(&w, &b);
    lr__tw_i32(&w, 1, 2);
    lr__tw_list_begin(&w, 2, LR__T_STRUCT, 2);
    lr__tw_elem_struct_begin(&w);
    lr__tw_string(&w, 4, "root");
    lr__tw_i32(&w, 5, 1);
    lr__tw_struct_end(&w);
    lr__tw_elem_struct_begin(&w);
    lr__tw_i32(&w, 1, 6);
    lr__tw_i32(&w, 3, 1);
    lr__tw_string(&w, 4, "x");
    lr__tw_struct_begin(&w, 10);
    lr__tw_struct_begin(&w, 99); /* a logical type from the future */
    lr__tw_i32(&w, 1, 5);
    lr__tw_struct_end(&w);
    lr__tw_struct_end(&w);
    lr__tw_string(&w, 200, "future field");
    lr__tw_struct_end(&w);
    lr__tw_i64(&w, 3, 0);
    lr__tw_list_begin(&w, 4, LR__T_STRUCT, 0);
    lr__tw_double(&w, 100, 1.5); /* unknown FileMetaData field */
    lr__tw_struct_end(&w);
    assert_int_equal(lr__tw_status(&w), LR_OK);
    if (lr__pq_file_meta_decode((const uint8_t *)b.data, b.len, a2, &d, &err) != LR_OK)
        fail_msg("decode: %s", err.msg);
    assert_int_equal(d.n_schema, 2);
    assert_int_equal(d.schema[1].logical.kind, LR__PQ_LT_OTHER);
    assert_string_equal(d.schema[1].name, "x");
    (void)m;
    lr_buf_free(&b);
    lr_arena_free(a);
    lr_arena_free(a2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_bytes),
        cmocka_unit_test(test_roundtrip_values),
        cmocka_unit_test(test_type_checks),
        cmocka_unit_test(test_skip_unknown),
        cmocka_unit_test(test_depth_and_size_limits),
        cmocka_unit_test(test_file_meta_roundtrip),
        cmocka_unit_test(test_file_meta_malformed),
        cmocka_unit_test(test_page_header_roundtrip),
        cmocka_unit_test(test_unknown_logical_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
