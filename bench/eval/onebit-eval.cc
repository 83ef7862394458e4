// onebit-eval: classify an IDX image file with a model, report accuracy, write predictions.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "eval/evaluate.h"
#include "onebit/builder/model_builder.h"

static const char kUsage[] =
    "usage: onebit-eval --model M.fb --images IMAGES-idx3-ubyte[.gz] [--labels LABELS-idx1-ubyte[.gz]]\n"
    "                   [--predictions OUT.txt] [--limit N] [--isa NAME] [--portable-float] [--threads N]\n"
    "  pixels are scaled to [0,1], then normalized with the model's stored (x - mean) / std\n";

int main(int argc, char** argv) {
  std::string model_path, images_path, labels_path, predictions_path;
  onebit::InterpreterOptions options;
  long limit = -1;
  onebit::cli::Parser cli("onebit-eval", kUsage, "", 23);
  cli.text("--model", &model_path, "FILE", "onebit model").required();
  cli.text("--images", &images_path, "FILE", "IDX images (gzip or plain)").required();
  const onebit::cli::Option labels_given =
      cli.text("--labels", &labels_path, "FILE", "true labels: prints 'accuracy: 0.XXXX (N images)'");
  const onebit::cli::Option predictions_given =
      cli.text("--predictions", &predictions_path, "FILE", "one predicted class per line (written atomically)");
  cli.integer("--limit", &limit, 0, 1L << 30, "N", "only the first N images");
  cli.isa(&options.isa, "kernel path", false);
  cli.portable_float(&options.portable_float_kernels);
  cli.integer("--threads", &options.threads, 1, 256, "N", "default 1");
  if (const int status = cli.parse(argc, argv); status >= 0) return status;

  auto die = [](const onebit::Status& s) {
    std::fprintf(stderr, "onebit-eval: %s\n", s.message().c_str());
    return 1;
  };
  std::unique_ptr<onebit::Model> model;
  onebit::Status s = onebit::Model::load_file(model_path, &model);
  if (!s.ok()) return die(s);
  onebit::io::IdxArray images, labels;
  if (!(s = onebit::io::read_idx_u8(images_path, &images)).ok()) return die(s);
  if (limit >= 0 && size_t(limit) < images.items()) {
    images.dims[0] = uint32_t(limit);
    images.data.resize(size_t(limit) * images.item_size());
  }
  if (labels_given) {
    if (!(s = onebit::io::read_idx_u8(labels_path, &labels)).ok()) return die(s);
    if (labels.dims.size() != 1 || labels.items() < images.items())
      return die(onebit::Status::Error(labels_path + ": expected at least " +
                                       std::to_string(images.items()) + " labels"));
  }

  std::vector<int> predictions;
  std::string isa;
  const bool tty = isatty(2);
  s = onebit::eval::classify(*model, options, images, &predictions, &isa, [&](size_t done, size_t total) {
    std::fprintf(stderr, tty ? "\r%zu / %zu images" : "%zu / %zu images\n", done, total);
    if (tty && done == total) std::fprintf(stderr, "\n");
  });
  if (!s.ok()) return die(s);
  std::printf("isa: %s, threads: %d%s\n", isa.c_str(), options.threads,
              options.portable_float_kernels ? ", float layers: portable kernels" : "");

  if (predictions_given) {
    std::string text;
    for (int p : predictions) text += std::to_string(p) + "\n";
    s = onebit::write_file_atomically(predictions_path, std::vector<uint8_t>(text.begin(), text.end()));
    if (!s.ok()) return die(s);
  }
  if (labels_given) {
    size_t correct = 0;
    for (size_t i = 0; i < predictions.size(); ++i) correct += (predictions[i] == int(labels.data[i]));
    std::printf("accuracy: %.4f (%zu images)\n", predictions.empty() ? 0.0 : double(correct) / double(predictions.size()),
                predictions.size());
  }
  return 0;
}
