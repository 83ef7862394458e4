// Loading: read a small file (or copy a caller's buffer) into 16-byte aligned storage, or map a large file
// read-only; run the FlatBuffers Verifier, then the semantic checks of validate.cc.
//
// All paths leave at least kReadSlack readable bytes after the model's last byte, because XNNPACK may read
// up to 16 bytes past an input and constant tensors are used in place. For a mapping, an anonymous region
// one page larger than the file is reserved first and the file is mapped over its start, so the bytes after
// the file are zero pages of our own, never a fault (while the file keeps its size: see model.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include "graph.h"
#include "onebit/model.h"

namespace onebit {
namespace {

constexpr size_t kReadSlack = 64;
constexpr size_t kDataAlignment = 16;

size_t page_size() { return size_t(sysconf(_SC_PAGESIZE)); }
size_t mapping_bytes(size_t size) {
  const size_t page = page_size();
  return (size + page - 1) / page * page + page;
}

std::string os_error(const std::string& what) { return what + ": " + std::strerror(errno); }

bool verifies(const uint8_t* data, size_t size, uint32_t max_tables, uint32_t max_depth) {
  flatbuffers::Verifier::Options options;
  options.max_depth = max_depth;
  options.max_tables = max_tables;
  flatbuffers::Verifier verifier(data, size, options);
  return fb::VerifyModelBuffer(verifier);
}

Status verify(const uint8_t* data, size_t size, const LoadOptions& limits) {
  if (size < 8) return Status::Error("truncated: " + std::to_string(size) + " bytes is smaller than any model");
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return Status::Error("too large: " + std::to_string(size) + " bytes (FlatBuffers limit 2 GiB)");
  if (!flatbuffers::BufferHasIdentifier(data, fb::ModelIdentifier())) {
    std::string id(reinterpret_cast<const char*>(data) + 4, 4);
    for (char& ch : id) {
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
    }
    return Status::Error("wrong file identifier '" + id + "', expected '" + fb::ModelIdentifier() +
                         "' (not a onebit model)");
  }
  if (verifies(data, size, limits.max_tables, limits.max_depth)) return Status::Ok();
  // Which limit, if any, made it fail: a rejection that goes away with one limit raised is that limit.
  // (Only on failure, so a good file is verified once.)
  constexpr uint32_t kUnlimited = 0x7fffffff;
  if (verifies(data, size, kUnlimited, limits.max_depth))
    return Status::Error("too many FlatBuffers tables: more than the limit of " + std::to_string(limits.max_tables) +
                         " (LoadOptions::max_tables; every tensor, operator, options table and buffer is one)");
  if (verifies(data, size, limits.max_tables, 1024))
    return Status::Error("FlatBuffers tables nested deeper than the limit of " + std::to_string(limits.max_depth) +
                         " (LoadOptions::max_depth)");
  return Status::Error("corrupt or truncated: the FlatBuffers verifier rejected the file (" + std::to_string(size) +
                       " bytes)");
}

/// Runs `body`, turning the exceptions an allocation may throw into errors.
template <typename F>
Status no_throw(const std::string& origin, F body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Status::Error(origin + ": out of memory");
  } catch (const std::length_error& e) {
    return Status::Error(origin + ": too large (" + e.what() + ")");
  } catch (const std::exception& e) {
    return Status::Error(origin + ": " + e.what());
  }
}

}  // namespace

Model::~Model() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes(size_));
}

uint8_t* Model::own(size_t size) {
  owned_.resize(size + kDataAlignment + kReadSlack);
  const uintptr_t base = reinterpret_cast<uintptr_t>(owned_.data());
  const size_t shift = (kDataAlignment - base % kDataAlignment) % kDataAlignment;
  return owned_.data() + shift;
}

Status Model::read_file(int fd, size_t size, const std::string& path, Model* model) {
  uint8_t* data = model->own(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(fd, data + done, size - done, off_t(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(os_error("cannot read model file '" + path + "'"));
    if (n == 0) break;
    done += size_t(n);
  }
  if (done != size)
    return Status::Error("model file '" + path + "': truncated while reading (" + std::to_string(done) + " of " +
                         std::to_string(size) + " bytes)");
  model->data_ = data;
  model->size_ = size;
  return Status::Ok();
}

Status Model::load_file(const std::string& path, std::unique_ptr<Model>* out) {
  return load_file(path, LoadOptions(), out);
}

Status Model::load_file(const std::string& path, const LoadOptions& options, std::unique_ptr<Model>* out) {
  const std::string origin = "model file '" + path + "'";
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
                           std::to_string(static_cast<long long>(st.st_size)) + " bytes)");
    }
    if (uint64_t(st.st_size) >= FLATBUFFERS_MAX_BUFFER_SIZE) {
      close(fd);
      return Status::Error(origin + ": too large: " + std::to_string(static_cast<long long>(st.st_size)) +
                           " bytes (FlatBuffers limit 2 GiB)");
    }
    const size_t size = size_t(st.st_size);
    std::unique_ptr<Model> model(new Model());
    if (size < options.map_threshold_bytes) {
      const Status s = read_file(fd, size, path, model.get());
      close(fd);
      if (!s.ok()) return s;
      return finish_load(std::move(model), origin, options, out);
    }
    void* region = mmap(nullptr, mapping_bytes(size), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) {
      close(fd);
      return Status::Error(os_error(origin + ": cannot reserve address space"));
    }
    model->mapping_ = region;
    model->size_ = size;
    void* file = mmap(region, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    const int map_errno = errno;
    close(fd);
    if (file == MAP_FAILED) {
      errno = map_errno;
      return Status::Error(os_error("cannot map model file '" + path + "'"));
    }
    model->data_ = static_cast<const uint8_t*>(file);
    return finish_load(std::move(model), origin, options, out);
  });
}

Status Model::load_buffer(const void* data, size_t size, std::unique_ptr<Model>* out) {
  return load_buffer(data, size, LoadOptions(), out);
}

Status Model::load_buffer(const void* data, size_t size, const LoadOptions& options, std::unique_ptr<Model>* out) {
  return no_throw("model buffer", [&]() -> Status {
    if (data == nullptr && size != 0) return Status::Error("model buffer: null data");
    if (size >= FLATBUFFERS_MAX_BUFFER_SIZE)
      return Status::Error("model buffer: too large: " + std::to_string(size) + " bytes (FlatBuffers limit 2 GiB)");
    std::unique_ptr<Model> model(new Model());
    uint8_t* aligned = model->own(size);
    if (size != 0) std::memcpy(aligned, data, size);
    model->data_ = aligned;
    model->size_ = size;
    return finish_load(std::move(model), "model buffer", options, out);
  });
}

Status Model::finish_load(std::unique_ptr<Model> model, const std::string& origin, const LoadOptions& options,
                          std::unique_ptr<Model>* out) {
  Status s = verify(model->data_, model->size_, options);
  if (s.ok()) {
    model->root_ = fb::GetModel(model->data_);
    s = validate_model(*model->root_, options);
  }
  if (!s.ok()) return Status::Error(origin + ": " + s.message());
  *out = std::move(model);
  return Status::Ok();
}

}  // namespace onebit
