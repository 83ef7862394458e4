/* A program built against an installed onebit with the C API only (tests/consumer, scripts/package-test).
 * Usage: consumer MODEL.fb   Prints "argmax <class> isa <path> version <v>" for an input filled with 0.5. */
#include <stdio.h>

#include <onebit/onebit.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.fb\n", argv[0]);
    return 2;
  }
  onebit_model* model = NULL;
  if (onebit_model_load_file(argv[1], &model) != ONEBIT_OK) {
    fprintf(stderr, "consumer: %s\n", onebit_last_error());
    return 1;
  }
  onebit_interpreter* it = NULL;
  if (onebit_interpreter_create(model, NULL, &it) != ONEBIT_OK) { /* NULL: default options */
    fprintf(stderr, "consumer: %s\n", onebit_last_error());
    onebit_model_destroy(model);
    return 1;
  }
  float* in = onebit_interpreter_input(it, 0);
  size_t n = onebit_interpreter_input_size(it, 0);
  for (size_t i = 0; i < n; ++i) in[i] = 0.5f;
  if (onebit_interpreter_invoke(it) != ONEBIT_OK) {
    fprintf(stderr, "consumer: %s\n", onebit_last_error());
    onebit_interpreter_destroy(it);
    onebit_model_destroy(model);
    return 1;
  }
  const float* out = onebit_interpreter_output(it, 0);
  size_t classes = onebit_interpreter_output_size(it, 0);
  size_t best = 0;
  for (size_t i = 1; i < classes; ++i)
    if (out[i] > out[best]) best = i;
  printf("argmax %zu isa %s version %s\n", best, onebit_interpreter_isa(it), onebit_version());
  onebit_interpreter_destroy(it);
  onebit_model_destroy(model);
  return classes > 0 ? 0 : 1;
}
