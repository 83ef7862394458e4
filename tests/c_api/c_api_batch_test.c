/* The C API's batches and summary from C99 (issue 22): any number of images through invoke_batch, an
 * interpreter re-planned for another batch (options.batch), each bit for bit equal to single runs, and the
 * per-operator summary rows (onebit_model_op_info).
 *
 * usage: c_api_batch_test MODEL.fb   (a batch-1 model: ctest passes the c_api_model fixture's) */
#include "c_api_check.h"
#include "onebit/onebit.h"

enum { kImages = 3 };

static onebit_interpreter* create_batch(const onebit_model* m, int batch) {
  onebit_interpreter_options o;
  onebit_interpreter* it = NULL;
  onebit_interpreter_options_init(&o, sizeof o);
  o.batch = batch;
  REQUIRE(onebit_interpreter_create(m, &o, &it) == ONEBIT_OK && it != NULL);
  return it;
}

static void test_summary(const onebit_model* m) {
  onebit_interpreter* it = create_batch(m, 0);
  onebit_op_info info;
  onebit_op_profile p;
  int64_t binary_macs = 0, profiled_macs = 0;
  size_t i, n = onebit_model_op_count(m);
  int binary_ops = 0;
  CHECK(n > 0 && n == onebit_interpreter_op_count(it));
  for (i = 0; i < n; ++i) {
    REQUIRE(onebit_model_op_info(m, i, &info) == ONEBIT_OK);
    REQUIRE(onebit_interpreter_op_profile(it, i, &p) == ONEBIT_OK);
    CHECK(strcmp(info.name, p.name) == 0 && strcmp(info.type, p.type) == 0);
    CHECK(info.output_rank == p.output_rank &&
          memcmp(info.output_shape, p.output_shape, sizeof(int) * p.output_rank) == 0);
    CHECK(info.binary_macs == p.binary_macs && info.float_macs == p.float_macs);
    CHECK(info.binary_params >= 0 && info.float_params >= 0);
    CHECK(info.binary_params == 0 || info.binary != 0); /* bitpacked weights: a binary operator */
    binary_macs += info.binary_macs;
    profiled_macs += p.binary_macs;
    binary_ops += info.binary != 0;
  }
  CHECK(binary_macs > 0 && binary_macs == profiled_macs);
  CHECK(binary_ops > 0);
  CHECK(invalid_and_names(onebit_model_op_info(m, n, &info), "onebit_model_op_info") && error_mentions("range"));
  CHECK(invalid_and_names(onebit_model_op_info(m, 0, NULL), "onebit_model_op_info"));
  CHECK(invalid_and_names(onebit_model_op_info(NULL, 0, &info), "onebit_model_op_info"));
  CHECK(onebit_model_op_count(NULL) == 0 && error_mentions("onebit_model_op_count"));
  onebit_interpreter_destroy(it);
}

/* kImages images through `it` by invoke_batch; the outputs equal `expected` bit for bit. */
static void check_batch(onebit_interpreter* it, const float* x, const float* expected, size_t out_per_image) {
  float* y = (float*)malloc(sizeof(float) * out_per_image * kImages);
  float* outputs[1];
  const float* inputs[1];
  REQUIRE(y != NULL);
  inputs[0] = x;
  outputs[0] = y;
  CHECK(onebit_interpreter_invoke_batch(it, kImages, inputs, outputs) == ONEBIT_OK);
  CHECK(memcmp(y, expected, sizeof(float) * out_per_image * kImages) == 0);
  free(y);
}

static void test_batches(const onebit_model* m) {
  onebit_interpreter* one = create_batch(m, 0);
  onebit_interpreter* two = create_batch(m, 2);
  onebit_interpreter_options o;
  onebit_interpreter* bad = NULL;
  const size_t in = onebit_interpreter_input_size(one, 0), out = onebit_interpreter_output_size(one, 0);
  const int* dims = NULL;
  size_t rank = 0, k, arena1 = 0, arena2 = 0;
  float *x = (float*)malloc(sizeof(float) * in * kImages), *y = (float*)malloc(sizeof(float) * out * kImages);
  const float* no_inputs[1] = {NULL};
  float* no_outputs[1] = {NULL};
  REQUIRE(x != NULL && y != NULL);
  CHECK(onebit_model_batch(m) == 1);
  CHECK(onebit_model_batch(NULL) == 0 && error_mentions("onebit_model_batch"));

  /* The references: one invoke per image. */
  fill(x, in * kImages, 22);
  for (k = 0; k < kImages; ++k) {
    memcpy(onebit_interpreter_input(one, 0), x + k * in, sizeof(float) * in);
    CHECK(onebit_interpreter_invoke(one) == ONEBIT_OK);
    memcpy(y + k * out, onebit_interpreter_output(one, 0), sizeof(float) * out);
  }
  /* Chunks of the model's batch, and a re-planned batch of 2 (3 images: a padded last chunk). */
  check_batch(one, x, y, out);
  REQUIRE(onebit_interpreter_input_shape(two, 0, &dims, &rank) == ONEBIT_OK);
  CHECK(rank >= 2 && dims[0] == 2);
  CHECK(onebit_interpreter_input_size(two, 0) == 2 * in && onebit_interpreter_output_size(two, 0) == 2 * out);
  check_batch(two, x, y, out);
  memcpy(onebit_interpreter_input(two, 0), x, sizeof(float) * 2 * in);  /* one plain invoke of 2 images */
  CHECK(onebit_interpreter_invoke(two) == ONEBIT_OK);
  CHECK(memcmp(onebit_interpreter_output(two, 0), y, sizeof(float) * 2 * out) == 0);

  /* The arena grows with the batch; bad arguments name themselves. */
  onebit_interpreter_options_init(&o, sizeof o);
  CHECK(onebit_interpreter_required_arena_bytes(m, &o, &arena1) == ONEBIT_OK);
  o.batch = 2;
  CHECK(onebit_interpreter_required_arena_bytes(m, &o, &arena2) == ONEBIT_OK);
  CHECK(arena2 > arena1);
  o.batch = -1;
  CHECK(invalid_and_names(onebit_interpreter_create(m, &o, &bad), "onebit_interpreter_create") && bad == NULL);
  CHECK(error_mentions("batch"));
  CHECK(onebit_interpreter_invoke_batch(one, 0, NULL, NULL) == ONEBIT_OK);
  CHECK(invalid_and_names(onebit_interpreter_invoke_batch(one, 1, NULL, no_outputs),
                          "onebit_interpreter_invoke_batch"));
  CHECK(invalid_and_names(onebit_interpreter_invoke_batch(one, 1, no_inputs, no_outputs), "inputs[0]"));
  CHECK(invalid_and_names(onebit_interpreter_invoke_batch(NULL, 1, no_inputs, no_outputs), "interpreter"));
  free(x);
  free(y);
  onebit_interpreter_destroy(two);
  onebit_interpreter_destroy(one);
}

int main(int argc, char** argv) {
  onebit_model* m = NULL;
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.fb\n", argv[0]);
    return 2;
  }
  REQUIRE(onebit_model_load_file(argv[1], &m) == ONEBIT_OK);
  test_summary(m);
  test_batches(m);
  onebit_model_destroy(m);
  if (g_failures != 0) {
    fprintf(stderr, "c_api_batch_test: %d of %d checks failed\n", g_failures, g_checks);
    return 1;
  }
  printf("c_api_batch_test: all %d checks passed\n", g_checks);
  return 0;
}
