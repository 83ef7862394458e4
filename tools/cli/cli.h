// Command-line parsing shared by the desktop tools (bench, onebit-synth, onebit-eval, onebit-info, onebit-run,
// onebit-convert), over CLI11. It fixes what every tool does alike:
//   - the help: the tool's own usage line and description, then its options as CLI11 lists them from their
//     definitions (names, value name, description; positionals are named by the usage line), then an epilogue;
//     printed to stdout with exit status 0 for -h / --help;
//   - a usage error: "TOOL: message", a blank line and the help on stderr, exit status 2 (or the tool's own);
//   - repeated options: the last value counts, unless the tool collects every one;
//   - integers: base 10 only, as the hand-written parsers read them (CLI11's own conversion reads "010" as
//     octal 8 and "true" as 1), with the range checked on the value that counts.
// Desktop tools only: the library, kernels, builder and converter library never include CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include "onebit/core/isa.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace onebit::cli {

/// The help layout of the tools: description (the usage line and paragraph, as the tool writes it), one line
/// per option ("  -o, --output FILE   what it is"), footer.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    return app->get_description() + make_groups(app, CLI::AppFormatMode::Normal) + app->get_footer();
  }
  std::string make_group(std::string, bool, std::vector<const CLI::Option*> options) const override {
    std::string s;
    for (const CLI::Option* o : options) s += make_option(o, false);
    return s;
  }
  // The name column padded to the description column (at least one space; two after a name that reaches it),
  // description lines after the first indented to that column.
  std::string make_option(const CLI::Option* o, bool positional) const override {
    std::string r = "  " + make_option_name(o, positional) + make_option_opts(o);
    const std::string description = make_option_desc(o);
    if (description.empty()) return r + "\n";
    r += std::string(r.size() < column_width_ ? column_width_ - r.size() : 2, ' ');
    for (char c : description) r += c == '\n' ? "\n" + std::string(column_width_, ' ') : std::string(1, c);
    return r + "\n";
  }
  std::string make_option_name(const CLI::Option* o, bool positional) const override {
    std::string names = o->get_name(positional, !positional), r;
    for (char c : names) r += c == ',' ? std::string(", ") : std::string(1, c);
    return r;
  }
  // The value's name after a space ("--isa NAME"), or joined when it starts with '=' ("--sign-zero=MODE").
  std::string make_option_opts(const CLI::Option* o) const override {
    const std::string& value = o->get_type_name();
    if (o->get_type_size() == 0 || value.empty()) return "";
    return value[0] == '=' ? value : " " + value;
  }
};

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

/// One tool's command line. Define the options on `app` (through the helpers below or CLI11's own calls),
/// then call parse().
class Parser {
 public:
  /// `usage` is the help's head: "usage: TOOL ..." and the description, ending in a newline; `epilogue`
  /// follows the options (e.g. "Exit status: ..."); `column` is where option descriptions start.
  Parser(const std::string& tool, const std::string& usage, const std::string& epilogue = "", size_t column = 18)
      : app(usage, tool), tool_(tool), prefix_(tool + ": ") {
    auto formatter = std::make_shared<HelpFormatter>();
    formatter->column_width(column);
    app.formatter(formatter);
    app.footer(epilogue);
    app.set_help_flag();  // added last by parse(), so it is listed after the tool's options
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }

  /// How usage errors begin (default "TOOL: ") and their exit status (default 2).
  void set_error_style(const std::string& prefix, int status) {
    prefix_ = prefix;
    usage_status_ = status;
  }

  /// Parses argv. Returns -1 when the tool should go on, else the exit status to return from main (0 after
  /// printing the help, the usage status after a usage error).
  int parse(int argc, char** argv) {
    if (app.get_help_ptr() == nullptr) app.set_help_flag("-h,--help", "this text");
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      const std::string help = app.help();
      std::fwrite(help.data(), 1, help.size(), stdout);
      return 0;
    } catch (const CLI::ParseError& e) {
      std::string message = e.what();
      if (message.rfind(tool_ + ": ", 0) == 0) message = message.substr(tool_.size() + 2);  // CLI11 names the app
      report(message);
      return usage_status_;
    }
    return -1;
  }

  /// A usage error found after parsing: reported like a parse error; exits with the usage status.
  [[noreturn]] void fail(const std::string& message) const {
    report(message);
    std::exit(usage_status_);
  }

  /// A string option whose value goes to *out (the last one given counts).
  CLI::Option* text(const std::string& names, std::string* out, const std::string& value_name,
                    const std::string& description) {
    return app.add_option(names, *out, description)->type_name(value_name);
  }

  /// A string option whose value may not be empty ("--isa=" is an error: "--isa needs a value (`what`)").
  CLI::Option* nonempty_text(const std::string& names, std::string* out, const std::string& value_name,
                             const std::string& what, const std::string& description) {
    const std::string message = long_name(names) + " needs a value (" + what + ")";
    return custom(
        names,
        [out, message](const std::string& v) {
          *out = v;
          return v.empty() ? message : std::string();
        },
        value_name, description);
  }

  /// "--isa NAME", a kernel path by its name in core's ISA table (every tool's list comes from there).
  /// `purpose` starts the description; `nonempty`: "--isa=" is a usage error (else "" means the default).
  CLI::Option* isa(std::string* out, const std::string& purpose, bool nonempty) {
    const std::string names = core::isa_name_list();
    const std::string description =
        purpose + ": " + names + "\n(default: the best this CPU supports, or $ONEBIT_ISA)";
    return nonempty ? nonempty_text("--isa", out, "NAME", names, description) : text("--isa", out, "NAME", description);
  }

  /// "--portable-float": full-precision layers on onebit's portable float kernels instead of XNNPACK
  /// (InterpreterOptions::portable_float_kernels).
  CLI::Option* portable_float(bool* out) {
    return flag("--portable-float", out,
                "full-precision layers on onebit's portable float kernels, not XNNPACK\n"
                "(what the Cortex-M build runs, bit for bit)");
  }

  /// The positional argument (at most one; the usage line names it, so the option list does not); check
  /// given() after parsing when it is needed.
  CLI::Option* positional(const std::string& name, std::string* out) {
    return app.add_option(name, *out)->group("");
  }
  bool given(const std::string& name) const { return app.count(name) > 0; }

  /// A repeatable string option: every value given, in order, appended to *out ("--input a --input b"; no
  /// splitting at commas, one value per occurrence).
  CLI::Option* texts(const std::string& names, std::vector<std::string>* out, const std::string& value_name,
                     const std::string& description) {
    return app.add_option(names, *out, description)
        ->type_name(value_name)
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }

  /// A boolean flag.
  CLI::Option* flag(const std::string& names, bool* out, const std::string& description) {
    return app.add_flag(names, *out, description);
  }

  /// A base-10 integer option in [lo, hi]; the last value given counts and only it is checked. The message
  /// names the option, the range and the value.
  template <typename T>
  CLI::Option* integer(const std::string& names, T* out, long long lo, long long hi, const std::string& value_name,
                       const std::string& description) {
    const std::string name = long_name(names);
    return app
        .add_option(
            names,
            [out, lo, hi, name](const CLI::results_t& r) {
              long long v = 0;
              if (r.empty() || !parse_integer(r.back(), &v) || v < lo || v > hi)
                throw CLI::ValidationError(name + " expects an integer in [" + std::to_string(lo) + ", " +
                                           std::to_string(hi) + "], got '" + (r.empty() ? "" : r.back()) + "'");
              *out = T(v);
              return true;
            },
            description)
        ->type_name(value_name);
  }

  /// A string option checked (and converted) by `apply(value)`, which returns "" when the value is good and
  /// the error message otherwise; the last value given counts.
  CLI::Option* custom(const std::string& names, const std::function<std::string(const std::string&)>& apply,
                      const std::string& value_name, const std::string& description) {
    return app.add_option(
                  names,
                  [apply](const CLI::results_t& r) {
                    const std::string error = apply(r.empty() ? std::string() : r.back());
                    if (!error.empty()) throw CLI::ValidationError(error);
                    return true;
                  },
                  description)
        ->type_name(value_name);
  }

  CLI::App app;

 private:
  void report(const std::string& message) const {
    const std::string help = app.help();
    std::fprintf(stderr, "%s%s\n\n%s", prefix_.c_str(), message.c_str(), help.c_str());
  }

  // "--output" of "-o,--output": how messages name an option.
  static std::string long_name(const std::string& names) {
    const size_t at = names.find("--");
    return at == std::string::npos ? names : names.substr(at, names.find(',', at) - at);
  }

  std::string tool_, prefix_;
  int usage_status_ = 2;
};

}  // namespace onebit::cli
