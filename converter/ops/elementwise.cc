// Elementwise ops: unary math and activations, numpy-broadcasting binary and variadic ops, comparisons and
// logic. Most are only folded; Relu, PRelu, LeakyRelu, Clip, Neg and Add/Sub/Mul/Div on activations are
// emitted as onebit float operators.
#include "evaluator/eval_util.h"
#include "ir/shape_inference.h"
#include "ops/family.h"
#include "rules/match.h"

namespace onebit::converter::opdefs {
namespace {

using namespace eval;

// Shapes.

// numpy broadcasting of every input; dtype: input 0's, `kBool` for comparisons, input 1's for Where.
enum class Result { kInput0, kBool, kInput1 };
template <Result kResult>
Status broadcast(const Graph& g, const Node& n, InferredShapes* out) {
  const std::vector<int64_t>& x = g.value(n.in(0)).shape;
  std::vector<int64_t> s = x;
  for (size_t k = 1; k < n.inputs.size(); ++k)
    if (!broadcast_shapes(s, g.value(n.in(k)).shape, &s))
      return shape_error(n, "operand shapes " + shape_str(x) + " and " + shape_str(g.value(n.in(k)).shape) +
                                " do not broadcast");
  if (kResult == Result::kInput1) out->dtype = g.value(n.in(1)).dtype;
  if (kResult == Result::kBool) out->dtype = DType::kBool;
  out->shapes.assign(1, s);
  return Status::Ok();
}
constexpr InferFn kBroadcast = broadcast<Result::kInput0>;
constexpr InferFn kCompare = broadcast<Result::kBool>;

// ONNX ties Clip's min and max to the input's type (T): float bounds on an integer tensor (a QuantizeLinear's
// uint8 output) or integer bounds on a float one make an invalid model, not one to guess at.
Status infer_clip(const Graph& g, const Node& n, InferredShapes* out) {
  const auto is_int = [](DType t) { return t == DType::kInt64 || t == DType::kBool; };
  const DType x = g.value(n.in(0)).dtype;
  for (size_t k = 1; k < 3; ++k) {
    if (n.in(k) == kNoId) continue;
    const DType b = g.value(n.in(k)).dtype;
    if (is_int(b) != is_int(x)) {
      const Node* p = g.producer(n.in(0));
      return shape_error(n, std::string(k == 1 ? "min" : "max") + " is " + (is_int(b) ? "an integer" : "a float") +
                                " tensor but the input" + (p ? " (output of " + p->describe() + ")" : std::string()) +
                                " is " + (is_int(x) ? "an integer" : "a float") +
                                " one; ONNX requires Clip's bounds to have the input's type");
    }
  }
  return infer_same_shape(g, n, out);
}

// Zero facts.

ValueFacts relu_zeros(const Graph&, const Node& n, const std::vector<ValueFacts>&) { return zeros_from(n, true); }

ValueFacts clip_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  float lo, hi;
  if (!clip_bounds(g, n, &lo, &hi)) return zeros_from(n, true);
  ValueFacts out;
  if (lo == 0.0f || hi == 0.0f) out = zeros_from(n, true);
  else if (lo < 0.0f && hi > 0.0f) out = in[0];
  out.discrete = in[0].discrete;
  return out;
}

ValueFacts sign_zeros(const Graph&, const Node&, const std::vector<ValueFacts>& in) {
  ValueFacts out = in[0];
  out.discrete = true;
  return out;
}

// A sum of two discrete non-constant values (Sign(a) + Sign(b)) hits 0; zeros in both operands come through.
ValueFacts add_sub_zeros(const Graph& g, const Node& n, const std::vector<ValueFacts>& in) {
  const ValueFacts& a = in[0];
  const ValueFacts& b = in[1];
  const bool ca = g.value(n.in(0)).is_constant(), cb = g.value(n.in(1)).is_constant();
  ValueFacts out;
  if (a.zeros && b.zeros) out = a;
  else if (a.discrete && b.discrete && !ca && !cb) out = zeros_from(n, true);
  out.discrete = a.discrete && b.discrete;
  return out;
}

ValueFacts mul_zeros(const Graph&, const Node&, const std::vector<ValueFacts>& in) {
  ValueFacts out = in[0].zeros ? in[0] : in[1];
  out.discrete = in[0].discrete && in[1].discrete;
  return out;
}

ValueFacts div_zeros(const Graph&, const Node&, const std::vector<ValueFacts>& in) {
  ValueFacts out = in[0];
  out.discrete = in[0].discrete && in[1].discrete;
  return out;
}

// Emission.

Status emit_sign(Emitter& e, const Node& n) {
  const Value& x = e.graph().value(n.in(0));
  return Status::Error(n.describe() + ": a Sign on a tensor of shape " + shape_str(x.shape) + " (" +
                       dtype_name(x.dtype) + ") cannot be binarized; binary activations are float feature maps "
                       "[N, C, H, W] or [N, C]");
}

// Neg(x) = Mul(x, -1) per channel: an ONNX op that maps onto an existing runtime operator.
// The builder tensor of a unary float op's input: rank 2 or 4, as every float layer takes.
Status unary_input(Emitter& e, const Node& n, int* x) {
  const std::vector<int64_t>& shape = e.graph().value(n.in(0)).shape;
  if (shape.size() != 4 && shape.size() != 2)
    return Status::Error(n.describe() + ": tensors of rank " + std::to_string(shape.size()) + " are not supported");
  return e.float_as(n.in(0), int(shape.size()), x);
}

Status emit_neg(Emitter& e, const Node& n) {
  int x;
  ONEBIT_RETURN_IF_ERROR(unary_input(e, n, &x));
  const int64_t channels = e.graph().value(n.in(0)).shape[1];
  e.set(n.out(), e.builder().mul(n.name, x, std::vector<float>(size_t(channels), -1.0f)));
  e.record(n.name, "float Mul (Neg)");
  return Status::Ok();
}

// Sigmoid on activations: the runtime's Sigmoid operator (rank 2 or 4, like every float layer).
Status emit_sigmoid(Emitter& e, const Node& n) {
  int x;
  ONEBIT_RETURN_IF_ERROR(unary_input(e, n, &x));
  e.set(n.out(), e.builder().sigmoid(n.name, x));
  e.record(n.name, "float Sigmoid");
  return Status::Ok();
}

constexpr EmitFn kArithmetic = emit_by<&Emitter::emit_elementwise>;
constexpr InferFn kSame = infer_same_shape;
constexpr InferFn kToBool = infer_same_shape_as<DType::kBool>;

}  // namespace

std::vector<OpDef> elementwise_ops() {
  const std::vector<AttrSpec> none;
  const Arity variadic = {1, kManyInputs, 1, 1};
  return {
      // op            arity   attributes                           shape      evaluate       zero facts     emit
      {"Relu",         In(1),  none,                                kSame,     eval_unary,    relu_zeros,    kEmitActivation},
      {"PRelu",        In(2),  none,                                kSame,     eval_prelu,    nullptr,       kEmitActivation},
      {"LeakyRelu",    In(1),  {F("alpha", 0.01f)},                 kSame,     eval_leaky_relu, nullptr,     kEmitActivation},
      {"Clip",         In(1, 3), none,                              infer_clip,    eval_clip,     clip_zeros,    kEmitActivation},
      {"Sign",         In(1),  none,                                kSame,     eval_unary,    sign_zeros,    emit_sign},
      {"Abs",          In(1),  none,                                kSame,     eval_unary},
      {"Neg",          In(1),  none,                                kSame,     eval_unary,    nullptr,       emit_neg},
      {"Sqrt",         In(1),  none,                                kSame,     eval_unary},
      {"Exp",          In(1),  none,                                kSame,     eval_unary,    zero_free},
      {"Log",          In(1),  none,                                kSame,     eval_unary},
      {"Round",        In(1),  none,                                kSame,     eval_unary},
      {"Floor",        In(1),  none,                                kSame,     eval_unary},
      {"Ceil",         In(1),  none,                                kSame,     eval_unary},
      {"Reciprocal",   In(1),  none,                                kSame,     eval_unary},
      {"Tanh",         In(1),  none,                                kSame,     eval_unary},
      {"Sigmoid",      In(1),  none,                                kSame,     eval_unary,    zero_free,     emit_sigmoid},
      {"HardSigmoid",  In(1),  {F("alpha", 0.2f), F("beta", 0.5f)}, kSame,     eval_hard_sigmoid, zero_free},
      {"Erf",          In(1),  none,                                kSame,     eval_unary},
      // Sin / Cos: Fourier-series sign surrogates (FDA) put them in straight-through residues the rules remove
      {"Sin",          In(1),  none,                                kSame,     eval_unary},
      {"Cos",          In(1),  none,                                kSame,     eval_unary},
      {"Add",          In(2),  none,                                kBroadcast, eval_binary,  add_sub_zeros, kArithmetic},
      {"Sub",          In(2),  none,                                kBroadcast, eval_binary,  add_sub_zeros, kArithmetic},
      {"Mul",          In(2),  none,                                kBroadcast, eval_binary,  mul_zeros,     kArithmetic},
      {"Div",          In(2),  none,                                kBroadcast, eval_binary,  div_zeros,     kArithmetic},
      {"Pow",          In(2),  none,                                kBroadcast, eval_binary},
      {"Mod",          In(2),  {I("fmod", 0)},                      kBroadcast, eval_binary},
      {"Min",          variadic, none,                              kBroadcast, eval_variadic},
      {"Max",          variadic, none,                              kBroadcast, eval_variadic},
      {"Sum",          variadic, none,                              kBroadcast, eval_variadic},
      {"Mean",         variadic, none,                              kBroadcast, eval_variadic},
      {"Where",        In(3),  none,                      broadcast<Result::kInput1>, eval_where},
      {"Equal",        In(2),  none,                                kCompare,  eval_compare},
      {"Less",         In(2),  none,                                kCompare,  eval_compare},
      {"LessOrEqual",  In(2),  none,                                kCompare,  eval_compare},
      {"Greater",      In(2),  none,                                kCompare,  eval_compare},
      {"GreaterOrEqual", In(2), none,                               kCompare,  eval_compare},
      {"And",          In(2),  none,                                kCompare,  eval_logical},
      {"Or",           In(2),  none,                                kCompare,  eval_logical},
      {"Xor",          In(2),  none,                                kCompare,  eval_logical},
      {"Not",          In(1),  none,                                kToBool,   eval_logical},
  };
}

}  // namespace onebit::converter::opdefs
