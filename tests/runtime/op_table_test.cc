// The operator table (runtime/src/ops/op_table.h) against the schema: every OperatorOptions value has
// exactly one complete row, and its name is the schema's own union member name without "Options", so a
// row added with a wrong type or a typo in its name is caught here rather than in a diagnostic.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "../runtime/src/graph.h"
#include "../runtime/src/ops/op.h"
#include "../runtime/src/ops/op_table.h"
#include "onebit/schema/onebit_generated.h"

using namespace onebit;

namespace {

using T = fb::OperatorOptions;

std::string schema_name(T type) {
  std::string s = fb::EnumNameOperatorOptions(type);
  const std::string suffix = "Options";
  REQUIRE(s.size() > suffix.size());
  REQUIRE(s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0);
  return s.substr(0, s.size() - suffix.size());
}

}  // namespace

TEST_CASE("operator table: one complete row per OperatorOptions value, named as in the schema") {
  std::set<std::string> names;
  for (int v = int(T::MIN) + 1; v <= int(T::MAX); ++v) {
    const T type = T(v);
    CAPTURE(v);
    CAPTURE(fb::EnumNameOperatorOptions(type));
    int rows = 0;
    for (const rt::OpKind& k : rt::all_op_kinds()) rows += k.type == type ? 1 : 0;
    CHECK(rows == 1);

    const rt::OpKind* kind = rt::find_op_kind(type);
    REQUIRE(kind != nullptr);
    CHECK(kind->type == type);
    REQUIRE(kind->name != nullptr);
    const std::string name = kind->name;
    CHECK(!name.empty());
    CHECK(names.insert(name).second);
    CHECK(name == schema_name(type));
    CHECK((kind->validate != nullptr));
    REQUIRE((kind->make != nullptr));
    CHECK((kind->make() != nullptr));

    // The functions the rest of the runtime uses read the same row.
    CHECK(std::string(rt::op_type_name(type)) == name);
    CHECK((rt::make_op(type) != nullptr));
  }
  CHECK(rt::all_op_kinds().size == size_t(T::MAX) - size_t(T::MIN));
}

TEST_CASE("operator table: NONE and values outside the schema have no row") {
  for (int v : {int(T::NONE), int(T::MAX) + 1, 200, 255}) {
    CAPTURE(v);
    CHECK(rt::find_op_kind(T(v)) == nullptr);
    CHECK(std::string(rt::op_type_name(T(v))).empty());
    CHECK((rt::make_op(T(v)) == nullptr));
  }
}
