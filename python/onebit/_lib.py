"""Finding libonebit and declaring the prototypes of the C API (runtime/include/onebit/onebit.h).

Lookup order (the first that loads wins; a failure lists every place tried and why):
  1. the environment variable ONEBIT_LIBRARY: a path to libonebit.so*. When it is set it is the only place
     tried: a wrong path is an error, never a silent fall back to some other installed copy;
  2. onebit/_install.py, if present (written by the packaging step): LIBRARY, a path relative to this
     package's directory (or absolute);
  3. ctypes.CDLL("libonebit.so.0"): the system loader (LD_LIBRARY_PATH, ld.so.cache, ...).
"""

import ctypes
import os
import threading

SONAME = "libonebit.so.0"

OK = 0
ERROR = 1
INVALID_ARGUMENT = 2


class Error(RuntimeError):
    """A failure reported by the onebit C API; the message is onebit_last_error()'s."""

    def __init__(self, message, status=ERROR):
        super().__init__(message)
        self.status = status


class LibraryNotFound(OSError):
    """libonebit could not be loaded; the message lists every place tried."""


# Opaque handle types: a pointer to one cannot be passed where the other is expected.
class _ModelStruct(ctypes.Structure):
    pass


class _InterpreterStruct(ctypes.Structure):
    pass


ModelP = ctypes.POINTER(_ModelStruct)
InterpreterP = ctypes.POINTER(_InterpreterStruct)
IntP = ctypes.POINTER(ctypes.c_int)
FloatP = ctypes.POINTER(ctypes.c_float)


class InterpreterOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("threads", ctypes.c_int),
        ("isa", ctypes.c_char_p),
        ("profiling", ctypes.c_int),
        ("max_arena_bytes", ctypes.c_size_t),
        ("arena", ctypes.c_void_p),
        ("arena_size", ctypes.c_size_t),
        ("portable_float_kernels", ctypes.c_int),
        ("batch", ctypes.c_int),
    ]


# onebit_op_info and onebit_op_profile: both start with the operator's name, type and output shape and end
# with its MAC counts.
_OP_HEAD = [
    ("name", ctypes.c_char_p),
    ("type", ctypes.c_char_p),
    ("output_shape", IntP),
    ("output_rank", ctypes.c_size_t),
]
_OP_MACS = [("binary_macs", ctypes.c_int64), ("float_macs", ctypes.c_int64)]


class OpInfo(ctypes.Structure):
    _fields_ = _OP_HEAD + [
        ("binary_params", ctypes.c_int64),
        ("float_params", ctypes.c_int64),
        ("param_bytes", ctypes.c_uint64),
        ("binary", ctypes.c_int),
    ] + _OP_MACS


class OpProfile(ctypes.Structure):
    _fields_ = _OP_HEAD + [
        ("last_ms", ctypes.c_double),
        ("median_ms", ctypes.c_double),
        ("samples", ctypes.c_size_t),
    ] + _OP_MACS


_size = ctypes.c_size_t
_status = ctypes.c_int
_char_p = ctypes.c_char_p

# name: (restype, argtypes). Every C function the module calls is declared here.
PROTOTYPES = {
    "onebit_version": (_char_p, []),
    "onebit_isa_name": (_char_p, [_size]),
    "onebit_last_error": (_char_p, []),
    "onebit_model_load_file": (_status, [_char_p, ctypes.POINTER(ModelP)]),
    "onebit_model_load_buffer": (_status, [ctypes.c_void_p, _size, ctypes.POINTER(ModelP)]),
    "onebit_model_destroy": (None, [ModelP]),
    "onebit_model_size_bytes": (_size, [ModelP]),
    "onebit_model_label_count": (_size, [ModelP]),
    "onebit_model_label": (_char_p, [ModelP, _size]),
    "onebit_model_input_mean": (_size, [ModelP, ctypes.POINTER(FloatP)]),
    "onebit_model_input_std": (_size, [ModelP, ctypes.POINTER(FloatP)]),
    "onebit_model_batch": (ctypes.c_int, [ModelP]),
    "onebit_model_op_count": (_size, [ModelP]),
    "onebit_model_op_info": (_status, [ModelP, _size, ctypes.POINTER(OpInfo)]),
    "onebit_interpreter_options_init": (None, [ctypes.POINTER(InterpreterOptions), ctypes.c_size_t]),
    "onebit_interpreter_create": (_status, [ModelP, ctypes.POINTER(InterpreterOptions),
                                            ctypes.POINTER(InterpreterP)]),
    "onebit_interpreter_destroy": (None, [InterpreterP]),
    "onebit_interpreter_input_count": (_size, [InterpreterP]),
    "onebit_interpreter_output_count": (_size, [InterpreterP]),
    "onebit_interpreter_input_name": (_char_p, [InterpreterP, _size]),
    "onebit_interpreter_output_name": (_char_p, [InterpreterP, _size]),
    "onebit_interpreter_input_shape": (_status, [InterpreterP, _size, ctypes.POINTER(IntP),
                                                 ctypes.POINTER(_size)]),
    "onebit_interpreter_output_shape": (_status, [InterpreterP, _size, ctypes.POINTER(IntP),
                                                  ctypes.POINTER(_size)]),
    "onebit_interpreter_input_size": (_size, [InterpreterP, _size]),
    "onebit_interpreter_output_size": (_size, [InterpreterP, _size]),
    "onebit_interpreter_input": (FloatP, [InterpreterP, _size]),
    "onebit_interpreter_output": (FloatP, [InterpreterP, _size]),
    "onebit_interpreter_invoke": (_status, [InterpreterP]),
    "onebit_interpreter_invoke_batch": (_status, [InterpreterP, _size, ctypes.POINTER(FloatP),
                                                  ctypes.POINTER(FloatP)]),
    "onebit_interpreter_arena_bytes": (_size, [InterpreterP]),
    "onebit_interpreter_isa": (_char_p, [InterpreterP]),
    "onebit_interpreter_threads": (ctypes.c_int, [InterpreterP]),
    "onebit_interpreter_op_count": (_size, [InterpreterP]),
    "onebit_interpreter_op_profile": (_status, [InterpreterP, _size, ctypes.POINTER(OpProfile)]),
    "onebit_interpreter_clear_profile": (None, [InterpreterP]),
}


def _candidates(env_var="ONEBIT_LIBRARY", install_name="LIBRARY", soname=SONAME):
    """(description, path-or-name) in lookup order; the environment variable's path alone when it is set.
    Also finds libonebit_convert (convert.py) through its own variable, _install.py name and soname."""
    env = os.environ.get(env_var)
    if env:
        return [(env_var, env)]
    out = []
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        from . import _install  # generated by the packaging step; usually absent
    except ImportError:
        _install = None
    relative = getattr(_install, install_name, None) if _install is not None else None
    if relative:
        out.append(("onebit/_install.py", os.path.normpath(os.path.join(here, relative))))
    out.append(("system loader", soname))
    return out


def load_first(candidates, declare, what):
    """The first candidate that loads and that `declare` accepts (AttributeError: not that library);
    LibraryNotFound listing every place tried otherwise."""
    tried = []
    for where_from, where in candidates:
        try:
            handle = ctypes.CDLL(where)
        except OSError as e:
            tried.append("%s: %s (%s)" % (where_from, where, e))
            continue
        try:
            return declare(handle)
        except AttributeError as e:
            tried.append("%s: %s (not the %s C API: %s)" % (where_from, where, what, e))
    raise LibraryNotFound("cannot load %s; tried:\n  " % what + "\n  ".join(tried))


def _declare(lib):
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)  # AttributeError names a missing symbol: an older library
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_loaded = None
_lock = threading.Lock()


def lib():
    """The loaded, declared library (loaded once, on first use)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    with _lock:
        if _loaded is None:
            _loaded = load_first(_candidates(), _declare, "libonebit")
    return _loaded


def library_path():
    """The path or name the library was loaded from (loads it if needed)."""
    return lib()._name


def decode(b):
    return "" if b is None else b.decode("utf-8", errors="replace")


def last_error():
    return decode(lib().onebit_last_error())


def check(status, context=None):
    """Raises Error with onebit_last_error() (prefixed by context when given) unless status is OK."""
    if status != OK:
        message = last_error() or "onebit error (status %d)" % status
        if context and context not in message:
            message = "%s: %s" % (context, message)
        raise Error(message, status)
