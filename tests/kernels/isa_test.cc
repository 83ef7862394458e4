// ISA names, parsing and the "compiled in AND supported" rule.
#include <string>

#include <doctest/doctest.h>

#include "onebit/kernels/isa.h"

using namespace onebit::kernels;

TEST_CASE("isa: names round-trip and unknown names are rejected") {
  for (Isa isa : kAllIsas) {
    Isa parsed = Isa::kScalar;
    INFO("isa=", std::string(isa_name(isa)));
    CHECK(parse_isa(isa_name(isa), &parsed));
    CHECK(parsed == isa);
  }
  Isa parsed = Isa::kNeon;
  CHECK_FALSE(parse_isa("sse2", &parsed));
  CHECK_FALSE(parse_isa("", &parsed));
  CHECK(parsed == Isa::kNeon);
}

TEST_CASE("isa: scalar always usable, supported implies compiled, best is supported") {
  CHECK(isa_compiled(Isa::kScalar));
  CHECK(isa_supported(Isa::kScalar));
  for (Isa isa : kAllIsas) {
    INFO("isa=", std::string(isa_name(isa)));
    if (isa_supported(isa)) CHECK(isa_compiled(isa));
    MESSAGE(std::string(isa_name(isa)), ": compiled=", isa_compiled(isa), " supported=", isa_supported(isa));
  }
  CHECK(isa_supported(best_isa()));
  CHECK(isa_allows(Isa::kAvx512Vpopcnt, Isa::kAvx2));
  CHECK_FALSE(isa_allows(Isa::kAvx2, Isa::kAvx512Vpopcnt));
  CHECK_FALSE(isa_allows(Isa::kScalar, Isa::kNeon));
}
