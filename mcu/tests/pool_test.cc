// The Cortex-M runtime's allocator (core/include/onebit/pool.h) on the board: blocks are aligned and do not
// overlap, the newest block freed goes back to the top (and freed blocks below it with it), other freed
// blocks serve later requests of their size or less (best fit), nothing is handed out past close(), a
// pointer from another region is ignored, and the containers and classes built on it take their bytes
// from the current pool only (the heap stays forbidden throughout).
#include <doctest/doctest.h>

#include <cstdint>

#include "onebit/mcu/board.h"
#include "onebit/pool.h"

namespace {

using onebit::Pool;
using onebit::PoolScope;

uintptr_t at(const void* p) { return reinterpret_cast<uintptr_t>(p); }

struct Record {
  ONEBIT_POOL_NEW_DELETE
  int values[10];
};

}  // namespace

TEST_CASE("Pool: alignment, top return, best fit, close") {
  alignas(16) static uint8_t region[4096];
  Pool pool(region, sizeof region);
  board_forbid_heap();
  void* a = pool.allocate(10, 8);
  void* b = pool.allocate(100, 64);
  void* c = pool.allocate(24, 8);
  const size_t used_abc = pool.used();
  pool.deallocate(b);                    // not the newest: onto the free list
  void* d = pool.allocate(40, 8);        // fits b's 104 bytes: reused
  void* e = pool.allocate(200, 8);       // larger than any free block: from the top
  const size_t used_e = pool.used();
  pool.deallocate(e);                    // the newest: back to the top
  const size_t used_after_e = pool.used();
  pool.deallocate(d);
  pool.deallocate(c);                    // c is now the newest: c and then d's block (ending at c's header) return
  const size_t used_after_c = pool.used();
  static uint8_t other[64];
  pool.deallocate(other + 16);           // another region's pointer: ignored
  pool.close();
  const size_t used_closed = pool.used();
  board_allow_heap();

  CHECK(at(a) % 8 == 0);
  CHECK(at(b) % 64 == 0);
  CHECK(at(c) % 8 == 0);
  CHECK(at(a) + 10 <= at(b));
  CHECK(at(b) + 100 <= at(c));
  CHECK(d == b);
  CHECK(at(e) >= at(c) + 24);
  CHECK(used_e > used_abc);
  CHECK(used_after_e == used_abc);
  CHECK(used_after_c < used_abc);        // c and the block below it returned to the top
  CHECK(pool.high_water() >= used_e);
  CHECK(used_closed == used_after_c);
}

TEST_CASE("Pool: Vec, String and ONEBIT_POOL_NEW_DELETE take the current pool's bytes, not the heap") {
  alignas(16) static uint8_t region[8192];
  Pool pool(region, sizeof region);
  board_forbid_heap();
  bool inside_vec = false, inside_string = false, inside_record = false;
  size_t used_with = 0, used_without = 0;
  {
    PoolScope scope(pool);
    onebit::Vec<int> v;
    for (int i = 0; i < 100; ++i) v.push_back(i);  // grows: the old blocks go back for reuse
    onebit::String s("a string longer than the small-string buffer");
    Record* r = new Record;
    inside_vec = at(v.data()) >= at(region) && at(v.data() + v.size()) <= at(region) + sizeof region;
    inside_string = at(s.data()) >= at(region) && at(s.data()) < at(region) + sizeof region;
    inside_record = at(r) >= at(region) && at(r + 1) <= at(region) + sizeof region;
    used_with = pool.used();
    delete r;
  }
  used_without = pool.used();
  board_allow_heap();
  CHECK(inside_vec);
  CHECK(inside_string);
  CHECK(inside_record);
  CHECK(used_with > 400);
  CHECK(used_without < used_with);  // the vector, string and record were freed newest first
  CHECK(Pool::current() != &pool);  // the scope ended
}
