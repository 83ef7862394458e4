// The builder's file: finish() writes the graph (builder_graph.h) as a FlatBuffer with its metadata
// (producer, source, input shape, input normalization mean / std, class labels), then loads it back through
// the Verifier and validate_model, so that a builder can never emit a file the runtime would reject. Also
// write_file_atomically, how the tools save what finish() returns.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "builder_graph.h"
#include "onebit/model.h"

namespace onebit {

void ModelBuilder::set_metadata(const ModelMetadata& metadata) { impl_->metadata = metadata; }

Status ModelBuilder::finish(std::vector<uint8_t>* out) {
  const Impl& b = *impl_;
  if (!b.error.empty()) return Status::Error(b.error);
  Fbb f(1 << 16);
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers;
  for (const std::vector<uint8_t>& data : b.buffers) {
    f.ForceVectorAlignment(data.size(), sizeof(uint8_t), 16);
    buffers.push_back(fb::CreateBuffer(f, f.CreateVector(data)));
  }
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const Impl::Tensor& t : b.tensors)
    tensors.push_back(fb::CreateTensor(f, f.CreateString(t.name), f.CreateVector(t.shape), t.dtype, t.buffer,
                                       uint8_t(t.levels.bits), core::to_schema(t.levels.kind),
                                       uint8_t(t.levels.zero_level), t.levels.scale));
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  for (const Impl::Op& op : b.ops) {
    const auto options = op.options(f);
    std::vector<int> outputs = {op.output};
    outputs.insert(outputs.end(), op.more_outputs.begin(), op.more_outputs.end());
    ops.push_back(fb::CreateOperator(f, op.type, options, f.CreateVector(op.inputs), f.CreateVector(outputs),
                                     f.CreateString(op.name)));
  }
  const ModelMetadata& m = b.metadata;
  const auto metadata = fb::CreateMetadata(f, f.CreateString(m.producer), f.CreateString(m.source),
                                           f.CreateVector(m.input_shape), f.CreateVector(m.input_mean),
                                           f.CreateVector(m.input_std), f.CreateVectorOfStrings(m.labels));
  const auto model = fb::CreateModel(f, kFormatVersion, f.CreateVector(tensors), f.CreateVector(buffers),
                                     f.CreateVector(ops), f.CreateVector(b.inputs), f.CreateVector(b.outputs), metadata);
  fb::FinishModelBuffer(f, model);
  std::vector<uint8_t> bytes(f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize());
  std::unique_ptr<Model> check;
  const Status s = Model::load_buffer(bytes.data(), bytes.size(), &check);
  if (!s.ok()) return Status::Error("ModelBuilder: the model does not validate: " + s.message());
  *out = std::move(bytes);
  return Status::Ok();
}

namespace {

/// Creates `path`.tmp-XXXXXX exclusively with mode 0666, so the kernel applies the umask and the final file
/// gets the usual 0666 & ~umask (mkstemp's 0600 would survive the rename). Returns the fd, or -1 with errno.
int create_temporary(const std::string& path, std::string* tmp) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device device;
  std::mt19937_64 rng((uint64_t(device()) << 32) ^ uint64_t(getpid()) ^
                      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    *tmp = path + ".tmp-";
    for (int i = 0; i < 6; ++i) *tmp += kChars[rng() % (sizeof(kChars) - 1)];
    const int fd = open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string tmp;
  const int fd = create_temporary(path, &tmp);
  if (fd < 0) return Status::Error("cannot create a temporary file next to '" + path + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  int err = done == bytes.size() ? 0 : (errno ? errno : EIO);
  if (err == 0 && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    unlink(tmp.c_str());
    return Status::Error("cannot write '" + path + "': " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace onebit
