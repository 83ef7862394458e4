#!/usr/bin/env python3
"""Writes the malformed models of scripts/mcu-test's on-board validation check (README.md here).

Usage: make_cases.py GOOD.fb OUT_DIR
GOOD.fb is a valid onebit model with binary layers (scripts/mcu-test passes the shipped W1A1 model as
converted there). Each case is one mutation of its bytes, taken from tests/malformed/model_cases_test.cc's
table (same description), applied in place: a field the file already holds is overwritten, or the file is
cut, so no FlatBuffers re-encoding is needed. Writes OUT_DIR/NN-name.fb and prints one line per case.
"""
import os
import struct
import sys


class Fb:
    """Just enough of the FlatBuffers wire format to find a field's bytes (schema/onebit.fbs)."""

    def __init__(self, data):
        self.b = bytearray(data)

    def u32(self, pos):
        return struct.unpack_from('<I', self.b, pos)[0]

    def root(self):
        return self.u32(0)

    def field(self, table, index):
        """Position of field `index` of the table at `table`, or None when the file leaves it out."""
        vtable = table - struct.unpack_from('<i', self.b, table)[0]
        vt_size = struct.unpack_from('<H', self.b, vtable)[0]
        if 4 + 2 * index >= vt_size:
            return None
        off = struct.unpack_from('<H', self.b, vtable + 4 + 2 * index)[0]
        return table + off if off else None

    def ref(self, table, index):
        """Target of an offset field (table, vector or string), or None."""
        pos = self.field(table, index)
        return None if pos is None else pos + self.u32(pos)

    def vector(self, table, index):
        """(position of the length word, element count) of a vector field."""
        v = self.ref(table, index)
        return (v, self.u32(v)) if v is not None else (None, 0)

    def tables(self, table, index):
        v, n = self.vector(table, index)
        return [v + 4 + 4 * i + self.u32(v + 4 + 4 * i) for i in range(n)]

    def ints(self, table, index):
        v, n = self.vector(table, index)
        return [struct.unpack_from('<i', self.b, v + 4 + 4 * i)[0] for i in range(n)]

    def set_int(self, table, index, i, value):
        v, n = self.vector(table, index)
        assert i < n, 'vector too short'
        struct.pack_into('<i', self.b, v + 4 + 4 * i, value)

    def scalar(self, table, index, fmt, default):
        pos = self.field(table, index)
        return default if pos is None else struct.unpack_from('<' + fmt, self.b, pos)[0]


# Field indices in schema/onebit.fbs.
MODEL_TENSORS, MODEL_BUFFERS, MODEL_OPERATORS, MODEL_INPUTS, MODEL_OUTPUTS = 1, 2, 3, 4, 5
TENSOR_SHAPE, TENSOR_DTYPE, TENSOR_BUFFER = 1, 2, 3
OPERATOR_INPUTS, OPERATOR_OUTPUTS = 2, 3  # after the union options (two slots: its type, its value)
BUFFER_DATA = 0
BITPACKED = 1


def first(items, what):
    assert items, 'the model has no ' + what
    return items[0]


def cases():
    """(name, description, mutation of an Fb) for each case."""
    def model(fb):
        return fb.root()

    def bitpacked_constants(fb):
        return [t for t in fb.tables(model(fb), MODEL_TENSORS)
                if fb.scalar(t, TENSOR_DTYPE, 'b', 0) == BITPACKED and fb.scalar(t, TENSOR_BUFFER, 'i', -1) >= 0]

    def bitpacked_activations(fb):
        return [t for t in fb.tables(model(fb), MODEL_TENSORS)
                if fb.scalar(t, TENSOR_DTYPE, 'b', 0) == BITPACKED and fb.scalar(t, TENSOR_BUFFER, 'i', -1) < 0]

    def truncate(fb):
        del fb.b[len(fb.b) // 2:]

    def identifier(fb):
        fb.b[7] = ord('X')

    def root_past_end(fb):
        struct.pack_into('<I', fb.b, 0, len(fb.b) + 16)

    def input_index(fb):
        fb.set_int(model(fb), MODEL_INPUTS, 0, 9999)

    def operator_input(fb):
        fb.set_int(fb.tables(model(fb), MODEL_OPERATORS)[1], OPERATOR_INPUTS, 0, 999)

    def cycle(fb):
        ops = fb.tables(model(fb), MODEL_OPERATORS)
        fb.set_int(ops[1], OPERATOR_INPUTS, 0, fb.ints(ops[-1], OPERATOR_OUTPUTS)[0])

    def output_shape(fb):
        out = fb.tables(model(fb), MODEL_TENSORS)[fb.ints(model(fb), MODEL_OUTPUTS)[0]]
        dims = fb.ints(out, TENSOR_SHAPE)
        fb.set_int(out, TENSOR_SHAPE, len(dims) - 1, dims[-1] + 1)

    def dtype(fb):
        t = first(bitpacked_activations(fb), 'bitpacked activation')
        fb.b[fb.field(t, TENSOR_DTYPE)] = 7

    def buffer_index(fb):
        t = first(bitpacked_constants(fb), 'bitpacked constant')
        struct.pack_into('<i', fb.b, fb.field(t, TENSOR_BUFFER), 99999)

    def weights_short(fb):
        t = first(bitpacked_constants(fb), 'bitpacked constant')
        buf = fb.tables(model(fb), MODEL_BUFFERS)[fb.scalar(t, TENSOR_BUFFER, 'i', -1)]
        v, n = fb.vector(buf, BUFFER_DATA)
        struct.pack_into('<I', fb.b, v, n - 4)

    return [
        ('truncated', 'truncated to half its bytes', truncate),
        ('identifier', 'wrong file identifier ONEX', identifier),
        ('root-offset', 'root offset points past the end', root_past_end),
        ('input-index', 'graph input index out of range (9999)', input_index),
        ('operator-input', 'operator input index out of range (999)', operator_input),
        ('cycle', "an operator reads the last operator's output", cycle),
        ('output-shape', "graph output's last dim one larger than its producer's", output_shape),
        ('dtype', 'dtype value 7 on a BitPacked activation', dtype),
        ('buffer-index', 'buffer index out of range on bitpacked weights', buffer_index),
        ('weights-short', 'bitpacked weights one word short', weights_short),
    ]


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: make_cases.py GOOD.fb OUT_DIR')
    with open(sys.argv[1], 'rb') as f:
        good = f.read()
    if good[4:8] != b'ONEB':
        sys.exit('make_cases.py: %s is not a onebit model' % sys.argv[1])
    os.makedirs(sys.argv[2], exist_ok=True)
    for i, (name, description, mutate) in enumerate(cases()):
        fb = Fb(good)
        mutate(fb)
        assert bytes(fb.b) != good, name
        path = os.path.join(sys.argv[2], '%02d-%s.fb' % (i + 1, name))
        with open(path, 'wb') as f:
            f.write(fb.b)
        print('%s\t%s' % (path, description))


if __name__ == '__main__':
    main()
