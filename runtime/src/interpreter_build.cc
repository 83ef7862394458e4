// Interpreter::create()'s phases, in the order Impl::build runs them (TensorFlow Lite Micro's
// AllocateTensors is the model):
//   describe_tensors  one TensorDesc per model tensor; every activation alone within the budget, before any
//                     operator is prepared
//   prepare_ops       make and prepare every operator (weights, XNNPACK operators, kernel choice: prepare
//                     allocates only what the model's weights bound); each operator's scratch and XNNPACK
//                     indirection estimate within the budget. An operator may take over the only reader of
//                     its output (Op::fuse_reader, offered before the reader is made; not on Cortex-M): the
//                     reader becomes a FusedAway, the taker writes the reader's output at its own step (that
//                     output lives from there), and its own output takes no memory
//   describe_io       the graph's inputs and outputs, and every vector bind_ops / expose_io fill
//   reserve_profile   one profile entry per operator, sample room reserved
//   lifetimes         every activation's and scratch buffer's bytes and steps (the planning vectors, made
//                     after every record: on Cortex-M they are given back to the records' top by adopt_plan)
//   alias_reshapes    a Reshape's output shares its input's bytes
//   write_in_place    an operator that computes each output element from the same element of one input only
//                     (or an unpadded AvgPool2D, from input pixels at or after its own) writes over that
//                     input where it is the input's last reader (see in_place_input)
//   plan_memory       lay the arena out; the arena plus all indirection buffers plus the unpacked bitpacked
//                     outputs within the budget (and representable on this platform)
//   adopt_plan        keep the offsets, free the planning vectors
//   place_arena       allocate the arena, or check and adopt the caller's buffer
//   bind_ops          hand every operator its tensors' addresses (XNNPACK setup)
//   expose_io         the caller's input and output buffers (unpack buffers for bitpacked outputs)
// Each check runs before the allocation it guards; an error names the tensor or operator and the limit.
//
// Lifetimes: steps are operator indices. An activation is live from the step that writes it to the last
// step that reads it; graph inputs and outputs live for the whole invoke (step 0 to one step past the last
// operator, where bitpacked outputs are unpacked for the user: ±1 for Binary tensors, level_scale * L for
// k-bit ones), so invoke() never overwrites an input and a caller may invoke twice on one input (unless
// InterpreterOptions::keep_inputs is off: then an input lives to its last reader). Each operator's scratch
// is a buffer live only at its own step, so scratch shares the arena with activations.
// Constants are read in place from the model.
#include <algorithm>
#include <cstring>

#include "interpreter_impl.h"
#include "model_access.h"
#include "onebit/pool.h"
#include "ops/op_table.h"
#include "planner.h"

namespace onebit {
namespace rt {

Text bytes_string(uint64_t bytes) {
  Text s = num(bytes) + " bytes";
  if (bytes >= (uint64_t(1) << 20)) s += " (" + num(bytes >> 20) + " MiB)";
  return s;
}

namespace {

/// Op::fuse_reader is offered off Cortex-M only (the portable float kernels, all it runs, fuse nothing):
/// there the code below that serves it folds away.
#if ONEBIT_MCU
constexpr bool kFusion = false;
#else
constexpr bool kFusion = true;
#endif

Text tensor_label(const fb::Model& m, size_t t) {
  return "tensor " + num(t) + " '" + tensor_name(m, t) + "'";
}

}  // namespace
}  // namespace rt

using namespace rt;  // the phases below name the runtime's types (rt::) unqualified

/// One create(): the phases, and what they hand each other.
class Interpreter::Impl::Phases {
 public:
  Phases(Interpreter::Impl& impl, const BuildRequest& request)
      : impl_(impl),
        request_(request),
        m_(model_flatbuffer(*impl.model)),
        n_tensors_(m_.tensors()->size()),
        n_ops_(m_.operators() ? m_.operators()->size() : 0),
        over_(", more than max_arena_bytes = " + bytes_string(request.budget)) {}

  Status describe_tensors();
  Status prepare_ops();
  void lifetimes();
  void alias_reshapes();
  void write_in_place();
  Status plan_memory();
  void adopt_plan();
  Status place_arena();
  Status bind_ops();
  void describe_io();
  void expose_io();
#if !ONEBIT_MCU
  void reserve_profile();
#endif

 private:
  Status prepare_op(size_t i);
  int fusing_writer(const fb::Operator& op) const;
  int bound_output(size_t i) const;
  int alias_root(int t);
  Status over_budget_at_peak(uint64_t total) const;

  Interpreter::Impl& impl_;
  const BuildRequest& request_;
  const fb::Model& m_;
  const size_t n_tensors_, n_ops_;
  const Text over_;  // the tail of every budget error
  Vec<uint8_t> used_;  // activations: graph inputs and operator outputs (bytes: no Vec<bool> code in flash)
  Vec<PlannedBuffer> buffers_;  // n_tensors_ tensors, then n_ops_ scratch buffers
  Vec<int> alias_of_;           // per tensor: the tensor whose bytes it shares, or -1
  Vec<int> writer_, reads_;     // per tensor: the operator writing it (or -1), the inputs reading it
  Vec<int> fused_reader_;       // per operator: the reader it took over (Op::fuse_reader), or -1 (kFusion)
  uint64_t workspace_ = 0;              // XNNPACK indirection buffers (estimate), outside the arena
  uint64_t unpacked_ = 0;               // float copies of bitpacked graph outputs, outside the arena
  ArenaPlan plan_;
  Vec<const void*> bind_inputs_;        // bind()'s input addresses, sized by describe_io
};

Status Interpreter::Impl::Phases::describe_tensors() {
  impl_.tensors.resize(n_tensors_);
  for (size_t i = 0; i < n_tensors_; ++i) {
    const fb::Tensor* t = m_.tensors()->Get(flatbuffers::uoffset_t(i));
    TensorDesc& d = impl_.tensors[i];
    d.index = int(i);
    d.shape = tensor_shape(*t);
    d.dtype = t->dtype();
    if (d.dtype == fb::DType::BitPacked) d.levels = tensor_levels(*t);
    d.bytes = tensor_bytes(d.dtype, d.shape, d.levels.bits);
    if (t->buffer() >= 0) d.constant = m_.buffers()->Get(flatbuffers::uoffset_t(t->buffer()))->data()->data();
  }
  // Which activations exist (a tensor nothing uses gets no memory), each of them alone within the budget.
  used_.assign(n_tensors_, false);
  for (int t : *m_.inputs()) used_[size_t(t)] = true;
  for (size_t i = 0; i < n_ops_; ++i)
    for (int t : *m_.operators()->Get(flatbuffers::uoffset_t(i))->outputs()) used_[size_t(t)] = true;
  for (size_t t = 0; t < n_tensors_; ++t) {
    const TensorDesc& d = impl_.tensors[t];
    if (used_[t] && d.bytes > request_.budget)
      return Status::Error(tensor_label(m_, t) + " of shape " + shape_string(d.shape) + " needs " +
                           bytes_string(d.bytes) + over_);
  }
  return Status::Ok();
}

Status Interpreter::Impl::Phases::prepare_op(size_t i) {
  const fb::Operator* op = m_.operators()->Get(flatbuffers::uoffset_t(i));
  OpContext& ctx = impl_.contexts[i];
  ctx.op = op;
  ctx.model = &m_;
  ctx.index = i;
  ctx.inputs.reserve(op->inputs()->size());
  ctx.outputs.reserve(op->outputs()->size());
  for (int t : *op->inputs()) ctx.inputs.push_back(t >= 0 ? &impl_.tensors[size_t(t)] : nullptr);
  for (int out : *op->outputs()) ctx.outputs.push_back(&impl_.tensors[size_t(out)]);
  ctx.output = ctx.outputs[0];
  ctx.isa = impl_.isa;
  ctx.portable_float = impl_.portable_float;
  ctx.pool = impl_.pool;
  ctx.threads = impl_.threads;
  std::unique_ptr<Op> impl;
  const int writer = kFusion ? fusing_writer(*op) : -1;
  if (writer >= 0 && size_t(writer) < i && impl_.ops[size_t(writer)]->fuse_reader(ctx)) {
    fused_reader_[size_t(writer)] = int(i);
    impl = std::make_unique<FusedAway>();
  } else {
    const OpKind* kind = ModelAccess::ops(*impl_.model).find(int(op->options_type()));  // validated: present
    if (kind != nullptr) impl = kind->make();
  }
  if (impl == nullptr) return ctx.fail("no implementation");
  ONEBIT_RETURN_IF_ERROR(impl->prepare(ctx));
  if (impl->scratch_bytes() > request_.budget)
    return ctx.fail("scratch (im2col rows, accumulators) for " + num(impl_.threads) + " thread(s) needs " +
                    bytes_string(impl->scratch_bytes()) + over_);
#if !ONEBIT_MCU  // no XNNPACK there: workspace_bytes stays 0
  if (impl->workspace_bytes > request_.budget)
    return ctx.fail("XNNPACK indirection buffer for output " + shape_string(ctx.output->shape) +
                    " would need up to " + bytes_string(impl->workspace_bytes) + over_);
  workspace_ += impl->workspace_bytes;  // each term <= budget <= SIZE_MAX: no overflow in 64 bits
#endif
  impl_.ops.push_back(std::move(impl));
  return Status::Ok();
}

// The operator that may take op over (Op::fuse_reader): the writer of op's input 0 when op is that
// tensor's only reader, once, and the tensor is no graph output; else -1.
int Interpreter::Impl::Phases::fusing_writer(const fb::Operator& op) const {
  if (fused_reader_.empty() || op.inputs()->size() == 0) return -1;
  const int t = op.inputs()->Get(0);
  return t >= 0 && reads_[size_t(t)] == 1 ? writer_[size_t(t)] : -1;
}

// The output an operator's bind() gets: the output of the reader it took over, else its own.
int Interpreter::Impl::Phases::bound_output(size_t i) const {
  const int j = fused_reader_.empty() ? -1 : fused_reader_[i];
  return (j >= 0 ? impl_.contexts[size_t(j)] : impl_.contexts[i]).output->index;
}

Status Interpreter::Impl::Phases::prepare_ops() {
  impl_.contexts.resize(n_ops_);
  impl_.ops.reserve(n_ops_);
  if (kFusion) {
    writer_.assign(n_tensors_, -1);
    reads_.assign(n_tensors_, 0);
    for (size_t i = 0; i < n_ops_; ++i) {
      const fb::Operator& op = *m_.operators()->Get(flatbuffers::uoffset_t(i));
      if (op.outputs()->size() == 1) writer_[size_t(op.outputs()->Get(0))] = int(i);
      for (int t : *op.inputs())
        if (t >= 0) ++reads_[size_t(t)];
    }
    for (int t : *m_.outputs()) reads_[size_t(t)] += 2;  // never taken over
    fused_reader_.assign(n_ops_, -1);
  }
  for (size_t i = 0; i < n_ops_; ++i) ONEBIT_RETURN_IF_ERROR(prepare_op(i));
  return Status::Ok();
}

// Every buffer's bytes and steps: an activation from the operator that writes it to the last that reads it,
// an operator's scratch at its own step. Made after the records (on Cortex-M these planning vectors are the
// newest blocks of the arena's records, given back before the activations are placed).
void Interpreter::Impl::Phases::lifetimes() {
  buffers_.assign(n_tensors_ + n_ops_, PlannedBuffer{});
  for (size_t t = 0; t < n_tensors_; ++t) {
    if (used_[t]) buffers_[t] = {impl_.tensors[t].bytes, 0, 0};
  }
  for (size_t i = 0; i < n_ops_; ++i) {
    const OpContext& ctx = impl_.contexts[i];
    for (const TensorDesc* in : ctx.inputs)
      if (in != nullptr && in->constant == nullptr) buffers_[size_t(in->index)].last = int(i);
    for (const TensorDesc* out : ctx.outputs) buffers_[size_t(out->index)] = {out->bytes, int(i), int(i)};
    buffers_[n_tensors_ + i] = {impl_.ops[i]->scratch_bytes(), int(i), int(i)};
  }
  for (size_t i = 0; kFusion && i < fused_reader_.size(); ++i) {  // the taker writes its reader's output only
    const int j = fused_reader_[i];
    if (j < 0) continue;
    buffers_[size_t(impl_.contexts[size_t(j)].output->index)].first = int(i);
    buffers_[size_t(impl_.contexts[i].output->index)] = {0, 0, 0};
  }
  // Graph inputs (unless keep_inputs is off: then to their last reader) and outputs live from step 0 to
  // step n_ops; constants and unused tensors take no bytes.
  if (request_.keep_inputs)
    for (int t : *m_.inputs()) buffers_[size_t(t)].last = int(n_ops_);
  for (int t : *m_.outputs()) buffers_[size_t(t)].last = int(n_ops_);
  for (size_t t = 0; t < n_tensors_; ++t) {
    if (!used_[t] || impl_.tensors[t].constant != nullptr) buffers_[t] = {0, 0, 0};
  }
}

// The tensor whose buffer holds t's bytes (t itself when it has its own). A Reshape's output aliases its
// input, which may later be written in place over another buffer: follow the chain, halving it on the way
// (so that every lookup stays cheap whatever the file).
int Interpreter::Impl::Phases::alias_root(int t) {
  while (alias_of_[size_t(t)] >= 0) {
    const int up = alias_of_[size_t(t)];
    if (alias_of_[size_t(up)] >= 0) alias_of_[size_t(t)] = alias_of_[size_t(up)];
    t = up;
  }
  return t;
}

// A Reshape's output aliases its input (same bytes, another shape): the pair becomes one buffer live over
// both lifetimes, and the Reshape does nothing. Not when either end is a graph input or output, so a
// caller's input and output never share memory.
void Interpreter::Impl::Phases::alias_reshapes() {
  alias_of_.assign(n_tensors_, -1);
  Vec<uint8_t> graph_io(n_tensors_, 0);
  for (int t : *m_.inputs()) graph_io[size_t(t)] = true;
  for (int t : *m_.outputs()) graph_io[size_t(t)] = true;
  for (const OpContext& ctx : impl_.contexts) {
    if (ctx.op->options_type() != fb::OperatorOptions::ReshapeOptions) continue;
    const TensorDesc* x = ctx.inputs[0];
    const TensorDesc* y = ctx.output;
    if (x->constant != nullptr || x->bytes != y->bytes || graph_io[size_t(x->index)] || graph_io[size_t(y->index)])
      continue;
    const int root = alias_root(x->index);
    alias_of_[size_t(y->index)] = root;
    buffers_[size_t(root)].last = std::max(buffers_[size_t(root)].last, buffers_[size_t(y->index)].last);
    buffers_[size_t(y->index)] = {0, 0, 0};
  }
}

namespace {

/// An AvgPool2D that may write its (smaller) output over the start of its input x: on the portable kernel
/// (kernels/float/pool2d.cc, not XNNPACK's), one thread and no padding. That kernel writes the output pixel
/// by pixel in flattened (n, h, w) order; for each block of channels it reads the whole window, then writes
/// the block. Without padding, output pixel o = (n * out_h + oh) * out_w + ow reads input pixels from
/// (n * in_h + oh * stride_h) * in_w + ow * stride_w >= o on (in_h >= out_h, in_w >= out_w, strides >= 1), and
/// writes inside input pixel o's bytes (same channel count): input pixel p is read by outputs <= p only, and
/// by output p itself block by block before that block is written; so every write lands on bytes no later
/// read needs. With padding the first window starts before its pixel (an output can overtake its reads), and
/// with threads the row split would let one task's writes overtake another task's reads.
bool pools_in_place(const OpContext& ctx) {
  const fb::Pool2DOptions& o = *ctx.op->options_as_AvgPool2DOptions();
  const bool padded = o.pad_top() || o.pad_left() || o.pad_bottom() || o.pad_right();
  return ctx.portable_float && ctx.threads == 1 && !padded;
}

/// The input an operator may overwrite with its output, or -1: only where every output element is computed
/// from the same element of that input (read before the write, nothing else reads it), by code of ours:
/// ChannelAffine / Mul / Sigmoid (plain loops), ReLU / Clamp / PReLU on the portable float kernels (not XNNPACK's),
/// and a BinaryConv2D's fused residual (the output transform adds r[p][c] into y[p][c] and nothing else
/// reads r; its other input is the bits). And AvgPool2D where pools_in_place says so: its output covers
/// only the start of its input, whose buffer then shrinks to it.
int in_place_input(const OpContext& ctx) {
  using T = fb::OperatorOptions;
  switch (ctx.op->options_type()) {
    case T::AvgPool2DOptions:
      return pools_in_place(ctx) ? 0 : -1;
    case T::ChannelAffineOptions:
    case T::MulOptions:
    case T::SigmoidOptions:
      return 0;
    case T::ReluOptions:
    case T::ClampOptions:
    case T::PReluOptions:
      return ctx.portable_float ? 0 : -1;
    case T::BinaryConv2DOptions:
      return ctx.inputs.size() > 4 && ctx.inputs[4] != nullptr ? 4 : -1;
    default:
      return -1;
  }
}

}  // namespace

// An operator writes over its in-place input (in_place_input) when it is the last reader of that input's
// bytes (also through Reshape aliases), the two have the same size (AvgPool2D: the output is not larger)
// and neither is a graph input or output: the output joins the input's buffer, which lives on to the
// output's last reader. A smaller output (AvgPool2D) keeps only the buffer's first bytes live after this
// step (the planner's shrink: the tail is free for later buffers); a buffer shrinks once, so a second
// smaller write into it keeps the first shrink (its head covers the later, smaller outputs). Exact: the
// values are those of separate buffers (tests check invoke() against the plan without it), only the arena
// is smaller (for a binary ResNet block, one feature map fewer at the peak).
void Interpreter::Impl::Phases::write_in_place() {
  Vec<uint8_t> graph_io(n_tensors_, 0);
  for (int t : *m_.inputs()) graph_io[size_t(t)] = true;
  for (int t : *m_.outputs()) graph_io[size_t(t)] = true;
  for (size_t i = 0; i < n_ops_; ++i) {
    const OpContext& ctx = impl_.contexts[i];
    const int k = in_place_input(ctx);
    if (k < 0 || !request_.in_place) continue;
    const TensorDesc* x = ctx.inputs[size_t(k)];
    const TensorDesc* y = ctx.output;
    const bool pool = ctx.op->options_type() == fb::OperatorOptions::AvgPool2DOptions;
    if (x->constant != nullptr || y->bytes > x->bytes || (y->bytes < x->bytes && !pool) ||
        graph_io[size_t(y->index)])
      continue;
    const int root = alias_root(x->index);
    if (graph_io[size_t(root)] || buffers_[size_t(root)].last != int(i) || alias_of_[size_t(y->index)] >= 0) continue;
    bool read_twice = false;  // the same bytes as another input of this operator (e.g. Mul(x, x))
    for (size_t j = 0; j < ctx.inputs.size(); ++j) {
      const TensorDesc* in = ctx.inputs[j];
      if (j != size_t(k) && in != nullptr && in->constant == nullptr && alias_root(in->index) == root)
        read_twice = true;
    }
    if (read_twice) continue;
    PlannedBuffer& merged = buffers_[size_t(root)];
    if (y->bytes < merged.bytes && !merged.shrinks()) merged.shrink_after = int(i), merged.head_bytes = y->bytes;
    alias_of_[size_t(y->index)] = root;
    merged.last = std::max(merged.last, buffers_[size_t(y->index)].last);
    buffers_[size_t(y->index)] = {0, 0, 0};
  }
}

Status Interpreter::Impl::Phases::plan_memory() {
  for (int t : *m_.outputs()) {
    const TensorDesc& d = impl_.tensors[size_t(t)];
    if (d.dtype == fb::DType::BitPacked) unpacked_ += element_count(d.shape) * 4;
  }
  // The plan's offsets are bounded by the sum of the (aligned) sizes; keep that sum representable in
  // size_t (32-bit targets), whatever the budget.
  uint64_t sum = 0;
  for (const PlannedBuffer& b : buffers_) sum += b.bytes + rt::kArenaAlignment;
  if (sum > SIZE_MAX / 2)
    return Status::Error("activations and scratch sum to " + bytes_string(sum) +
                         ", more than this platform's address space allows");
  plan_ = plan_arena(buffers_);
  impl_.arena_bytes = plan_.arena_bytes;
#if !ONEBIT_MCU  // a planner diagnostic for tools (onebit-info); Cortex-M leaves it 0
  impl_.arena_lower_bound = liveness_lower_bound(buffers_);
#endif
  const uint64_t total = uint64_t(impl_.arena_bytes) + workspace_ + unpacked_;
  return total > request_.budget ? over_budget_at_peak(total) : Status::Ok();
}

// The budget error names where memory peaks: the step with the most bytes live, and the largest buffer
// live there.
Status Interpreter::Impl::Phases::over_budget_at_peak(uint64_t total) const {
#if ONEBIT_MCU  // flash: the totals alone (the desktop also names the peak's step and its largest buffer)
  return Status::Error("the model needs " + bytes_string(total) + " (arena " + bytes_string(impl_.arena_bytes) +
                       ", unpacked bitpacked outputs " + bytes_string(unpacked_) + ")" + over_);
#else
  int step = 0;
  const size_t live = liveness_lower_bound(buffers_, &step);
  size_t largest = 0, largest_bytes = 0;  // (bytes live at that step: a shrunk buffer's head)
  for (size_t k = 0; k < buffers_.size(); ++k) {
    const PlannedBuffer& b = buffers_[k];
    if (b.first <= step && step <= b.last && b.bytes_at(step) > largest_bytes)
      largest = k, largest_bytes = b.bytes_at(step);
  }
  const Text where =
      size_t(step) < n_ops_ ? "at " + impl_.contexts[size_t(step)].label() : "after the last operator (graph outputs)";
  const Text what = largest < n_tensors_ ? tensor_label(m_, largest)
                                                : "the scratch of " + impl_.contexts[largest - n_tensors_].label();
  return Status::Error("the model needs " + bytes_string(total) + " (arena " + bytes_string(impl_.arena_bytes) +
                       ", XNNPACK indirection buffers " + bytes_string(workspace_) + ", unpacked bitpacked outputs " +
                       bytes_string(unpacked_) + ")" + over_ + "; " + where + " " + bytes_string(live) +
                       " are live, the largest being " + what + " (" + bytes_string(largest_bytes) + ")");
#endif
}

Status Interpreter::Impl::Phases::place_arena() {
  constexpr size_t kAlign = InterpreterOptions::kArenaAlignment;
  const size_t bytes = impl_.arena_bytes;
#if ONEBIT_MCU
  // The records came first, from the arena's start (onebit/pool.h); the activations take the aligned bytes
  // after them, and the records may not grow past that (none are made from here on).
  Pool& records = *request_.records;
  const size_t skip = records.used_aligned(kAlign);
  if (request_.caller_arena_size < skip || request_.caller_arena_size - skip < bytes)
    return Status::Error("the caller's arena is too small: arena_size = " + bytes_string(request_.caller_arena_size) +
                         ", the model needs " + bytes_string(uint64_t(skip) + bytes) + " (required_arena_bytes): " +
                         bytes_string(records.used()) + " of records (tensors, operators, kernel tables) and " +
                         bytes_string(bytes) + " of activations and scratch");
  impl_.arena = request_.caller_arena + skip;
  records.close();
  impl_.arena_bytes = skip + bytes;  // what required_arena_bytes says: records and activations
#else
  if (request_.caller_arena != nullptr) {
    // The arena starts at the buffer's first kAlign-aligned byte.
    const size_t skip = (kAlign - size_t(reinterpret_cast<uintptr_t>(request_.caller_arena) % kAlign)) % kAlign;
    if (request_.caller_arena_size < skip || request_.caller_arena_size - skip < bytes) {
      Text need = bytes_string(bytes) + " (required_arena_bytes) at a " + num(kAlign) +
                         "-byte aligned address";
      if (skip != 0)
        need += "; this buffer is " + num(skip) + " bytes short of the next aligned address, so it needs " +
                bytes_string(uint64_t(bytes) + skip);
      return Status::Error("the caller's arena is too small: arena_size = " + bytes_string(request_.caller_arena_size) +
                           ", the model needs " + need);
    }
    impl_.arena = request_.caller_arena + skip;
  } else {
    impl_.owned_arena.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign)));
    if (!impl_.owned_arena) return Status::Error("cannot allocate the arena (" + bytes_string(bytes) + ")");
    impl_.arena = impl_.owned_arena.get();
  }
#endif
  std::memset(impl_.arena, 0, bytes);
  return Status::Ok();
}

// The plan's offsets, kept in impl_.offset (tensors, then each operator's scratch); the planning vectors
// are given back (on Cortex-M, to the top of the records: their bytes go to the activations).
void Interpreter::Impl::Phases::adopt_plan() {
  for (size_t t = 0; t < n_tensors_; ++t) {
    if (used_[t] && impl_.tensors[t].constant == nullptr) impl_.offset[t] = plan_.offsets[t];
  }
  for (size_t t = 0; t < n_tensors_; ++t) {
    if (alias_of_[t] >= 0) impl_.offset[t] = impl_.offset[size_t(alias_root(int(t)))];
  }
  for (size_t i = 0; kFusion && i < fused_reader_.size(); ++i)  // an output never stored (fuse_reader): no address
    if (fused_reader_[i] >= 0) impl_.offset[size_t(impl_.contexts[i].output->index)] = SIZE_MAX;
  for (size_t i = 0; i < n_ops_; ++i)
    if (buffers_[n_tensors_ + i].bytes != 0) impl_.offset[n_tensors_ + i] = plan_.offsets[n_tensors_ + i];
  plan_ = ArenaPlan();
  alias_of_ = Vec<int>();
  buffers_ = Vec<PlannedBuffer>();
}

Status Interpreter::Impl::Phases::bind_ops() {
  Vec<const void*>& in = bind_inputs_;  // within the capacity describe_io reserved: no allocation here
  for (size_t i = 0; i < n_ops_; ++i) {
    OpContext& ctx = impl_.contexts[i];
    in.clear();
    for (const TensorDesc* t : ctx.inputs)
      in.push_back(t == nullptr              ? nullptr
                   : t->constant != nullptr ? static_cast<const void*>(t->constant)
                                            : impl_.address(t->index));
    for (const TensorDesc* t : ctx.outputs) ctx.output_addresses.push_back(impl_.address(t->index));
    void* scratch = impl_.offset[n_tensors_ + i] != SIZE_MAX ? impl_.address(int(n_tensors_ + i)) : nullptr;
    const int out = kFusion ? bound_output(i) : ctx.output->index;
    ONEBIT_RETURN_IF_ERROR(impl_.ops[i]->bind(ctx, in, impl_.address(out), scratch));
  }
  return Status::Ok();
}

// Before the arena is placed: the graph's inputs and outputs as TensorInfo, the float copies of bitpacked
// outputs, and every vector bind_ops / expose_io fill, at its final capacity.
void Interpreter::Impl::Phases::describe_io() {
  impl_.offset.assign(n_tensors_ + n_ops_, SIZE_MAX);
  impl_.input_info.reserve(m_.inputs()->size());
  impl_.inputs.reserve(m_.inputs()->size());
  impl_.output_info.reserve(m_.outputs()->size());
  impl_.outputs.reserve(m_.outputs()->size());
  for (int t : *m_.inputs()) impl_.input_info.push_back({tensor_name(m_, size_t(t)), impl_.tensors[size_t(t)].shape, false});
  size_t unpacks = 0;
  for (int t : *m_.outputs()) {
    const TensorDesc& d = impl_.tensors[size_t(t)];
    const bool bitpacked = d.dtype == fb::DType::BitPacked;
    impl_.output_info.push_back({tensor_name(m_, size_t(t)), d.shape, bitpacked});
    unpacks += bitpacked;
  }
  impl_.unpacks.reserve(unpacks);
  for (int t : *m_.outputs()) {
    const TensorDesc& d = impl_.tensors[size_t(t)];
    if (d.dtype != fb::DType::BitPacked) continue;
    const size_t channels = size_t(d.shape.back());
    impl_.unpacks.push_back({nullptr, Vec<float>(element_count(d.shape)), element_count(d.shape) / channels, channels,
                             d.levels});
  }
  size_t most_inputs = 0;
  for (OpContext& ctx : impl_.contexts) {
    most_inputs = std::max(most_inputs, ctx.inputs.size());
    ctx.output_addresses.reserve(ctx.outputs.size());
  }
  bind_inputs_.reserve(most_inputs);
}

// After the arena is placed: the addresses of the graph's inputs and outputs (a bitpacked output is read
// through its float copy, which invoke() fills).
void Interpreter::Impl::Phases::expose_io() {
  for (int t : *m_.inputs()) impl_.inputs.push_back(reinterpret_cast<float*>(impl_.address(t)));
  size_t u = 0;
  for (int t : *m_.outputs()) {
    if (impl_.tensors[size_t(t)].dtype != fb::DType::BitPacked) {
      impl_.outputs.push_back(reinterpret_cast<const float*>(impl_.address(t)));
      continue;
    }
    impl_.unpacks[u].bits = reinterpret_cast<const uint32_t*>(impl_.address(t));
    impl_.outputs.push_back(impl_.unpacks[u++].values.data());
  }
}

// One entry per operator whether or not profiling is on (name, type, shape, MACs are static facts); only
// profiled invokes add samples. Samples per operator: at most max(16, 2^20 / operators), so <= 8 MiB in all
// for any model.
#if !ONEBIT_MCU  // no profiling there (Impl::start refuses it): profile() stays empty
void Interpreter::Impl::Phases::reserve_profile() {
  impl_.profile.reserve(n_ops_);
  const size_t most_samples = std::max<size_t>(16, (size_t(1) << 20) / std::max<size_t>(n_ops_, 1));
  const size_t samples = impl_.profile_samples == 0 ? std::min<size_t>(most_samples, 1024)
                                                    : std::min(impl_.profile_samples, most_samples);
  for (size_t i = 0; i < n_ops_; ++i) {
    const fb::Operator* op = m_.operators()->Get(flatbuffers::uoffset_t(i));
    OpProfile p;
    p.name = op->name() ? op->name()->c_str() : "";
    p.type = op_type_name(*op);
    p.output_shape = impl_.contexts[i].output->shape;
    p.binary_macs = impl_.ops[i]->binary_macs;
    p.float_macs = impl_.ops[i]->float_macs;
    p.route = impl_.ops[i]->route;
    if (impl_.profiling) p.samples_ms.reserve(samples);
    impl_.profile.push_back(std::move(p));
  }
}
#endif

Status Interpreter::Impl::build(const rt::BuildRequest& request) {
  Phases phases(*this, request);
  ONEBIT_RETURN_IF_ERROR(phases.describe_tensors());
  ONEBIT_RETURN_IF_ERROR(phases.prepare_ops());
  // Every record is made before the plan (on Cortex-M the records share the caller's arena with the
  // activations, which go after them: nothing may be allocated once they are placed, and the planning
  // vectors, the newest blocks, are given back first).
  phases.describe_io();
#if !ONEBIT_MCU
  phases.reserve_profile();
#endif
  phases.lifetimes();
  phases.alias_reshapes();
  phases.write_in_place();
  ONEBIT_RETURN_IF_ERROR(phases.plan_memory());
  phases.adopt_plan();
  if (request.plan_only) return Status::Ok();
  ONEBIT_RETURN_IF_ERROR(phases.place_arena());
  ONEBIT_RETURN_IF_ERROR(phases.bind_ops());
  phases.expose_io();
  return Status::Ok();
}

}  // namespace onebit
