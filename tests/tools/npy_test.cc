// The .npy reader/writer of io/ (onebit/io/npy.h): round trips, files written by NumPy itself (tests/tools/npy,
// made by make_fixtures.py there; the values below are restated from that script, not from the reader), and
// every malformed case, including hostile headers that must fail before anything of their size is allocated.
#include <dirent.h>

#include <cmath>
#include <cstring>

#include "common/dir_entries.h"
#include "onebit/io/npy.h"
#include "tools_test_util.h"

using onebit::Status;
using onebit::io::npy::Array;
using namespace onebit::tools_test;

namespace {

Array read_ok(const std::string& path) {
  Array a;
  const Status s = onebit::io::npy::read(path, &a);
  REQUIRE_MESSAGE(s.ok(), s.message());
  return a;
}

std::string read_error(const std::string& path) {
  Array a;
  const Status s = onebit::io::npy::read(path, &a);
  REQUIRE_MESSAGE(!s.ok(), path << " was read without error");
  return s.message();
}

// A version 1.0 file with the given header text (padded and terminated like NumPy's) and data bytes.
std::string npy_v1(const std::string& dict, const std::string& data, size_t pad_to = 64) {
  std::string h = dict;
  while ((10 + h.size() + 1) % pad_to) h += ' ';
  h += '\n';
  std::string b = std::string("\x93NUMPY\x01\x00", 8);
  b += char(h.size() & 0xff);
  b += char(h.size() >> 8);
  return b + h + data;
}

using onebit::testing::dir_entries;

}  // namespace

TEST_CASE("npy: write then read gives the same shape and values, 1-d to 4-d") {
  ScratchDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{5}, {2, 3}, {2, 1, 4}, {1, 3, 2, 2}, {0, 3}};
  for (size_t k = 0; k < shapes.size(); ++k) {
    const std::vector<int64_t>& shape = shapes[k];
    int64_t n = 0;
    REQUIRE(onebit::io::npy::element_count(shape, &n));
    std::vector<float> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.75f - 3.0f;
    if (!v.empty()) v[0] = -0.0f;
    const std::string path = dir.file("a" + std::to_string(k) + ".npy");
    const Status s = onebit::io::npy::write(path, shape, v.data());
    REQUIRE_MESSAGE(s.ok(), s.message());
    const Array a = read_ok(path);
    CHECK(a.shape == shape);
    CHECK(a.dtype == "<f4");
    REQUIRE(a.data.size() == v.size());
    CHECK((v.empty() || std::memcmp(a.data.data(), v.data(), v.size() * 4) == 0));  // bit for bit (-0 too)
    CHECK(read_text(path).size() % 64 == (v.size() * 4) % 64);  // the data starts 64-byte aligned, as np.save's
  }
  CHECK(dir_entries(dir.path()).size() == shapes.size());  // no temporary file left behind
}

TEST_CASE("npy: a float32 array serializes to the bytes np.save writes") {
  const std::vector<float> v = {-1, -0.5f, 0, 0.5f, 1, 1.5f};
  std::vector<uint8_t> bytes;
  REQUIRE(onebit::io::npy::serialize({2, 3}, v.data(), &bytes).ok());
  const std::string numpy = read_text(fixture("f4_2x3.npy"));
  REQUIRE_MESSAGE(!numpy.empty(), "missing fixture (ONEBIT_SOURCE_DIR set?)");
  CHECK(std::string(bytes.begin(), bytes.end()) == numpy);
}

TEST_CASE("npy: files written by NumPy") {
  SUBCASE("float32 2x3") {
    const Array a = read_ok(fixture("f4_2x3.npy"));
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(a.data == std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f});
  }
  SUBCASE("float64") {
    const Array a = read_ok(fixture("f8_3.npy"));
    CHECK(a.shape == std::vector<int64_t>{3});
    CHECK(a.dtype == "<f8");
    CHECK(a.data == std::vector<float>{1.5f, -2.25f, 1e10f});
  }
  SUBCASE("int64") {
    const Array a = read_ok(fixture("i8_2x2.npy"));
    CHECK(a.shape == std::vector<int64_t>{2, 2});
    CHECK(a.data == std::vector<float>{1, -2, 3, 1099511627776.0f});
  }
  SUBCASE("int32") {
    const Array a = read_ok(fixture("i4_4.npy"));
    CHECK(a.data == std::vector<float>{7, -8, 0, 123456});
  }
  SUBCASE("uint8 2x2x2") {
    const Array a = read_ok(fixture("u1_2x2x2.npy"));
    CHECK(a.shape == std::vector<int64_t>{2, 2, 2});
    CHECK(a.dtype == "|u1");
    CHECK(a.data == std::vector<float>{0, 30, 60, 90, 120, 150, 180, 210});
  }
  SUBCASE("float32 4-d") {
    const Array a = read_ok(fixture("f4_1x2x2x3.npy"));
    CHECK(a.shape == std::vector<int64_t>{1, 2, 2, 3});
    for (size_t i = 0; i < 12; ++i) CHECK(a.data[i] == float(i) - 6);
  }
  SUBCASE("format versions 2.0 and 3.0") {
    for (const char* name : {"v2_f4_2x3.npy", "v3_f4_2x3.npy"}) {
      const Array a = read_ok(fixture(name));
      CHECK(a.shape == std::vector<int64_t>{2, 3});
      CHECK(a.data == std::vector<float>{-1, -0.5f, 0, 0.5f, 1, 1.5f});
    }
  }
}

TEST_CASE("npy: unsupported files written by NumPy fail with a message naming the file") {
  struct Case {
    const char* file;
    const char* expected;
  } cases[] = {
      {"fortran_2x3.npy", "fortran_order is True"},
      {"big_endian_f4.npy", "dtype '>f4' is big-endian"},
      {"complex_c8.npy", "dtype '<c8' not supported (expected float32, float64, int32, int64 or uint8)"},
      {"half_f2.npy", "dtype '<f2' not supported"},
      {"object.npy", "dtype '|O' is an object array"},
      {"truncated_f4_2x3.npy", "header shape (2, 3) of '<f4' (24 bytes of data) does not match the file size "
                               "(148 bytes: 128 of header, 20 of data)"},
  };
  for (const Case& c : cases) {
    const std::string path = fixture(c.file);
    const std::string e = read_error(path);
    INFO(e);
    CHECK(e.rfind(path + ": ", 0) == 0);
    CHECK(e.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("npy: malformed and hostile files fail with a message naming the file") {
  ScratchDir dir;
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string two_floats(8, '\0');
  struct Case {
    const char* name;
    std::string bytes;
    const char* expected;
  } cases[] = {
      {"empty.npy", "", "not a .npy file (magic bytes missing)"},
      {"text.npy", "hello world, not numpy", "not a .npy file (magic bytes missing)"},
      {"short.npy", std::string("\x93NUMPY\x01", 7), "truncated .npy file (7 bytes, no format version)"},
      {"nolen.npy", std::string("\x93NUMPY\x02\x00\x10", 9), "header length missing"},
      {"v4.npy", std::string("\x93NUMPY\x04\x00\x00\x00", 10), "format version 4.0 not supported (expected 1.0, 2.0 or 3.0)"},
      {"hlen_v1.npy", std::string("\x93NUMPY\x01\x00\xff\xff", 10) + "{'descr'", "header length 65535 runs past the end of the file (18 bytes)"},
      {"hlen_v2.npy", std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12), "header length 4294967295 runs past the end of the file (12 bytes)"},
      {"huge.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", two_floats),
       "header shape (4611686018427387904,) of '<f4' (more than 2^64 bytes) does not match the file size"},
      {"huge2.npy", npy_v1("{'descr': '|u1', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", two_floats),
       "(more than 2^64 bytes) does not match the file size"},
      {"huge3.npy", npy_v1("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", ""),
       "does not match the file size"},
      {"bigdim.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", ""),
       "dimension larger than 2^63"},
      {"negative.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two_floats), "negative dimension"},
      {"extra.npy", npy_v1(ok_dict, two_floats + "x"), "(8 bytes of data) does not match the file size"},
      {"nokey.npy", npy_v1("{'descr': '<f4', 'shape': (2,), }", two_floats), "header lacks fortran_order"},
      {"badkey.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two_floats), "unexpected key 'x'"},
      {"notdict.npy", npy_v1("[1, 2]", two_floats), "header is not a Python dict"},
      {"unterminated.npy", npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (2,", two_floats), "header 'shape'"},
      {"struct.npy", npy_v1("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", two_floats), "structured dtype"},
      {"nul.npy", npy_v1(std::string("{'descr': '<f4'\0", 16), two_floats), "NUL byte"},
      {"fortran_word.npy", npy_v1("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2,), }", two_floats), "neither True nor False"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.file(c.name);
    write_bytes(path, c.bytes);
    const std::string e = read_error(path);
    INFO(c.name << ": " << e);
    CHECK(e.rfind(path + ": ", 0) == 0);
    CHECK(e.find(c.expected) != std::string::npos);
  }
  SUBCASE("a valid hand-written header with double quotes, no trailing comma and a 1-d (3) shape") {
    const std::string path = dir.file("quotes.npy");
    write_bytes(path, npy_v1("{\"shape\": (2), \"fortran_order\": False, \"descr\": \"<f4\"}", two_floats, 16));
    const Array a = read_ok(path);
    CHECK(a.shape == std::vector<int64_t>{2});
    CHECK(a.data == std::vector<float>{0, 0});
  }
  SUBCASE("a 0-d array") {
    const std::string path = dir.file("scalar.npy");
    const float v = 2.5f;
    write_bytes(path, npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", std::string(reinterpret_cast<const char*>(&v), 4)));
    const Array a = read_ok(path);
    CHECK(a.shape.empty());
    CHECK(a.data == std::vector<float>{2.5f});
  }
  SUBCASE("files that are not there, or not files") {
    CHECK(read_error(dir.file("missing.npy")).rfind(dir.file("missing.npy") + ": cannot open: ", 0) == 0);
    CHECK(read_error(dir.path()).find("is a directory") != std::string::npos);
  }
}

TEST_CASE("npy: a write that fails leaves nothing behind and names the file") {
  ScratchDir dir;
  const float v[2] = {1, 2};
  SUBCASE("missing folder") {
    const std::string path = dir.file("no/such/dir/y.npy");
    const Status s = onebit::io::npy::write(path, {2}, v);
    REQUIRE(!s.ok());
    CHECK(s.message().rfind(path + ": cannot create temporary file", 0) == 0);
  }
  SUBCASE("the target is a folder: the rename fails, the temporary file is removed") {
    const std::string path = dir.file("target");
    REQUIRE(mkdir(path.c_str(), 0755) == 0);
    const Status s = onebit::io::npy::write(path, {2}, v);
    REQUIRE(!s.ok());
    CHECK(s.message().find(path + ": cannot rename") == 0);
    CHECK(dir_entries(dir.path()) == std::vector<std::string>{"target"});
  }
  SUBCASE("an existing file is replaced whole") {
    const std::string path = dir.file("y.npy");
    write_bytes(path, "old contents");
    REQUIRE(onebit::io::npy::write(path, {2}, v).ok());
    CHECK(read_ok(path).data == std::vector<float>{1, 2});
    CHECK(dir_entries(dir.path()).size() == 1);
  }
  SUBCASE("shape and values disagree") {
    Array a;
    a.shape = {3};
    a.data = {1, 2};
    const Status s = onebit::io::npy::write(dir.file("z.npy"), a);
    REQUIRE(!s.ok());
    CHECK(s.message().find("z.npy: shape (3,) does not match the 2 values given") != std::string::npos);
    CHECK(dir_entries(dir.path()).empty());
  }
}
