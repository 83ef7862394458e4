// The one registry of the converter's op table: the families' lists in one map.
#include <cstdio>
#include <cstdlib>
#include <map>

#include "ops/family.h"

namespace onebit::converter {

const AttrSpec* OpDef::attr(const std::string& name) const {
  for (const AttrSpec& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

const std::vector<OpDef>& all_ops() {
  static const std::vector<OpDef> ops = [] {
    std::vector<OpDef> all;
    for (auto family : {opdefs::elementwise_ops, opdefs::shape_ops, opdefs::conv_pool_ops, opdefs::reduce_ops,
                        opdefs::quantize_ops, opdefs::binary_layer_ops})
      for (OpDef& d : family()) all.push_back(std::move(d));
    return all;
  }();
  return ops;
}

const OpDef* find_op(const std::string& op) {
  static const std::map<std::string, const OpDef*> by_name = [] {
    std::map<std::string, const OpDef*> m;
    for (const OpDef& d : all_ops())
      if (!m.emplace(d.op, &d).second) {
        // A programming error in the table itself: two entries for one op.
        std::fprintf(stderr, "onebit-convert: internal error: op '%s' has two entries in the op table\n", d.op.c_str());
        std::abort();
      }
    return m;
  }();
  auto it = by_name.find(op);
  return it == by_name.end() ? nullptr : it->second;
}

const OpDef* find_onnx_op(const std::string& op) {
  const OpDef* d = find_op(op);
  return d != nullptr && d->onnx ? d : nullptr;
}

}  // namespace onebit::converter
