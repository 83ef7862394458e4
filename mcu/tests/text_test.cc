// Text, num() and Status on the board (core/include/onebit/text.h, status.h): messages are built in a fixed
// buffer with the heap forbidden, numbers read like std::to_string's, long messages are cut with "...".
// Expected strings are written out by hand (what glibc's std::to_string prints for the same values).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "onebit/mcu/board.h"
#include "onebit/status.h"

namespace {

using onebit::num;
using onebit::Text;

bool same(const Text& t, const char* want) { return std::string_view(t) == want; }

}  // namespace

// The messages are built with the heap forbidden (any allocation ends the image with exit code 86), then
// checked with it allowed again (doctest's own bookkeeping allocates).
TEST_CASE("num() writes integers and floats as std::to_string does, without the heap") {
  board_forbid_heap();
  const Text got[] = {num(0), num(-7), num(INT64_MIN), num(UINT64_MAX), num(size_t(4096)), num(0.5f), num(-1.25),
                      num(0.1234567), num(-0.0), num(123456.0), num(0.0 / 0.0), num(-1.0 / 0.0), num(3e20)};
  board_allow_heap();
  const char* want[] = {"0", "-7", "-9223372036854775808", "18446744073709551615", "4096", "0.500000", "-1.250000",
                        "0.123457",  // rounded to six decimals
                        "-0.000000", "123456.000000", "nan", "-inf",
                        "3.000000e+20"};  // std::to_string prints 21 digits; the buffer keeps it short
  static_assert(sizeof got / sizeof got[0] == sizeof want / sizeof want[0]);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i) {
    INFO(i << ": " << got[i].c_str() << " want " << want[i]);
    CHECK(same(got[i], want[i]));
  }
}

TEST_CASE("a chain appends in one buffer; a long message is cut with ...") {
  board_forbid_heap();
  const Text label = "tensor " + num(3) + " 'w'";
  const Text message = label + ": rank " + num(7) + ", expected 1.." + num(6);
  Text long_message;
  for (int i = 0; i < 100; ++i) long_message += "abc";  // 300 characters
  const onebit::Status s = onebit::Status::Error(message);
  const bool ok_empty = onebit::Status::Ok().message().empty();
  board_allow_heap();
  CHECK(same(message, "tensor 3 'w': rank 7, expected 1..6"));
  CHECK(message.find("rank 7") == 14);
  CHECK(message.find("rank 8") == size_t(-1));
  CHECK(long_message.size() == Text::kCapacity);
  CHECK(std::strcmp(long_message.c_str() + Text::kCapacity - 6, "bca...") == 0);  // 157 kept: 52 x "abc" + "a"
  CHECK_FALSE(s.ok());
  CHECK(same(s.message(), "tensor 3 'w': rank 7, expected 1..6"));
  CHECK(ok_empty);
}
