// Loading: map the file read-only (or copy a caller's buffer into 16-byte aligned storage), run the
// FlatBuffers Verifier, then the semantic checks of validate.cc.
//
// Both paths leave at least kReadSlack readable bytes after the model's last byte, because XNNPACK may read
// up to 16 bytes past an input and constant tensors are used in place. For a mapping, an anonymous region
// one page larger than the file is reserved first and the file is mapped over its start, so the bytes after
// the file are zero pages of our own, never a fault.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

Status verify(const uint8_t* data, size_t size) {
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
  flatbuffers::Verifier::Options options;
  options.max_depth = 16;         // Model -> operators -> Operator -> options -> vector: depth ~5
  options.max_tables = 1u << 20;  // tensors + operators + options + buffers
  flatbuffers::Verifier verifier(data, size, options);
  if (!fb::VerifyModelBuffer(verifier))
    return Status::Error("corrupt or truncated: the FlatBuffers verifier rejected the file (" + std::to_string(size) +
                         " bytes)");
  return Status::Ok();
}

}  // namespace

Model::~Model() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes(size_));
}

Status Model::load_file(const std::string& path, std::unique_ptr<Model>* out) {
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
    return Status::Error("model file '" + path + "': truncated or not a regular file (" +
                         std::to_string(static_cast<long long>(st.st_size)) + " bytes)");
  }
  const size_t size = size_t(st.st_size);
  std::unique_ptr<Model> model(new Model());
  void* region = mmap(nullptr, mapping_bytes(size), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) {
    close(fd);
    return Status::Error(os_error("model file '" + path + "': cannot reserve address space"));
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
  return finish_load(std::move(model), "model file '" + path + "'", out);
}

Status Model::load_buffer(const void* data, size_t size, std::unique_ptr<Model>* out) {
  if (data == nullptr && size != 0) return Status::Error("model buffer: null data");
  std::unique_ptr<Model> model(new Model());
  model->owned_.resize(size + kDataAlignment + kReadSlack);
  const uintptr_t base = reinterpret_cast<uintptr_t>(model->owned_.data());
  const size_t shift = (kDataAlignment - base % kDataAlignment) % kDataAlignment;
  uint8_t* aligned = model->owned_.data() + shift;
  if (size != 0) std::memcpy(aligned, data, size);
  model->data_ = aligned;
  model->size_ = size;
  return finish_load(std::move(model), "model buffer", out);
}

Status Model::finish_load(std::unique_ptr<Model> model, const std::string& origin, std::unique_ptr<Model>* out) {
  Status s = verify(model->data_, model->size_);
  if (s.ok()) {
    model->root_ = fb::GetModel(model->data_);
    s = validate_model(*model->root_);
  }
  if (!s.ok()) return Status::Error(origin + ": " + s.message());
  *out = std::move(model);
  return Status::Ok();
}

}  // namespace onebit
