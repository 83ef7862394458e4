#!/usr/bin/python3
# Regenerates the .npy fixtures of tests/tools/npy_test.cc with NumPy itself (run from this folder:
# /usr/bin/python3 make_fixtures.py). The test states the expected values independently of the reader.
import numpy as np
from numpy.lib import format as fmt

def save(name, a, version=None):
    with open(name, "wb") as f:
        if version is None:
            np.save(f, a, allow_pickle=a.dtype == object)
        else:
            fmt.write_array(f, a, version=version)

f4 = (np.arange(6, dtype="<f4") * 0.5 - 1).reshape(2, 3)      # [[-1, -0.5, 0], [0.5, 1, 1.5]]
save("f4_2x3.npy", f4)
save("f8_3.npy", np.array([1.5, -2.25, 1e10], dtype="<f8"))
save("i8_2x2.npy", np.array([[1, -2], [3, 2**40]], dtype="<i8"))
save("i4_4.npy", np.array([7, -8, 0, 123456], dtype="<i4"))
save("u1_2x2x2.npy", (np.arange(8, dtype="u1") * 30).reshape(2, 2, 2))  # 0, 30, ..., 210
save("f4_1x2x2x3.npy", (np.arange(12, dtype="<f4") - 6).reshape(1, 2, 2, 3))  # -6 .. 5
save("v2_f4_2x3.npy", f4, version=(2, 0))
save("v3_f4_2x3.npy", f4, version=(3, 0))
save("fortran_2x3.npy", np.asfortranarray(f4))
save("big_endian_f4.npy", np.array([1, 2], dtype=">f4"))
save("complex_c8.npy", np.array([1 + 2j], dtype="<c8"))
save("half_f2.npy", np.array([1, 2], dtype="<f2"))
save("object.npy", np.array([None, 1], dtype=object))
with open("f4_2x3.npy", "rb") as f:
    whole = f.read()
with open("truncated_f4_2x3.npy", "wb") as f:
    f.write(whole[:-4])                                           # last element missing
