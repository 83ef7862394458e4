// The tools' command-line parser (cli.h) over CLI11: the one file that includes CLI11.
#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "onebit/core/isa.h"

namespace onebit::cli {
namespace {

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

// "--output" of "-o,--output": how messages name an option.
std::string long_name(const std::string& names) {
  const size_t at = names.find("--");
  return at == std::string::npos ? names : names.substr(at, names.find(',', at) - at);
}

}  // namespace

Option& Option::required() {
  option_->required();
  return *this;
}

Option::operator bool() const { return option_->count() > 0; }

Parser::Parser(const std::string& tool, const std::string& usage, const std::string& epilogue, size_t column)
    : app_(std::make_unique<CLI::App>(usage, tool)), tool_(tool), prefix_(tool + ": ") {
  auto formatter = std::make_shared<HelpFormatter>();
  formatter->column_width(column);
  app_->formatter(formatter);
  app_->footer(epilogue);
  app_->set_help_flag();  // added last by parse(), so it is listed after the tool's options
  app_->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

Parser::~Parser() = default;

void Parser::set_error_style(const std::string& prefix, int status) {
  prefix_ = prefix;
  usage_status_ = status;
}

int Parser::parse(int argc, char** argv) {
  if (app_->get_help_ptr() == nullptr) app_->set_help_flag("-h,--help", "this text");
  try {
    app_->parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const std::string help = app_->help();
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

void Parser::fail(const std::string& message) const {
  report(message);
  std::exit(usage_status_);
}

Option Parser::text(const std::string& names, std::string* out, const std::string& value_name,
                    const std::string& description) {
  return Option(app_->add_option(names, *out, description)->type_name(value_name));
}

Option Parser::nonempty_text(const std::string& names, std::string* out, const std::string& value_name,
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

Option Parser::isa(std::string* out, const std::string& purpose, bool nonempty) {
  const std::string names = core::isa_name_list();
  const std::string description = purpose + ": " + names + "\n(default: the best this CPU supports, or $ONEBIT_ISA)";
  return nonempty ? nonempty_text("--isa", out, "NAME", names, description) : text("--isa", out, "NAME", description);
}

Option Parser::portable_float(bool* out) {
  return flag("--portable-float", out,
              "full-precision layers on onebit's portable float kernels, not XNNPACK\n"
              "(what the Cortex-M build runs, bit for bit)");
}

Option Parser::positional(const std::string& name, std::string* out) {
  return Option(app_->add_option(name, *out)->group(""));
}

bool Parser::given(const std::string& name) const { return app_->count(name) > 0; }

Option Parser::texts(const std::string& names, std::vector<std::string>* out, const std::string& value_name,
                     const std::string& description) {
  return Option(app_->add_option(names, *out, description)
                    ->type_name(value_name)
                    ->expected(1)
                    ->allow_extra_args(false)
                    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll));
}

Option Parser::flag(const std::string& names, bool* out, const std::string& description) {
  return Option(app_->add_flag(names, *out, description));
}

Option Parser::integer_option(const std::string& names, long long lo, long long hi, const std::string& value_name,
                              const std::string& description, std::function<void(long long)> store) {
  const std::string name = long_name(names);
  return Option(app_->add_option(
                        names,
                        [store, lo, hi, name](const CLI::results_t& r) {
                          long long v = 0;
                          if (r.empty() || !parse_integer(r.back(), &v) || v < lo || v > hi)
                            throw CLI::ValidationError(name + " expects an integer in [" + std::to_string(lo) +
                                                       ", " + std::to_string(hi) + "], got '" +
                                                       (r.empty() ? "" : r.back()) + "'");
                          store(v);
                          return true;
                        },
                        description)
                    ->type_name(value_name));
}

Option Parser::custom(const std::string& names, const std::function<std::string(const std::string&)>& apply,
                      const std::string& value_name, const std::string& description) {
  return Option(app_->add_option(
                        names,
                        [apply](const CLI::results_t& r) {
                          const std::string error = apply(r.empty() ? std::string() : r.back());
                          if (!error.empty()) throw CLI::ValidationError(error);
                          return true;
                        },
                        description)
                    ->type_name(value_name));
}

void Parser::report(const std::string& message) const {
  const std::string help = app_->help();
  std::fprintf(stderr, "%s%s\n\n%s", prefix_.c_str(), message.c_str(), help.c_str());
}

}  // namespace onebit::cli
