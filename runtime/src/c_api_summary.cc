// The per-operator summary in the C API (onebit_model_op_count / onebit_model_op_info): what onebit-info's
// table shows, in the manner of larq's summary. Parameters come from Model::operators(); the MAC counts
// from the operators as an interpreter prepares them, so the first op_info call on a model prepares one
// interpreter (default options, nothing invoked) and keeps only its counts.
#include <memory>
#include <mutex>
#include <vector>

#include "c_api_internal.h"

using namespace onebit::capi;  // NOLINT: the C API's implementation

extern "C" {

size_t onebit_model_op_count(const onebit_model* model) {
  return get<size_t>("onebit_model_op_count", model, "model", 0,
                     [&](const onebit_model& h) { return h.model->operators().size(); });
}

onebit_status onebit_model_op_info(const onebit_model* model, size_t i, onebit_op_info* out) {
  static const char* const kFn = "onebit_model_op_info";
  return guard(kFn, [&]() -> onebit_status {
    if (model == nullptr) return invalid(kFn, null_arg("model"));
    if (out == nullptr) return invalid(kFn, null_arg("out"));
    const std::vector<onebit::OperatorInfo>& ops = model->model->operators();
    if (i >= ops.size()) return invalid(kFn, out_of_range(i, ops.size(), "operators"));
    onebit_model& h = const_cast<onebit_model&>(*model);  // only the MAC cache, under its lock
    {
      std::lock_guard<std::mutex> lock(h.macs_lock);
      if (h.macs.empty()) {  // the operators count their MACs when prepared: one interpreter, as onebit-info
        std::unique_ptr<onebit::Interpreter> it;
        const onebit::Status s = onebit::Interpreter::create(*h.model, onebit::InterpreterOptions(), &it);
        if (!s.ok()) return from_status(s);
        for (const onebit::OpProfile& p : it->profile()) h.macs.emplace_back(p.binary_macs, p.float_macs);
        h.macs.resize(ops.size());
      }
    }
    static const int kNoDims[1] = {0};
    const onebit::OperatorInfo& op = ops[i];
    onebit_op_info r = {};
    r.name = op.name.c_str();
    r.type = op.type.c_str();
    r.output_shape = op.output_shape.empty() ? kNoDims : op.output_shape.data();
    r.output_rank = op.output_shape.size();
    r.binary_params = op.binary_params;
    r.float_params = op.float_params;
    r.param_bytes = op.param_bytes;
    r.binary = op.binary ? 1 : 0;
    r.binary_macs = h.macs[i].first;
    r.float_macs = h.macs[i].second;
    *out = r;
    return ONEBIT_OK;
  });
}

}  // extern "C"
