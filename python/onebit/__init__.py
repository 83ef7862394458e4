"""onebit: run binarized neural networks (onebit .fb models) from Python.

    import numpy as np, onebit
    model = onebit.Model("model.fb")
    print(model.summary())                 # per operator: type, output shape, params, bytes, MACs
    with model.interpreter(threads=2) as it:
        logits = it.run(x)                 # x: float32 N,C,H,W (PyTorch's layout) or [N, C]; any N
        logits = it.run(pixels, normalize=True)   # raw pixels (uint8 0..255 or [0, 1]): the model's mean/std
    print(model.labels[int(np.argmax(logits[0]))])
    print(onebit.verify("model.onnx", model, x))  # or a torch module: agreement, first diverging layer

From a shell: python3 -m onebit {convert,run,info,bench,verify} (onebit/_cli.py), each with --help.

Design: ctypes over the C API (runtime/include/onebit/onebit.h), not a compiled extension. It needs no
compilation against a Python ABI: the same files work for every Python 3 on a board, cross builds need
nothing extra (only libonebit.so for the target), and it exercises the same C ABI that Rust or any other
language would use. numpy is the only dependency (Debian python3-numpy).

The library is found through ONEBIT_LIBRARY, then onebit/_install.py, then the system loader ("libonebit.so.0");
see onebit._lib.

Layouts: the runtime's tensors are NHWC (feature maps) or [N, C]. Interpreter.run(x, layout="nchw") takes and
returns 4-D tensors as N,C,H,W and transposes them; layout="nhwc" passes them through. 2-D tensors are the
same in both. Shapes reported by Interpreter.inputs / outputs / profile() are always the runtime's (NHWC).

Lifetimes: an Interpreter keeps its Model alive; Model.close() first closes the interpreters still open on it.
Both free their C handles in close(), on leaving a `with` block, or when collected. ctypes releases the GIL
during C calls, so interpreters used by different threads run in parallel (one interpreter per thread).

Batches: run() takes any number of images N (the first dimension) whatever the model's batch, in one C call
(onebit_interpreter_invoke_batch: the interpreter's batch at a time), each image's outputs bit for bit those
of a run on it alone. Model.interpreter(batch=N) re-plans the model for N images per invoke instead (slower
on the shipped model: its activations leave the cache; bench/RESULTS.md "Batches (issue 22)").

Errors reported by the C API raise onebit.Error (a RuntimeError) with onebit_last_error()'s message; bad
arguments on the Python side (shapes, layout, batch) raise ValueError, inputs that are not numbers TypeError.
"""

import ctypes
import os
import weakref

import numpy as np

from . import _lib, _tables
from ._lib import Error, LibraryNotFound, library_path
from ._tables import Profile, Summary
from .convert import Conversion, ConversionError, convert
from .verify import VerifyReport, verify

__all__ = ["Model", "Interpreter", "Summary", "Profile", "Error", "LibraryNotFound", "version", "library_path",
           "isas", "convert", "Conversion", "ConversionError", "verify", "VerifyReport"]

_LAYOUTS = ("nchw", "nhwc")


def version():
    """The C library's version string, e.g. "0.1.0"."""
    return _lib.decode(_lib.lib().onebit_version())


def isas():
    """The kernel paths the library knows, in its order (the names Interpreter(isa=...) accepts):
    ("scalar", "avx2", "avx512vpopcnt", "neon"), read from the library's one table (onebit_isa_name)."""
    lib, names = _lib.lib(), []
    while True:
        name = lib.onebit_isa_name(len(names))
        if name is None:
            return tuple(names)
        names.append(_lib.decode(name))


def _float_array(lib_fn, handle):
    values = _lib.FloatP()
    n = lib_fn(handle, ctypes.byref(values))
    if n == 0 or not values:
        return np.zeros(0, dtype=np.float32)
    return np.ctypeslib.as_array(values, shape=(n,)).copy()


def _shape(ptr, rank):
    return tuple(int(ptr[k]) for k in range(rank)) if rank else ()


def _to_layout(shape, layout):
    """The runtime's NHWC shape as the caller sees it in `layout`."""
    if layout == "nchw" and len(shape) == 4:
        n, h, w, c = shape
        return (n, c, h, w)
    return tuple(shape)


def _check_layout(layout):
    if layout not in _LAYOUTS:
        raise ValueError("layout must be 'nchw' or 'nhwc', not %r" % (layout,))


class _Closable:
    """A handle owner: close() frees it; also at the end of a `with` block and on garbage collection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class Model(_Closable):
    """A loaded and validated onebit model (immutable; may be shared by several interpreters)."""

    def __init__(self, path):
        self._handle = None
        self._interpreters = weakref.WeakSet()
        path = os.fsdecode(os.fspath(path))
        if "\0" in path:
            raise ValueError("model path contains a NUL character: %r" % (path,))
        lib = _lib.lib()
        handle = _lib.ModelP()
        _lib.check(lib.onebit_model_load_file(os.fsencode(path), ctypes.byref(handle)), context=path)
        self._adopt(lib, handle, path)

    @classmethod
    def from_bytes(cls, data):
        """Loads a model from bytes-like data (copied by the library; `data` may be discarded afterwards)."""
        buf = bytes(data)
        self = cls.__new__(cls)
        self._handle = None
        self._interpreters = weakref.WeakSet()
        lib = _lib.lib()
        handle = _lib.ModelP()
        _lib.check(lib.onebit_model_load_buffer(buf, len(buf), ctypes.byref(handle)))
        self._adopt(lib, handle, "<%d bytes>" % len(buf))
        self._data = buf  # onebit.verify() hands the bytes to the converter's reference
        return self

    def _adopt(self, lib, handle, source):
        self._lib = lib
        self._destroy = lib.onebit_model_destroy  # kept so __del__ works during interpreter shutdown
        self._handle = handle
        self.source = source
        self._size_bytes = int(lib.onebit_model_size_bytes(handle))
        self._labels = [_lib.decode(lib.onebit_model_label(handle, i))
                        for i in range(lib.onebit_model_label_count(handle))]
        self._mean = _float_array(lib.onebit_model_input_mean, handle)
        self._std = _float_array(lib.onebit_model_input_std, handle)
        self._batch = int(lib.onebit_model_batch(handle))

    @property
    def labels(self):
        """Class names recorded in the model (empty list when none)."""
        return list(self._labels)

    @property
    def input_mean(self):
        """float32 array: 0 values (none), 1 (all channels) or one per channel; x' = (x - mean) / std."""
        return self._mean.copy()

    @property
    def input_std(self):
        return self._std.copy()

    @property
    def size_bytes(self):
        return self._size_bytes

    @property
    def batch(self):
        """The batch the model was converted for (its first input's first dimension; 0 when none). Interpreters
        run any number of images whatever it is (Interpreter.run)."""
        return self._batch

    def summary(self):
        """A Summary: one row per operator as larq's summary and onebit-info show them, a list of dicts {index,
        name, type, output_shape, binary, binary_params, float_params, param_bytes, binary_macs, float_macs};
        print() it for the table (with totals), .totals() for the sums. Computed by the library
        (onebit_model_op_info)."""
        return _tables.summary(self._lib, self._checked_handle())

    @property
    def closed(self):
        return self._handle is None

    def _checked_handle(self):
        if self._handle is None:
            raise Error("the model is closed")
        return self._handle

    def interpreter(self, threads=1, isa=None, profiling=False, max_arena_bytes=0, batch=None, portable_float=False):
        """A new Interpreter. isa None/"" = best for this CPU (or $ONEBIT_ISA), else one of
        onebit.isas(); max_arena_bytes 0 = the library's default budget; batch None = the model's, else the
        model re-planned for `batch` images per invoke (see Interpreter.run: any batch runs any number);
        portable_float: full-precision layers on onebit's portable kernels, not XNNPACK (the Cortex-M build's
        path, bit for bit)."""
        return Interpreter(self, threads=threads, isa=isa, profiling=profiling, max_arena_bytes=max_arena_bytes,
                           batch=batch, portable_float=portable_float)

    def close(self):
        """Closes the interpreters still open on this model, then frees the model. Idempotent."""
        for it in list(self._interpreters):
            it.close()
        handle, self._handle = self._handle, None
        if handle:
            self._destroy(handle)

    def __repr__(self):
        state = "closed" if self.closed else "%d bytes, %d labels" % (self._size_bytes, len(self._labels))
        return "<onebit.Model %s (%s)>" % (self.source, state)


class Interpreter(_Closable):
    """Runs one model; used by one thread at a time. Create with Model.interpreter()."""

    def __init__(self, model, threads=1, isa=None, profiling=False, max_arena_bytes=0, batch=None,
                 portable_float=False):
        if not isinstance(model, Model):
            raise TypeError("Interpreter needs an onebit.Model")
        if batch is not None and (not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1):
            raise ValueError("batch must be None (the model's) or an integer >= 1, not %r" % (batch,))
        self._handle = None
        lib = model._lib
        options = _lib.InterpreterOptions()
        # Our struct's size: the library writes and reads only the fields we declare.
        lib.onebit_interpreter_options_init(ctypes.byref(options), ctypes.sizeof(options))
        options.threads = int(threads)
        isa_bytes = isa.encode() if isa else None  # referenced until create returns
        options.isa = isa_bytes
        options.profiling = 1 if profiling else 0
        options.max_arena_bytes = int(max_arena_bytes)
        options.batch = int(batch) if batch is not None else 0
        options.portable_float_kernels = 1 if portable_float else 0
        handle = _lib.InterpreterP()
        _lib.check(lib.onebit_interpreter_create(model._checked_handle(), ctypes.byref(options),
                                                 ctypes.byref(handle)))
        self._lib = lib
        self._destroy = lib.onebit_interpreter_destroy
        self._handle = handle
        self._model = model  # the model must outlive this interpreter
        model._interpreters.add(self)
        self._profiling = bool(profiling)

        def tensors(count, name, shape, size):
            out = []
            for i in range(count(handle)):
                dims, rank = _lib.IntP(), ctypes.c_size_t()
                _lib.check(shape(handle, i, ctypes.byref(dims), ctypes.byref(rank)))
                out.append((_lib.decode(name(handle, i)), _shape(dims, rank.value), int(size(handle, i))))
            return out

        self._inputs = tensors(lib.onebit_interpreter_input_count, lib.onebit_interpreter_input_name,
                               lib.onebit_interpreter_input_shape, lib.onebit_interpreter_input_size)
        self._outputs = tensors(lib.onebit_interpreter_output_count, lib.onebit_interpreter_output_name,
                                lib.onebit_interpreter_output_shape, lib.onebit_interpreter_output_size)
        # Input buffers are valid for the interpreter's lifetime: numpy views over them, made once.
        self._input_views = []
        for i, (_, shape, size) in enumerate(self._inputs):
            ptr = lib.onebit_interpreter_input(handle, i)
            if size and not ptr:
                _lib.check(_lib.ERROR)
            self._input_views.append(np.ctypeslib.as_array(ptr, shape=shape) if size else
                                     np.zeros(shape, dtype=np.float32))
        self._isa = _lib.decode(lib.onebit_interpreter_isa(handle))
        self._threads = int(lib.onebit_interpreter_threads(handle))
        self._arena_bytes = int(lib.onebit_interpreter_arena_bytes(handle))
        # Batched: every input and output leads with the batch, so run() takes any number of images.
        shapes = [shape for _, shape, _ in self._inputs + self._outputs]
        self._batch = shapes[0][0] if shapes and shapes[0] else 0
        self._batched = self._batch > 0 and all(s and s[0] == self._batch for s in shapes)

    # ---- description ----
    @property
    def model(self):
        return self._model

    @property
    def inputs(self):
        """[(name, shape)], shapes as the runtime reports them (NHWC or [N, C])."""
        return [(n, s) for n, s, _ in self._inputs]

    @property
    def outputs(self):
        return [(n, s) for n, s, _ in self._outputs]

    @property
    def batch(self):
        """Images per invoke (the first dimension of the inputs); run() takes any number."""
        return self._batch

    @property
    def isa(self):
        """The kernel path in use: one of onebit.isas()."""
        return self._isa

    @property
    def threads(self):
        return self._threads

    @property
    def arena_bytes(self):
        return self._arena_bytes

    @property
    def profiling(self):
        return self._profiling

    @property
    def closed(self):
        return self._handle is None

    def _checked_handle(self):
        if self._handle is None:
            raise Error("the interpreter is closed")
        return self._handle

    # ---- running ----
    def _split_inputs(self, x):
        n = len(self._inputs)
        if isinstance(x, (list, tuple)) and len(x) == n and all(isinstance(a, np.ndarray) for a in x):
            return list(x)
        if n == 1:
            return [x]
        raise ValueError("the model has %d inputs: pass a list of %d arrays" % (n, n))

    def _input_array(self, a, i, name):
        """`a` as an array of real numbers (TypeError naming the input and the dtype otherwise)."""
        arr = np.asarray(a)
        if arr.dtype.kind not in "fiu":
            raise TypeError("input %d '%s': dtype %s is not a number type the model takes (give float32, "
                            "another float or an integer array)" % (i, name, arr.dtype))
        return arr

    def _check_shape(self, a, i, name, shape, layout):
        expected = _to_layout(shape, layout)
        if self._batched:
            if a.ndim == len(expected) and a.shape[1:] == expected[1:]:
                return
            raise ValueError("input %d '%s': expected shape %s (%s; the first dimension, images, may be any "
                             "number), given %s" % (i, name, list(expected), layout, list(a.shape)))
        if a.shape != expected:
            raise ValueError("input %d '%s': expected shape %s (%s), given %s"
                             % (i, name, list(expected), layout, list(a.shape)))

    def _normalized(self, a, layout):
        """(x - mean) / std with the model's values, in float32; 8-bit pixels (uint8, 0..255, as the demo's
        IDX images) are first scaled to [0, 1], as onebit-eval does."""
        mean, std = self._model._mean, self._model._std
        if mean.size == 0 and std.size == 0:
            raise ValueError("normalize=True but the model records no input normalization "
                             "(convert it with --input-mean / --input-std)")
        x = a.astype(np.float32)
        if a.dtype == np.uint8:
            x /= np.float32(255.0)
        axis = 1 if layout == "nchw" and x.ndim == 4 else x.ndim - 1
        channels = x.shape[axis] if x.ndim else 1

        def per_channel(v, default):
            if v.size <= 1:
                return np.float32(v[0] if v.size else default)
            if v.size != channels:
                raise ValueError("normalize=True: the model records %d normalization values, the input has %d "
                                 "channels" % (v.size, channels))
            dims = [1] * x.ndim
            dims[axis] = channels
            return v.reshape(dims)

        return (x - per_channel(mean, 0.0)) / per_channel(std, 1.0)

    def run(self, x, layout="nchw", normalize=False):
        """Runs the model on x: an array (or a list of arrays, one per input) of real numbers, converted to
        float32; 4-D ones in `layout` ("nchw", PyTorch's, transposed to the runtime's NHWC; or "nhwc").
        The first dimension is the number of images N: any N (0 included) runs, the interpreter's batch at a
        time, each image's outputs bit for bit those of a run on it alone. Returns a new float32 array [N, ...]
        (a list when the model has several outputs); 4-D outputs are in `layout` too.

        normalize=True applies the model's stored normalization (Model.input_mean / input_std, per channel)
        first: x holds raw pixels, in the scale the values were given for ([0, 1] for the shipped model),
        or uint8 pixels 0..255 (as the demo's IDX images), which are scaled to [0, 1] first. Default off: x
        is the model's input as it is.

        A wrong shape raises ValueError, an array that is not of numbers TypeError, each naming the input."""
        _check_layout(layout)
        handle = self._checked_handle()
        xs = self._split_inputs(x)
        arrays = []
        for i, (a, (name, shape, _)) in enumerate(zip(xs, self._inputs)):
            a = self._input_array(a, i, name)
            self._check_shape(a, i, name, shape, layout)
            if normalize:
                a = self._normalized(a, layout)
            if layout == "nchw" and a.ndim == 4:
                a = a.transpose(0, 2, 3, 1)
            arrays.append(np.ascontiguousarray(a, dtype=np.float32))
        if not self._batched:
            return self._invoke(handle, arrays, layout)
        count = arrays[0].shape[0]
        for i, a in enumerate(arrays):
            if a.shape[0] != count:
                raise ValueError("input %d '%s' holds %d images, input 0 holds %d"
                                 % (i, self._inputs[i][0], a.shape[0], count))
        outs = [np.empty((count,) + tuple(shape[1:]), dtype=np.float32) for _, shape, _ in self._outputs]
        pointers = lambda arrs: (_lib.FloatP * max(len(arrs), 1))(*[a.ctypes.data_as(_lib.FloatP) for a in arrs])
        _lib.check(self._lib.onebit_interpreter_invoke_batch(handle, count, pointers(arrays), pointers(outs)))
        results = [np.ascontiguousarray(y.transpose(0, 3, 1, 2)) if layout == "nchw" and y.ndim == 4 else y
                   for y in outs]
        return results[0] if len(results) == 1 else results

    def _invoke(self, handle, arrays, layout):
        """One invoke on inputs of exactly the interpreter's shapes (a model whose tensors do not all lead
        with a batch)."""
        for i, a in enumerate(arrays):
            np.copyto(self._input_views[i], a)
        _lib.check(self._lib.onebit_interpreter_invoke(handle))
        results = []
        for i, (_, shape, size) in enumerate(self._outputs):
            if size:
                ptr = self._lib.onebit_interpreter_output(handle, i)  # valid until the next invoke
                if not ptr:
                    _lib.check(_lib.ERROR)
                y = np.ctypeslib.as_array(ptr, shape=shape)
            else:
                y = np.zeros(shape, dtype=np.float32)
            if layout == "nchw" and y.ndim == 4:
                y = y.transpose(0, 3, 1, 2)
            results.append(np.array(y, dtype=np.float32, order="C", copy=True))
        return results[0] if len(results) == 1 else results

    # ---- profiling ----
    def profile(self):
        """Per operator, in execution order: a Profile, a list of dicts {name, type, output_shape (NHWC),
        last_ms, median_ms (over the profiled runs), samples (profiled runs recorded), binary_macs,
        float_macs} that print()s as a table. Samples stay 0 unless profiling=True."""
        handle = self._checked_handle()
        out = Profile()
        for i in range(self._lib.onebit_interpreter_op_count(handle)):
            p = _lib.OpProfile()
            _lib.check(self._lib.onebit_interpreter_op_profile(handle, i, ctypes.byref(p)))
            out.append({
                "name": _lib.decode(p.name),
                "type": _lib.decode(p.type),
                "output_shape": _shape(p.output_shape, p.output_rank),
                "last_ms": float(p.last_ms),
                "median_ms": float(p.median_ms),
                "samples": int(p.samples),
                "binary_macs": int(p.binary_macs),
                "float_macs": int(p.float_macs),
            })
        return out

    def clear_profile(self):
        self._lib.onebit_interpreter_clear_profile(self._checked_handle())

    # ---- lifetime ----
    def close(self):
        """Frees the interpreter (idempotent); the model stays usable."""
        handle, self._handle = self._handle, None
        self._input_views = []
        if handle:
            self._destroy(handle)
            self._model._interpreters.discard(self)

    def __repr__(self):
        if self.closed:
            return "<onebit.Interpreter (closed)>"
        return "<onebit.Interpreter isa=%s threads=%d inputs=%s outputs=%s>" % (
            self._isa, self._threads, self.inputs, self.outputs)
