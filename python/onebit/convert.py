"""onebit.convert(): a PyTorch module, an ONNX file or ONNX bytes -> a onebit model, in memory.

    conversion = onebit.convert(module, example_input=torch.zeros(1, 1, 28, 28), input_mean=0.286, input_std=0.353)
    model = onebit.Model.from_bytes(conversion.model_bytes)
    conversion.save("model.fb")

The conversion is libonebit_convert.so's (converter/capi/onebit_convert.h), the same code as onebit-convert.
torch is imported only when a module is passed: converting ONNX needs numpy alone.

Lookup of libonebit_convert: the environment variable ONEBIT_CONVERT_LIBRARY (then the only place tried),
else onebit/_install.py's CONVERT_LIBRARY, else the system loader ("libonebit_convert.so.0").
"""

import ctypes
import io
import json
import os
import tempfile
import threading

import numpy as np

from . import _lib

SONAME = "libonebit_convert.so.0"


class ConversionError(RuntimeError):
    """The converter refused the model (the message names the node, the op and what was expected), or a
    module could not be exported to ONNX."""


class _ConversionStruct(ctypes.Structure):
    pass


_ConversionP = ctypes.POINTER(_ConversionStruct)
_loaded = []
_lock = threading.Lock()


def _declare(lib):
    lib.onebit_convert_buffer.restype = ctypes.c_int
    lib.onebit_convert_buffer.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(_ConversionP)]
    lib.onebit_conversion_model.restype = ctypes.c_void_p
    lib.onebit_conversion_model.argtypes = [_ConversionP, ctypes.POINTER(ctypes.c_size_t)]
    lib.onebit_conversion_report.restype = ctypes.c_char_p
    lib.onebit_conversion_report.argtypes = [_ConversionP]
    lib.onebit_conversion_free.restype = None
    lib.onebit_conversion_free.argtypes = [_ConversionP]
    lib.onebit_verify_buffer.restype = ctypes.c_int
    lib.onebit_verify_buffer.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p,
                                         ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t,
                                         ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)]
    lib.onebit_verification_report.restype = ctypes.c_char_p
    lib.onebit_verification_report.argtypes = [ctypes.c_void_p]
    lib.onebit_verification_free.restype = None
    lib.onebit_verification_free.argtypes = [ctypes.c_void_p]
    lib.onebit_convert_last_error.restype = ctypes.c_char_p
    lib.onebit_convert_last_error.argtypes = []
    return lib


def _library():
    """libonebit_convert, found as _lib finds libonebit (its own variable, _install.py name and soname)."""
    with _lock:
        if not _loaded:
            candidates = _lib._candidates("ONEBIT_CONVERT_LIBRARY", "CONVERT_LIBRARY", SONAME)
            _loaded.append(_lib.load_first(candidates, _declare, "libonebit_convert"))
    return _loaded[0]


def write_atomically(path, write):
    """Calls write(binary file) on a temporary file in path's folder, then renames it to `path`: the file is
    complete or untouched (python -m onebit run's outputs too)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".onebit-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Conversion:
    """A converted model: .model_bytes (the onebit FlatBuffer), .report (a dict: summary text, warnings,
    binary_layers, float16_layers, int8_layers, binary_macs, float_macs, onnx_parameter_bytes, model_bytes),
    .notes (what convert() itself decided, e.g. a fixed-batch export), .save(path)."""

    def __init__(self, model_bytes, report, notes):
        self.model_bytes = model_bytes
        self.report = report
        self.notes = notes

    @property
    def summary(self):
        return self.report["summary"]

    @property
    def warnings(self):
        return list(self.report["warnings"])

    def save(self, path):
        """Writes the model to `path` atomically (a temporary file in the same folder, then a rename)."""
        write_atomically(path, lambda f: f.write(self.model_bytes))

    def __repr__(self):
        return "onebit.Conversion(%d bytes, %d binary layers)" % (len(self.model_bytes), self.report["binary_layers"])


_FLAGS = {"strict", "float_reference", "float16_weights", "int8_float_layers"}
_VALUES = {"batch", "sign_zero", "calibration_images", "max_fold_bytes"}


def _numbers(v):
    if np.isscalar(v):
        return repr(float(v))
    return ",".join(repr(float(x)) for x in np.asarray(v, dtype=np.float64).ravel())


def _options(options, tmpdir):
    out = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if value is None:
            continue
        if key in _FLAGS:
            out.append("%s=%d" % (name, 1 if value else 0))
        elif key in ("input_mean", "input_std"):
            out.append("%s=%s" % (name, _numbers(value)))
        elif key == "labels":
            labels = [str(x) for x in value]
            if any("\n" in x for x in labels):
                raise ValueError("labels may not contain newlines")
            out.append("labels=" + "\n".join(labels))
        elif key == "calibration":
            if isinstance(value, (str, os.PathLike)):
                path = os.fspath(value)
            else:  # an array of normalized images, N x C x H x W: through a .npy file
                arr = np.ascontiguousarray(value, dtype=np.float32)
                if arr.ndim != 4:
                    raise ValueError("calibration: an array of shape (N, C, H, W), got shape %s" % (arr.shape,))
                path = os.path.join(tmpdir, "calibration.npy")
                np.save(path, arr)
            out.append("calibration=" + path)
        elif key in _VALUES:
            out.append("%s=%s" % (name, value))
        else:
            raise TypeError("convert() got an unknown option %r (options: input_mean, input_std, labels, batch, "
                            "sign_zero, strict, float_reference, float16_weights, int8_float_layers, calibration, "
                            "calibration_images, max_fold_bytes)" % key)
    return out


def _export_module(module, example_input, notes):
    """The module as ONNX bytes (opset 13, eval mode, dynamic batch; a fixed batch where the exporter
    cannot do the dynamic one, said in notes)."""
    import torch  # only here: converting ONNX does not need torch

    if example_input is None:
        raise ValueError("convert(module) needs example_input, a tensor of the input's shape (e.g. torch.zeros(1, 1, 28, 28))")
    if not isinstance(example_input, torch.Tensor):
        example_input = torch.as_tensor(np.asarray(example_input, dtype=np.float32))
    was_training = module.training
    module.eval()
    try:
        errors = []
        for dynamic in (True, False):
            buf = io.BytesIO()
            kwargs = dict(opset_version=13, input_names=["input"], output_names=["output"], do_constant_folding=True)
            if dynamic:
                kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
            try:
                with torch.no_grad():
                    torch.onnx.export(module, (example_input,), buf, **kwargs)
            except Exception as e:  # the exporter's own error types vary between torch versions
                errors.append("%s batch: %s: %s" % ("dynamic" if dynamic else "fixed", type(e).__name__, e))
                continue
            if not dynamic:
                notes.append("exported with a fixed batch of %d (the dynamic-batch export failed: %s)"
                             % (example_input.shape[0], errors[0]))
            return buf.getvalue()
        raise ConversionError("torch.onnx.export failed on this module:\n  " + "\n  ".join(errors))
    finally:
        module.train(was_training)


def convert(source, example_input=None, **options):
    """Converts `source` — a path to an ONNX file, ONNX bytes, or a torch.nn.Module (exported in memory with
    torch.onnx.export, opset 13, eval mode) — into a onebit model; returns a Conversion. Options mirror
    onebit-convert's flags: input_mean, input_std (a number or one per channel), labels (a list), batch,
    sign_zero ('ternary', 'plus-one', 'error'), strict, float_reference, float16_weights, int8_float_layers,
    calibration (a file path, or an array N x C x H x W of normalized images), calibration_images,
    max_fold_bytes. The model records where it came from (the path, "ONNX bytes", or "torch module <class>").
    Raises ConversionError with the converter's message (ValueError for a bad option value); nothing is
    written."""
    notes = []
    origin = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        origin = "ONNX bytes"
    elif isinstance(source, (str, os.PathLike)):
        origin = os.fspath(source)
        with open(origin, "rb") as f:
            data = f.read()
    elif hasattr(source, "state_dict") and hasattr(source, "forward"):
        data = _export_module(source, example_input, notes)
        origin = "torch module %s" % type(source).__name__
    else:
        raise TypeError("convert() takes an ONNX path, ONNX bytes or a torch.nn.Module, not %s" % type(source).__name__)
    if not data:
        raise ConversionError("%s: empty" % origin)
    lib = _library()
    with tempfile.TemporaryDirectory(prefix="onebit-convert-") as tmpdir:
        opts = [o.encode("utf-8") for o in _options(options, tmpdir)]
        argv = (ctypes.c_char_p * (len(opts) + 1))(*opts, None)
        handle = _ConversionP()
        buf = ctypes.create_string_buffer(data, len(data))
        status = lib.onebit_convert_buffer(buf, len(data), origin.encode("utf-8"), argv, ctypes.byref(handle))
    if status != 0:
        message = lib.onebit_convert_last_error().decode("utf-8", "replace")
        if status == 2:
            raise ValueError(message)
        raise ConversionError(message)
    try:
        size = ctypes.c_size_t()
        ptr = lib.onebit_conversion_model(handle, ctypes.byref(size))
        model_bytes = ctypes.string_at(ptr, size.value)
        report = json.loads(lib.onebit_conversion_report(handle).decode("utf-8"))
    finally:
        lib.onebit_conversion_free(handle)
    return Conversion(model_bytes, report, notes)
