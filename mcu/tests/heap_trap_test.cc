// The heap trap: after board_forbid_heap() any allocation must end the program with BOARD_HEAP_TRAP_EXIT and
// a message; without one the program runs to its end. argv[1] says what to do after forbidding:
//   none     integer printf, a stack array, arithmetic: must exit 0
//   malloc   malloc(16)        new  operator new        vector  std::vector growth
//   free     free() of a block allocated before forbidding
//   float    printf("%f") (newlib's float formatting allocates; linked in with -u _printf_float)
// Run by heap_trap_test.cmake, which checks the exit code and the message.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "onebit/mcu/board.h"

namespace {

// Allocations escape through here, so the compiler cannot drop a malloc / free or new / delete pair.
void* volatile sink;

int run(const char* mode) {
  sink = std::malloc(32);
  void* early = sink;
  std::printf("heap_trap_test: %s\n", mode);
  board_forbid_heap();
  if (std::strcmp(mode, "none") == 0) {
    int values[64];
    for (int i = 0; i < 64; ++i) values[i] = i * i;
    std::printf("heap_trap_test: no allocation, sum of squares %d\n", values[63] + values[1]);
    board_allow_heap();
    std::free(early);
    return 0;
  }
  if (std::strcmp(mode, "malloc") == 0) return std::malloc(16) != nullptr ? 1 : 2;
  if (std::strcmp(mode, "new") == 0) {
    sink = new int(3);
    return 1;
  }
  if (std::strcmp(mode, "vector") == 0) {
    std::vector<int> v;
    v.push_back(1);
    sink = v.data();
    return 1;
  }
  if (std::strcmp(mode, "free") == 0) {
    std::free(early);
    return 1;
  }
  if (std::strcmp(mode, "float") == 0) {
    volatile double x = 3.25;
    std::printf("%f\n", x);
    return 1;
  }
  return 3;
}

}  // namespace

int main(int argc, char** argv) { return run(argc > 1 ? argv[1] : "none"); }
