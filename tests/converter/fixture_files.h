// Reading the committed fixtures of the converter tests (tests/converter/fixtures and tests/converter/patterns,
// each with its README): where they are, whole files as text or as float32, and counting the lines of a
// conversion summary.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace onebit::testing {

// tests/converter/<folder>/ under ONEBIT_SOURCE_DIR (ctest sets it), else under the current directory.
inline std::string converter_fixture_dir(const std::string& folder) {
  const char* root = std::getenv("ONEBIT_SOURCE_DIR");
  return std::string(root ? root : ".") + "/tests/converter/" + folder + "/";
}

// The file's bytes; empty when it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A raw float32 file, read in the host's byte order (the fixtures are little-endian, as every target is).
inline std::vector<float> read_f32(const std::string& path) {
  const std::string bytes = read_text(path);
  std::vector<float> v(bytes.size() / 4);
  std::copy_n(bytes.data(), v.size() * 4, reinterpret_cast<char*>(v.data()));
  return v;
}

// How often `what` stands in `text` (overlapping occurrences too).
inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace onebit::testing
