/* onebit's converter as a library: ONNX bytes in, a onebit model and the converter's report out
 * (libonebit_convert.so; it links the ONNX and protobuf libraries, so it is its own library beside
 * libonebit), and the check of a converted model against its ONNX graph (onebit_verify_buffer, what
 * onebit-convert --verify prints). The Python package's onebit.convert() and onebit.verify() call it.
 *
 *   const char* options[] = {"input-mean=0.286", "input-std=0.353", NULL};
 *   onebit_conversion* c = NULL;
 *   if (onebit_convert_buffer(onnx, onnx_size, "model.onnx", options, &c) != 0) {
 *     fprintf(stderr, "%s\n", onebit_convert_last_error());  // which node, which op, what was expected
 *   } else {
 *     size_t n; const void* model = onebit_conversion_model(c, &n);  // a onebit FlatBuffer
 *     puts(onebit_conversion_report(c));                           // JSON
 *     onebit_conversion_free(c);
 *   }
 *
 * Options are "name=value" strings named as onebit-convert's flags without the dashes (a flag alone is
 * "name" or "name=1"): input-mean, input-std (a number or comma-separated per-channel numbers), labels (class
 * names separated by newlines), batch, sign-zero (ternary, plus-one, error), strict, float-reference,
 * float16-weights, int8-float-layers, calibration (a file: IDX uint8 or .npy float32 NCHW), calibration-images,
 * max-fold-bytes, source (recorded in the model). An unknown name or a bad value is an error.
 * Thread-safe: conversions share nothing; the last error is per thread. */
#ifndef ONEBIT_CONVERT_H_
#define ONEBIT_CONVERT_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct onebit_conversion onebit_conversion;

/* Converts `size` bytes of an ONNX ModelProto (`origin` names it in messages; may be NULL). `options`: a
 * NULL-terminated array of "name=value" strings, or NULL. 0 on success (*out set; free it with
 * onebit_conversion_free), 1 when the model cannot be converted, 2 on a bad argument or option (*out NULL;
 * the reason in onebit_convert_last_error()). */
int onebit_convert_buffer(const void* onnx, size_t size, const char* origin, const char* const* options,
                          onebit_conversion** out);
/* The converted model's bytes (valid until onebit_conversion_free). */
const void* onebit_conversion_model(const onebit_conversion* c, size_t* size);
/* The converter's report as one JSON object: "summary" (the text onebit-convert prints), "warnings",
 * "binary_layers", "float16_layers", "int8_layers", "binary_macs", "float_macs", "onnx_parameter_bytes",
 * "model_bytes". Valid until onebit_conversion_free. */
const char* onebit_conversion_report(const onebit_conversion* c);
void onebit_conversion_free(onebit_conversion* c);
/* Checks a onebit model against the ONNX graph it was converted from, with the reference onebit-convert
 * --verify uses (converter/verify/: a double-precision run of the ONNX graph, independent of the converter),
 * on `count` inputs: given ones (`inputs`, `floats` = count x the model's input size, float32 in the runtime's
 * layout, NHWC, already normalized: the model's stored normalization is not applied), or, with `inputs` NULL
 * and `floats` 0, the CLI's `--verify=count` seeded random normal inputs. Every input gets its own figures; the
 * first `diagnose` disagreeing inputs their first diverging layer (for seeded inputs only the first: each
 * further one reruns the reference on that input). 0 on success (*out set; free it with
 * onebit_verification_free), 1 when the check cannot run (an op the reference lacks, the model does not load,
 * their inputs or outputs differ), 2 on a bad argument (*out NULL; the reason in onebit_convert_last_error()). */
typedef struct onebit_verification onebit_verification;
int onebit_verify_buffer(const void* onnx, size_t onnx_size, const char* origin, const void* model,
                         size_t model_size, const float* inputs, size_t floats, size_t count, size_t diagnose,
                         onebit_verification** out);
/* The result as one JSON object: "text" (onebit-convert's verify: lines), "inputs", "argmax_agree",
 * "max_relative_delta" (max |Δ| over the logit range), "near_zero_binary" (Sign inputs within float rounding
 * of 0), "exact_zero_binary", "input_source", "passed" (what --verify-strict accepts), "disagreeing" (input
 * indices: argmax differs or logits beyond 1e-3 of their range), "first_diverging_layer" (of the first of
 * them, "" if none) and "per_input": per input "input", "argmax_agrees", "max_relative_delta",
 * "near_zero_binary", "exact_zero_binary", "disagrees", and for a diagnosed one "first_diverging_layer",
 * "divergence", "explained_by_near_zero_signs", "exact_zero_cause". Valid until onebit_verification_free. */
const char* onebit_verification_report(const onebit_verification* v);
void onebit_verification_free(onebit_verification* v);
/* The message of this thread's last failed call ("" if none). */
const char* onebit_convert_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* ONEBIT_CONVERT_H_ */
