// NumPy .npy files, read and written without NumPy (the format: numpy/lib/format.py, NEP 1).
//
// Reading accepts format versions 1.0, 2.0 and 3.0, C order, little-endian float32, float64, int32, int64 and
// uint8 (every value converted to float32; int64 and float64 values round to the nearest float32). Everything
// else is an error Status naming the file and what was expected: Fortran order, big-endian or other dtypes,
// object and structured arrays, a header that does not parse, a shape whose data is not exactly what the
// file holds. The header is checked against the file's size before anything of the shape's size is
// allocated, so a hostile header (a shape of 2^62 elements, a header length past the end) costs nothing.
//
// Writing produces float32, C order, version 1.0 (what np.save writes for such an array), atomically: a
// temporary file in the same folder, then rename, so a failure leaves nothing half-written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "onebit/status.h"

namespace onebit::io::npy {

struct Array {
  std::vector<int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<float> data;     // C order, shape's product elements
  std::string dtype;           // as the file declared it, e.g. "<f4", "|u1"
};

/// Elements of `shape` (1 for an empty shape); false if the product does not fit in int64.
bool element_count(const std::vector<int64_t>& shape, int64_t* count);

/// "(2, 3)", "(3,)", "()": the shape as NumPy prints it.
std::string shape_string(const std::vector<int64_t>& shape);

/// Reads `path`. Errors start with "<path>: ".
Status read(const std::string& path, Array* out);

/// Parses the bytes of a whole .npy file; `name` is what error messages call it.
Status parse(const uint8_t* bytes, size_t size, const std::string& name, Array* out);

/// Serializes a float32 C-order array (version 1.0 header, 64-byte aligned data, as np.save writes it).
/// `data` holds shape's product elements.
Status serialize(const std::vector<int64_t>& shape, const float* data, std::vector<uint8_t>* out);

/// Writes a float32 C-order .npy file atomically. Errors start with "<path>: ".
Status write(const std::string& path, const std::vector<int64_t>& shape, const float* data);
Status write(const std::string& path, const Array& array);

}  // namespace onebit::io::npy
