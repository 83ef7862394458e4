// Internal to the reference (reference.h): the op table, one function per ONNX op, grouped by family in
// reference_elementwise.cc, reference_shape.cc and reference_layers.cc.
#pragma once

#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "verify/reference.h"

namespace onebit::converter {

using RefOpFn = Status (*)(RefNode& n);
using RefOpTable = std::map<std::string, RefOpFn>;

void add_elementwise_ops(RefOpTable* table);
void add_shape_ops(RefOpTable* table);
void add_layer_ops(RefOpTable* table);

/// An ONNX TensorProto as a RefTensor (raw or typed fields; external data and unknown types are errors).
Status tensor_from_proto(const onnx::TensorProto& t, RefTensor* out);

/// A value held as double as an int64, saturating at the int64 limits (exporters write INT64_MAX for "to
/// the end", which is 2^63 as a double); NaN is 0.
int64_t as_int64(double v);
/// Every value of `t` through as_int64.
std::vector<int64_t> ints_of(const RefTensor& t);

/// Row-major strides of `shape`.
std::vector<int64_t> strides_of(const std::vector<int64_t>& shape);
/// A negative axis counted from the end; an error when outside [-rank, rank).
Status normalize_axis(const RefNode& n, int64_t axis, size_t rank, size_t* out);

}  // namespace onebit::converter
