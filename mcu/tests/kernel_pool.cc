// The kernel suites call BConv2D::prepare themselves, outside the runtime's load / create: on Cortex-M the
// kernel's tables come from Pool::current() (onebit/pool.h), so the suites' image installs one over a static
// region for the whole run (the blocks a prepared kernel frees go back to it).
#include <cstdint>

#include "onebit/pool.h"

namespace {

alignas(16) uint8_t g_region[1 << 20];
onebit::Pool g_pool(g_region, sizeof g_region);
onebit::PoolScope g_scope(g_pool);

}  // namespace
