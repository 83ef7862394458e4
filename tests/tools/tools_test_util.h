// Helpers of the tools suite: a scratch folder, the fixture folder, spawning the built tools (through the
// cross build's emulator when there is one), and their JSON output parsed with nlohmann/json.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
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

// ---- JSON: a tool's output read with nlohmann/json ----

/// `text` parsed as exactly one JSON value (whitespace around it only), or a test failure naming the error.
/// Duplicate keys in an object, which the parser would otherwise let the last one win, fail too.
inline nlohmann::json parse_json(const std::string& text) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const nlohmann::json::parser_callback_t no_duplicates = [&](int, nlohmann::json::parse_event_t event,
                                                              nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == nlohmann::json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == nlohmann::json::parse_event_t::key && !open_objects.empty() &&
        !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, no_duplicates);
  } catch (const nlohmann::json::parse_error& e) {
    FAIL(e.what() << "\n" << text);
  }
  REQUIRE_MESSAGE(duplicate.empty(), "duplicate key '" << duplicate << "' in\n" << text);
  return j;
}

}  // namespace onebit::tools_test
