#include "constant_fold.h"

#include <cmath>
#include <functional>
#include <set>

namespace onebit::converter {
namespace {

int64_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Index into a broadcast operand for flat output index `i`.
int64_t broadcast_index(int64_t i, const std::vector<int64_t>& out_shape, const std::vector<int64_t>& in_shape) {
  int64_t idx = 0, stride = 1;
  const size_t offset = out_shape.size() - in_shape.size();
  for (size_t d = out_shape.size(); d-- > 0;) {
    const int64_t coord = i % out_shape[d];
    i /= out_shape[d];
    if (d < offset) continue;
    const int64_t in_dim = in_shape[d - offset];
    if (in_dim != 1) idx += coord * stride;
    stride *= in_dim;
  }
  return idx;
}

void set_floats(Value* v, std::vector<int64_t> shape, std::vector<float> data) {
  v->shape = std::move(shape);
  v->shape_known = true;
  v->is_constant = true;
  v->data = std::move(data);
  v->is_integer = false;
  v->int_data.clear();
}

void set_ints(Value* v, std::vector<int64_t> shape, std::vector<int64_t> data) {
  v->shape = std::move(shape);
  v->shape_known = true;
  v->is_constant = true;
  v->int_data = std::move(data);
  v->data.assign(v->int_data.begin(), v->int_data.end());
  v->is_integer = true;
}

// Copies `src`'s data into `dst` with a new shape.
void reshape_const(const Value& src, Value* dst, std::vector<int64_t> shape) {
  if (src.is_integer) set_ints(dst, std::move(shape), src.int_data);
  else set_floats(dst, std::move(shape), src.data);
}

std::vector<int64_t> axes_of(const Graph& g, const Node& n) {
  if (n.inputs.size() > 1 && !n.inputs[1].empty()) return g.find(n.inputs[1])->int_data;
  return n.get_ints("axes");
}

// Evaluates `n` (all inputs constant). Returns false if the op is not foldable here.
bool evaluate(Graph& g, const Node& n, std::string* error) {
  auto in = [&](size_t i) -> const Value& { return *g.find(n.inputs[i]); };
  Value* out = &g.values[n.outputs[0]];
  const std::string& op = n.op_type;
  if (op == "Identity") {
    reshape_const(in(0), out, in(0).shape);
  } else if (op == "Sign" || op == "Neg" || op == "Abs" || op == "Sqrt" || op == "Reciprocal") {
    std::vector<float> d = in(0).data;
    for (float& x : d) {
      if (op == "Sign") x = x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
      else if (op == "Neg") x = -x;
      else if (op == "Abs") x = std::fabs(x);
      else if (op == "Sqrt") x = std::sqrt(x);
      else x = 1.0f / x;
    }
    if (in(0).is_integer && op != "Sqrt" && op != "Reciprocal") {
      std::vector<int64_t> i(d.begin(), d.end());
      set_ints(out, in(0).shape, i);
    } else {
      set_floats(out, in(0).shape, d);
    }
  } else if (op == "Mul" || op == "Add" || op == "Sub" || op == "Div") {
    std::vector<int64_t> shape;
    if (!broadcast_shapes(in(0).shape, in(1).shape, &shape)) {
      *error = "operand shapes do not broadcast";
      return true;
    }
    const int64_t total = count(shape);
    const bool ints = in(0).is_integer && in(1).is_integer;
    std::vector<float> d(static_cast<size_t>(total));
    std::vector<int64_t> di(ints ? size_t(total) : 0);
    for (int64_t i = 0; i < total; ++i) {
      const int64_t ia = broadcast_index(i, shape, in(0).shape), ib = broadcast_index(i, shape, in(1).shape);
      if (ints) {
        const int64_t a = in(0).int_data[size_t(ia)], b = in(1).int_data[size_t(ib)];
        di[size_t(i)] = op == "Mul" ? a * b : op == "Add" ? a + b : op == "Sub" ? a - b : (b != 0 ? a / b : 0);
      } else {
        const float a = in(0).data[size_t(ia)], b = in(1).data[size_t(ib)];
        d[size_t(i)] = op == "Mul" ? a * b : op == "Add" ? a + b : op == "Sub" ? a - b : a / b;
      }
    }
    if (ints) set_ints(out, shape, di);
    else set_floats(out, shape, d);
  } else if (op == "Cast") {
    const int64_t to = n.get_int("to", 1);
    const bool to_int = to == 6 || to == 7 || to == 2 || to == 3 || to == 9;
    if (to_int) {
      std::vector<int64_t> d;
      for (float x : in(0).data) d.push_back(int64_t(x));
      if (in(0).is_integer) d = in(0).int_data;
      set_ints(out, in(0).shape, d);
    } else {
      set_floats(out, in(0).shape, in(0).data);
    }
  } else if (op == "Unsqueeze") {
    std::vector<int64_t> axes = axes_of(g, n);
    std::vector<int64_t> shape = in(0).shape;
    const int64_t rank = int64_t(shape.size() + axes.size());
    std::set<int64_t> norm;
    for (int64_t a : axes) norm.insert(a < 0 ? a + rank : a);
    std::vector<int64_t> result;
    size_t k = 0;
    for (int64_t d = 0; d < rank; ++d) result.push_back(norm.count(d) ? 1 : shape[k++]);
    reshape_const(in(0), out, result);
  } else if (op == "Squeeze") {
    std::vector<int64_t> axes = axes_of(g, n);
    const std::vector<int64_t>& shape = in(0).shape;
    std::set<int64_t> norm;
    for (int64_t a : axes) norm.insert(a < 0 ? a + int64_t(shape.size()) : a);
    std::vector<int64_t> result;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!(shape[d] == 1 && (norm.empty() || norm.count(int64_t(d))))) result.push_back(shape[d]);
    reshape_const(in(0), out, result);
  } else if (op == "Reshape") {
    std::vector<int64_t> target = in(1).int_data;
    int64_t known = 1, infer = -1;
    for (size_t d = 0; d < target.size(); ++d) {
      if (target[d] == 0 && d < in(0).shape.size()) target[d] = in(0).shape[d];
      if (target[d] == -1) infer = int64_t(d);
      else known *= target[d];
    }
    if (infer >= 0 && known != 0) target[size_t(infer)] = in(0).elements() / known;
    reshape_const(in(0), out, target);
  } else if (op == "Gather" || op == "Concat") {
    int64_t axis = n.get_int("axis", 0);
    const Value& a = in(0);
    const int64_t rank = int64_t(a.shape.size());
    if (axis < 0) axis += rank;
    if (rank == 0 || axis < 0 || axis >= rank) {
      *error = "axis out of range";
      return true;
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= a.shape[size_t(d)];
    for (int64_t d = axis + 1; d < rank; ++d) inner *= a.shape[size_t(d)];
    std::vector<int64_t> shape;
    // (source value, index along axis) per output slice, in output order.
    std::vector<std::pair<const Value*, int64_t>> slices;
    if (op == "Gather") {
      const Value& idx = in(1);
      for (int64_t i : idx.int_data) {
        if (i < 0) i += a.shape[size_t(axis)];
        if (i < 0 || i >= a.shape[size_t(axis)]) {
          *error = "index out of range";
          return true;
        }
        slices.push_back({&a, i});
      }
      shape.assign(a.shape.begin(), a.shape.begin() + axis);
      shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
      shape.insert(shape.end(), a.shape.begin() + axis + 1, a.shape.end());
    } else {
      shape = a.shape;
      shape[size_t(axis)] = 0;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const Value& v = in(k);
        if (v.shape.size() != a.shape.size()) {
          *error = "operand ranks differ";
          return true;
        }
        for (int64_t i = 0; i < v.shape[size_t(axis)]; ++i) slices.push_back({&v, i});
        shape[size_t(axis)] += v.shape[size_t(axis)];
      }
    }
    const bool ints = a.is_integer;
    std::vector<float> d;
    std::vector<int64_t> di;
    for (int64_t o = 0; o < outer; ++o)
      for (const auto& [src, i] : slices) {
        const int64_t base = (o * src->shape[size_t(axis)] + i) * inner;
        for (int64_t j = 0; j < inner; ++j) {
          d.push_back(src->data[size_t(base + j)]);
          if (ints) di.push_back(src->int_data[size_t(base + j)]);
        }
      }
    if (ints) set_ints(out, shape, di);
    else set_floats(out, shape, d);
  } else {
    return false;
  }
  return true;
}

}  // namespace

bool broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const size_t rank = std::max(a.size(), b.size());
  out->assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[i] = da == 1 ? db : da;
  }
  return true;
}

Status fold_constants(Graph* graph, FoldedConstants* report) {
  Graph& g = *graph;
  std::vector<Node> kept;
  for (const Node& n : g.nodes) {
    bool all_const = !n.inputs.empty() && n.outputs.size() == 1;
    for (const std::string& in : n.inputs) all_const = all_const && (in.empty() || g.is_constant(in));
    if (n.op_type == "Shape" && n.outputs.size() == 1) {
      const Value* v = g.find(n.inputs[0]);
      if (v != nullptr && v->shape_known) {
        set_ints(&g.values[n.outputs[0]], {int64_t(v->shape.size())}, v->shape);
        report->folded.push_back(n.name + " (Shape)");
        continue;
      }
    }
    if (all_const && n.op_type != "Dropout") {
      std::string error;
      if (evaluate(g, n, &error)) {
        if (!error.empty()) return Status::Error(n.describe() + ": cannot evaluate constant expression: " + error);
        report->folded.push_back(n.name + " (" + n.op_type + ")");
        continue;
      }
    }
    kept.push_back(n);
  }
  // Remove nodes that no graph output depends on (walk backwards from the outputs).
  std::set<std::string> needed(g.outputs.begin(), g.outputs.end());
  std::vector<bool> live(kept.size(), false);
  for (size_t i = kept.size(); i-- > 0;) {
    for (const std::string& o : kept[i].outputs) live[i] = live[i] || needed.count(o) != 0;
    if (!live[i]) continue;
    for (const std::string& in : kept[i].inputs)
      if (!in.empty()) needed.insert(in);
  }
  g.nodes.clear();
  for (size_t i = 0; i < kept.size(); ++i) {
    if (live[i]) g.nodes.push_back(std::move(kept[i]));
    else report->dead.push_back(kept[i].name + " (" + kept[i].op_type + ")");
  }
  g.link();
  return Status::Ok();
}

}  // namespace onebit::converter
