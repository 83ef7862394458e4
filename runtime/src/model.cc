// Loading: read a small file (or copy a caller's buffer) into 16-byte aligned storage, or map a large file
// read-only, or use a caller's aligned bytes in place; run the FlatBuffers Verifier, then the semantic checks
// of validate.cc. The Cortex-M build (ONEBIT_MCU) has no files (no load_file) and no exceptions.
//
// All paths leave at least kReadSlack readable bytes after the model's last byte, because XNNPACK may read
// up to 16 bytes past an input and constant tensors are used in place. For a mapping, an anonymous region
// one page larger than the file is reserved first and the file is mapped over its start, so the bytes after
// the file are zero pages of our own, never a fault (while the file keeps its size: see model.h).
#if !ONEBIT_MCU
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include "model_access.h"
#include "onebit/pool.h"
#include "ops/op_table.h"

namespace onebit {
namespace {

constexpr size_t kReadSlack = 64;
constexpr size_t kDataAlignment = 16;

#if !ONEBIT_MCU
size_t page_size() { return size_t(sysconf(_SC_PAGESIZE)); }
size_t mapping_bytes(size_t size) {
  const size_t page = page_size();
  return (size + page - 1) / page * page + page;
}

Text os_error(const Text& what) { return what + ": " + std::strerror(errno); }
#endif

#if ONEBIT_MCU
// The operators whose options tables the verifier checks while verifies() runs (the model's resolver; one
// thread on Cortex-M): fb::VerifyRegisteredOperatorOptions below.
const OpResolver* g_verified_ops = nullptr;
#endif

bool verifies(const uint8_t* data, size_t size, uint32_t max_tables, uint32_t max_depth, const OpResolver* ops) {
  flatbuffers::Verifier::Options options;
  options.max_depth = max_depth;
  options.max_tables = max_tables;
  flatbuffers::Verifier verifier(data, size, options);
#if ONEBIT_MCU
  g_verified_ops = ops;
  const bool ok = fb::VerifyModelBuffer(verifier);
  g_verified_ops = nullptr;
  return ok;
#else
  (void)ops;  // every options table is verified (flatc's switch)
  return fb::VerifyModelBuffer(verifier);
#endif
}

Status verify(const uint8_t* data, size_t size, const LoadOptions& limits, const OpResolver* ops) {
  if (size < 8) return Status::Error("truncated: " + num(size) + " bytes is smaller than any model");
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return Status::Error("too large: " + num(size) + " bytes (FlatBuffers limit 2 GiB)");
  if (!flatbuffers::BufferHasIdentifier(data, fb::ModelIdentifier())) {
    char id[5] = {};
    for (size_t k = 0; k < 4; ++k) id[k] = data[4 + k] < 0x20 || data[4 + k] > 0x7e ? '?' : char(data[4 + k]);
    return Status::Error(Text("wrong file identifier '") + id + "', expected '" + fb::ModelIdentifier() +
                         "' (not a onebit model)");
  }
  if (verifies(data, size, limits.max_tables, limits.max_depth, ops)) return Status::Ok();
  // Which limit, if any, made it fail: a rejection that goes away with one limit raised is that limit.
  // (Only on failure, so a good file is verified once.)
  constexpr uint32_t kUnlimited = 0x7fffffff;
  if (verifies(data, size, kUnlimited, limits.max_depth, ops))
    return Status::Error("too many FlatBuffers tables: more than the limit of " + num(limits.max_tables) +
                         " (LoadOptions::max_tables; every tensor, operator, options table and buffer is one)");
  if (verifies(data, size, limits.max_tables, 1024, ops))
    return Status::Error("FlatBuffers tables nested deeper than the limit of " + num(limits.max_depth) +
                         " (LoadOptions::max_depth)");
  return Status::Error("corrupt or truncated: the FlatBuffers verifier rejected the file (" + num(size) +
                       " bytes)");
}

/// Runs `body`, turning the exceptions an allocation may throw into errors.
template <typename F>
Status no_throw(const Text& origin, F body) {
#if !__cpp_exceptions
  (void)origin;
  return body();  // no exceptions in this build: an allocation failure aborts
#else
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status::Error(origin + ": out of memory");
  } catch (const std::length_error& e) {
    return Status::Error(origin + ": too large (" + e.what() + ")");
  } catch (const std::exception& e) {
    return Status::Error(origin + ": " + e.what());
  }
#endif
}

/// Runs a load (`body`, which sets *out on success) where its allocations go: the heap on the desktop
/// (allocation failures as errors), LoadOptions::memory on Cortex-M (onebit/pool.h).
template <typename F>
Status in_load_memory(const char* origin, const LoadOptions& options, std::unique_ptr<Model>* out, F body) {
#if ONEBIT_MCU
  if (options.memory == nullptr || options.memory_bytes == 0)
    return Status::Error(Text(origin) + ": the Cortex-M build needs LoadOptions::memory (the Model's records are "
                         "placed there: there is no heap)");
  Pool pool(options.memory, options.memory_bytes);
  PoolScope scope(pool);
  const Status s = body();
  if (s.ok()) rt::ModelAccess::set_memory_bytes(**out, pool.high_water());
  return s;
#else
  (void)options, (void)out;
  return no_throw(origin, body);
#endif
}

}  // namespace

#if ONEBIT_MCU
// Cortex-M: an operator's options table is verified by its registration (schema/mcu_registered_options.cmake).
// An operator the program did not register is skipped here, as FlatBuffers skips union types it does not
// know: validate_model rejects it (check_operator_graph) before anything reads its options.
bool fb::VerifyRegisteredOperatorOptions(flatbuffers::Verifier& verifier, const void* obj, OperatorOptions type) {
  const rt::OpKind* kind = g_verified_ops != nullptr ? g_verified_ops->find(int(type)) : nullptr;
  return kind == nullptr || kind->verify_options(verifier, obj);
}
#endif

// Hidden: the class is exported (ONEBIT_API), its implementation is not.
struct __attribute__((visibility("hidden"))) Model::Impl {
  ONEBIT_POOL_NEW_DELETE  // Cortex-M: in LoadOptions::memory (onebit/pool.h)
  const uint8_t* data = nullptr;
  size_t size = 0;
  void* mapping = nullptr;        // mmap'ed file, or null
  Vec<uint8_t> owned;     // copied buffer (aligned storage: own())
  const fb::Model* root = nullptr;
  const OpResolver* ops = nullptr;
  ModelInfo info;
  Vec<OperatorInfo> operators;
  size_t memory_bytes = 0;  // Cortex-M: of LoadOptions::memory

  ~Impl() {
#if !ONEBIT_MCU
    if (mapping != nullptr) munmap(mapping, mapping_bytes(size));
#endif
  }
  uint8_t* own(size_t bytes) {  // aligned storage of `bytes` + slack
    owned.resize(bytes + kDataAlignment + kReadSlack);
    const uintptr_t base = reinterpret_cast<uintptr_t>(owned.data());
    const size_t shift = (kDataAlignment - base % kDataAlignment) % kDataAlignment;
    return owned.data() + shift;
  }
  Status read_file(int fd, size_t size, const Text& path);
  Status finish_load(const Text& origin, const LoadOptions& options);
  void describe();
};

Model::Model() : impl_(new Impl()) {}
Model::~Model() = default;

const uint8_t* Model::data() const { return impl_->data; }
size_t Model::size_bytes() const { return impl_->size; }
size_t Model::memory_bytes() const { return impl_->memory_bytes; }
const ModelInfo& Model::info() const { return impl_->info; }
const Vec<OperatorInfo>& Model::operators() const { return impl_->operators; }
const fb::Model& rt::ModelAccess::flatbuffer(const Model& model) { return *model.impl_->root; }
const OpResolver& rt::ModelAccess::ops(const Model& model) { return *model.impl_->ops; }
void rt::ModelAccess::set_memory_bytes(Model& model, size_t bytes) { model.impl_->memory_bytes = bytes; }

#if ONEBIT_MCU
// A region too small for the runtime's records (onebit/pool.h). Weak: the board support (mcu/src/board.c)
// prints the reason and exits with a code of its own; a firmware may define its own. noipa: with -flto
// (toolchains/cortex-m-common.cmake) GCC otherwise inlined this body into its callers, so the firmware's
// definition was never called (mcu_validate's too-small-memory check caught it).
extern "C" __attribute__((weak, noreturn, noipa)) void onebit_pool_fatal(const char* why) {
  (void)why;
  __builtin_trap();
}
#endif

const OpResolver* rt::load_resolver(const LoadOptions& options) {
#if ONEBIT_MCU
  return options.ops;  // no default: OpResolver::all() would link every operator into the firmware
#else
  return options.ops != nullptr ? options.ops : &OpResolver::all();
#endif
}

#if !ONEBIT_MCU
Status Model::Impl::read_file(int fd, size_t size, const Text& path) {
  uint8_t* bytes = own(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, bytes + done, size - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(os_error("cannot read model file '" + path + "'"));
    if (n == 0) break;
    done += size_t(n);
  }
  if (done != size)
    return Status::Error("model file '" + path + "': truncated while reading (" + num(done) + " of " +
                         num(size) + " bytes)");
  data = bytes;
  this->size = size;
  return Status::Ok();
}

Status Model::load_file(const std::string& path, std::unique_ptr<Model>* out) {
  return load_file(path, LoadOptions(), out);
}

Status Model::load_file(const std::string& path, const LoadOptions& options, std::unique_ptr<Model>* out) {
  const Text origin = "model file '" + path + "'";
  return no_throw(origin, [&]() -> Status {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Error(os_error("cannot open model file '" + path + "'"));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
      const Status s = Status::Error(os_error("cannot stat model file '" + path + "'"));
      close(fd);
      return s;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 8) {
      close(fd);
      return Status::Error(origin + ": truncated or not a regular file (" +
                           num(static_cast<long long>(st.st_size)) + " bytes)");
    }
    if (uint64_t(st.st_size) >= FLATBUFFERS_MAX_BUFFER_SIZE) {
      close(fd);
      return Status::Error(origin + ": too large: " + num(static_cast<long long>(st.st_size)) +
                           " bytes (FlatBuffers limit 2 GiB)");
    }
    const size_t size = size_t(st.st_size);
    std::unique_ptr<Model> model(new Model());
    if (size < options.map_threshold_bytes) {
      const Status s = model->impl_->read_file(fd, size, path);
      close(fd);
      if (!s.ok()) return s;
      ONEBIT_RETURN_IF_ERROR(model->impl_->finish_load(origin, options));
      *out = std::move(model);
      return Status::Ok();
    }
    void* region = mmap(nullptr, mapping_bytes(size), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
      close(fd);
      return Status::Error(os_error(origin + ": cannot reserve address space"));
    }
    model->impl_->mapping = region;
    model->impl_->size = size;
    void* file = mmap(region, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    const int map_errno = errno;
    close(fd);
    if (file == MAP_FAILED) {
      errno = map_errno;
      return Status::Error(os_error("cannot map model file '" + path + "'"));
    }
    model->impl_->data = static_cast<const uint8_t*>(file);
    ONEBIT_RETURN_IF_ERROR(model->impl_->finish_load(origin, options));
    *out = std::move(model);
    return Status::Ok();
  });
}

#endif  // !ONEBIT_MCU

Status Model::load_buffer(const void* data, size_t size, std::unique_ptr<Model>* out) {
  return load_buffer(data, size, LoadOptions(), out);
}

Status Model::load_buffer(const void* data, size_t size, const LoadOptions& options, std::unique_ptr<Model>* out) {
  return in_load_memory("model buffer", options, out, [&]() -> Status {
    if (data == nullptr && size != 0) return Status::Error("model buffer: null data");
    if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
      return Status::Error("model buffer: too large: " + num(size) + " bytes (FlatBuffers limit 2 GiB)");
    std::unique_ptr<Model> model(new Model());
    uint8_t* aligned = model->impl_->own(size);
    if (size != 0) std::memcpy(aligned, data, size);
    model->impl_->data = aligned;
    model->impl_->size = size;
    ONEBIT_RETURN_IF_ERROR(model->impl_->finish_load("model buffer", options));
    *out = std::move(model);
    return Status::Ok();
  });
}

Status Model::load_in_place(const void* data, size_t size, std::unique_ptr<Model>* out) {
  return load_in_place(data, size, LoadOptions(), out);
}

Status Model::load_in_place(const void* data, size_t size, const LoadOptions& options, std::unique_ptr<Model>* out) {
  return in_load_memory("model in place", options, out, [&]() -> Status {
    if (data == nullptr) return Status::Error("model in place: null data");
    if (reinterpret_cast<uintptr_t>(data) % kDataAlignment != 0)
      return Status::Error("model in place: the data is not " + num(kDataAlignment) +
                           "-byte aligned (align the array, or use load_buffer, which copies)");
    std::unique_ptr<Model> model(new Model());
    model->impl_->data = static_cast<const uint8_t*>(data);
    model->impl_->size = size;
    ONEBIT_RETURN_IF_ERROR(model->impl_->finish_load("model in place", options));
    *out = std::move(model);
    return Status::Ok();
  });
}

Status Model::Impl::finish_load(const Text& origin, const LoadOptions& options) {
  ops = rt::load_resolver(options);
  Status s = verify(data, size, options, ops);
  if (s.ok()) {
    root = fb::GetModel(data);
    s = validate_model(*root, options);
  }
  if (!s.ok()) return Status::Error(origin + ": " + s.message());
  describe();
  return Status::Ok();
}

// The public description of a validated model: metadata, and per operator its parameters (constant inputs:
// bitpacked ones count one parameter per logical element, whatever its bits: a 2-bit weight is one
// parameter; param_bytes are the bytes in the file, so they include every bit-plane). An operator is binary
// when it reads a bitpacked tensor, except Conv2D / FullyConnected with 1-bit weights, which compute in float.
void Model::Impl::describe() {
  info.format_version = root->version();
  if (const fb::Metadata* meta = root->metadata()) {
    if (meta->producer()) info.producer = meta->producer()->c_str();
    if (meta->source()) info.source = meta->source()->c_str();
    if (meta->input_shape()) rt::copy_vector(*meta->input_shape(), &info.input_shape);
    if (meta->input_mean()) rt::copy_vector(*meta->input_mean(), &info.input_mean);
    if (meta->input_std()) rt::copy_vector(*meta->input_std(), &info.input_std);
    if (meta->labels()) {
      for (const flatbuffers::String* label : *meta->labels()) info.labels.emplace_back(label ? label->c_str() : "");
    }
  }
#if !ONEBIT_MCU  // Cortex-M: operators() stays empty (the desktop tools' description, not a firmware's need)
  const size_t n_ops = root->operators() ? root->operators()->size() : 0;
  operators.resize(n_ops);
  for (size_t i = 0; i < n_ops; ++i) {
    const fb::Operator* op = root->operators()->Get(flatbuffers::uoffset_t(i));
    OperatorInfo& o = operators[i];
    if (op->name()) o.name = op->name()->c_str();
    o.type = rt::op_type_name(*op);
    const fb::Tensor* out = root->tensors()->Get(flatbuffers::uoffset_t(op->outputs()->Get(0)));
    o.output_shape = rt::tensor_shape(*out);
    const bool float_compute =
        op->options_type() == fb::OperatorOptions::Conv2DOptions ||
        op->options_type() == fb::OperatorOptions::FullyConnectedOptions;
    for (int t : *op->inputs()) {
      if (t < 0) continue;  // an absent optional input
      const fb::Tensor* in = root->tensors()->Get(flatbuffers::uoffset_t(t));
      const Vec<int> shape = rt::tensor_shape(*in);
      const bool bitpacked = in->dtype() == fb::DType::BitPacked;
      if (bitpacked && !float_compute) o.binary = true;
      if (in->buffer() < 0) continue;
      const int64_t elements = int64_t(rt::element_count(shape));
      (bitpacked ? o.binary_params : o.float_params) += elements;
      o.param_bytes += rt::tensor_bytes(in->dtype(), shape, bitpacked ? int(in->bits()) : 1);
    }
  }
#endif
}

}  // namespace onebit
