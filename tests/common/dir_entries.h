// Test helper: the names in a directory, for the suites that check what a tool left behind.
#pragma once

#include <dirent.h>

#include <cstring>
#include <string>
#include <vector>

namespace onebit::testing {

/// The names of the entries of `dir` but "." and "..", in readdir order; empty if it cannot be opened.
inline std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    closedir(d);
  }
  return names;
}

}  // namespace onebit::testing
