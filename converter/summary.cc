#include "summary.h"

#include <cstdio>
#include <sstream>

namespace onebit::converter {

std::string format_summary(const SummaryInput& in) {
  std::ostringstream os;
  int binary = 0, fp = 0, folded = 0;
  os << (in.float_reference ? "onebit-convert (float reference)\n" : "onebit-convert\n");
  for (const std::string& b : in.imported.batch_set) os << b << "\n";
  os << "nodes:\n";
  for (const auto& [name, op] : in.g.source_nodes) {
    std::string what;
    auto e = in.report.emitted.find(name);
    auto f = in.log.node_fate.find(name);
    if (e != in.report.emitted.end()) {
      what = e->second;
      if (what.rfind("binary", 0) == 0) ++binary;
      else ++fp;
    } else if (f != in.log.node_fate.end()) {
      what = f->second;
      ++folded;
    } else {
      what = "removed (no output depends on it)";
    }
    os << "  " << name << " (" << op << ") -> " << what << "\n";
  }
  if (!in.log.fired.empty()) {
    os << "rules:\n";
    for (const auto& [rule, count] : in.log.fired) os << "  " << rule << ": " << count << "\n";
  }
  for (const std::string& w : in.warnings) os << "warning: " << w << "\n";
  char line[320];
  // k-bit kinds among the binary layers: "(BinaryConv2D 3 (W1A2 2, W1 ternary 1), ...)".
  std::string kinds;
  for (const auto& [label, count] : in.report.kbit_layers) kinds += (kinds.empty() ? "" : ", ") + label + " " + std::to_string(count);
  std::snprintf(line, sizeof line, "binary layers: %d (BinaryConv2D %d%s, BinaryFullyConnected %d)\n",
                in.report.binary_convs + in.report.binary_fcs, in.report.binary_convs,
                kinds.empty() ? "" : (" (k-bit: " + kinds + ")").c_str(), in.report.binary_fcs);
  os << line;
  if (in.report.quantize_levels) os << "k-bit activation quantizers: " << in.report.quantize_levels << "\n";
  if (in.report.bwn_layers) {
    std::snprintf(line, sizeof line,
                  "BWN layers (float compute, 1-bit weights + scale): %d; their weights %lld bytes as float32 -> %lld "
                  "bytes stored (%lld bytes smaller)\n",
                  in.report.bwn_layers, (long long)in.report.bwn_float_bytes, (long long)in.report.bwn_packed_bytes,
                  (long long)(in.report.bwn_float_bytes - in.report.bwn_packed_bytes));
    os << line;
  }
  std::snprintf(line, sizeof line, "ops: %d binary, %d float, %d folded, %zu constant-folded\n", binary, fp, folded,
                in.log.folded.size());
  os << line;
  const double ratio = in.onebit_file_bytes ? double(in.onnx_file_bytes) / double(in.onebit_file_bytes) : 0.0;
  std::snprintf(line, sizeof line,
                "bytes: ONNX parameters %lld, ONNX file %lld, onebit file %zu (ONNX file / onebit file = %.2fx)\n",
                (long long)in.g.onnx_parameter_bytes, (long long)in.onnx_file_bytes, in.onebit_file_bytes, ratio);
  os << line;
  std::snprintf(line, sizeof line, "MACs per inference: binary %lld, float %lld\n", (long long)in.report.binary_macs,
                (long long)in.report.float_macs);
  os << line;
  return os.str();
}

}  // namespace onebit::converter
