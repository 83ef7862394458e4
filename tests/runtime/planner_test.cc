// Arena planner on random DAG-like lifetimes (fixed seeds), and the interpreter's own arena layout.
#include <limits>

#include "../runtime/src/planner.h"
#include "onebit/kernels/isa.h"
#include "onebit/schema/onebit_generated.h"
#include "runtime_test_util.h"

using namespace onebit;
using namespace onebit::test;

namespace {

bool live_together(const rt::PlannedBuffer& a, const rt::PlannedBuffer& b) {
  return a.first <= b.last && b.first <= a.last;
}

/// The bytes of `b` live at `step` in [first, last], by PlannedBuffer's contract: after shrink_after, when
/// first <= shrink_after and head_bytes < bytes, only the head.
size_t live_bytes(const rt::PlannedBuffer& b, int step) {
  const bool shrunk = b.first <= b.shrink_after && b.shrink_after < step && b.head_bytes < b.bytes;
  return shrunk ? b.head_bytes : b.bytes;
}

/// Checks that no two buffers share a byte at a step where both are live (counting only the head of a
/// buffer after its shrink step), that offsets are aligned and that arena_bytes is the highest end plus the
/// slack, and at least the liveness lower bound. Sizes only shrink, so two buffers are disjoint at every
/// step they share if they are at the first one.
void check_plan(const std::vector<rt::PlannedBuffer>& b, const rt::ArenaPlan& plan) {
  REQUIRE(plan.offsets.size() == b.size());
  size_t high = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    CHECK(plan.offsets[i] % rt::kArenaAlignment == 0);
    high = std::max(high, plan.offsets[i] + b[i].bytes);
    for (size_t j = i + 1; j < b.size(); ++j) {
      if (!live_together(b[i], b[j])) continue;
      const int step = std::max(b[i].first, b[j].first);
      const size_t bi = live_bytes(b[i], step), bj = live_bytes(b[j], step);
      const bool disjoint = bi == 0 || bj == 0 || plan.offsets[i] + bi <= plan.offsets[j] ||
                            plan.offsets[j] + bj <= plan.offsets[i];
      CAPTURE(i); CAPTURE(j);
      CHECK(disjoint);
    }
  }
  CHECK(plan.arena_bytes == high + rt::kArenaSlack);
  CHECK(plan.arena_bytes >= rt::liveness_lower_bound(b) + rt::kArenaSlack);
}

/// Lifetimes of a random DAG: node i is written at step i and read by up to 3 later nodes (its last read
/// is its lifetime's end); some nodes are graph outputs that live to the end; a few scratch buffers live at
/// one step only.
std::vector<rt::PlannedBuffer> random_dag(std::mt19937& rng, int nodes) {
  std::vector<rt::PlannedBuffer> b(static_cast<size_t>(nodes));
  for (int i = 0; i < nodes; ++i) b[size_t(i)] = {size_t(rng() % 5000) + (rng() % 4 == 0 ? 20000 : 1), i, i};
  for (int i = 1; i < nodes; ++i) {
    const int fan_in = 1 + int(rng() % 3);
    for (int k = 0; k < fan_in; ++k) {
      const int src = int(rng() % uint32_t(i));
      b[size_t(src)].last = std::max(b[size_t(src)].last, i);
    }
  }
  for (int i = 0; i < nodes; ++i) {
    if (rng() % 10 == 0) b[size_t(i)].last = nodes;
  }
  for (int i = 0; i < nodes / 4; ++i) {
    const int step = int(rng() % uint32_t(nodes));
    b.push_back({size_t(rng() % 3000) + 1, step, step});
  }
  return b;
}

}  // namespace

TEST_CASE("planner: random DAGs never overlap live buffers and respect the lower bound") {
  // Greedy placement, and the free-list placement used when too many buffers are live together.
  for (size_t max_conflicts : {rt::kMaxGreedyConflicts, size_t(0)}) {
  std::mt19937 rng(2024);
  for (int trial = 0; trial < 200; ++trial) {
    const int nodes = 2 + int(rng() % 60);
    const std::vector<rt::PlannedBuffer> b = random_dag(rng, nodes);
    const rt::ArenaPlan plan = rt::plan_arena(b, max_conflicts);
    CAPTURE(max_conflicts); CAPTURE(trial); CAPTURE(nodes);
    check_plan(b, plan);
  }
  }
}

TEST_CASE("planner: random DAGs with shrinking buffers: valid plans, an exact lower bound, tails reused") {
  for (size_t max_conflicts : {rt::kMaxGreedyConflicts, size_t(0)}) {
    std::mt19937 rng(7);
    size_t with_shrink = 0, without_shrink = 0;
    for (int trial = 0; trial < 200; ++trial) {
      const int nodes = 2 + int(rng() % 60);
      std::vector<rt::PlannedBuffer> b = random_dag(rng, nodes);
      const rt::ArenaPlan full = rt::plan_arena(b, max_conflicts);
      // A third of the buffers that outlive their first step shrink at a step before their last read.
      for (rt::PlannedBuffer& x : b) {
        if (x.last == x.first || rng() % 3 != 0) continue;
        x.shrink_after = x.first + int(rng() % uint32_t(x.last - x.first));
        x.head_bytes = x.bytes * (rng() % 4) / 4;
      }
      const rt::ArenaPlan plan = rt::plan_arena(b, max_conflicts);
      CAPTURE(max_conflicts); CAPTURE(trial); CAPTURE(nodes);
      check_plan(b, plan);
      // The bound is the largest sum of live bytes at one step, recounted here step by step.
      int steps = 0;
      for (const rt::PlannedBuffer& x : b) steps = std::max(steps, x.last + 1);
      size_t most = 0;
      for (int step = 0; step < steps; ++step) {
        size_t live = 0;
        for (const rt::PlannedBuffer& x : b)
          if (x.first <= step && step <= x.last) live += live_bytes(x, step);
        most = std::max(most, live);
      }
      CHECK(rt::liveness_lower_bound(b) == most);
      with_shrink += plan.arena_bytes;
      without_shrink += full.arena_bytes;
    }
    CAPTURE(max_conflicts);
    MESSAGE("arena sum over the trials: " << without_shrink << " -> " << with_shrink << " bytes with shrinks");
    CHECK(with_shrink < without_shrink);
  }
}

TEST_CASE("planner: a buffer first written after a neighbour's shrink goes into its freed tail") {
  // a: 1000 bytes at steps 0..4, only its first 200 after step 1; b: 700 bytes at steps 2..3 fits in a's
  // tail (from align_up(200) = 208), so the arena is a's size.
  rt::PlannedBuffer a{1000, 0, 4};
  a.shrink_after = 1;
  a.head_bytes = 200;
  const std::vector<rt::PlannedBuffer> bufs = {a, {700, 2, 3}};
  for (size_t max_conflicts : {rt::kMaxGreedyConflicts, size_t(0)}) {
    const rt::ArenaPlan plan = rt::plan_arena(bufs, max_conflicts);
    CAPTURE(max_conflicts);
    check_plan(bufs, plan);
    CHECK(plan.offsets[0] == 0);
    CHECK(plan.offsets[1] == 208);
    CHECK(plan.arena_bytes == 1000 + rt::kArenaSlack);
  }
  CHECK(rt::liveness_lower_bound(bufs) == 1000);
  int peak = -1;
  CHECK(rt::liveness_lower_bound({a, {900, 2, 3}}, &peak) == 1100);
  CHECK(peak == 2);
}

TEST_CASE("planner: a shrink does not free the tail before the shrink step, nor when it does not apply") {
  // b written at the shrink step itself, or before it, meets a at full size; so does every b when the
  // shrink is out of a's lifetime or keeps all the bytes.
  struct Case {
    const char* what;
    int shrink_after;
    size_t head;
    int b_first;
  };
  const Case cases[] = {{"written at the shrink step", 1, 200, 1},
                        {"written before the shrink step", 1, 200, 0},
                        {"shrink after the last step", 4, 200, 2},
                        {"shrink before the first step", -1, 200, 2},
                        {"head as large as the buffer", 1, 1000, 2}};
  for (const Case& c : cases) {
    rt::PlannedBuffer a{1000, 0, 4};
    a.shrink_after = c.shrink_after;
    a.head_bytes = c.head;
    const std::vector<rt::PlannedBuffer> bufs = {a, {700, c.b_first, 3}};
    for (size_t max_conflicts : {rt::kMaxGreedyConflicts, size_t(0)}) {
      const rt::ArenaPlan plan = rt::plan_arena(bufs, max_conflicts);
      CAPTURE(c.what);
      CAPTURE(max_conflicts);
      check_plan(bufs, plan);
      CHECK(plan.offsets[1] == 1008);
      CHECK(plan.arena_bytes == 1008 + 700 + rt::kArenaSlack);
    }
    CHECK(rt::liveness_lower_bound(bufs) == 1700);
  }
}

TEST_CASE("planner: empty buffers take no space; the free-list placement also ping-pongs a chain") {
  std::vector<rt::PlannedBuffer> b;
  for (int i = 0; i < 20; ++i) b.push_back({1024, i, i + 1});
  for (int i = 0; i < 20; ++i) b.push_back({0, 0, 30});
  for (size_t max_conflicts : {rt::kMaxGreedyConflicts, size_t(0)}) {
    const rt::ArenaPlan plan = rt::plan_arena(b, max_conflicts);
    CAPTURE(max_conflicts);
    CHECK(plan.arena_bytes == 2 * 1024 + rt::kArenaSlack);
    for (size_t i = 20; i < b.size(); ++i) CHECK(plan.offsets[i] == 0);
  }
  CHECK(rt::liveness_lower_bound(b) == 2 * 1024);
}

TEST_CASE("planner: a chain reuses memory (ping-pong), so the arena is far below the sum of sizes") {
  std::vector<rt::PlannedBuffer> b;
  for (int i = 0; i < 20; ++i) b.push_back({1024, i, i + 1});
  const rt::ArenaPlan plan = rt::plan_arena(b);
  CHECK(plan.arena_bytes == 2 * 1024 + rt::kArenaSlack);
}

namespace {

/// A small binary ResNet-like model: stem conv, two binary blocks with residual adds, a downsampling
/// block with an avg-pool + 1x1 shortcut, global pool and FC.
void build_resnetish(ModelBuilder& b, uint32_t seed) {
  int x = b.add_input("input", {1, 12, 12, 3});
  x = float_stem(b, x, 40, seed);
  for (int block = 0; block < 3; ++block) {
    const bool down = block == 2;
    const BlockBranches y = binary_block(b, x, block, down ? 72 : b.shape(x)[3], down, seed);
    x = b.add("block" + std::to_string(block) + "/residual", y.conv, y.shortcut);
  }
  x = b.global_avg_pool("pool", x);
  b.mark_output(b.fully_connected("fc", x, 10, Weights::float32(uniform(10 * 72, seed + 50)), uniform(10, seed + 51)));
}

}  // namespace

TEST_CASE("interpreter: live tensors never share arena bytes and all lie inside arena_bytes") {
  ModelBuilder b;
  build_resnetish(b, 77);
  Loaded l = load(b);
  const fb::Model& m = rt::model_flatbuffer(*l.model);
  const size_t n_ops = m.operators()->size();
  // Lifetimes recomputed here from the graph.
  std::vector<int> first(m.tensors()->size(), -1), last(m.tensors()->size(), -1);
  for (int t : *m.inputs()) first[size_t(t)] = 0;  // graph inputs live for the whole invoke, like outputs
  for (size_t i = 0; i < n_ops; ++i) {
    const fb::Operator* op = m.operators()->Get(flatbuffers::uoffset_t(i));
    REQUIRE(op->options_type() != fb::OperatorOptions::ReshapeOptions);  // aliases: tested separately
    for (int t : *op->inputs()) last[size_t(t)] = std::max(last[size_t(t)], int(i));
    first[size_t(op->outputs()->Get(0))] = last[size_t(op->outputs()->Get(0))] = int(i);
  }
  for (int t : *m.inputs()) last[size_t(t)] = int(n_ops);
  for (int t : *m.outputs()) last[size_t(t)] = int(n_ops);
  std::vector<int> activations;
  for (size_t t = 0; t < first.size(); ++t) {
    size_t offset = 0, bytes = 0;
    const bool in_arena = l.interp->tensor_arena_span(int(t), &offset, &bytes);
    const bool constant = m.tensors()->Get(flatbuffers::uoffset_t(t))->buffer() >= 0;
    CAPTURE(t);
    CHECK(in_arena == !constant);
    if (!in_arena) continue;
    CHECK(offset + bytes <= l.interp->arena_bytes());
    activations.push_back(int(t));
  }
  for (size_t i = 0; i < activations.size(); ++i)
    for (size_t j = i + 1; j < activations.size(); ++j) {
      const size_t a = size_t(activations[i]), c = size_t(activations[j]);
      if (!(first[a] <= last[c] && first[c] <= last[a])) continue;
      size_t oa = 0, ba = 0, oc = 0, bc = 0;
      l.interp->tensor_arena_span(int(a), &oa, &ba);
      l.interp->tensor_arena_span(int(c), &oc, &bc);
      CAPTURE(a); CAPTURE(c);
      CHECK((oa + ba <= oc || oc + bc <= oa));
    }
  // Sanity: the arena is smaller than keeping every activation.
  size_t total = 0;
  for (int t : activations) {
    size_t o = 0, bytes = 0;
    l.interp->tensor_arena_span(t, &o, &bytes);
    total += bytes;
  }
  CHECK(l.interp->arena_bytes() < total);
}

TEST_CASE("interpreter: threads=2 gives the same outputs as threads=1; repeated invokes agree") {
  ModelBuilder b1, b2;
  build_resnetish(b1, 91);
  build_resnetish(b2, 91);
  InterpreterOptions one, two;
  two.threads = 2;
  Loaded l1 = load(b1, one), l2 = load(b2, two);
  CHECK(l1.interp->threads() == 1);
  CHECK(l2.interp->threads() == 2);
  for (uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<float> x = uniform(12 * 12 * 3, seed);
    const std::vector<float> a = run(*l1.interp, {x});
    const std::vector<float> c = run(*l2.interp, {x});
    CAPTURE(seed);
    check_close(c, a, 1e-5f);
    check_close(run(*l1.interp, {x}), a, 0.0f);
  }
}

TEST_CASE("interpreter: ISA selection, profiling, option errors") {
  ModelBuilder b;
  build_resnetish(b, 5);
  std::vector<uint8_t> bytes;
  REQUIRE(b.finish(&bytes).ok());
  std::unique_ptr<Model> model;
  REQUIRE(Model::load_buffer(bytes.data(), bytes.size(), &model).ok());
  std::unique_ptr<Interpreter> interp;

  InterpreterOptions o;
  o.isa = "sse9";
  Status s = Interpreter::create(*model, o, &interp);
  CHECK(s.message().find("unknown ISA 'sse9'") != std::string::npos);
  for (kernels::Isa isa : kernels::kAllIsas) {
    o.isa = kernels::isa_name(isa);
    s = Interpreter::create(*model, o, &interp);
    CAPTURE(o.isa);
    INFO(s.message());
    if (kernels::isa_supported(isa)) {
      CHECK(s.ok());
      CHECK(std::string(interp->isa_name()) == o.isa);
    } else {
      CHECK(s.message().find("ISA '" + o.isa + "'") != std::string::npos);
    }
  }
  o.isa = "";
  o.threads = 0;
  CHECK(Interpreter::create(*model, o, &interp).message().find("threads = 0") != std::string::npos);

  o.threads = 1;
  o.profiling = true;
  REQUIRE(Interpreter::create(*model, o, &interp).ok());
  REQUIRE(interp->invoke().ok());
  REQUIRE(interp->invoke().ok());
  const std::vector<OpProfile>& prof = interp->profile();
  REQUIRE(prof.size() == rt::model_flatbuffer(*model).operators()->size());
  int64_t binary = 0, flt = 0;
  for (const OpProfile& p : prof) {
    CHECK(p.samples_ms.size() == 2);
    binary += p.binary_macs;
    flt += p.float_macs;
  }
  CHECK(prof[0].name == "stem");
  CHECK(prof[0].type == "Conv2D");
  CHECK(prof[0].output_shape == std::vector<int>{1, 12, 12, 40});
  CHECK(prof[0].float_macs == int64_t(12) * 12 * 40 * 3 * 9);
  CHECK(prof[2].type == "BinaryConv2D");
  CHECK(prof[2].binary_macs == int64_t(12) * 12 * 40 * 40 * 9);
  CHECK(binary > 0);
  CHECK(flt > 0);
  interp->clear_profile();
  CHECK(interp->profile()[0].samples_ms.empty());

  // Samples kept per operator: 1,024 by default for a small graph (max(16, min(1024, 2^20 / ops))), as many
  // as asked, and never more than max(16, 2^20 / ops); a full ring keeps the latest.
  const size_t ops = prof.size();
  CHECK(interp->profile()[0].samples_ms.capacity() == std::min<size_t>(1024, (size_t(1) << 20) / ops));
  o.profile_samples = 3;
  REQUIRE(Interpreter::create(*model, o, &interp).ok());
  CHECK(interp->profile()[0].samples_ms.capacity() == 3);
  for (int i = 0; i < 5; ++i) REQUIRE(interp->invoke().ok());
  CHECK(interp->profile()[0].samples_ms.size() == 3);
  o.profile_samples = std::numeric_limits<size_t>::max();
  REQUIRE(Interpreter::create(*model, o, &interp).ok());
  CHECK(interp->profile()[0].samples_ms.capacity() == std::max<size_t>(16, (size_t(1) << 20) / ops));
}

TEST_CASE("interpreter: a Reshape's output aliases its input (no copy), unless it is a graph input or output") {
  // x [1,4,4,8] -> Relu r -> Reshape s [1,128] -> Reshape t [1,2,64] -> Reshape u [1,128] -> FC f (5) -> out,
  // and u also a graph output (so u is copied, not aliased).
  ModelBuilder b;
  const int x = b.add_input("x", {1, 4, 4, 8});
  const int r = b.relu("r", x);
  const int s = b.reshape("s", r, {1, 128});
  const int t = b.reshape("t", s, {1, 2, 64});
  const int u = b.reshape("u", t, {1, 128});
  const std::vector<float> w = uniform(5 * 128, 3), bias = uniform(5, 4);
  const int f = b.fully_connected("f", s, 5, Weights::float32(w), bias);
  b.mark_output(f);
  b.mark_output(u);
  Loaded l = load(b);
  size_t o_r = 0, b_r = 0, o_s = 0, b_s = 0, o_t = 0, b_t = 0, o_u = 0, b_u = 0;
  REQUIRE(l.interp->tensor_arena_span(r, &o_r, &b_r));
  REQUIRE(l.interp->tensor_arena_span(s, &o_s, &b_s));
  REQUIRE(l.interp->tensor_arena_span(t, &o_t, &b_t));
  REQUIRE(l.interp->tensor_arena_span(u, &o_u, &b_u));
  CHECK(o_s == o_r);
  CHECK(o_t == o_r);  // a Reshape of a Reshape aliases the first buffer
  CHECK((o_u + b_u <= o_r || o_r + b_r <= o_u));  // graph output: its own bytes
  const std::vector<float> in = uniform(128, 5);
  for (int rep = 0; rep < 2; ++rep) {
    const std::vector<float> y = run(*l.interp, {in}, 0), yu = run(*l.interp, {in}, 1);
    for (int k = 0; k < 128; ++k) CHECK(yu[size_t(k)] == std::max(in[size_t(k)], 0.0f));
    for (int o = 0; o < 5; ++o) {
      double acc = bias[size_t(o)];
      for (int k = 0; k < 128; ++k) acc += double(w[size_t(o * 128 + k)]) * std::max(in[size_t(k)], 0.0f);
      CHECK(y[size_t(o)] == doctest::Approx(acc).epsilon(1e-5));
    }
  }
}
