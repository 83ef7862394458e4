// onebit-eval: classify an IDX image file with a model, report accuracy, write predictions.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli/flags.h"
#include "eval/evaluate.h"
#include "onebit/builder/model_builder.h"

static const char kUsage[] =
    "usage: onebit-eval --model M.fb --images IMAGES-idx3-ubyte[.gz] [--labels LABELS-idx1-ubyte[.gz]]\n"
    "                   [--predictions OUT.txt] [--limit N] [--isa NAME] [--threads N]\n"
    "  pixels are scaled to [0,1], then normalized with the model's stored (x - mean) / std\n"
    "  --labels FILE        true labels: prints 'accuracy: 0.XXXX (N images)'\n"
    "  --predictions FILE   one predicted class per line (written atomically)\n"
    "  --limit N            only the first N images\n"
    "  --isa NAME           scalar, avx2, avx512vpopcnt, neon (default: best available; or ONEBIT_ISA)\n"
    "  --threads N          default 1\n";

int main(int argc, char** argv) {
  onebit::cli::Flags flags(argc, argv, kUsage, {});
  flags.allow_only({"model", "images", "labels", "predictions", "limit", "isa", "threads"});
  const std::string model_path = flags.required("model");
  const std::string images_path = flags.required("images");
  onebit::InterpreterOptions options;
  options.isa = flags.str("isa");
  options.threads = int(flags.integer("threads", 1, 1, 256));
  const long limit = flags.integer("limit", -1, 0, 1L << 30);

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
  if (flags.has("labels")) {
    if (!(s = onebit::io::read_idx_u8(flags.str("labels"), &labels)).ok()) return die(s);
    if (labels.dims.size() != 1 || labels.items() < images.items())
      return die(onebit::Status::Error(flags.str("labels") + ": expected at least " +
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
  std::printf("isa: %s, threads: %d\n", isa.c_str(), options.threads);

  if (flags.has("predictions")) {
    std::string text;
    for (int p : predictions) text += std::to_string(p) + "\n";
    s = onebit::write_file_atomically(flags.str("predictions"), std::vector<uint8_t>(text.begin(), text.end()));
    if (!s.ok()) return die(s);
  }
  if (flags.has("labels")) {
    size_t correct = 0;
    for (size_t i = 0; i < predictions.size(); ++i) correct += (predictions[i] == int(labels.data[i]));
    std::printf("accuracy: %.4f (%zu images)\n", predictions.empty() ? 0.0 : double(correct) / double(predictions.size()),
                predictions.size());
  }
  return 0;
}
