/* onebit C API (C99). Opaque handles over the C++ Model and Interpreter; usable from C, C++, Rust (bindgen)
 * and Python (ctypes: the onebit Python module is built on this header).
 *
 *   onebit_model* m;
 *   if (onebit_model_load_file("model.fb", &m) != ONEBIT_OK) { puts(onebit_last_error()); return 1; }
 *   onebit_interpreter_options o;
 *   onebit_interpreter_options_init(&o, sizeof o);
 *   o.threads = 2;
 *   onebit_interpreter* it;
 *   if (onebit_interpreter_create(m, &o, &it) != ONEBIT_OK) { ... }
 *   memcpy(onebit_interpreter_input(it, 0), x, sizeof(float) * onebit_interpreter_input_size(it, 0));
 *   if (onebit_interpreter_invoke(it) != ONEBIT_OK) { ... }
 *   const float* y = onebit_interpreter_output(it, 0);
 *   onebit_interpreter_destroy(it);   (before the model it was created from)
 *   onebit_model_destroy(m);
 *
 * Contracts:
 * - Every function that can fail returns an onebit_status; on failure it leaves *out untouched (NULL-safe
 *   handles stay NULL) and sets the calling thread's last error message (onebit_last_error). Nothing aborts
 *   or throws across this boundary: null pointers and out-of-range indices are ONEBIT_INVALID_ARGUMENT.
 * - Functions returning a pointer or a count return NULL / 0 for a NULL handle or an index out of range
 *   (and set the last error).
 * - Tensors are float32, NHWC for feature maps or [N, C]; bitpacked graph outputs are unpacked to ±1 floats.
 * - A model must outlive every interpreter created from it. A model may be shared by interpreters in
 *   several threads; an interpreter is used by one thread at a time.
 * - Strings returned are owned by the handle they came from and valid for its lifetime.
 */
#ifndef ONEBIT_ONEBIT_H_
#define ONEBIT_ONEBIT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define ONEBIT_C_API __attribute__((visibility("default")))
#else
#define ONEBIT_C_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum onebit_status {
  ONEBIT_OK = 0,
  /** The model file, the input or the runtime reported an error (message in onebit_last_error). */
  ONEBIT_ERROR = 1,
  /** A null handle or pointer, an index out of range, or an options struct of an unknown size. */
  ONEBIT_INVALID_ARGUMENT = 2
} onebit_status;

typedef struct onebit_model onebit_model;
typedef struct onebit_interpreter onebit_interpreter;

/** "0.1.0": the library's version (the SONAME is libonebit.so.<major>). */
ONEBIT_C_API const char* onebit_version(void);
/** The i-th kernel path this library knows ("scalar", "avx2", "avx512vpopcnt", "neon", in that order),
 * whether or not this build or CPU can run it; NULL for i past the last. The names options.isa accepts. */
ONEBIT_C_API const char* onebit_isa_name(size_t i);
/** The calling thread's last error message; "" when none. Valid until the thread's next onebit call. */
ONEBIT_C_API const char* onebit_last_error(void);

/* ---- Model ---- */
/** Reads and validates a model file (see onebit/model.h for the loading rules). */
ONEBIT_C_API onebit_status onebit_model_load_file(const char* path, onebit_model** out);
/** Copies `size` bytes and validates them; the caller's buffer may be freed afterwards. */
ONEBIT_C_API onebit_status onebit_model_load_buffer(const void* data, size_t size, onebit_model** out);
/** NULL is allowed (no-op). */
ONEBIT_C_API void onebit_model_destroy(onebit_model* model);
ONEBIT_C_API size_t onebit_model_size_bytes(const onebit_model* model);
/** Class labels recorded in the model (0 when none); label(i) is NULL when i is out of range. */
ONEBIT_C_API size_t onebit_model_label_count(const onebit_model* model);
ONEBIT_C_API const char* onebit_model_label(const onebit_model* model, size_t i);
/** Input normalization the caller is expected to apply, x' = (x - mean[c]) / std[c]: returns the number of
 * values (0 none, 1 for all channels, or one per channel) and sets *values to them. */
ONEBIT_C_API size_t onebit_model_input_mean(const onebit_model* model, const float** values);
ONEBIT_C_API size_t onebit_model_input_std(const onebit_model* model, const float** values);
/** The batch the model was converted for: the first dimension of its first input (0 when it has none). */
ONEBIT_C_API int onebit_model_batch(const onebit_model* model);

/** One operator of the model, as onebit-info's table (larq's summary) shows it. */
typedef struct onebit_op_info {
  const char* name;          /* source node name */
  const char* type;          /* e.g. "BinaryConv2D" */
  const int* output_shape;   /* NHWC or [N, C], at the model's batch */
  size_t output_rank;
  int64_t binary_params;     /* elements of bitpacked constants (1 bit each, or k for k-bit) */
  int64_t float_params;      /* elements of float / int32 constants */
  uint64_t param_bytes;      /* bytes those constants take in the file */
  int binary;                /* nonzero: computes on bitpacked data */
  int64_t binary_macs;       /* per invoke at the model's batch */
  int64_t float_macs;
} onebit_op_info;

/** The model's operators in execution order (0 for a NULL model). */
ONEBIT_C_API size_t onebit_model_op_count(const onebit_model* model);
/** Fills *out for operator i; its pointers are valid for the model's lifetime. The MAC counts come from the
 * operators as an interpreter prepares them (the first call prepares one, with the default options). */
ONEBIT_C_API onebit_status onebit_model_op_info(const onebit_model* model, size_t i, onebit_op_info* out);

/* ---- Interpreter ---- */
typedef struct onebit_interpreter_options {
  /** The caller's sizeof(onebit_interpreter_options), set by onebit_interpreter_options_init: fields are
   * only ever appended, and the library reads and writes only the fields a caller's struct has (a program
   * built against an older header keeps working with a newer library, and the reverse). */
  size_t struct_size;
  /** Threads of the pool shared by onebit's kernels and XNNPACK; 1 (default) = no pool at all. */
  int threads;
  /** NULL or "" = best for this CPU (or the ONEBIT_ISA environment variable), else a name
   * onebit_isa_name() lists; asking for one the CPU or the build lacks is an error at create. */
  const char* isa;
  /** Nonzero: record per-operator wall time on every invoke. */
  int profiling;
  /** Memory budget of create in bytes; 0 = the default (1 GiB). */
  size_t max_arena_bytes;
  /** Caller-owned arena (NULL, the default = the interpreter allocates its own): every activation, graph
   * input and output and every operator's scratch is laid out in these arena_size bytes. The arena starts
   * at the buffer's first ONEBIT_ARENA_ALIGNMENT-aligned byte (a misaligned buffer is aligned up, not
   * rejected), and needs onebit_interpreter_required_arena_bytes bytes from there. Too small a buffer makes
   * create fail (ONEBIT_ERROR) with a message naming the bytes needed. The buffer must outlive the
   * interpreter and serve no other interpreter meanwhile. Weights, XNNPACK's operators and the float copies
   * of bitpacked outputs are still allocated by the library. */
  void* arena;
  size_t arena_size;
  /** Nonzero: full-precision layers run on onebit's portable float kernels instead of XNNPACK (the
   * Cortex-M build's path; on the desktop a reference, bit-identical to a Cortex-M run). Default 0. */
  int portable_float_kernels;
  /** Images per invoke; 0 (default) = the model's batch (onebit_model_batch). Another N re-plans the model
   * for N: every activation's first dimension becomes N (the weights are shared by the N images, so the
   * binary GEMM reuses them across images) and inputs and outputs are [N, ...]. Image k's outputs are bit
   * for bit those of a batch-1 run on image k. A model whose activations do not all lead with the batch
   * (e.g. a Reshape folding it into another dimension) cannot be re-planned: create fails naming the
   * tensor (run such a model image by image). */
  int batch;
} onebit_interpreter_options;

/** Alignment of the arena (a cache line): a caller-owned arena aligned to it needs exactly
 * onebit_interpreter_required_arena_bytes bytes. */
#define ONEBIT_ARENA_ALIGNMENT 64

/** Fills in the defaults (threads 1, best ISA, no profiling, default budget, no caller-owned arena) of the
 * fields that fit in `struct_size` bytes (pass sizeof of your struct) and sets struct_size. Writes nothing
 * past struct_size. */
ONEBIT_C_API void onebit_interpreter_options_init(onebit_interpreter_options* options, size_t struct_size);
/** options may be NULL (defaults). Plans memory and prepares every operator. */
ONEBIT_C_API onebit_status onebit_interpreter_create(const onebit_model* model,
                                                     const onebit_interpreter_options* options,
                                                     onebit_interpreter** out);
/** NULL is allowed (no-op). */
ONEBIT_C_API void onebit_interpreter_destroy(onebit_interpreter* interpreter);
/** The arena bytes create with these options would plan (what onebit_interpreter_arena_bytes of that
 * interpreter returns, and what a caller-owned, ONEBIT_ARENA_ALIGNMENT-aligned options->arena must hold).
 * Prepares every operator as create does but allocates no arena; options->arena is ignored. The arena
 * depends on the ISA, the thread count and the batch, so pass the options you will create with. */
ONEBIT_C_API onebit_status onebit_interpreter_required_arena_bytes(const onebit_model* model,
                                                                   const onebit_interpreter_options* options,
                                                                   size_t* bytes);

ONEBIT_C_API size_t onebit_interpreter_input_count(const onebit_interpreter* interpreter);
ONEBIT_C_API size_t onebit_interpreter_output_count(const onebit_interpreter* interpreter);
ONEBIT_C_API const char* onebit_interpreter_input_name(const onebit_interpreter* interpreter, size_t i);
ONEBIT_C_API const char* onebit_interpreter_output_name(const onebit_interpreter* interpreter, size_t i);
/** Shape (NHWC or [N, C]): *dims points at *rank ints owned by the interpreter. */
ONEBIT_C_API onebit_status onebit_interpreter_input_shape(const onebit_interpreter* interpreter, size_t i,
                                                          const int** dims, size_t* rank);
ONEBIT_C_API onebit_status onebit_interpreter_output_shape(const onebit_interpreter* interpreter, size_t i,
                                                           const int** dims, size_t* rank);
/** Number of float elements of input / output i (the product of its shape). */
ONEBIT_C_API size_t onebit_interpreter_input_size(const onebit_interpreter* interpreter, size_t i);
ONEBIT_C_API size_t onebit_interpreter_output_size(const onebit_interpreter* interpreter, size_t i);
/** Input buffer, valid for the interpreter's lifetime; invoke never writes it. */
ONEBIT_C_API float* onebit_interpreter_input(onebit_interpreter* interpreter, size_t i);
/** Output buffer, valid until the next invoke. */
ONEBIT_C_API const float* onebit_interpreter_output(const onebit_interpreter* interpreter, size_t i);
ONEBIT_C_API onebit_status onebit_interpreter_invoke(onebit_interpreter* interpreter);
/** Runs `count` images (any count, 0 included) through the interpreter, its batch B (the first dimension of
 * its inputs and outputs, onebit_model_batch or options.batch) at a time: inputs[i] holds count images of
 * input i (count * input_size(i) / B floats, image after image), outputs[j] receives count images of output
 * j. A last, partial chunk is padded with zero images whose outputs are dropped. Image k's outputs are bit
 * for bit those of a run on image k alone. Overwrites the input buffers (onebit_interpreter_input) and the
 * outputs of the last invoke. An input or output that does not lead with B is ONEBIT_INVALID_ARGUMENT. */
ONEBIT_C_API onebit_status onebit_interpreter_invoke_batch(onebit_interpreter* interpreter, size_t count,
                                                           const float* const* inputs, float* const* outputs);

ONEBIT_C_API size_t onebit_interpreter_arena_bytes(const onebit_interpreter* interpreter);
/** The kernel path in use: one of onebit_isa_name()'s names. */
ONEBIT_C_API const char* onebit_interpreter_isa(const onebit_interpreter* interpreter);
ONEBIT_C_API int onebit_interpreter_threads(const onebit_interpreter* interpreter);

/* ---- Profiling (per operator, execution order) ---- */
typedef struct onebit_op_profile {
  const char* name;          /* source node name */
  const char* type;          /* e.g. "BinaryConv2D" */
  const int* output_shape;
  size_t output_rank;
  double last_ms;            /* latest profiled invoke */
  double median_ms;          /* over all profiled invokes since create / clear (0 when none) */
  size_t samples;            /* profiled invokes recorded */
  int64_t binary_macs;
  int64_t float_macs;
} onebit_op_profile;

ONEBIT_C_API size_t onebit_interpreter_op_count(const onebit_interpreter* interpreter);
/** Fills *out for operator i; the pointers in it are valid until the next invoke or clear. */
ONEBIT_C_API onebit_status onebit_interpreter_op_profile(const onebit_interpreter* interpreter, size_t i,
                                                         onebit_op_profile* out);
ONEBIT_C_API void onebit_interpreter_clear_profile(onebit_interpreter* interpreter);

#ifdef __cplusplus
}
#endif

#endif /* ONEBIT_ONEBIT_H_ */
