// Reader for the IDX files of MNIST-style data sets (optionally gzip-compressed). The file is untrusted:
// magic, rank and sizes are checked before anything is read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "onebit/status.h"

namespace onebit::io {

struct IdxArray {
  std::vector<uint32_t> dims;   // e.g. {10000, 28, 28} for images, {10000} for labels
  std::vector<uint8_t> data;    // row-major uint8 values
  size_t items() const { return dims.empty() ? 0 : dims[0]; }
  size_t item_size() const {
    size_t n = 1;
    for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
    return n;
  }
};

/// Reads an unsigned-byte IDX file (magic 0x0000 08 rank), gzip or plain. Errors name the file.
Status read_idx_u8(const std::string& path, IdxArray* out);

}  // namespace onebit::io
