#include "eval/evaluate.h"

#include <memory>


namespace onebit::eval {

Status classify(const Model& model, const InterpreterOptions& options, const io::IdxArray& images,
                std::vector<int>* predictions, std::string* isa_used,
                const std::function<void(size_t, size_t)>& progress) {
  std::unique_ptr<Interpreter> interp;
  Status s = Interpreter::create(model, options, &interp);
  if (!s.ok()) return s;
  if (isa_used) *isa_used = interp->isa_name();
  if (interp->input_count() != 1 || interp->output_count() < 1)
    return Status::Error("model must have one input and at least one output");
  const std::vector<int>& shape = interp->input_info(0).shape;
  if (shape.size() != 4) return Status::Error("model input must be NHWC (rank 4)");
  const size_t batch = size_t(shape[0]);
  const size_t channels = size_t(shape[3]);
  const size_t per_image = size_t(shape[1]) * size_t(shape[2]) * channels;
  if (per_image != images.item_size())
    return Status::Error("images have " + std::to_string(images.item_size()) + " values each, the model input " +
                         std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + "x" + std::to_string(channels) +
                         " takes " + std::to_string(per_image));
  const std::vector<int>& out_shape = interp->output_info(0).shape;
  const size_t classes = out_shape.empty() ? 0 : size_t(out_shape.back());
  if (classes == 0) return Status::Error("model output has no classes");

  std::vector<float> mean(channels, 0.0f), stdev(channels, 1.0f);
  {
    auto fill = [&](const std::vector<float>& v, std::vector<float>& dst, const char* what) -> Status {
      if (v.empty()) return Status::Ok();
      if (v.size() != 1 && v.size() != channels)
        return Status::Error(std::string("metadata ") + what + " has " + std::to_string(v.size()) +
                             " values, expected 1 or " + std::to_string(channels));
      for (size_t c = 0; c < channels; ++c) dst[c] = v[v.size() == 1 ? 0 : c];
      return Status::Ok();
    };
    if (!(s = fill(model.info().input_mean, mean, "input_mean")).ok()) return s;
    if (!(s = fill(model.info().input_std, stdev, "input_std")).ok()) return s;
    for (float v : stdev)
      if (!(v > 0.0f)) return Status::Error("metadata input_std must be positive");
  }


  const size_t n = images.items();
  predictions->assign(n, -1);
  for (size_t first = 0; first < n; first += batch) {
    float* in = interp->input(0);
    for (size_t b = 0; b < batch; ++b) {
      const size_t img = std::min(first + b, n - 1);  // a last partial batch repeats the final image
      const uint8_t* px = &images.data[img * per_image];
      for (size_t i = 0; i < per_image; ++i) {
        const size_t c = i % channels;
        in[b * per_image + i] = (float(px[i]) / 255.0f - mean[c]) / stdev[c];
      }
    }
    if (!(s = interp->invoke()).ok()) return s;
    const float* out = interp->output(0);
    for (size_t b = 0; b < batch && first + b < n; ++b) {
      const float* row = out + b * classes;
      size_t best = 0;
      for (size_t k = 1; k < classes; ++k)
        if (row[k] > row[best]) best = k;
      (*predictions)[first + b] = int(best);
    }
    if (progress && ((first / batch) % 500 == 0 || first + batch >= n)) progress(std::min(first + batch, n), n);
  }
  return Status::Ok();
}

}  // namespace onebit::eval
