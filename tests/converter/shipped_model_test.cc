// End to end: the shipped Fashion-MNIST binary ResNet (models/fashion_mnist/bnn_resnet.onnx), converted by
// the converter and run on all 10,000 test images, predicts what PyTorch predicted
// (models/fashion_mnist/pytorch_predictions.txt) on >= 99.9% of images, with accuracy within 0.1 points of
// PyTorch's; the --float-reference conversion as well.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "convert.h"
#include "eval/evaluate.h"
#include "eval/idx.h"
#include "onebit/kernels/isa.h"
#include "onebit/model.h"

namespace {

const char kImages[] = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
const char kLabels[] = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";

std::string source_dir() {
  const char* dir = std::getenv("ONEBIT_SOURCE_DIR");
  return dir ? dir : ".";
}

std::vector<int> read_predictions(const std::string& path) {
  std::ifstream in(path);
  std::vector<int> out;
  int v;
  while (in >> v) out.push_back(v);
  return out;
}

double accuracy(const std::vector<int>& predictions, const onebit::eval::IdxArray& labels) {
  size_t correct = 0;
  for (size_t i = 0; i < predictions.size(); ++i) correct += predictions[i] == int(labels.data[i]);
  return double(correct) / double(predictions.size());
}

}  // namespace

TEST_CASE("shipped Fashion-MNIST model agrees with PyTorch on the whole test set") {
  const std::string dir = source_dir() + "/models/fashion_mnist";
  const std::vector<int> torch_pred = read_predictions(dir + "/pytorch_predictions.txt");
  REQUIRE(torch_pred.size() == 10000);
  onebit::eval::IdxArray images, labels;
  onebit::Status s = onebit::eval::read_idx_u8(kImages, &images);
  REQUIRE_MESSAGE(s.ok(), s.message());
  s = onebit::eval::read_idx_u8(kLabels, &labels);
  REQUIRE_MESSAGE(s.ok(), s.message());
  REQUIRE(images.items() == 10000);
  const double torch_acc = accuracy(torch_pred, labels);

  for (bool float_reference : {false, true}) {
    INFO("float_reference " << float_reference);
    onebit::converter::ConvertOptions options;
    options.float_reference = float_reference;
    options.input_mean = {0.2860f};
    options.input_std = {0.3530f};
    onebit::converter::ConvertResult result;
    s = onebit::converter::convert_onnx_file(dir + "/bnn_resnet.onnx", options, &result);
    REQUIRE_MESSAGE(s.ok(), s.message());
    if (!float_reference) CHECK(result.binary_macs > result.float_macs);

    std::unique_ptr<onebit::Model> model;
    s = onebit::Model::load_buffer(result.model.data(), result.model.size(), &model);
    REQUIRE_MESSAGE(s.ok(), s.message());
    std::vector<int> pred;
    s = onebit::eval::classify(*model, onebit::InterpreterOptions{}, images, &pred, nullptr);
    REQUIRE_MESSAGE(s.ok(), s.message());

    size_t same = 0;
    for (size_t i = 0; i < pred.size(); ++i) same += pred[i] == torch_pred[i];
    const double agreement = double(same) / double(pred.size());
    const double acc = accuracy(pred, labels);
    MESSAGE(std::string(float_reference ? "float reference" : "binary") << ": agreement with PyTorch " << agreement
            << ", accuracy " << acc << " (PyTorch " << torch_acc << ")");
    CHECK(agreement >= 0.999);
    CHECK(std::fabs(acc - torch_acc) <= 0.001 + 1e-12);

    // Every kernel path this CPU has predicts exactly the same labels (first 2,000 images).
    if (float_reference) continue;
    onebit::eval::IdxArray head = images;
    head.dims[0] = 2000;
    head.data.resize(2000 * head.item_size());
    for (onebit::kernels::Isa isa : onebit::kernels::kAllIsas) {
      if (!onebit::kernels::isa_supported(isa)) {
        MESSAGE("isa " << std::string(onebit::kernels::isa_name(isa)) << " skipped: not supported here");
        continue;
      }
      onebit::InterpreterOptions options_isa;
      options_isa.isa = onebit::kernels::isa_name(isa);
      std::vector<int> pred_isa;
      s = onebit::eval::classify(*model, options_isa, head, &pred_isa, nullptr);
      REQUIRE_MESSAGE(s.ok(), s.message());
      INFO("isa " << options_isa.isa);
      CHECK(std::equal(pred_isa.begin(), pred_isa.end(), pred.begin()));
    }
  }
}
