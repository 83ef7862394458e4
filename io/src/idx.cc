#include "onebit/io/idx.h"

#include <zlib.h>

namespace onebit::io {

Status read_idx_u8(const std::string& path, IdxArray* out) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently too
  if (!f) return Status::Error(path + ": cannot open");
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  int n;
  while ((n = gzread(f, chunk, sizeof chunk)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (bytes.size() > (size_t(1) << 31)) { gzclose(f); return Status::Error(path + ": larger than 2 GiB"); }
  }
  const bool read_error = n < 0;
  gzclose(f);
  if (read_error) return Status::Error(path + ": corrupt gzip data");
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    return Status::Error(path + ": not an IDX file (bad magic)");
  if (bytes[2] != 0x08) return Status::Error(path + ": IDX element type is not unsigned byte (0x08)");
  const size_t rank = bytes[3];
  if (rank < 1 || rank > 4) return Status::Error(path + ": IDX rank " + std::to_string(rank) + " not in 1..4");
  if (bytes.size() < 4 + 4 * rank) return Status::Error(path + ": truncated IDX header");
  out->dims.clear();
  uint64_t total = 1;
  for (size_t i = 0; i < rank; ++i) {
    const uint8_t* p = &bytes[4 + 4 * i];
    const uint32_t d = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
    out->dims.push_back(d);
    total *= d;
    if (total > bytes.size()) return Status::Error(path + ": IDX dimensions exceed the file size");
  }
  const size_t header = 4 + 4 * rank;
  if (bytes.size() - header != total)
    return Status::Error(path + ": expected " + std::to_string(total) + " data bytes, found " +
                         std::to_string(bytes.size() - header));
  out->data.assign(bytes.begin() + long(header), bytes.end());
  return Status::Ok();
}

}  // namespace onebit::io
