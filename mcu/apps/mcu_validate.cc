// Model validation on the board (scripts/mcu-test's malformed-model check): reads a model file from the host
// through the semihosting file calls (no stdio, no heap) into a 16-byte aligned RAM buffer followed by 64
// spare bytes, loads it in place (FlatBuffers verifier + the runtime's semantic checks) and creates an
// interpreter on a static arena, as mcu_run does with a model in flash. A malformed model must be rejected
// with a message, never run.
//
// Usage: mcu_validate MODEL.fb [MEMORY ARENA]
//   MEMORY, ARENA  bytes of the static regions to give LoadOptions::memory and InterpreterOptions::arena
//                  (default: all of them), to check the failures when they are too small.
// Prints "mcu_validate: accepted (N bytes)" or "mcu_validate: rejected by load_in_place|create: MESSAGE".
// Exit code: 0 accepted, 3 rejected by Model::load_in_place, 4 rejected by Interpreter::create,
// 1 usage or host file error (the file cannot be read or does not fit the buffer), 86 heap use (forbidden
// once the file is read), 88 a region too small for the runtime's records.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "onebit/interpreter.h"
#include "onebit/mcu/board.h"
#include "onebit/model.h"
#include "onebit/op_resolver.h"

namespace {

constexpr int kRejectedByLoad = 3;
constexpr int kRejectedByCreate = 4;

// The model's bytes, then load_in_place's 64 readable bytes.
constexpr size_t kModelCapacity = ONEBIT_MCU_VALIDATE_MODEL_BYTES;
alignas(16) uint8_t g_model[kModelCapacity + 64];
alignas(64) uint8_t g_arena[ONEBIT_MCU_ARENA_BYTES];
alignas(16) uint8_t g_model_memory[ONEBIT_MCU_MODEL_MEMORY_BYTES];  // the Model's records

int fail(const char* what, const char* detail = "") {
  std::printf("mcu_validate: %s%s\n", what, detail);
  return 1;
}

int rejected(const char* stage, const onebit::Status& s, int code) {
  std::printf("mcu_validate: rejected by %s: %s\n", stage, s.message().c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) return fail("usage: mcu_validate MODEL.fb [MEMORY ARENA]");
  const size_t memory_bytes = argc == 4 ? std::min<size_t>(std::strtoul(argv[2], nullptr, 10), sizeof g_model_memory)
                                        : sizeof g_model_memory;
  const size_t arena_bytes = argc == 4 ? std::min<size_t>(std::strtoul(argv[3], nullptr, 10), sizeof g_arena)
                                       : sizeof g_arena;
  const int in = board_file_open(argv[1], "rb");
  if (in < 0) return fail("cannot open ", argv[1]);
  const long length = board_file_length(in);
  if (length < 0) return fail("cannot read the length of ", argv[1]);
  if (size_t(length) > kModelCapacity) return fail("the model does not fit the RAM buffer: ", argv[1]);
  const long got = length > 0 ? board_file_read(in, g_model, size_t(length)) : 0;
  board_file_close(in);
  if (got != length) return fail("cannot read ", argv[1]);

  board_forbid_heap();  // validation and create run without a heap: any allocation ends the run (exit 86)
  std::unique_ptr<onebit::Model> model;
  onebit::LoadOptions load;
  load.ops = &onebit::OpResolver::all();  // any model: what is checked is its validity, not its operators
  load.memory = g_model_memory;
  load.memory_bytes = memory_bytes;
  onebit::Status s = onebit::Model::load_in_place(g_model, size_t(length), load, &model);
  if (!s.ok()) return rejected("load_in_place", s, kRejectedByLoad);
  onebit::InterpreterOptions options;
  options.arena = g_arena;
  options.arena_size = arena_bytes;
  std::unique_ptr<onebit::Interpreter> interp;
  s = onebit::Interpreter::create(*model, options, &interp);
  if (!s.ok()) return rejected("create", s, kRejectedByCreate);
  std::printf("mcu_validate: accepted (%ld bytes)\n", length);
  return 0;
}
