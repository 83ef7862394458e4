#include "onebit/io/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

namespace onebit::io::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kAlign = 64;  // np.save aligns the data to 64 bytes
constexpr char kSupported[] = "expected float32, float64, int32, int64 or uint8";

std::string os_error() { return std::strerror(errno); }

uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t load_u64(const uint8_t* p) { return uint64_t(load_u32(p)) | uint64_t(load_u32(p + 4)) << 32; }

// Printable form of header text for messages: at most 80 characters, control bytes as '?'.
std::string excerpt(const std::string& s) {
  std::string r;
  for (char c : s.substr(0, 80)) r += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return s.size() > 80 ? r + "..." : r;
}

enum class Kind { kF4, kF8, kI4, kI8, kU1 };

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// The header is a Python dict literal: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// followed by spaces and a newline. This parses exactly that grammar (either quote, optional trailing
// commas, Python 2's "3L" integers), nothing more.
class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : s_(text) {}

  // Empty on success, else what is wrong.
  std::string parse(Header* h) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    ws();
    if (!eat('{')) return "header is not a Python dict (no '{')";
    for (;;) {
      ws();
      if (eat('}')) break;
      std::string key;
      if (!string_literal(&key)) return "header dict key is not a string at offset " + std::to_string(i_);
      ws();
      if (!eat(':')) return "expected ':' after header key '" + excerpt(key) + "'";
      ws();
      if (key == "descr") {
        if (have_descr) return "header has 'descr' twice";
        have_descr = true;
        if (peek() == '[') return "structured dtype (a list of fields) not supported (" + std::string(kSupported) + ")";
        if (!string_literal(&h->descr)) return "header 'descr' is not a string";
      } else if (key == "fortran_order") {
        if (have_fortran) return "header has 'fortran_order' twice";
        have_fortran = true;
        if (word("True")) {
          h->fortran_order = true;
        } else if (word("False")) {
          h->fortran_order = false;
        } else {
          return "header 'fortran_order' is neither True nor False";
        }
      } else if (key == "shape") {
        if (have_shape) return "header has 'shape' twice";
        have_shape = true;
        const std::string e = tuple(&h->shape);
        if (!e.empty()) return e;
      } else {
        return "header has an unexpected key '" + excerpt(key) + "' (expected descr, fortran_order, shape)";
      }
      ws();
      if (eat(',')) continue;
      if (eat('}')) break;
      return "expected ',' or '}' in header at offset " + std::to_string(i_);
    }
    ws();
    if (i_ != s_.size()) return "unexpected text after the header dict: '" + excerpt(s_.substr(i_)) + "'";
    if (!have_descr || !have_fortran || !have_shape) {
      std::string missing;
      for (auto [have, name] : {std::pair{have_descr, "descr"}, {have_fortran, "fortran_order"}, {have_shape, "shape"}})
        if (!have) missing += std::string(missing.empty() ? "" : ", ") + name;
      return "header lacks " + missing;
    }
    return "";
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool word(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(i_, n, w) != 0) return false;
    const char next = i_ + n < s_.size() ? s_[i_ + n] : '\0';
    if ((next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9') || next == '_')
      return false;
    i_ += n;
    return true;
  }
  bool string_literal(std::string* out) {
    const char q = peek();
    if (q != '\'' && q != '"') return false;
    ++i_;
    out->clear();
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '\\') return false;  // no escapes in any header NumPy writes
      *out += s_[i_++];
    }
    if (i_ == s_.size()) return false;
    ++i_;
    return true;
  }
  std::string tuple(std::vector<int64_t>* dims) {
    dims->clear();
    if (!eat('(')) return "header 'shape' is not a tuple";
    for (;;) {
      ws();
      if (eat(')')) return "";
      if (peek() == '-') return "header 'shape' has a negative dimension";
      if (peek() < '0' || peek() > '9') return "header 'shape' has a non-integer entry at offset " + std::to_string(i_);
      uint64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        const uint64_t d = uint64_t(s_[i_++] - '0');
        if (v > (uint64_t(std::numeric_limits<int64_t>::max()) - d) / 10)
          return "header 'shape' has a dimension larger than 2^63";
        v = v * 10 + d;
      }
      eat('L');
      dims->push_back(int64_t(v));
      ws();
      if (eat(',')) continue;
      if (eat(')')) break;
      return "expected ',' or ')' in header 'shape' at offset " + std::to_string(i_);
    }
    // (3) is not a tuple in Python: a 1-d shape is written (3,). Accept it anyway: its meaning is clear.
    return "";
  }

  const std::string& s_;
  size_t i_ = 0;
};

// Empty on success, else the error (without the file name).
std::string parse_dtype(const std::string& descr, Kind* kind, size_t* item) {
  std::string code = descr;
  char order = '=';
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    order = code[0];
    code = code.substr(1);
  }
  static const struct {
    const char* code;
    Kind kind;
    size_t item;
  } kTypes[] = {{"f4", Kind::kF4, 4}, {"f8", Kind::kF8, 8}, {"i4", Kind::kI4, 4}, {"i8", Kind::kI8, 8}, {"u1", Kind::kU1, 1}};
  for (const auto& t : kTypes) {
    if (code != t.code) continue;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const bool big = order == '>' || order == '=';
#else
    const bool big = order == '>';
#endif
    if (big && t.item > 1)
      return "dtype '" + excerpt(descr) + "' is big-endian, not supported (expected little-endian, e.g. '<" +
             t.code + "'; numpy: a.astype(a.dtype.newbyteorder('<')))";
    *kind = t.kind;
    *item = t.item;
    return "";
  }
  if (code == "O") return "dtype '" + excerpt(descr) + "' is an object array, not supported (" + kSupported + ")";
  return "dtype '" + excerpt(descr) + "' not supported (" + kSupported + ")";
}

Status fail(const std::string& name, const std::string& what) { return Status::Error(name + ": " + what); }

}  // namespace

bool element_count(const std::vector<int64_t>& shape, int64_t* count) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return false;
  }
  *count = n;
  return true;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

Status parse(const uint8_t* bytes, size_t size, const std::string& name, Array* out) {
  if (size < kMagicBytes || std::memcmp(bytes, kMagic, kMagicBytes) != 0)
    return fail(name, "not a .npy file (magic bytes missing)");
  if (size < 8) return fail(name, "truncated .npy file (" + std::to_string(size) + " bytes, no format version)");
  const int major = bytes[6], minor = bytes[7];
  size_t len_bytes = 0;
  if (major == 1 && minor == 0) {
    len_bytes = 2;
  } else if ((major == 2 || major == 3) && minor == 0) {
    len_bytes = 4;
  } else {
    return fail(name, "format version " + std::to_string(major) + "." + std::to_string(minor) +
                          " not supported (expected 1.0, 2.0 or 3.0)");
  }
  if (size < 8 + len_bytes)
    return fail(name, "truncated .npy file (" + std::to_string(size) + " bytes, header length missing)");
  const uint64_t header_len = len_bytes == 2 ? uint64_t(bytes[8]) | uint64_t(bytes[9]) << 8 : load_u32(bytes + 8);
  const uint64_t data_offset = 8 + len_bytes + header_len;
  if (data_offset > size)
    return fail(name, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                          std::to_string(size) + " bytes)");
  const std::string text(reinterpret_cast<const char*>(bytes) + 8 + len_bytes, size_t(header_len));
  if (text.find('\0') != std::string::npos) return fail(name, "header contains a NUL byte (corrupt header)");

  Header h;
  const std::string e = HeaderParser(text).parse(&h);
  if (!e.empty()) return fail(name, e + " (header: '" + excerpt(text) + "')");
  Kind kind;
  size_t item = 0;
  const std::string de = parse_dtype(h.descr, &kind, &item);
  if (!de.empty()) return fail(name, de);
  if (h.fortran_order)
    return fail(name, "fortran_order is True: Fortran-order arrays are not supported (expected C order; numpy: "
                      "np.save(path, np.ascontiguousarray(a)))");

  const uint64_t available = size - data_offset;
  int64_t count = 0;
  uint64_t need = 0;
  const bool fits = element_count(h.shape, &count) && !__builtin_mul_overflow(uint64_t(count), uint64_t(item), &need);
  if (!fits || need != available)
    return fail(name, "header shape " + shape_string(h.shape) + " of '" + h.descr + "' (" +
                          (fits ? std::to_string(need) + " bytes of data" : std::string("more than 2^64 bytes")) +
                          ") does not match the file size (" + std::to_string(size) + " bytes: " +
                          std::to_string(data_offset) + " of header, " + std::to_string(available) + " of data)");

  // need <= size: the allocation below is bounded by the file's own size (times 4 for uint8).
  Array a;
  a.shape = h.shape;
  a.dtype = h.descr;
  try {
    a.data.resize(size_t(count));
  } catch (const std::bad_alloc&) {
    return fail(name, "out of memory for " + std::to_string(count) + " elements");
  }
  const uint8_t* p = bytes + data_offset;
  float* d = a.data.data();
  const size_t n = size_t(count);
  switch (kind) {
    case Kind::kF4:
      for (size_t i = 0; i < n; ++i) {
        const uint32_t u = load_u32(p + 4 * i);
        std::memcpy(&d[i], &u, 4);
      }
      break;
    case Kind::kF8:
      for (size_t i = 0; i < n; ++i) {
        const uint64_t u = load_u64(p + 8 * i);
        double v;
        std::memcpy(&v, &u, 8);
        d[i] = float(v);
      }
      break;
    case Kind::kI4:
      for (size_t i = 0; i < n; ++i) d[i] = float(int32_t(load_u32(p + 4 * i)));
      break;
    case Kind::kI8:
      for (size_t i = 0; i < n; ++i) d[i] = float(int64_t(load_u64(p + 8 * i)));
      break;
    case Kind::kU1:
      for (size_t i = 0; i < n; ++i) d[i] = float(p[i]);
      break;
  }
  *out = std::move(a);
  return Status::Ok();
}

Status read(const std::string& path, Array* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(path, "cannot open: " + os_error());
  std::vector<uint8_t> bytes;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(path, "is a directory, expected a .npy file");
  }
  try {
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes.reserve(size_t(st.st_size));
    uint8_t chunk[1 << 16];
    for (;;) {
      const ssize_t r = ::read(fd, chunk, sizeof chunk);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        const std::string e = os_error();
        ::close(fd);
        return fail(path, "read error: " + e);
      }
      if (r == 0) break;
      bytes.insert(bytes.end(), chunk, chunk + r);
    }
  } catch (const std::bad_alloc&) {
    ::close(fd);
    return fail(path, "out of memory reading the file");
  }
  ::close(fd);
  return parse(bytes.data(), bytes.size(), path, out);
}

Status serialize(const std::vector<int64_t>& shape, const float* data, std::vector<uint8_t>* out) {
  int64_t count = 0;
  uint64_t data_bytes = 0;
  if (!element_count(shape, &count) || __builtin_mul_overflow(uint64_t(count), uint64_t(4), &data_bytes) ||
      data_bytes > uint64_t(std::numeric_limits<size_t>::max()) / 2)
    return Status::Error("shape " + shape_string(shape) + " is too large (or has a negative dimension)");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_string(shape) + ", }";
  const size_t unpadded = kMagicBytes + 2 + 2 + header.size() + 1;  // + the final '\n'
  header.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  header += '\n';
  if (header.size() > 0xffff)
    return Status::Error("shape " + shape_string(shape) + " has too many dimensions for a version 1.0 header");
  std::vector<uint8_t> b;
  try {
    b.reserve(10 + header.size() + size_t(data_bytes));
  } catch (const std::bad_alloc&) {
    return Status::Error("out of memory for " + std::to_string(data_bytes) + " bytes");
  }
  b.insert(b.end(), kMagic, kMagic + kMagicBytes);
  b.push_back(1);
  b.push_back(0);
  b.push_back(uint8_t(header.size() & 0xff));
  b.push_back(uint8_t(header.size() >> 8));
  b.insert(b.end(), header.begin(), header.end());
  for (int64_t i = 0; i < count; ++i) {
    uint32_t u;
    std::memcpy(&u, &data[i], 4);
    for (int k = 0; k < 4; ++k) b.push_back(uint8_t(u >> (8 * k)));
  }
  *out = std::move(b);
  return Status::Ok();
}

Status write(const std::string& path, const std::vector<int64_t>& shape, const float* data) {
  std::vector<uint8_t> bytes;
  Status s = serialize(shape, data, &bytes);
  if (!s.ok()) return fail(path, s.message());
  static std::atomic<unsigned> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // 0666 & ~umask, like any new file
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return fail(path, "cannot create temporary file '" + tmp + "': " + os_error());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string e = w < 0 ? os_error() : "no progress";
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(path, "write error: " + e);
    }
    done += size_t(w);
  }
  if (::close(fd) != 0) {
    const std::string e = os_error();
    ::unlink(tmp.c_str());
    return fail(path, "write error: " + e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = os_error();
    ::unlink(tmp.c_str());
    return fail(path, "cannot rename the temporary file into place: " + e);
  }
  return Status::Ok();
}

Status write(const std::string& path, const Array& array) {
  int64_t count = 0;
  if (!element_count(array.shape, &count) || uint64_t(count) != array.data.size())
    return fail(path, "shape " + shape_string(array.shape) + " does not match the " +
                          std::to_string(array.data.size()) + " values given");
  return write(path, array.shape, array.data.data());
}

}  // namespace onebit::io::npy
