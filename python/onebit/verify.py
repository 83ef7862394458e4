"""onebit.verify(reference, model, inputs): does a converted model give its source's answers?

    report = onebit.verify(torch_module, "model.fb", x)      # x: N x C x H x W float32, normalized
    report = onebit.verify("model.onnx", conversion, x)      # the ONNX graph, run by onebit-convert --verify's reference
    print(report)   # verify: 64 inputs, argmax agreement 64/64, max |Δ| relative to the logit range 0.0004

The reference is a torch.nn.Module (run in eval mode, no grad, on the same float32 inputs) or an ONNX model
(a path or bytes), run by the converter's --verify reference (converter/verify/: the ONNX graph in double
precision, independent of the converter; libonebit_convert's onebit_verify_buffer). The onebit model is a
path, model bytes, a Conversion or a Model. Both get exactly `inputs` (already normalized: no normalization
is applied on either side).

Where an input disagrees (its argmax differs, or its logits by more than 1e-3 of their range), the report
names the first layer of the onebit model whose output leaves the ONNX graph's tensor, and says whether only
Sign inputs within float rounding of 0 differ there (a binary activation flipped) or exact zeros (sign(0):
see convert(sign_zero=...)). For a module reference, the module is exported to ONNX in memory (as convert()
does) and its first `diagnose` disagreeing inputs (default 16) run through the same reference (for a model
converted for batch 1).
"""

import ctypes
import json
import os

import numpy as np

LOGIT_TOLERANCE = 1e-3  # verify.h's kLogitTolerance: an input disagrees beyond this share of its logit range


class VerifyReport:
    """What verify() found. Fields:
      reference        "torch" or "onnx"
      inputs           inputs checked (images; with a model converted for batch B > 1 and an ONNX reference,
                       invocations of B images)
      agreement        inputs whose argmax is the same in both
      differing        input indices whose argmax differs
      labels           {input: (reference label, onebit label)} for `differing` (ONNX reference: the reference's
                       label is None, and the onebit one too for seeded random inputs)
      max_rel_delta    max over inputs of max |reference - onebit| / the reference's logit range
      max_abs_delta    max |reference - onebit| (module reference; None for ONNX)
      disagreeing      input indices whose argmax differs or whose logits differ beyond 1e-3 of their range
      near_zero_binary, exact_zero_binary   Sign inputs within float rounding of 0 (exactly 0) over all inputs
                       (ONNX reference; None for a module)
      diagnoses        {input: {first_diverging_layer, divergence, explained_by_near_zero_signs,
                       exact_zero_cause, near_zero_binary}} for the first `diagnose` disagreeing inputs (seeded
                       random inputs: the first only; module reference: first_diverging_layer None when that
                       input agrees with the module's ONNX export)
      first_diverging_layer   the first disagreeing input's (None when none disagrees)
      passed           every argmax agrees (ONNX: also what onebit-convert --verify-strict accepts)
      text             onebit-convert's verify: lines (ONNX reference)
    """

    def __init__(self, reference_kind, inputs):
        self.reference = reference_kind
        self.inputs = inputs
        self.agreement = inputs
        self.differing, self.labels, self.disagreeing, self.diagnoses = [], {}, [], {}
        self.max_rel_delta, self.max_abs_delta = 0.0, None
        self.near_zero_binary = self.exact_zero_binary = None
        self.text = ""
        self._passed = None

    @property
    def first_diverging_layer(self):
        return self.diagnoses[self.disagreeing[0]]["first_diverging_layer"] if self.disagreeing and \
            self.disagreeing[0] in self.diagnoses else None

    @property
    def passed(self):
        return self.agreement == self.inputs and self._passed is not False

    def __str__(self):
        if self.text:
            lines = self.text.rstrip("\n").split("\n")
        else:
            lines = ["verify: %d inputs, argmax agreement %d/%d, max |Δ| relative to the logit range %.3g" % (
                self.inputs, self.agreement, self.inputs, self.max_rel_delta)]
        if self.differing:
            name = lambda v: "?" if v is None else str(v)
            shown = ", ".join("%d (reference %s, onebit %s)" % (i, name(self.labels[i][0]), name(self.labels[i][1]))
                              for i in self.differing[:8])
            lines.append("differing inputs: " + shown + (" ..." if len(self.differing) > 8 else ""))
        if self.reference == "torch":
            for i in self.disagreeing[:4]:
                d = self.diagnoses.get(i)
                if d is None:
                    continue
                if d["first_diverging_layer"] is None:
                    lines.append("input %d: agrees with the module's ONNX export in double precision (%d Sign "
                                 "inputs within float rounding of 0): torch's float32 is what differs" %
                                 (i, d["near_zero_binary"]))
                else:
                    lines.append("input %d: first diverging layer '%s' %s" % (i, d["first_diverging_layer"],
                                                                              d["divergence"]))
        return "\n".join(lines)

    __repr__ = __str__


def _model_bytes(model):
    from . import Model, Conversion
    if isinstance(model, Conversion):
        return model.model_bytes
    if isinstance(model, (bytes, bytearray, memoryview)):
        return bytes(model)
    if isinstance(model, Model):
        data = getattr(model, "_data", None)
        if data is None:
            with open(model.source, "rb") as f:
                data = f.read()
        return data
    with open(os.fspath(model), "rb") as f:
        return f.read()


def _onebit_outputs(data, x, threads):
    """The onebit model's outputs on x (validated by Interpreter.run: ValueError / TypeError naming the
    input) as float64 [N, -1], and the model's batch."""
    from . import Model
    with Model.from_bytes(data) as m, m.interpreter(threads=threads) as it:
        got = it.run(x)
        if isinstance(got, list):
            got = got[0]
        return np.asarray(got, dtype=np.float64).reshape(x.shape[0], -1), it.batch


def _nhwc(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1) if x.ndim == 4 else x, dtype=np.float32)


def onnx_reference(onnx, model_data, x_nhwc=None, count=None, origin=None, diagnose=16):
    """libonebit_convert's onebit_verify_buffer: the JSON result (converter/capi/onebit_convert.h) of the
    ONNX graph `onnx` (bytes) against the onebit model `model_data`, on x_nhwc ([count x the model's input
    size] float32, the runtime's layout) or, when None, on `count` seeded random normal inputs (the CLI's
    --verify=count); the first `diagnose` disagreeing inputs get their first diverging layer. Raises
    ConversionError (the check cannot run) or ValueError (bad arguments)."""
    from .convert import ConversionError, _library
    lib = _library()
    out = ctypes.c_void_p()
    data = None if x_nhwc is None else np.ascontiguousarray(x_nhwc, dtype=np.float32)
    floats = 0 if data is None else data.size
    n = count if data is None else (data.shape[0] if count is None else count)
    status = lib.onebit_verify_buffer(onnx, len(onnx), (origin or "ONNX bytes").encode("utf-8"), model_data,
                                      len(model_data), None if data is None else data.ctypes.data, floats, n,
                                      max(int(diagnose), 0), ctypes.byref(out))
    if status != 0:
        message = lib.onebit_convert_last_error().decode("utf-8", "replace")
        raise (ValueError if status == 2 else ConversionError)(message)
    try:
        return json.loads(lib.onebit_verification_report(out).decode("utf-8"))
    finally:
        lib.onebit_verification_free(out)


def _diagnosis(entry):
    """A per_input entry's diagnosis as VerifyReport.diagnoses holds it (first_diverging_layer None when the
    input agrees with the ONNX reference)."""
    keys = ("first_diverging_layer", "divergence", "explained_by_near_zero_signs", "exact_zero_cause")
    d = {k: entry.get(k) for k in keys}
    d["near_zero_binary"] = entry["near_zero_binary"]
    return d


def _verify_onnx(onnx, origin, data, x, threads, count, diagnose):
    got, batch = None, 1
    if x is not None:
        got, batch = _onebit_outputs(data, x, threads)  # validates x first
        batch = max(batch, 1)
        if x.shape[0] % batch:
            raise ValueError("verify: %d inputs are not a multiple of the model's batch %d" % (x.shape[0], batch))
    r = onnx_reference(onnx, data, None if x is None else _nhwc(x), count if x is None else x.shape[0] // batch,
                       origin, diagnose)
    report = VerifyReport("onnx", r["inputs"])
    for e in r["per_input"]:
        i = e["input"]
        if not e["argmax_agrees"]:
            report.differing.append(i)
            report.labels[i] = (None, None if got is None else int(got[i * batch].argmax()))
        if e["disagrees"]:
            report.disagreeing.append(i)
        if "first_diverging_layer" in e:
            report.diagnoses[i] = _diagnosis(e)
    report.agreement = r["argmax_agree"]
    report.max_rel_delta = float(r["max_relative_delta"])
    report.near_zero_binary, report.exact_zero_binary = r["near_zero_binary"], r["exact_zero_binary"]
    report.text, report._passed = r["text"], bool(r["passed"])
    return report


def _verify_module(module, data, x, threads, diagnose):
    import torch  # only here
    from .convert import _export_module

    got, batch = _onebit_outputs(data, x, threads)  # validates x first
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            want = module(torch.from_numpy(x)).detach().cpu().numpy().astype(np.float64).reshape(x.shape[0], -1)
    finally:
        module.train(was_training)
    if want.shape != got.shape:
        raise ValueError("verify: the module gives %s values per input, the onebit model %s"
                         % (want.shape[1:], got.shape[1:]))
    report = VerifyReport("torch", x.shape[0])
    ref_label, got_label = want.argmax(1), got.argmax(1)
    report.differing = [int(i) for i in np.nonzero(ref_label != got_label)[0]]
    report.agreement = report.inputs - len(report.differing)
    report.labels = {i: (int(ref_label[i]), int(got_label[i])) for i in report.differing}
    if want.size:
        hi, lo = want.max(1), want.min(1)
        span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
        delta = np.abs(want - got).max(1)
        report.max_abs_delta = float(delta.max())
        report.max_rel_delta = float((delta / span).max())
        report.disagreeing = [int(i) for i in np.nonzero((ref_label != got_label) | (delta > LOGIT_TOLERANCE * span))[0]]
    diagnosed = report.disagreeing[:max(int(diagnose), 0)]
    if diagnosed and batch <= 1:
        onnx = _export_module(module, torch.from_numpy(x[:1]), [])
        r = onnx_reference(onnx, data, _nhwc(x[diagnosed]), len(diagnosed), "torch module %s" % type(module).__name__,
                           len(diagnosed))
        for i, e in zip(diagnosed, r["per_input"]):
            report.diagnoses[i] = _diagnosis(e)
    return report


def verify(reference, model, inputs=None, threads=1, count=32, diagnose=16):
    """Runs `reference` and the onebit `model` on `inputs` and returns a VerifyReport (its fields above).

    reference: a torch.nn.Module, or an ONNX model (a path or bytes) run by onebit-convert --verify's reference.
    model: a .fb path, model bytes, a Conversion or a Model.
    inputs: N x C x H x W (PyTorch's layout; other ranks as the model takes them) normalized float32. With an
    ONNX reference it may be None: `count` seeded random normal inputs, the very check (and verify: line)
    `onebit-convert --verify=count` prints; only the first disagreeing one is diagnosed then.
    diagnose: how many disagreeing inputs get their first diverging layer (each further one reruns the
    reference on it: ~0.05 s on the shipped model, plus one ONNX export for a module).
    Raises ValueError / TypeError for inputs the model does not take (naming the input), ConversionError when
    the reference cannot run (an op it lacks, a module that does not export)."""
    data = _model_bytes(model)
    x = None
    if inputs is not None:
        x = np.asarray(inputs)
        if x.dtype.kind not in "fiu":
            raise TypeError("verify: inputs of dtype %s are not numbers" % x.dtype)
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim < 2:
            raise ValueError("verify: inputs need a batch dimension first, got shape %s" % (x.shape,))
    if isinstance(reference, (bytes, bytearray, memoryview)):
        return _verify_onnx(bytes(reference), "ONNX bytes", data, x, threads, count, diagnose)
    if isinstance(reference, (str, os.PathLike)):
        path = os.fspath(reference)
        with open(path, "rb") as f:
            return _verify_onnx(f.read(), path, data, x, threads, count, diagnose)
    if hasattr(reference, "state_dict") and hasattr(reference, "forward"):
        if x is None:
            raise ValueError("verify(module, ...) needs inputs (N x C x H x W, normalized)")
        return _verify_module(reference, data, x, threads, diagnose)
    raise TypeError("verify() takes a torch.nn.Module or an ONNX path or bytes as reference, not %s"
                    % type(reference).__name__)
