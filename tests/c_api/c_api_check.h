/* What the C API's C tests share (c_api_test.c, c_api_batch_test.c): check macros that count and report
 * failures with the library's last error, and deterministic inputs. C99; each test program includes it once. */
#ifndef ONEBIT_TESTS_C_API_CHECK_H_
#define ONEBIT_TESTS_C_API_CHECK_H_

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onebit/onebit.h"

static int g_checks = 0;
static int g_failures = 0;

#define CHECK(expr)                                                    \
  do {                                                                 \
    ++g_checks;                                                        \
    if (!(expr)) {                                                     \
      ++g_failures;                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
              #expr);                                                  \
      fprintf(stderr, "  last error: '%s'\n", onebit_last_error());    \
    }                                                                  \
  } while (0)

/* A check that must hold for the rest of the test to make sense (`expr` is evaluated once). */
#define REQUIRE(expr)                                                                           \
  do {                                                                                          \
    ++g_checks;                                                                                 \
    if (!(expr)) {                                                                              \
      ++g_failures;                                                                             \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #expr);                \
      fprintf(stderr, "  last error: '%s'\nstopping (%d of %d checks failed)\n", onebit_last_error(), \
              g_failures, g_checks);                                                            \
      exit(1);                                                                                  \
    }                                                                                           \
  } while (0)

/* The last error is a non-empty message containing `needle`. */
static inline int error_mentions(const char* needle) {
  const char* e = onebit_last_error();
  return e != NULL && e[0] != '\0' && strstr(e, needle) != NULL;
}

static inline int invalid_and_names(onebit_status s, const char* function) {
  return s == ONEBIT_INVALID_ARGUMENT && error_mentions(function);
}

/* Deterministic input pattern in [-1, 1). */
static inline void fill(float* x, size_t n, uint32_t seed) {
  uint32_t state = seed * 2654435761u + 12345u;
  size_t i;
  for (i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    x[i] = (float)((state >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

static inline int all_finite(const float* y, size_t n) {
  size_t i;
  for (i = 0; i < n; ++i) {
    if (!isfinite(y[i])) return 0;
  }
  return 1;
}

static inline int within_relative(const float* a, const float* b, size_t n, double tolerance) {
  size_t i;
  for (i = 0; i < n; ++i) {
    const double d = fabs((double)a[i] - (double)b[i]);
    const double scale = fabs((double)a[i]) > fabs((double)b[i]) ? fabs((double)a[i]) : fabs((double)b[i]);
    if (d > tolerance * (scale > 1.0 ? scale : 1.0)) return 0;
  }
  return 1;
}

#endif /* ONEBIT_TESTS_C_API_CHECK_H_ */
