// Command-line parsing shared by the desktop tools (bench, onebit-synth, onebit-eval, onebit-info, onebit-run,
// onebit-embed, onebit-convert), over CLI11. It fixes what every tool does alike:
//   - the help: the tool's own usage line and description, then its options as CLI11 lists them from their
//     definitions (names, value name, description; positionals are named by the usage line), then an epilogue;
//     printed to stdout with exit status 0 for -h / --help;
//   - a usage error: "TOOL: message", a blank line and the help on stderr, exit status 2 (or the tool's own);
//   - repeated options: the last value counts, unless the tool collects every one;
//   - integers: base 10 only, as the hand-written parsers read them (CLI11's own conversion reads "010" as
//     octal 8 and "true" as 1), with the range checked on the value that counts.
// CLI11 (header-only, ~10 s to compile per file) is included by cli.cc alone, compiled once per build tree
// (onebit_cli); this header only declares. Desktop tools only: the library, kernels, builder and converter
// library never include CLI11.
#pragma once

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace onebit::cli {

/// A base-10 integer, the whole string (no sign-only, no trailing characters, no overflow).
inline bool parse_integer(const std::string& s, long long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0) return false;
  *out = v;
  return true;
}

/// An option a Parser defined: mark it required, or ask after parsing whether it was given.
class Option {
 public:
  explicit Option(CLI::Option* option) : option_(option) {}
  /// Parsing fails (a usage error naming it) when the option is not given.
  Option& required();
  /// Whether the command line gave it.
  explicit operator bool() const;

 private:
  CLI::Option* option_;
};

/// One tool's command line. Define the options through the methods below, then call parse().
class Parser {
 public:
  /// `usage` is the help's head: "usage: TOOL ..." and the description, ending in a newline; `epilogue`
  /// follows the options (e.g. "Exit status: ..."); `column` is where option descriptions start.
  Parser(const std::string& tool, const std::string& usage, const std::string& epilogue = "", size_t column = 18);
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  /// How usage errors begin (default "TOOL: ") and their exit status (default 2).
  void set_error_style(const std::string& prefix, int status);

  /// Parses argv. Returns -1 when the tool should go on, else the exit status to return from main (0 after
  /// printing the help, the usage status after a usage error).
  int parse(int argc, char** argv);

  /// A usage error found after parsing: reported like a parse error; exits with the usage status.
  [[noreturn]] void fail(const std::string& message) const;

  /// A string option whose value goes to *out (the last one given counts).
  Option text(const std::string& names, std::string* out, const std::string& value_name,
              const std::string& description);

  /// A string option whose value may not be empty ("--isa=" is an error: "--isa needs a value (`what`)").
  Option nonempty_text(const std::string& names, std::string* out, const std::string& value_name,
                       const std::string& what, const std::string& description);

  /// "--isa NAME", a kernel path by its name in core's ISA table (every tool's list comes from there).
  /// `purpose` starts the description; `nonempty`: "--isa=" is a usage error (else "" means the default).
  Option isa(std::string* out, const std::string& purpose, bool nonempty);

  /// "--portable-float": full-precision layers on onebit's portable float kernels instead of XNNPACK
  /// (InterpreterOptions::portable_float_kernels).
  Option portable_float(bool* out);

  /// The positional argument (at most one; the usage line names it, so the option list does not); check
  /// given() after parsing when it is needed.
  Option positional(const std::string& name, std::string* out);
  bool given(const std::string& name) const;

  /// A repeatable string option: every value given, in order, appended to *out ("--input a --input b"; no
  /// splitting at commas, one value per occurrence).
  Option texts(const std::string& names, std::vector<std::string>* out, const std::string& value_name,
               const std::string& description);

  /// A boolean flag.
  Option flag(const std::string& names, bool* out, const std::string& description);

  /// A base-10 integer option in [lo, hi]; the last value given counts and only it is checked. The message
  /// names the option, the range and the value.
  template <typename T>
  Option integer(const std::string& names, T* out, long long lo, long long hi, const std::string& value_name,
                 const std::string& description) {
    return integer_option(names, lo, hi, value_name, description, [out](long long v) { *out = T(v); });
  }

  /// A string option checked (and converted) by `apply(value)`, which returns "" when the value is good and
  /// the error message otherwise; the last value given counts.
  Option custom(const std::string& names, const std::function<std::string(const std::string&)>& apply,
                const std::string& value_name, const std::string& description);

 private:
  Option integer_option(const std::string& names, long long lo, long long hi, const std::string& value_name,
                        const std::string& description, std::function<void(long long)> store);
  void report(const std::string& message) const;

  std::unique_ptr<CLI::App> app_;
  std::string tool_, prefix_;
  int usage_status_ = 2;
};

}  // namespace onebit::cli
