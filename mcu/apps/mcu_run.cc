// The model runner on the board (scripts/mcu-run; the shipped-model checks of scripts/mcu-test): the model
// linked into flash (model.S, from ONEBIT_MCU_MODEL), loaded in place and validated (its records in a static
// region, LoadOptions::memory), an interpreter on a static arena (its records, then the activations), then
// every image of an IDX file classified. The heap is forbidden from the first line of main (board_forbid_heap:
// any allocation in load_in_place, create or invoke ends the run with exit code 86). Images and predictions
// move through semihosting file calls (no stdio, no heap), one image at a time.
//
// Usage: mcu_run IMAGES-idx3-ubyte N PREDICTIONS [LOGITS]
//   IMAGES       uncompressed IDX (u8 pixels, scaled to [0,1] then (x - mean) / std with the model's stored
//                normalization, exactly as onebit-eval does)
//   N            images to classify (at most the file's)
//   PREDICTIONS  one predicted class per line
//   LOGITS       optional: the raw float32 output of every image, to compare bit for bit with an x86 run
// Ends with (issue 19's format, bytes as integers; I: executed instructions, a proxy for cycles):
//   mcu-run CPU: N images, flash F B (code C, model M), ram R B (arena A, stack S, static D), instructions per inference I
// R = A + S + D, A = what the Model took of its region (Model::memory_bytes) + the interpreter's arena
// (arena_bytes: its records and the activations); D leaves the two static regions out.
// Exit code: 0, 1 on any error (the model rejected: the runtime's message), 86 any heap use, 88 a region too
// small for the records (onebit_pool_fatal).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "onebit/interpreter.h"
#include "onebit/mcu/board.h"
#include "onebit/model.h"

extern "C" const uint8_t onebit_model_data[];
extern "C" const uint8_t onebit_model_end[];

namespace {

alignas(64) uint8_t g_arena[ONEBIT_MCU_ARENA_BYTES];
alignas(16) uint8_t g_model_memory[ONEBIT_MCU_MODEL_MEMORY_BYTES];  // the Model's records

int fail(const char* what, const char* detail = "") {
  std::printf("mcu_run: %s%s\n", what, detail);
  return 1;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Decimal of a non-negative integer + '\n' into `out` (no printf while the heap is forbidden).
size_t format_line(long v, char* out) {
  char digits[24];
  size_t n = 0;
  do {
    digits[n++] = char('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = '\n';
  return n + 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return fail("usage: mcu_run IMAGES-idx3-ubyte N PREDICTIONS [LOGITS]");
  const long limit = std::atol(argv[2]);
  const size_t model_bytes = size_t(onebit_model_end - onebit_model_data);

  board_forbid_heap();  // from here on, any allocation ends the run (exit code 86)
  std::unique_ptr<onebit::Model> model;
  onebit::LoadOptions load;
  load.ops = &onebit::OpResolver::all();  // any model (a firmware registers its model's operators alone)
  load.memory = g_model_memory;
  load.memory_bytes = sizeof g_model_memory;
  onebit::Status s = onebit::Model::load_in_place(onebit_model_data, model_bytes, load, &model);
  if (!s.ok()) return fail("model rejected: ", s.message().c_str());
  onebit::InterpreterOptions options;
  options.arena = g_arena;
  options.arena_size = sizeof g_arena;
  options.keep_inputs = false;  // the input is written before every invoke: its bytes are free after the stem
  std::unique_ptr<onebit::Interpreter> interp;
  s = onebit::Interpreter::create(*model, options, &interp);
  if (!s.ok()) return fail("interpreter not created: ", s.message().c_str());

  const auto& shape = interp->input_info(0).shape;  // NHWC
  const size_t channels = size_t(shape.back()), pixels = size_t(shape[1]) * size_t(shape[2]);
  const size_t per_image = pixels * channels;
  constexpr size_t kMaxChannels = 16, kMaxImage = 1 << 16;
  if (channels > kMaxChannels || per_image > kMaxImage) return fail("the model's input is larger than this runner's buffers");
  float mean[kMaxChannels], stdev[kMaxChannels];
  for (size_t c = 0; c < channels; ++c) {
    const auto &m = model->info().input_mean, &d = model->info().input_std;
    mean[c] = m.empty() ? 0.0f : m[m.size() == 1 ? 0 : c];
    stdev[c] = d.empty() ? 1.0f : d[d.size() == 1 ? 0 : c];
  }
  static uint8_t image[kMaxImage];
  const size_t classes = interp->output_info(0).shape.back();

  const int in = board_file_open(argv[1], "rb");
  if (in < 0) return fail("cannot open ", argv[1]);
  uint8_t header[16];
  if (board_file_read(in, header, sizeof header) != long(sizeof header) || be32(header) != 0x803u)
    return fail("not an uncompressed IDX file of u8 images (magic 0x803): ", argv[1]);
  if (size_t(be32(header + 8)) * be32(header + 12) != per_image)
    return fail("the images' size does not match the model's input");
  const long count = std::min<long>(limit, long(be32(header + 4)));
  const int out = board_file_open(argv[3], "wb");
  const int logits = argc > 4 ? board_file_open(argv[4], "wb") : -1;
  if (out < 0 || (argc > 4 && logits < 0)) return fail("cannot create the output files");

  uint64_t instructions = 0;
  for (long i = 0; i < count; ++i) {
    if (board_file_read(in, image, per_image) != long(per_image)) return fail("images file truncated");
    float* x = interp->input(0);
    for (size_t k = 0; k < per_image; ++k) {
      const size_t c = k % channels;
      x[k] = (float(image[k]) / 255.0f - mean[c]) / stdev[c];
    }
    const uint64_t t0 = board_instructions();
    s = interp->invoke();
    instructions += board_instructions() - t0;
    if (!s.ok()) return fail("invoke failed");
    const float* y = interp->output(0);
    size_t best = 0;
    for (size_t c = 1; c < classes; ++c)
      if (y[c] > y[best]) best = c;
    char line[24];
    board_file_write(out, line, format_line(long(best), line));
    if (logits >= 0) board_file_write(logits, y, classes * sizeof(float));
  }
  board_allow_heap();
  board_file_close(in);
  board_file_close(out);
  if (logits >= 0) board_file_close(logits);

  const size_t arena = model->memory_bytes() + interp->arena_bytes(), stack = board_stack_high_water();
  // The runner's own image buffer counts for one image, as a firmware's would.
  const size_t statics = board_data_bytes() + board_bss_bytes() - sizeof g_arena - sizeof g_model_memory - sizeof image + per_image;
  const size_t flash = board_flash_bytes();
  // newlib-nano's printf has no %zu / %llu: unsigned long (32 bits here) holds every figure.
  std::printf("mcu_run: no heap used (forbidden from the start); the model's records %lu B, the interpreter's "
              "arena %lu B (records and activations)\n",
              (unsigned long)model->memory_bytes(), (unsigned long)interp->arena_bytes());
  std::printf("mcu-run %s: %ld images, flash %lu B (code %lu, model %lu), ram %lu B (arena %lu, stack %lu, static %lu), "
              "instructions per inference %lu\n",
              ONEBIT_MCU_CPU_NAME, count, (unsigned long)flash, (unsigned long)(flash - model_bytes),
              (unsigned long)model_bytes, (unsigned long)(arena + stack + statics), (unsigned long)arena,
              (unsigned long)stack, (unsigned long)statics,
              count > 0 ? (unsigned long)(instructions / uint64_t(count)) : 0ul);
  return 0;
}
