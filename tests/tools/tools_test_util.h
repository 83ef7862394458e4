// Helpers of the tools suite: a scratch folder, the fixture folder, spawning the built tools (through the
// cross build's emulator when there is one), and a small JSON reader for onebit-info --json.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace onebit::tools_test {

inline std::string source_dir() {
  if (const char* d = std::getenv("ONEBIT_SOURCE_DIR")) return d;
  return ONEBIT_TOOLS_SOURCE_DIR;
}

inline std::string fixture(const std::string& name) { return source_dir() + "/tests/tools/npy/" + name; }

/// A fresh folder under $TMPDIR (or /tmp), removed with its files when the object goes away.
class ScratchDir {
 public:
  ScratchDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/onebit-tools-test.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(mkdtemp(buf.data()) != nullptr);
    path_ = buf.data();
  }
  ~ScratchDir() {
    const std::string cmd = "rm -rf '" + path_ + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  REQUIRE(f.good());
}

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or could not start
  std::string out, err;
};

/// Runs `argv` (argv[0] a path) with stdout and stderr captured; a tool we built (`ours`) runs through the
/// emulator of a cross build, a program of the build machine (python3) directly.
inline RunResult spawn(std::vector<std::string> argv, const ScratchDir& dir, bool ours = true) {
  std::vector<std::string> full;
  const std::string emulator = ours ? ONEBIT_TOOLS_EMULATOR : "";  // a CMake ;-list joined by '|'
  for (size_t start = 0; !emulator.empty() && start <= emulator.size();) {
    const size_t bar = emulator.find('|', start);
    const std::string part = emulator.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    if (!part.empty()) full.push_back(part);
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> cargv;
  for (std::string& a : full) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string out_path = dir.file(".spawn.out"), err_path = dir.file(".spawn.err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  RunResult r;
  if (rc != 0) {
    r.err = "posix_spawn failed for " + full[0];
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

// ---- a small JSON reader (RFC 8259, enough to check onebit-info's output) ----

struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    static const Json missing;
    auto it = object.find(key);
    return it == object.end() ? missing : it->second;
  }
  const Json& operator[](size_t i) const { return array.at(i); }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  /// False (with error()) unless `s` is exactly one JSON value, surrounded by whitespace only.
  bool parse(Json* out) {
    if (!value(out, 0)) return false;
    ws();
    if (i_ != s_.size()) return bad("trailing text");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  bool bad(const std::string& what) {
    error_ = what + " at offset " + std::to_string(i_);
    return false;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool lit(const char* w) {
    const std::string word(w);
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  static void utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += char(cp);
    } else if (cp < 0x800) {
      *out += char(0xc0 | cp >> 6), *out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += char(0xe0 | cp >> 12), *out += char(0x80 | (cp >> 6 & 0x3f)), *out += char(0x80 | (cp & 0x3f));
    } else {
      *out += char(0xf0 | cp >> 18), *out += char(0x80 | (cp >> 12 & 0x3f)), *out += char(0x80 | (cp >> 6 & 0x3f));
      *out += char(0x80 | (cp & 0x3f));
    }
  }
  bool str(std::string* out) {
    ++i_;  // '"'
    while (i_ < s_.size() && s_[i_] != '"') {
      const unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c < 0x20) return bad("raw control character in a string");
      if (c != '\\') {
        *out += char(c);
        ++i_;
        continue;
      }
      if (++i_ >= s_.size()) return bad("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          if (i_ + 4 > s_.size()) return bad("short \\u escape");
          uint32_t cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = s_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= uint32_t(h - '0');
            else if (h >= 'a' && h <= 'f') cp |= uint32_t(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') cp |= uint32_t(h - 'A' + 10);
            else return bad("bad hex digit in \\u escape");
          }
          utf8(cp, out);
          break;
        }
        default: return bad("unknown escape");
      }
    }
    if (i_ >= s_.size()) return bad("unterminated string");
    ++i_;
    return true;
  }
  bool value(Json* v, int depth) {
    if (depth > 64) return bad("too deep");
    ws();
    if (i_ >= s_.size()) return bad("unexpected end");
    const char c = s_[i_];
    if (c == '{') {
      v->type = Json::kObject;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      for (;;) {
        ws();
        if (i_ >= s_.size() || s_[i_] != '"') return bad("expected a key");
        std::string key;
        if (!str(&key)) return false;
        ws();
        if (i_ >= s_.size() || s_[i_] != ':') return bad("expected ':'");
        ++i_;
        if (v->object.count(key)) return bad("duplicate key '" + key + "'");
        if (!value(&v->object[key], depth + 1)) return false;
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
        return bad("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v->type = Json::kArray;
      ++i_;
      ws();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (;;) {
        v->array.emplace_back();
        if (!value(&v->array.back(), depth + 1)) return false;
        ws();
        if (i_ < s_.size() && s_[i_] == ',') { ++i_; continue; }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
        return bad("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v->type = Json::kString;
      return str(&v->string);
    }
    if (lit("true")) return v->type = Json::kBool, v->boolean = true, true;
    if (lit("false")) return v->type = Json::kBool, true;
    if (lit("null")) return v->type = Json::kNull, true;
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return bad("unexpected character");
    if (s_[i_] == '0') ++i_;
    else while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return bad("digit expected after '.'");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_]))) return bad("digit expected in exponent");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
    }
    v->type = Json::kNumber;
    v->number = std::strtod(s_.substr(start, i_ - start).c_str(), nullptr);
    return true;
  }

  const std::string& s_;
  size_t i_ = 0;
  std::string error_;
};

}  // namespace onebit::tools_test
