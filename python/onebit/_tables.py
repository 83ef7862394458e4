"""Per-operator rows that print as tables: Model.summary() (larq's lq.models.summary, onebit-info's table)
and Interpreter.profile(). Both are lists of dicts, one per operator in execution order; str() (or print)
renders the table, with totals for the summary."""

import ctypes

from . import _lib


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _cell(value):
    if isinstance(value, float):
        return "%.4f" % value
    if isinstance(value, tuple):
        return _shape_text(value)
    return str(value)


class _Rows(list):
    """A list of row dicts; COLUMNS = ((key, title, left-aligned), ...) says what str() shows."""

    COLUMNS = ()

    def _footer(self):
        return None  # or a row dict of totals, drawn under a rule

    def table(self):
        """The rows as a text table (two spaces between columns, like onebit-info)."""
        header = [title for _, title, _ in self.COLUMNS]
        body = [[_cell(row[key]) for key, _, _ in self.COLUMNS] for row in self]
        footer = self._footer()
        tail = [[_cell(footer.get(key, "")) for key, _, _ in self.COLUMNS]] if footer else []
        widths = [max(len(line[c]) for line in [header] + body + tail) for c in range(len(header))]

        def line(cells):
            parts = [cell.ljust(w) if left else cell.rjust(w)
                     for cell, w, (_, _, left) in zip(cells, widths, self.COLUMNS)]
            return "  ".join(parts).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        lines = [line(header), rule] + [line(cells) for cells in body]
        if tail:
            lines += [rule, line(tail[0])]
        return "\n".join(lines)

    def __str__(self):
        return self.table()


class Summary(_Rows):
    """Model.summary(): per operator {name, type, output_shape (NHWC or [N, C]), binary (computes on bits),
    binary_params, float_params, param_bytes, binary_macs, float_macs}; totals() sums them."""

    COLUMNS = (("index", "#", False), ("name", "Name", True), ("type", "Type", True),
               ("output_shape", "Output shape", True), ("binary_params", "Binary params", False),
               ("float_params", "Float params", False), ("param_bytes", "Bytes", False),
               ("binary_macs", "Binary MACs", False), ("float_macs", "Float MACs", False))
    _SUMMED = ("binary_params", "float_params", "param_bytes", "binary_macs", "float_macs")

    def totals(self):
        """{operators, binary_operators, binary_params, float_params, param_bytes, binary_macs, float_macs}"""
        t = {key: sum(row[key] for row in self) for key in self._SUMMED}
        t["operators"] = len(self)
        t["binary_operators"] = sum(1 for row in self if row["binary"])
        return t

    def _footer(self):
        t = self.totals()
        return dict(t, index="", name="Total", type="%d ops, %d binary" % (t["operators"], t["binary_operators"]),
                    output_shape="")

    def table(self):
        t = self.totals()
        params = t["binary_params"] + t["float_params"]
        share = "%.2f %%" % (100.0 * t["binary_params"] / params) if params else "n/a"
        return "%s\n\nParameters: %d (binary %d, float %d; binary %s), %d bytes in the file" % (
            super().table(), params, t["binary_params"], t["float_params"], share, t["param_bytes"])


class Profile(_Rows):
    """Interpreter.profile(): per operator {name, type, output_shape (NHWC), last_ms, median_ms, samples,
    binary_macs, float_macs}; times stay 0 unless the interpreter profiles."""

    COLUMNS = (("name", "Name", True), ("type", "Type", True), ("output_shape", "Output shape", True),
               ("median_ms", "Median ms", False), ("samples", "Samples", False),
               ("binary_macs", "Binary MACs", False), ("float_macs", "Float MACs", False))

    def _footer(self):
        return {"name": "Total", "median_ms": sum(row["median_ms"] for row in self)}


def summary(lib, handle):
    """The rows of onebit_model_op_info for every operator of the model `handle`."""
    rows = Summary()
    for i in range(lib.onebit_model_op_count(handle)):
        op = _lib.OpInfo()
        _lib.check(lib.onebit_model_op_info(handle, i, ctypes.byref(op)))
        rows.append({
            "index": i,
            "name": _lib.decode(op.name),
            "type": _lib.decode(op.type),
            "output_shape": tuple(int(op.output_shape[k]) for k in range(op.output_rank)),
            "binary": bool(op.binary),
            "binary_params": int(op.binary_params),
            "float_params": int(op.float_params),
            "param_bytes": int(op.param_bytes),
            "binary_macs": int(op.binary_macs),
            "float_macs": int(op.float_macs),
        })
    return rows
