// The ONNX test-graph helper of the converter suite, compiled into this suite too (the suite's sources are the
// files of this folder, see tests/CMakeLists.txt), so that both build their models the same way.
#include "converter/onnx_test_graph.cc"
