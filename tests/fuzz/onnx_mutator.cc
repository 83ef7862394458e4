// Structure-aware mutator for fuzz_convert (LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver).
//
// Byte mutations of a protobuf mostly produce files that do not parse or lose the graph, so the converter's
// own checks are rarely reached. This parses the input as an onnx::ModelProto, applies 1-4 mutations of the
// kinds that broke the converter before (issue 9): drop / blank / rewire node inputs and outputs, retype,
// resize and re-value attributes, add or remove attributes of the names ONNX ops use, rewrite dims of graph
// inputs and initializers, change initializer data lengths, data types and values, change op types among
// known ones, duplicate / delete / move nodes, long chains, change the opset — and serializes it again.
// Inputs that do not parse fall back to libFuzzer's byte mutation (and 1 in 8 parsed inputs get byte
// mutation too, which finds protobuf-level problems).
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using Rng = std::mt19937_64;

const char* const kOps[] = {
    "Conv", "Gemm", "MatMul", "Sign", "Relu", "Clip", "BatchNormalization", "Add", "Sub", "Mul", "Div",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose", "Concat",
    "Pad", "Slice", "Gather", "Shape", "Unsqueeze", "Squeeze", "Constant", "ConstantOfShape", "Identity",
    "Dropout", "PRelu", "LeakyRelu", "HardSigmoid", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum",
    "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceProd", "Abs", "Neg", "Pow", "Sqrt", "Exp", "Log",
    "Round", "Floor", "Ceil", "Cast", "Expand", "Tile", "Where", "Equal", "Greater", "Less", "Not", "Min", "Max",
    "Sum", "Mean", "Reciprocal", "Sigmoid", "Tanh", "Erf", "Range", "Split", "Size", "Sqrt", "ArgMax",
    "NonZero", "Resize", "Upsample", "Einsum", "CumSum", "OneHot", "TopK", "ScatterND", "GatherElements",
    "ConvTranspose", "InstanceNormalization", "LRN", "Elu", "Selu", "Softplus", "Softsign", "HardSwish",
    "Mod", "BitShift", "And", "Or", "Xor", "IsNaN", "IsInf", "Trilu", "QuantizeLinear", "DequantizeLinear",
    "NotAnOp", ""};

const char* const kAttrs[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "ceil_mode",
                              "count_include_pad", "axis", "axes", "perm", "alpha", "beta", "epsilon", "momentum",
                              "transA", "transB", "keepdims", "mode", "value", "to", "min", "max", "starts",
                              "ends", "split", "allowzero", "training_mode", "seed", "ratio", "storage_order",
                              "noop_with_empty_axes", "select_last_index", "exclusive", "reverse", "largest",
                              "sorted", "equation", "direction", "output_padding", "output_shape"};

const int64_t kInts[] = {0, 1, -1, 2, 3, -2, 4, 7, 8, 31, 32, 33, 64, 255, 1 << 16,
                         std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                         int64_t(1) << 31, (int64_t(1) << 32) + 1, int64_t(1) << 40,
                         std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};

const float kFloats[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-5f, 2.0f, 1e30f, -1e30f, 1e-40f,
                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                         std::numeric_limits<float>::quiet_NaN()};

template <size_t N, typename T>
const T& pick(Rng& r, const T (&a)[N]) { return a[r() % N]; }

size_t below(Rng& r, size_t n) { return n == 0 ? 0 : size_t(r() % n); }

int64_t any_int(Rng& r) {
  switch (r() % 4) {
    case 0: return int64_t(r() % 9) - 2;
    case 1: return int64_t(r() % 70);
    default: return pick(r, kInts);
  }
}
float any_float(Rng& r) {
  return r() % 2 ? pick(r, kFloats) : float(int64_t(r() % 2001) - 1000) / 100.0f;
}

// Every value name in the graph (inputs, initializers, node outputs) and "".
std::vector<std::string> value_names(const onnx::GraphProto& g) {
  std::vector<std::string> names{""};
  for (const auto& v : g.input()) names.push_back(v.name());
  for (const auto& t : g.initializer()) names.push_back(t.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) names.push_back(o);
  return names;
}

void mutate_ints(Rng& r, google::protobuf::RepeatedField<int64_t>* v) {
  switch (r() % 5) {
    case 0: if (v->size() > 0) v->RemoveLast(); break;
    case 1: v->Add(any_int(r)); break;
    case 2: v->Clear(); break;
    case 3: if (v->size() > 0) v->Set(int(below(r, size_t(v->size()))), any_int(r)); break;
    default: { const int n = int(r() % 9); v->Clear(); for (int i = 0; i < n; ++i) v->Add(any_int(r)); } break;
  }
}
void mutate_floats(Rng& r, google::protobuf::RepeatedField<float>* v) {
  switch (r() % 4) {
    case 0: if (v->size() > 0) v->RemoveLast(); break;
    case 1: v->Add(any_float(r)); break;
    case 2: v->Clear(); break;
    default: if (v->size() > 0) v->Set(int(below(r, size_t(v->size()))), any_float(r)); break;
  }
}

void mutate_tensor(Rng& r, onnx::TensorProto* t);

// Retype, resize or re-value an attribute.
void mutate_attribute(Rng& r, onnx::AttributeProto* a) {
  switch (r() % 8) {
    case 0: {  // retype, keeping whichever payload fields are set
      static const onnx::AttributeProto::AttributeType types[] = {
          onnx::AttributeProto::INT, onnx::AttributeProto::INTS, onnx::AttributeProto::FLOAT,
          onnx::AttributeProto::FLOATS, onnx::AttributeProto::STRING, onnx::AttributeProto::TENSOR,
          onnx::AttributeProto::STRINGS, onnx::AttributeProto::GRAPH, onnx::AttributeProto::UNDEFINED};
      a->set_type(pick(r, types));
      break;
    }
    case 1: {  // a consistent retype: scalar <-> list, int <-> float
      const bool was_list = a->ints_size() > 0 || a->type() == onnx::AttributeProto::INTS;
      a->clear_ints(); a->clear_floats(); a->clear_i(); a->clear_f();
      switch (r() % 4) {
        case 0: a->set_type(onnx::AttributeProto::INT); a->set_i(any_int(r)); break;
        case 1: a->set_type(onnx::AttributeProto::FLOAT); a->set_f(any_float(r)); break;
        case 2: a->set_type(onnx::AttributeProto::FLOATS); for (int i = 0; i < 2; ++i) a->add_floats(any_float(r)); break;
        default: a->set_type(onnx::AttributeProto::INTS); for (int i = 0, n = was_list ? 1 : 2; i < n; ++i) a->add_ints(any_int(r)); break;
      }
      break;
    }
    case 2: case 3: mutate_ints(r, a->mutable_ints()); break;
    case 4: a->set_i(any_int(r)); break;
    case 5: if (a->floats_size() > 0) mutate_floats(r, a->mutable_floats()); else a->set_f(any_float(r)); break;
    case 6: {
      static const char* const strings[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect",
                                            "edge", "", "nearest", "linear", "bogus"};
      a->set_s(pick(r, strings));
      break;
    }
    default:
      if (a->has_t()) mutate_tensor(r, a->mutable_t());
      else a->set_name(pick(r, kAttrs));
      break;
  }
}

void mutate_tensor(Rng& r, onnx::TensorProto* t) {
  switch (r() % 9) {
    case 0: case 1: mutate_ints(r, t->mutable_dims()); break;
    case 2: if (t->dims_size() > 0) t->set_dims(int(below(r, size_t(t->dims_size()))), any_int(r)); break;
    case 3: {  // raw data length
      std::string* raw = t->mutable_raw_data();
      switch (r() % 4) {
        case 0: raw->resize(raw->size() / 2); break;
        case 1: raw->resize(raw->size() - std::min(raw->size(), size_t(1) + below(r, 8))); break;
        case 2: raw->append(size_t(1 + r() % 16), char(r())); break;
        default: raw->clear(); break;
      }
      break;
    }
    case 4: mutate_floats(r, t->mutable_float_data()); break;
    case 5: mutate_ints(r, t->mutable_int64_data()); break;
    case 6: {
      static const int types[] = {onnx::TensorProto::FLOAT, onnx::TensorProto::INT64, onnx::TensorProto::INT32,
                                  onnx::TensorProto::DOUBLE, onnx::TensorProto::BOOL, onnx::TensorProto::UINT8,
                                  onnx::TensorProto::INT8, onnx::TensorProto::FLOAT16, onnx::TensorProto::STRING,
                                  onnx::TensorProto::UNDEFINED, 99};
      t->set_data_type(pick(r, types));
      break;
    }
    case 7: {  // values: zeros, NaN, infinities, huge (sign(0), folding, thresholds)
      std::string* raw = t->mutable_raw_data();
      if (raw->size() >= 4 && t->data_type() == onnx::TensorProto::FLOAT) {
        const float f = any_float(r);
        const size_t n = raw->size() / 4, k = r() % 2 ? n : 1 + below(r, 4);
        for (size_t i = 0; i < k && i < n; ++i) std::memcpy(&(*raw)[4 * below(r, n)], &f, 4);
      } else if (raw->size() >= 8 && t->data_type() == onnx::TensorProto::INT64) {
        const int64_t v = any_int(r);
        std::memcpy(&(*raw)[8 * below(r, raw->size() / 8)], &v, 8);
      } else if (t->float_data_size() > 0) {
        t->set_float_data(int(below(r, size_t(t->float_data_size()))), any_float(r));
      } else if (t->int64_data_size() > 0) {
        t->set_int64_data(int(below(r, size_t(t->int64_data_size()))), any_int(r));
      }
      break;
    }
    default:
      if (r() % 2) t->set_data_location(onnx::TensorProto::EXTERNAL);
      else t->set_name(t->name() + "_");
      break;
  }
}

void mutate_value_info(Rng& r, onnx::ValueInfoProto* v) {
  auto* shape = v->mutable_type()->mutable_tensor_type()->mutable_shape();
  switch (r() % 6) {
    case 0: if (shape->dim_size() > 0) shape->mutable_dim()->RemoveLast(); break;
    case 1: shape->add_dim()->set_dim_value(any_int(r)); break;
    case 2: if (shape->dim_size() > 0) shape->mutable_dim(int(below(r, size_t(shape->dim_size()))))->set_dim_param(r() % 2 ? "N" : ""); break;
    case 3: v->mutable_type()->mutable_tensor_type()->set_elem_type(int(r() % 17)); break;
    case 4: if (r() % 4 == 0) v->mutable_type()->clear_tensor_type(); else shape->clear_dim(); break;
    default:
      if (shape->dim_size() > 0) shape->mutable_dim(int(below(r, size_t(shape->dim_size()))))->set_dim_value(any_int(r));
      break;
  }
}

void mutate_node(Rng& r, onnx::GraphProto* g, onnx::NodeProto* n) {
  switch (r() % 12) {
    case 0: if (n->input_size() > 0) n->mutable_input()->RemoveLast(); break;        // drop an input
    case 1: if (n->input_size() > 0) n->set_input(int(below(r, size_t(n->input_size()))), ""); break;  // blank
    case 2: {  // rewire an input to any value (cycles, self-reads, missing names)
      const auto names = value_names(*g);
      if (n->input_size() > 0) n->set_input(int(below(r, size_t(n->input_size()))), names[below(r, names.size())]);
      else n->add_input(names[below(r, names.size())]);
      break;
    }
    case 3: { const auto names = value_names(*g); n->add_input(names[below(r, names.size())]); break; }
    case 4: n->set_op_type(pick(r, kOps)); break;
    case 5: case 6: case 7:
      if (n->attribute_size() > 0) mutate_attribute(r, n->mutable_attribute(int(below(r, size_t(n->attribute_size())))));
      else goto add_attr;
      break;
    case 8:
    add_attr: {
      auto* a = n->add_attribute();
      a->set_name(pick(r, kAttrs));
      if (r() % 2) { a->set_type(onnx::AttributeProto::INTS); for (int i = 0, k = int(r() % 5); i < k; ++i) a->add_ints(any_int(r)); }
      else { a->set_type(onnx::AttributeProto::INT); a->set_i(any_int(r)); }
      break;
    }
    case 9:
      if (n->attribute_size() > 0) {
        auto* attrs = n->mutable_attribute();
        attrs->SwapElements(int(below(r, size_t(attrs->size()))), attrs->size() - 1);
        attrs->RemoveLast();
      }
      break;
    case 10:  // outputs: blank, drop, extra
      if (n->output_size() > 0 && r() % 2) n->set_output(int(below(r, size_t(n->output_size()))), r() % 2 ? "" : g->node(0).output_size() > 0 ? g->node(0).output(0) : "x");
      else if (r() % 2 && n->output_size() > 0) n->mutable_output()->RemoveLast();
      else n->add_output(n->name() + "_extra");
      break;
    default:  // duplicate an attribute (the same name twice)
      if (n->attribute_size() > 0) *n->add_attribute() = n->attribute(int(below(r, size_t(n->attribute_size()))));
      break;
  }
}

void mutate_graph(Rng& r, onnx::ModelProto* m) {
  onnx::GraphProto* g = m->mutable_graph();
  const int nodes = g->node_size();
  switch (r() % 16) {
    case 0: case 1: case 2: case 3: case 4: case 5:
      if (nodes > 0) mutate_node(r, g, g->mutable_node(int(below(r, size_t(nodes)))));
      break;
    case 6: case 7:
      if (g->initializer_size() > 0) mutate_tensor(r, g->mutable_initializer(int(below(r, size_t(g->initializer_size())))));
      break;
    case 8:
      if (g->input_size() > 0) mutate_value_info(r, g->mutable_input(int(below(r, size_t(g->input_size())))));
      break;
    case 9: {  // duplicate a node at a random position
      if (nodes == 0) break;
      onnx::NodeProto copy = g->node(int(below(r, size_t(nodes))));
      if (r() % 2)
        for (auto& o : *copy.mutable_output()) o += "_dup";
      *g->add_node() = copy;
      for (int i = g->node_size() - 1, to = int(below(r, size_t(g->node_size()))); i > to; --i)
        g->mutable_node()->SwapElements(i, i - 1);
      break;
    }
    case 10: {  // delete a node
      if (nodes == 0) break;
      for (int i = int(below(r, size_t(nodes))); i + 1 < nodes; ++i) g->mutable_node()->SwapElements(i, i + 1);
      g->mutable_node()->RemoveLast();
      break;
    }
    case 11:  // move a node (breaks topological order)
      if (nodes > 1) g->mutable_node()->SwapElements(int(below(r, size_t(nodes))), int(below(r, size_t(nodes))));
      break;
    case 12: {  // graph outputs: duplicate, drop, point at an initializer or input
      if (g->output_size() == 0) break;
      if (r() % 2) *g->add_output() = g->output(int(below(r, size_t(g->output_size()))));
      else if (r() % 2) g->mutable_output()->RemoveLast();
      else { const auto names = value_names(*g); g->mutable_output(0)->set_name(names[below(r, names.size())]); }
      break;
    }
    case 13: {  // a chain: a unary node repeated (deep graphs, recursion depth)
      if (nodes == 0) break;
      const onnx::NodeProto& base = g->node(int(below(r, size_t(nodes))));
      if (base.input_size() == 0 || base.output_size() == 0) break;
      const int k = r() % 4 == 0 ? 2000 : 16;
      std::string prev = base.output(0);
      for (int i = 0; i < k; ++i) {
        onnx::NodeProto* n = g->add_node();
        n->set_op_type(r() % 2 ? "Relu" : "Identity");
        n->add_input(prev);
        prev = base.output(0) + "_chain" + std::to_string(i);
        n->add_output(prev);
      }
      if (g->output_size() > 0) g->mutable_output(0)->set_name(prev);
      break;
    }
    case 14: {  // opset
      if (m->opset_import_size() == 0) m->add_opset_import();
      static const int64_t versions[] = {1, 6, 7, 9, 10, 11, 12, 13, 14, 17, 18, 100, 0, -1};
      m->mutable_opset_import(0)->set_version(pick(r, versions));
      if (r() % 4 == 0) m->mutable_opset_import(0)->set_domain(r() % 2 ? "ai.onnx.ml" : "com.example");
      break;
    }
    default:  // a value_info / initializer that shadows a graph input, or an initializer removed
      if (g->initializer_size() > 0 && r() % 2) {
        auto* inits = g->mutable_initializer();
        inits->SwapElements(int(below(r, size_t(inits->size()))), inits->size() - 1);
        inits->RemoveLast();
      } else if (g->input_size() > 0 && g->initializer_size() > 0) {
        g->mutable_initializer(0)->set_name(g->input(0).name());
      }
      break;
  }
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  Rng r(seed);
  onnx::ModelProto m;
  if (size == 0 || r() % 8 == 0 || !m.ParseFromArray(data, int(size)) || !m.has_graph())
    return LLVMFuzzerMutate(data, size, max_size);
  for (int i = 0, k = 1 + int(r() % 4); i < k; ++i) mutate_graph(r, &m);
  std::string out;
  if (!m.SerializeToString(&out) || out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

// Cross-over of two models: nodes, initializers or inputs of the second spliced into the first.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                                            uint8_t* out, size_t max_out_size, unsigned int seed) {
  Rng r(seed);
  onnx::ModelProto a, b;
  if (!a.ParseFromArray(data1, int(size1)) || !b.ParseFromArray(data2, int(size2))) return 0;
  onnx::GraphProto* ga = a.mutable_graph();
  const onnx::GraphProto& gb = b.graph();
  switch (r() % 3) {
    case 0:
      if (gb.node_size() > 0)
        for (int i = 0, k = 1 + int(r() % 4); i < k; ++i) *ga->add_node() = gb.node(int(below(r, size_t(gb.node_size()))));
      break;
    case 1:
      if (gb.initializer_size() > 0) *ga->add_initializer() = gb.initializer(int(below(r, size_t(gb.initializer_size()))));
      break;
    default:
      if (gb.input_size() > 0 && ga->input_size() > 0) *ga->mutable_input(0) = gb.input(int(below(r, size_t(gb.input_size()))));
      break;
  }
  std::string s;
  if (!a.SerializeToString(&s) || s.size() > max_out_size) return 0;
  std::memcpy(out, s.data(), s.size());
  return s.size();
}
