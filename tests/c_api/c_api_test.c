/* The C API (onebit/onebit.h) from C99: error handling, argument checks, a real model's tensors, repeated
 * and multi-threaded invokes, profiling, a caller-owned arena. Compiled with -std=c99 -pedantic -Werror, so it also proves the
 * header is clean C99.
 *
 * usage: c_api_test MODEL.fb   (ctest passes the model the c_api_model fixture writes with onebit-synth) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c_api_check.h"
#include "onebit/onebit.h"

static void test_errors_without_a_model(void) {
  onebit_model* m = NULL;
  onebit_interpreter* it = NULL;
  onebit_interpreter_options o;
  onebit_op_profile p;
  const int* dims = NULL;
  const float* values = NULL;
  size_t rank = 0;
  const char* missing = "/nonexistent/dir/c_api_missing_model.fb";
  unsigned char garbage[10];

  CHECK(onebit_version() != NULL && onebit_version()[0] != '\0');
  CHECK(onebit_last_error() != NULL);

  /* A missing file: an error naming the path; *out untouched. */
  CHECK(onebit_model_load_file(missing, &m) == ONEBIT_ERROR);
  CHECK(error_mentions(missing));
  CHECK(m == NULL);

  /* Ten garbage bytes. */
  memset(garbage, 0xab, sizeof garbage);
  CHECK(onebit_model_load_buffer(garbage, sizeof garbage, &m) == ONEBIT_ERROR);
  CHECK(onebit_last_error()[0] != '\0');
  CHECK(m == NULL);

  /* NULL pointers: every family. */
  CHECK(invalid_and_names(onebit_model_load_file(NULL, &m), "onebit_model_load_file"));
  CHECK(error_mentions("path"));
  CHECK(invalid_and_names(onebit_model_load_file(missing, NULL), "onebit_model_load_file"));
  CHECK(error_mentions("out"));
  CHECK(invalid_and_names(onebit_model_load_buffer(NULL, 10, &m), "onebit_model_load_buffer"));
  CHECK(invalid_and_names(onebit_model_load_buffer(garbage, sizeof garbage, NULL), "onebit_model_load_buffer"));
  CHECK(m == NULL);

  CHECK(onebit_model_size_bytes(NULL) == 0 && error_mentions("onebit_model_size_bytes"));
  CHECK(onebit_model_label_count(NULL) == 0 && error_mentions("onebit_model_label_count"));
  CHECK(onebit_model_label(NULL, 0) == NULL && error_mentions("onebit_model_label"));
  CHECK(onebit_model_input_mean(NULL, &values) == 0 && error_mentions("onebit_model_input_mean"));
  CHECK(onebit_model_input_std(NULL, &values) == 0 && error_mentions("onebit_model_input_std"));

  onebit_interpreter_options_init(NULL, sizeof o); /* must not crash */
  CHECK(error_mentions("onebit_interpreter_options_init"));
  onebit_interpreter_options_init(&o, sizeof o);
  CHECK(invalid_and_names(onebit_interpreter_create(NULL, &o, &it), "onebit_interpreter_create"));
  CHECK(it == NULL);

  CHECK(onebit_interpreter_input_count(NULL) == 0 && error_mentions("onebit_interpreter_input_count"));
  CHECK(onebit_interpreter_output_count(NULL) == 0 && error_mentions("onebit_interpreter_output_count"));
  CHECK(onebit_interpreter_input_name(NULL, 0) == NULL && error_mentions("onebit_interpreter_input_name"));
  CHECK(onebit_interpreter_output_name(NULL, 0) == NULL && error_mentions("onebit_interpreter_output_name"));
  CHECK(invalid_and_names(onebit_interpreter_input_shape(NULL, 0, &dims, &rank), "onebit_interpreter_input_shape"));
  CHECK(invalid_and_names(onebit_interpreter_output_shape(NULL, 0, &dims, &rank), "onebit_interpreter_output_shape"));
  CHECK(dims == NULL && rank == 0);
  CHECK(onebit_interpreter_input_size(NULL, 0) == 0 && error_mentions("onebit_interpreter_input_size"));
  CHECK(onebit_interpreter_output_size(NULL, 0) == 0 && error_mentions("onebit_interpreter_output_size"));
  CHECK(onebit_interpreter_input(NULL, 0) == NULL && error_mentions("onebit_interpreter_input"));
  CHECK(onebit_interpreter_output(NULL, 0) == NULL && error_mentions("onebit_interpreter_output"));
  CHECK(invalid_and_names(onebit_interpreter_invoke(NULL), "onebit_interpreter_invoke"));
  CHECK(onebit_interpreter_arena_bytes(NULL) == 0 && error_mentions("onebit_interpreter_arena_bytes"));
  CHECK(onebit_interpreter_isa(NULL) == NULL && error_mentions("onebit_interpreter_isa"));
  CHECK(onebit_interpreter_threads(NULL) == 0 && error_mentions("onebit_interpreter_threads"));
  CHECK(onebit_interpreter_op_count(NULL) == 0 && error_mentions("onebit_interpreter_op_count"));
  CHECK(invalid_and_names(onebit_interpreter_op_profile(NULL, 0, &p), "onebit_interpreter_op_profile"));
  onebit_interpreter_clear_profile(NULL); /* must not crash */
  CHECK(error_mentions("onebit_interpreter_clear_profile"));

  /* destroy(NULL) is a no-op. */
  onebit_model_destroy(NULL);
  onebit_interpreter_destroy(NULL);
}

/* Creates an interpreter with `threads` and profiling on, or fails the test. */
static onebit_interpreter* create(const onebit_model* m, int threads) {
  onebit_interpreter_options o;
  onebit_interpreter* it = NULL;
  onebit_interpreter_options_init(&o, sizeof o);
  o.threads = threads;
  o.profiling = 1;
  REQUIRE(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  REQUIRE(it != NULL);
  CHECK(onebit_last_error()[0] == '\0');
  CHECK(onebit_interpreter_threads(it) == threads);
  return it;
}

static void test_options(const onebit_model* m) {
  onebit_interpreter_options o;
  onebit_interpreter* it = NULL;
  const char* isa;

  memset(&o, 0x5a, sizeof o);
  onebit_interpreter_options_init(&o, sizeof o);
  CHECK(o.struct_size == sizeof(onebit_interpreter_options));
  CHECK(o.threads == 1);
  CHECK(o.isa == NULL || o.isa[0] == '\0');
  CHECK(o.profiling == 0);
  CHECK(o.max_arena_bytes == 0);
  CHECK(o.arena == NULL);
  CHECK(o.arena_size == 0);
  CHECK(o.portable_float_kernels == 0);

  /* NULL options = defaults. */
  CHECK(onebit_interpreter_create(m, NULL, &it) == ONEBIT_OK);
  CHECK(it != NULL);
  CHECK(onebit_interpreter_threads(it) == 1);
  isa = onebit_interpreter_isa(it);
  CHECK(isa != NULL);
  CHECK(isa != NULL && (strcmp(isa, "scalar") == 0 || strcmp(isa, "avx2") == 0 ||
                        strcmp(isa, "avx512vpopcnt") == 0 || strcmp(isa, "neon") == 0));
  /* The library's ISA table, in order, NULL past the end. */
  CHECK(onebit_isa_name(0) != NULL && strcmp(onebit_isa_name(0), "scalar") == 0);
  CHECK(onebit_isa_name(1) != NULL && strcmp(onebit_isa_name(1), "avx2") == 0);
  CHECK(onebit_isa_name(2) != NULL && strcmp(onebit_isa_name(2), "avx512vpopcnt") == 0);
  CHECK(onebit_isa_name(3) != NULL && strcmp(onebit_isa_name(3), "neon") == 0);
  CHECK(onebit_isa_name(4) == NULL);
  /* Without profiling: every operator is still listed, with no samples. */
  CHECK(onebit_interpreter_op_count(it) > 0);
  {
    onebit_op_profile p;
    memset(&p, 0, sizeof p);
    CHECK(onebit_interpreter_op_profile(it, 0, &p) == ONEBIT_OK);
    CHECK(p.name != NULL && p.type != NULL && p.samples == 0 && p.median_ms == 0);
  }
  onebit_interpreter_destroy(it);
  it = NULL;

  /* Explicit "scalar" is available everywhere. */
  o.isa = "scalar";
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  CHECK(it != NULL && strcmp(onebit_interpreter_isa(it), "scalar") == 0);
  onebit_interpreter_destroy(it);
  it = NULL;

  /* An unknown ISA: an error at create that names it. */
  o.isa = "nonsense";
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions("nonsense"));
  CHECK(error_mentions("ISA"));
  CHECK(it == NULL);
  o.isa = NULL;

  /* threads out of range: the runtime's error. */
  o.threads = 0;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions("threads"));
  CHECK(it == NULL);
  o.threads = 1;

  /* A budget far too small for the arena. */
  o.max_arena_bytes = 64;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions("max_arena_bytes"));
  CHECK(it == NULL);
  o.max_arena_bytes = 0;

  /* struct_size: 0 (never initialized) is rejected; a struct that ends after `threads` takes defaults for
   * the rest (the nonsense ISA after it is not read); a larger (newer) struct is accepted. */
  o.struct_size = 0;
  CHECK(invalid_and_names(onebit_interpreter_create(m, &o, &it), "struct_size"));
  CHECK(it == NULL);
  o.struct_size = sizeof(size_t) + sizeof(int);
  o.isa = "nonsense";
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  onebit_interpreter_destroy(it);
  it = NULL;
  o.isa = NULL;
  o.struct_size = sizeof o + 16;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  onebit_interpreter_destroy(it);
  it = NULL;

  CHECK(invalid_and_names(onebit_interpreter_create(m, NULL, NULL), "onebit_interpreter_create"));
}

static void test_model(const onebit_model* m) {
  const float* values = NULL;
  const size_t labels = onebit_model_label_count(m);
  size_t i, n;

  CHECK(onebit_model_size_bytes(m) > 0);
  CHECK(onebit_last_error()[0] == '\0');
  for (i = 0; i < labels; ++i) CHECK(onebit_model_label(m, i) != NULL);
  CHECK(onebit_model_label(m, labels) == NULL);
  CHECK(error_mentions("out of range"));

  n = onebit_model_input_mean(m, &values);
  CHECK(n == 0 || values != NULL);
  n = onebit_model_input_std(m, &values);
  CHECK(n == 0 || values != NULL);
  CHECK(onebit_model_input_mean(m, NULL) == 0 && error_mentions("values"));
  CHECK(onebit_model_input_std(m, NULL) == 0 && error_mentions("values"));
}

static size_t product(const int* dims, size_t rank) {
  size_t n = 1, i;
  for (i = 0; i < rank; ++i) n *= (size_t)dims[i];
  return n;
}

/* One side of an interpreter's tensors, its inputs or its outputs, by the C API's accessors of that side. */
struct tensor_side {
  size_t (*count)(const onebit_interpreter*);
  const char* (*name)(const onebit_interpreter*, size_t);
  onebit_status (*shape)(const onebit_interpreter*, size_t, const int**, size_t*);
  size_t (*size)(const onebit_interpreter*, size_t);
  const float* (*data)(onebit_interpreter*, size_t);
};

static const float* input_data(onebit_interpreter* it, size_t i) { return onebit_interpreter_input(it, i); }
static const float* output_data(onebit_interpreter* it, size_t i) { return onebit_interpreter_output(it, i); }

/* The side has at least one tensor, and each has a name, a shape whose product is its size, and data. */
static void check_side(onebit_interpreter* it, const struct tensor_side* side) {
  const int* dims = NULL;
  size_t rank = 0, i;
  REQUIRE(side->count(it) >= 1);
  for (i = 0; i < side->count(it); ++i) {
    CHECK(side->name(it, i) != NULL);
    CHECK(side->shape(it, i, &dims, &rank) == ONEBIT_OK);
    CHECK(rank >= 1 && dims != NULL);
    CHECK(side->size(it, i) == product(dims, rank));
    CHECK(side->data(it, i) != NULL);
  }
}

/* The interpreter's tensors are consistent; returns the input and output sizes. */
static void test_tensors(onebit_interpreter* it, size_t* in_size, size_t* out_size) {
  const struct tensor_side inputs = {onebit_interpreter_input_count, onebit_interpreter_input_name,
                                     onebit_interpreter_input_shape, onebit_interpreter_input_size, input_data};
  const struct tensor_side outputs = {onebit_interpreter_output_count, onebit_interpreter_output_name,
                                      onebit_interpreter_output_shape, onebit_interpreter_output_size, output_data};
  const int* dims = NULL;
  size_t rank = 0, i;
  char message[128];

  check_side(it, &inputs);
  check_side(it, &outputs);

  /* The synthetic model: one NHWC 32x32x3 input, 10 classes. */
  CHECK(onebit_interpreter_input_shape(it, 0, &dims, &rank) == ONEBIT_OK);
  CHECK(rank == 4 && dims[0] == 1 && dims[1] == 32 && dims[2] == 32 && dims[3] == 3);
  CHECK(onebit_interpreter_output_size(it, 0) == 10);
  *in_size = onebit_interpreter_input_size(it, 0);
  *out_size = onebit_interpreter_output_size(it, 0);

  /* Out of range: NULL / 0 and an argument error naming the function, the index and the count. */
  i = onebit_interpreter_input_count(it);
  sprintf(message, "index %lu out of range (%lu inputs)", (unsigned long)i, (unsigned long)i);
  CHECK(onebit_interpreter_input(it, i) == NULL);
  CHECK(error_mentions("onebit_interpreter_input") && error_mentions(message));
  CHECK(onebit_interpreter_input_name(it, i) == NULL && error_mentions("out of range"));
  CHECK(onebit_interpreter_input_size(it, i) == 0 && error_mentions("out of range"));
  dims = NULL;
  rank = 0;
  CHECK(onebit_interpreter_input_shape(it, i, &dims, &rank) == ONEBIT_INVALID_ARGUMENT);
  CHECK(dims == NULL && rank == 0);
  i = onebit_interpreter_output_count(it);
  CHECK(onebit_interpreter_output(it, i) == NULL && error_mentions("outputs"));
  CHECK(onebit_interpreter_output_name(it, i) == NULL && error_mentions("out of range"));
  CHECK(onebit_interpreter_output_size(it, i) == 0 && error_mentions("out of range"));
  CHECK(onebit_interpreter_output_shape(it, i, &dims, &rank) == ONEBIT_INVALID_ARGUMENT);
  CHECK(dims == NULL && rank == 0);
  CHECK(invalid_and_names(onebit_interpreter_input_shape(it, 0, NULL, &rank), "dims"));
  CHECK(invalid_and_names(onebit_interpreter_output_shape(it, 0, &dims, NULL), "rank"));

  CHECK(onebit_interpreter_arena_bytes(it) > 0);
}

/* Runs it on a copy of `x`; returns a malloc'ed copy of output 0. */
static float* run(onebit_interpreter* it, const float* x, size_t in_size, size_t out_size) {
  float* y = (float*)malloc(sizeof(float) * out_size);
  REQUIRE(y != NULL);
  memcpy(onebit_interpreter_input(it, 0), x, sizeof(float) * in_size);
  REQUIRE(onebit_interpreter_invoke(it) == ONEBIT_OK);
  CHECK(onebit_last_error()[0] == '\0');
  memcpy(y, onebit_interpreter_output(it, 0), sizeof(float) * out_size);
  return y;
}

static void test_profile(onebit_interpreter* it, size_t invokes) {
  const size_t ops = onebit_interpreter_op_count(it);
  onebit_op_profile p;
  size_t i;

  CHECK(ops > 0);
  for (i = 0; i < ops; ++i) {
    memset(&p, 0, sizeof p);
    CHECK(onebit_interpreter_op_profile(it, i, &p) == ONEBIT_OK);
    CHECK(p.name != NULL);
    CHECK(p.type != NULL && p.type[0] != '\0');
    CHECK(p.output_shape != NULL && p.output_rank >= 1);
    CHECK(p.samples == invokes);
    if (p.samples != invokes)
      fprintf(stderr, "  operator %lu: %lu samples, expected %lu\n", (unsigned long)i, (unsigned long)p.samples,
              (unsigned long)invokes);
    CHECK(p.last_ms >= 0 && p.median_ms >= 0);
    CHECK(invokes > 0 || (p.last_ms == 0 && p.median_ms == 0));
    CHECK(p.binary_macs >= 0 && p.float_macs >= 0);
  }
  CHECK(onebit_interpreter_op_profile(it, ops, &p) == ONEBIT_INVALID_ARGUMENT);
  CHECK(error_mentions("out of range"));
  CHECK(invalid_and_names(onebit_interpreter_op_profile(it, 0, NULL), "out"));
}

static void test_interpreters(const onebit_model* m) {
  onebit_interpreter* it2 = create(m, 2);
  onebit_interpreter* it1;
  size_t in_size = 0, out_size = 0, i;
  float *x, *x_copy, *y_a, *y_b, *y_1, *y_other;
  int64_t binary_macs = 0;
  onebit_op_profile p;

  test_tensors(it2, &in_size, &out_size);
  test_profile(it2, 0);

  x = (float*)malloc(sizeof(float) * in_size);
  x_copy = (float*)malloc(sizeof(float) * in_size);
  REQUIRE(x != NULL && x_copy != NULL);
  fill(x, in_size, 1);

  /* Twice on one input: bit-identical outputs, the input untouched. */
  y_a = run(it2, x, in_size, out_size);
  memcpy(x_copy, onebit_interpreter_input(it2, 0), sizeof(float) * in_size);
  CHECK(onebit_interpreter_invoke(it2) == ONEBIT_OK);
  CHECK(memcmp(onebit_interpreter_input(it2, 0), x_copy, sizeof(float) * in_size) == 0);
  CHECK(memcmp(x_copy, x, sizeof(float) * in_size) == 0);
  y_b = (float*)malloc(sizeof(float) * out_size);
  REQUIRE(y_b != NULL);
  memcpy(y_b, onebit_interpreter_output(it2, 0), sizeof(float) * out_size);
  CHECK(memcmp(y_a, y_b, sizeof(float) * out_size) == 0);
  CHECK(all_finite(y_a, out_size));

  /* Profiling: two invokes recorded, then cleared. */
  test_profile(it2, 2);
  for (i = 0; i < onebit_interpreter_op_count(it2); ++i) {
    if (onebit_interpreter_op_profile(it2, i, &p) == ONEBIT_OK) binary_macs += p.binary_macs;
  }
  CHECK(binary_macs > 0); /* Bi-Real-Net has binary convolutions */
  onebit_interpreter_clear_profile(it2);
  CHECK(onebit_last_error()[0] == '\0');
  test_profile(it2, 0);

  /* One thread: the same outputs (bit-identical is expected; 1e-5 relative is the contract). */
  it1 = create(m, 1);
  y_1 = run(it1, x, in_size, out_size);
  CHECK(within_relative(y_1, y_a, out_size, 1e-5));
  if (memcmp(y_1, y_a, sizeof(float) * out_size) != 0)
    fprintf(stderr, "note: threads=1 and threads=2 outputs differ in bits (within 1e-5)\n");
  test_profile(it1, 1);

  /* Another input: different outputs, still finite. */
  fill(x, in_size, 2);
  y_other = run(it1, x, in_size, out_size);
  CHECK(all_finite(y_other, out_size));
  CHECK(memcmp(y_other, y_1, sizeof(float) * out_size) != 0);

  free(y_other);
  free(y_1);
  free(y_b);
  free(y_a);
  free(x_copy);
  free(x);
  onebit_interpreter_destroy(it1);
  onebit_interpreter_destroy(it2);
}

/* n in decimal, written into buf. */
static const char* size_text(size_t n, char* buf, size_t size) {
  snprintf(buf, size, "%lu", (unsigned long)n);
  return buf;
}

/* A caller-owned arena: the bytes onebit_interpreter_required_arena_bytes names are enough, the outputs
 * equal the interpreter's own arena's bit for bit, inputs live in the caller's buffer; one byte less is an
 * error naming the bytes needed; a misaligned buffer is aligned up (and then needs the difference more). */
static void test_caller_arena(const onebit_model* m) {
  onebit_interpreter_options o;
  onebit_interpreter *own = NULL, *it = NULL;
  size_t needed = 0, in_size, out_size, skip;
  unsigned char* buffer;
  unsigned char* aligned;
  float *x, *y_own, *y_caller;
  char text[32];

  onebit_interpreter_options_init(&o, sizeof o);
  o.threads = 2;
  CHECK(invalid_and_names(onebit_interpreter_required_arena_bytes(NULL, &o, &needed), "model"));
  CHECK(invalid_and_names(onebit_interpreter_required_arena_bytes(m, &o, NULL), "bytes"));
  REQUIRE(onebit_interpreter_required_arena_bytes(m, &o, &needed) == ONEBIT_OK);
  CHECK(onebit_last_error()[0] == '\0');
  REQUIRE(onebit_interpreter_create(m, &o, &own) == ONEBIT_OK);
  CHECK(onebit_interpreter_arena_bytes(own) == needed);

  /* Aligned up by hand so that `aligned` is exactly ONEBIT_ARENA_ALIGNMENT-aligned. */
  buffer = (unsigned char*)malloc(needed + 2 * ONEBIT_ARENA_ALIGNMENT);
  REQUIRE(buffer != NULL);
  skip = (ONEBIT_ARENA_ALIGNMENT - (size_t)((uintptr_t)buffer % ONEBIT_ARENA_ALIGNMENT)) % ONEBIT_ARENA_ALIGNMENT;
  aligned = buffer + skip;

  /* One byte short: an error naming the bytes needed; nothing created. */
  o.arena = aligned;
  o.arena_size = needed - 1;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions("arena"));
  CHECK(error_mentions(size_text(needed, text, sizeof text)));
  CHECK(it == NULL);
  /* arena_size without arena. */
  o.arena = NULL;
  o.arena_size = needed;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions("arena"));
  CHECK(it == NULL);

  /* Exactly enough: the caller's bytes hold the inputs, the outputs equal the interpreter's own arena's. */
  o.arena = aligned;
  o.arena_size = needed;
  REQUIRE(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  CHECK(onebit_interpreter_arena_bytes(it) == needed);
  CHECK((unsigned char*)onebit_interpreter_input(it, 0) >= aligned &&
        (unsigned char*)onebit_interpreter_input(it, 0) < aligned + needed);
  in_size = onebit_interpreter_input_size(it, 0);
  out_size = onebit_interpreter_output_size(it, 0);
  x = (float*)malloc(sizeof(float) * in_size);
  REQUIRE(x != NULL);
  fill(x, in_size, 3);
  y_own = run(own, x, in_size, out_size);
  y_caller = run(it, x, in_size, out_size);
  CHECK(memcmp(y_own, y_caller, sizeof(float) * out_size) == 0);
  free(y_caller);
  onebit_interpreter_destroy(it);
  it = NULL;

  /* Misaligned by one byte: aligned up, so `needed` bytes are too few (the message names the extra), and
   * ONEBIT_ARENA_ALIGNMENT - 1 more are enough, with the same outputs. */
  o.arena = aligned + 1;
  o.arena_size = needed;
  CHECK(onebit_interpreter_create(m, &o, &it) == ONEBIT_ERROR);
  CHECK(error_mentions(size_text(needed + ONEBIT_ARENA_ALIGNMENT - 1, text, sizeof text)));
  CHECK(it == NULL);
  o.arena_size = needed + ONEBIT_ARENA_ALIGNMENT - 1;
  REQUIRE(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK);
  CHECK((uintptr_t)onebit_interpreter_input(it, 0) % 16 == 0);
  y_caller = run(it, x, in_size, out_size);
  CHECK(memcmp(y_own, y_caller, sizeof(float) * out_size) == 0);
  free(y_caller);
  onebit_interpreter_destroy(it);

  free(y_own);
  free(x);
  onebit_interpreter_destroy(own);
  free(buffer);
}

/* portable_float_kernels: the same outputs as XNNPACK's up to float rounding (another summation order). */
static void test_portable_float(const onebit_model* m) {
  onebit_interpreter_options o;
  onebit_interpreter *xnn = NULL, *portable = NULL;
  size_t in_size, out_size, i;
  float *x, *y_xnn, *y_portable;

  onebit_interpreter_options_init(&o, sizeof o);
  REQUIRE(onebit_interpreter_create(m, &o, &xnn) == ONEBIT_OK);
  o.portable_float_kernels = 1;
  REQUIRE(onebit_interpreter_create(m, &o, &portable) == ONEBIT_OK);
  in_size = onebit_interpreter_input_size(xnn, 0);
  out_size = onebit_interpreter_output_size(xnn, 0);
  x = (float*)malloc(sizeof(float) * in_size);
  REQUIRE(x != NULL);
  fill(x, in_size, 5);
  y_xnn = run(xnn, x, in_size, out_size);
  y_portable = run(portable, x, in_size, out_size);
  for (i = 0; i < out_size; ++i) CHECK(fabsf(y_xnn[i] - y_portable[i]) <= 1e-3f * (1.0f + fabsf(y_xnn[i])));
  free(y_portable);
  free(y_xnn);
  free(x);
  onebit_interpreter_destroy(portable);
  onebit_interpreter_destroy(xnn);
}

int main(int argc, char** argv) {
  onebit_model* m = NULL;
  onebit_model* from_buffer = NULL;
  FILE* f;
  long size;
  void* bytes;

  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.fb\n", argv[0]);
    return 2;
  }
  test_errors_without_a_model();

  REQUIRE(onebit_model_load_file(argv[1], &m) == ONEBIT_OK);
  REQUIRE(m != NULL);
  CHECK(onebit_last_error()[0] == '\0');
  test_model(m);
  test_options(m);
  test_interpreters(m);
  test_caller_arena(m);
  test_portable_float(m);

  /* The same bytes through load_buffer; the caller's copy is freed right away. */
  f = fopen(argv[1], "rb");
  REQUIRE(f != NULL);
  REQUIRE(fseek(f, 0, SEEK_END) == 0);
  size = ftell(f);
  REQUIRE(size > 0 && fseek(f, 0, SEEK_SET) == 0);
  bytes = malloc((size_t)size);
  REQUIRE(bytes != NULL && fread(bytes, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  CHECK(onebit_model_load_buffer(bytes, (size_t)size, &from_buffer) == ONEBIT_OK);
  free(bytes);
  CHECK(from_buffer != NULL && onebit_model_size_bytes(from_buffer) == (size_t)size);
  CHECK(onebit_model_size_bytes(m) == (size_t)size);
  onebit_model_destroy(from_buffer);

  onebit_model_destroy(m);
  if (g_failures != 0) {
    fprintf(stderr, "c_api_test: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  printf("c_api_test: all %d checks passed (onebit %s)\n", g_checks, onebit_version());
  return 0;
}
