#include "summary.h"

#include <cstdio>
#include <sstream>

namespace onebit::converter {

std::string format_summary(const Graph& g, const Plan& plan, const FoldedConstants& constants,
                           const EmitReport& report, int64_t onnx_file_bytes, size_t onebit_file_bytes,
                           bool float_reference) {
  std::ostringstream os;
  int binary = 0, fp = 0, folded = 0;
  os << (float_reference ? "onebit-convert (float reference)\n" : "onebit-convert\n") << "nodes:\n";
  for (const Node& n : g.nodes) {
    std::string what;
    auto e = report.emitted.find(n.name);
    auto f = plan.folded_into.find(n.name);
    if (e != report.emitted.end()) {
      what = e->second;
      if (what.rfind("binary", 0) == 0) ++binary;
      else ++fp;
    } else if (f != plan.folded_into.end()) {
      what = "folded into " + f->second;
      ++folded;
    } else {
      what = "not needed by any output";
    }
    os << "  " << n.name << " (" << n.op_type << ") -> " << what << "\n";
  }
  for (const std::string& c : constants.folded) os << "  " << c << " -> evaluated at conversion time\n";
  for (const std::string& c : constants.dead) os << "  " << c << " -> removed (no output depends on it)\n";
  const double ratio = onebit_file_bytes ? double(onnx_file_bytes) / double(onebit_file_bytes) : 0.0;
  char line[256];
  std::snprintf(line, sizeof line, "ops: %d binary, %d float, %d folded, %zu constant-folded\n", binary, fp, folded,
                constants.folded.size());
  os << line;
  std::snprintf(line, sizeof line,
                "bytes: ONNX parameters %lld, ONNX file %lld, onebit file %zu (ONNX file / onebit file = %.2fx)\n",
                (long long)g.onnx_parameter_bytes, (long long)onnx_file_bytes, onebit_file_bytes, ratio);
  os << line;
  std::snprintf(line, sizeof line, "MACs per inference: binary %lld, float %lld\n", (long long)report.binary_macs,
                (long long)report.float_macs);
  os << line;
  return os.str();
}

}  // namespace onebit::converter
