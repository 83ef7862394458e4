// A small command-line flag parser shared by the tools (bench, onebit-synth, onebit-eval).
// Flags are "--name value" or "--name" for booleans; "--help" prints the usage given by the tool.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace onebit::cli {

class Flags {
 public:
  /// `usage` is printed for --help (to stdout, exit 0) and after an error (to stderr, exit 2).
  Flags(int argc, char** argv, std::string usage, std::vector<std::string> boolean_flags)
      : usage_(std::move(usage)), tool_(argc > 0 ? argv[0] : "tool") {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        std::printf("%s", usage_.c_str());
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0) fail("unexpected argument '" + a + "'");
      const std::string name = a.substr(2);
      bool is_bool = false;
      for (const auto& b : boolean_flags) is_bool |= (b == name);
      if (is_bool) {
        values_[name] = "1";
      } else {
        if (i + 1 >= argc) fail("flag --" + name + " needs a value");
        values_[name] = argv[++i];
      }
    }
  }

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string str(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  std::string required(const std::string& name) const {
    if (!has(name)) fail("missing required flag --" + name);
    return str(name);
  }
  long integer(const std::string& name, long fallback, long lo, long hi) const {
    if (!has(name)) return fallback;
    const std::string& s = values_.at(name);
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi)
      fail("--" + name + " expects an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got '" +
           s + "'");
    return v;
  }
  double real(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    const std::string& s = values_.at(name);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail("--" + name + " expects a number, got '" + s + "'");
    return v;
  }
  /// Rejects flags the tool does not know.
  void allow_only(const std::vector<std::string>& known) const {
    for (const auto& kv : values_) {
      bool ok = false;
      for (const auto& k : known) ok |= (k == kv.first);
      if (!ok) fail("unknown flag --" + kv.first);
    }
  }
  [[noreturn]] void fail(const std::string& message) const {
    std::fprintf(stderr, "%s: %s\n\n%s", tool_.c_str(), message.c_str(), usage_.c_str());
    std::exit(2);
  }

 private:
  std::string usage_;
  std::string tool_;
  std::map<std::string, std::string> values_;
};

}  // namespace onebit::cli
