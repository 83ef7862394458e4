// Message text for errors: `Text` and `num()`, so that one source builds a message in both configurations.
//  - Desktop: Text is std::string and num() is std::to_string (messages exactly as before).
//  - Cortex-M (ONEBIT_MCU): Text is a fixed-capacity string on the stack and num() formats into a small
//    one (Num) that a Text appends, so that building a message never touches the heap (issue 19: messages "from static text or a fixed
//    buffer"). Longer messages are cut at kCapacity characters and end in "...". Floats are written like
//    %f (six decimals; %e-like beyond 1e15) by our own code, since newlib's float printf allocates.
// Write `label + ": rank " + num(rank)`, never std::to_string or std::string, in code the Cortex-M build
// compiles.
#pragma once

#include <cstddef>
#include <string>

#if ONEBIT_MCU
#include <cmath>
#include <cstring>
#include <string_view>
#include <utility>
#endif

namespace onebit {

#if !ONEBIT_MCU

using Text = std::string;
template <typename T>
inline std::string num(T value) {
  return std::to_string(value);
}

#else

/// What num() returns on Cortex-M: the digits alone (32 bytes, not a 160-character Text), so that the
/// several numbers of one message do not each hold a message's worth of stack while it is built.
class Num {
 public:
  explicit Num(const char* s) {
    size_t n = std::strlen(s);
    if (n >= sizeof s_) n = sizeof s_ - 1;
    std::memcpy(s_, s, n);
    s_[n] = '\0';
  }
  const char* c_str() const { return s_; }

 private:
  char s_[32];
};

class Text {
 public:
  static constexpr size_t kCapacity = 160;
  Text() { s_[0] = '\0'; }
  Text(const char* s) : Text() { append(s, std::strlen(s)); }         // NOLINT: implicit like std::string
  Text(std::string_view s) : Text() { append(s.data(), s.size()); }   // NOLINT
  Text& operator+=(const Text& t) { return append(t.s_, t.n_); }
  Text& operator+=(const char* s) { return append(s, std::strlen(s)); }
  Text& operator+=(char c) { return append(&c, 1); }
  Text& operator+=(const Num& v) { return *this += v.c_str(); }
  Text(const Num& v) : Text(v.c_str()) {}  // NOLINT: a number where a message is expected
  const char* c_str() const { return s_; }
  const char* data() const { return s_; }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  void clear() { s_[n_ = 0] = '\0'; }
  /// Position of `needle`, or size_t(-1) (std::string::npos) when absent.
  size_t find(const char* needle) const { return std::string_view(s_, n_).find(needle); }
  operator std::string_view() const { return {s_, n_}; }  // NOLINT

  // A chain a + b + c appends to one temporary (the first operand's copy): each + on an rvalue appends in
  // place and passes it on, so a message costs one buffer of stack, not one per +.
  friend Text&& operator+(Text&& a, const Text& b) { return std::move(a += b); }
  friend Text&& operator+(Text&& a, const char* b) { return std::move(a += b); }
  friend Text&& operator+(Text&& a, char b) { return std::move(a += b); }
  friend Text operator+(const Text& a, const Text& b) { return Text(a) += b; }
  friend Text operator+(const Text& a, const char* b) { return Text(a) += b; }
  friend Text operator+(const Text& a, char b) { return Text(a) += b; }
  friend Text operator+(const char* a, const Text& b) { return Text(a) += b; }

 private:
  Text& append(const char* s, size_t n) {
    if (n_ + n > kCapacity) {  // keep what fits before a final "..."
      if (n_ < kCapacity - 3) std::memcpy(s_ + n_, s, kCapacity - 3 - n_);
      std::memcpy(s_ + kCapacity - 3, "...", 3);
      n_ = kCapacity;
    } else {
      std::memcpy(s_ + n_, s, n);
      n_ += n;
    }
    s_[n_] = '\0';
    return *this;
  }
  char s_[kCapacity + 1];
  size_t n_ = 0;
};

// A number in a message (found by argument-dependent lookup: Num is onebit's).
inline Text&& operator+(Text&& a, const Num& b) { return std::move(a += b); }
inline Text operator+(const Text& a, const Num& b) { return Text(a) += b; }
inline Text operator+(const char* a, const Num& b) { return Text(a) += b; }
inline Text operator+(const Num& a, const Text& b) { return Text(a) += b; }
inline Text operator+(const Num& a, const char* b) { return Text(a) += b; }
inline Text operator+(const Num& a, const Num& b) { return Text(a) += b; }
inline Text operator+(const Num& a, char b) { return Text(a) += b; }

namespace text_detail {
inline Num unsigned_text(unsigned long long v, bool negative) {
  char digits[24];
  size_t n = sizeof digits;
  digits[--n] = '\0';
  do {
    digits[--n] = char('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (negative) digits[--n] = '-';
  return Num(digits + n);
}
}  // namespace text_detail

inline Num num(unsigned long long v) { return text_detail::unsigned_text(v, false); }
inline Num num(long long v) {
  return text_detail::unsigned_text(v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v),
                                    v < 0);
}
inline Num num(unsigned long v) { return num(static_cast<unsigned long long>(v)); }
inline Num num(long v) { return num(static_cast<long long>(v)); }
inline Num num(unsigned v) { return num(static_cast<unsigned long long>(v)); }
inline Num num(int v) { return num(static_cast<long long>(v)); }
/// Like std::to_string(double) ("%f": six decimals, rounded) for |v| < 1e12; beyond that d.dddddde+XX.
inline Num num(double v) {
  if (v != v) return Num("nan");
  char out[32];
  size_t n = 0;
  auto put = [&](const char* s) {
    while (*s != '\0' && n + 1 < sizeof out) out[n++] = *s++;
  };
  if (std::signbit(v)) put("-");  // a builtin: no math library code
  double a = v < 0 ? -v : v;
  if (a > 1.7e308) {
    put("inf");
  } else {
    int exponent = 0;
    if (a >= 1e12) {  // by division, not log10 / pow: messages should not link the math library's code
      while (a >= 10.0) a /= 10.0, ++exponent;
    }
    const unsigned long long micro = static_cast<unsigned long long>(a * 1e6 + 0.5);
    put(num(micro / 1000000).c_str());
    put(".");
    put(num(micro % 1000000 + 1000000).c_str() + 1);  // 1dddddd: keeps the leading zeros
    if (exponent != 0) put("e+"), put(num(exponent).c_str());
  }
  out[n] = '\0';
  return Num(out);
}
inline Num num(float v) { return num(static_cast<double>(v)); }

#endif

/// One message from its parts (text, Text, num()) appended into the result: a function that returns
/// cat(...) holds no Text per part (out of line, so the result is the caller's return slot and the parts
/// take no stack in the caller's frame: on Cortex-M a Text is a 164-byte buffer).
template <typename... Parts>
__attribute__((noinline)) Text cat(const Parts&... parts) {
  Text t;
  ((t += parts), ...);
  return t;
}

}  // namespace onebit
