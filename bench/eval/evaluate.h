// Runs a classifier model over a set of uint8 images: pixels scaled to [0, 1], then the model's stored
// input normalization (x - mean) / std (metadata input_mean / input_std: one value, or one per channel).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "onebit/interpreter.h"
#include "onebit/io/idx.h"
#include "onebit/model.h"

namespace onebit::eval {

/// predictions[i] = argmax of the model's first output for image i. `progress(done, total)` is called
/// now and then when given.
Status classify(const Model& model, const InterpreterOptions& options, const io::IdxArray& images,
                std::vector<int>* predictions, std::string* isa_used,
                const std::function<void(size_t, size_t)>& progress = nullptr);

}  // namespace onebit::eval
