#include "calibrate/calibrate.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "emit/emit.h"
#include "onebit/interpreter.h"
#include "onebit/io/idx.h"
#include "onebit/io/npy.h"
#include "onebit/model.h"

namespace onebit::converter {
namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Status read_npy(const std::string& path, size_t max_images, CalibrationSet* out) {
  io::npy::Array a;
  ONEBIT_RETURN_IF_ERROR(io::npy::read(path, &a));
  if (a.shape.size() != 4 || a.shape[0] < 1)
    return Status::Error(path + ": calibration .npy has shape " + io::npy::shape_string(a.shape) +
                         ", expected N x C x H x W");
  const size_t n = std::min(size_t(a.shape[0]), max_images ? max_images : size_t(a.shape[0]));
  const size_t c = size_t(a.shape[1]), h = size_t(a.shape[2]), w = size_t(a.shape[3]);
  out->image_shape = {int(h), int(w), int(c)};
  out->images = n;
  out->data.resize(n * h * w * c);
  for (size_t i = 0; i < n; ++i)
    for (size_t ch = 0; ch < c; ++ch)
      for (size_t p = 0; p < h * w; ++p) out->data[(i * h * w + p) * c + ch] = a.data[(i * c + ch) * h * w + p];
  return Status::Ok();
}

}  // namespace

Status read_calibration_set(const std::string& path, const std::vector<float>& mean, const std::vector<float>& stdev,
                            size_t max_images, CalibrationSet* out) {
  if (ends_with(path, ".npy")) return read_npy(path, max_images, out);
  io::IdxArray idx;
  ONEBIT_RETURN_IF_ERROR(io::read_idx_u8(path, &idx));
  if (idx.dims.size() != 3 && idx.dims.size() != 4)
    return Status::Error(path + ": calibration IDX has rank " + std::to_string(idx.dims.size()) +
                         ", expected images [N, H, W] or [N, H, W, C]");
  const size_t c = idx.dims.size() == 4 ? idx.dims[3] : 1;
  if ((mean.size() > 1 && mean.size() != c) || (stdev.size() > 1 && stdev.size() != c))
    return Status::Error(path + ": images have " + std::to_string(c) + " channels but the input normalization has " +
                         std::to_string(std::max(mean.size(), stdev.size())) + " values");
  const size_t n = std::min(idx.items(), max_images ? max_images : idx.items()), per = idx.item_size();
  out->image_shape = {int(idx.dims[1]), int(idx.dims[2]), int(c)};
  out->images = n;
  out->data.resize(n * per);
  for (size_t i = 0; i < n * per; ++i) {
    const size_t ch = i % c;
    const float m = mean.empty() ? 0.0f : mean[mean.size() == 1 ? 0 : ch];
    const float sd = stdev.empty() ? 1.0f : stdev[stdev.size() == 1 ? 0 : ch];
    out->data[i] = (float(idx.data[i]) / 255.0f - m) / sd;
  }
  return Status::Ok();
}

std::vector<NodeId> int8_candidates(const Graph& g) {
  std::vector<NodeId> order, out;
  if (!g.topo_order(&order)) return out;
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (n.op != "Conv" && n.op != "Gemm" && n.op != "MatMul") continue;
    const Tensor* w = g.constant(n.in(1));
    if (w == nullptr || !w->is_float() || n.i("binary_weights") || g.value(n.in(0)).dtype != DType::kFloat) continue;
    out.push_back(id);
  }
  return out;
}

void int8_grid(float lo, float hi, float* scale, int* zero_point) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  *scale = hi > lo ? (hi - lo) / 255.0f : 1.0f;
  *zero_point = int(std::clamp(std::nearbyint(-128.0f - lo / *scale), -128.0f, 127.0f));
}

Status calibrate_ranges(const Graph& graph, const std::vector<NodeId>& targets, const CalibrationSet& set,
                        std::map<NodeId, Int8Ranges>* ranges) {
  if (graph.inputs.size() != 1) return Status::Error("calibration needs a model with one input");
  // The float model with every target's input and output as extra graph outputs (graph inputs excluded: their
  // range is the calibration data's own).
  Graph g = graph;
  std::vector<ValueId> watched;  // watched[k] is the model's output k (the graph's own outputs come first)
  watched = g.outputs;
  for (NodeId id : targets)
    for (ValueId v : {g.node(id).in(0), g.node(id).out()})
      if (!g.value(v).graph_input && std::find(watched.begin(), watched.end(), v) == watched.end()) watched.push_back(v);
  g.outputs = watched;
  ModelBuilder builder;
  EmitReport report;
  Status s = emit_model(g, EmitOptions(), &builder, &report);
  std::vector<uint8_t> bytes;
  if (s.ok()) s = builder.finish(&bytes);
  std::unique_ptr<Model> model;
  if (s.ok()) s = Model::load_buffer(bytes.data(), bytes.size(), &model);
  std::unique_ptr<Interpreter> interp;
  if (s.ok()) s = Interpreter::create(*model, InterpreterOptions(), &interp);
  if (!s.ok()) return Status::Error("calibration model: " + s.message());
  const std::vector<int>& in_shape = interp->input_info(0).shape;
  const size_t batch = size_t(in_shape[0]);
  if (std::vector<int>(in_shape.begin() + 1, in_shape.end()) != set.image_shape)
    return Status::Error("calibration images are " + std::to_string(set.image_shape[0]) + "x" +
                         std::to_string(set.image_shape[1]) + "x" + std::to_string(set.image_shape[2]) +
                         " (HxWxC), the model input takes " + std::to_string(in_shape[1]) + "x" +
                         std::to_string(in_shape[2]) + "x" + std::to_string(in_shape[3]));
  const size_t per_image = set.data.size() / set.images;
  std::vector<float> lo(watched.size(), INFINITY), hi(watched.size(), -INFINITY);
  float in_lo = INFINITY, in_hi = -INFINITY;
  for (float v : set.data) in_lo = std::min(in_lo, v), in_hi = std::max(in_hi, v);
  for (size_t first = 0; first < set.images; first += batch) {
    for (size_t b = 0; b < batch; ++b) {
      const size_t img = std::min(first + b, set.images - 1);  // a last partial batch repeats the final image
      std::copy_n(set.data.begin() + ptrdiff_t(img * per_image), per_image, interp->input(0) + b * per_image);
    }
    if (!(s = interp->invoke()).ok()) return s;
    for (size_t k = 0; k < watched.size(); ++k) {
      const float* y = interp->output(k);
      size_t count = 1;
      for (int d : interp->output_info(k).shape) count *= size_t(d);
      for (size_t i = 0; i < count; ++i) lo[k] = std::min(lo[k], y[i]), hi[k] = std::max(hi[k], y[i]);
    }
  }
  auto range_of = [&](ValueId v, float* a, float* b) {
    const size_t k = size_t(std::find(watched.begin(), watched.end(), v) - watched.begin());
    *a = k < watched.size() ? lo[k] : in_lo;
    *b = k < watched.size() ? hi[k] : in_hi;
  };
  for (NodeId id : targets) {
    Int8Ranges r;
    range_of(graph.node(id).in(0), &r.input_min, &r.input_max);
    range_of(graph.node(id).out(), &r.output_min, &r.output_max);
    (*ranges)[id] = r;
  }
  return Status::Ok();
}

}  // namespace onebit::converter
