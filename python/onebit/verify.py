"""onebit.verify(reference, model, inputs): does a converted model give its source's answers?

    report = onebit.verify(torch_module, "model.fb", x)      # x: N x C x H x W float32, normalized
    print(report)   # verify: 64 inputs, argmax agreement 64/64, max |Δ| relative to the logit range 0.0004

The reference is a torch.nn.Module (run in eval mode, no grad, on the same float32 inputs). The onebit
model is a path, model bytes, a Conversion or a Model. Both get exactly `inputs` (already normalized: no
normalization is applied on either side).
"""

import numpy as np


class VerifyReport:
    """inputs, agreement (argmax equal), max_rel_delta (max |Δ| / the reference's logit range), differing
    (the input indices whose argmax differs), and per differing input its reference and onebit labels."""

    def __init__(self, reference, got):
        self.inputs = reference.shape[0]
        ref_label, got_label = reference.argmax(1), got.argmax(1)
        self.differing = [int(i) for i in np.nonzero(ref_label != got_label)[0]]
        self.agreement = self.inputs - len(self.differing)
        span = float(reference.max() - reference.min()) if reference.size else 0.0
        delta = float(np.abs(reference - got).max()) if reference.size else 0.0
        self.max_abs_delta = delta
        self.max_rel_delta = delta / span if span > 0 else delta
        self.labels = {i: (int(ref_label[i]), int(got_label[i])) for i in self.differing}

    def __str__(self):
        line = "verify: %d inputs, argmax agreement %d/%d, max |Δ| relative to the logit range %.3g" % (
            self.inputs, self.agreement, self.inputs, self.max_rel_delta)
        if self.differing:
            shown = ", ".join("%d (reference %d, onebit %d)" % (i, *self.labels[i]) for i in self.differing[:8])
            line += "\ndiffering inputs: " + shown + (" ..." if len(self.differing) > 8 else "")
        return line

    __repr__ = __str__


def _onebit_model(model):
    from . import Model, Conversion
    if isinstance(model, Model):
        return model
    if isinstance(model, Conversion):
        return Model.from_bytes(model.model_bytes)
    if isinstance(model, (bytes, bytearray)):
        return Model.from_bytes(bytes(model))
    return Model(model)


def verify(reference, model, inputs, threads=1):
    """Runs `reference` (a torch.nn.Module) and the onebit `model` on `inputs` (N x C x H x W, normalized
    float32) and returns a VerifyReport."""
    import torch  # only here

    x = np.ascontiguousarray(inputs, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError("verify: inputs need a batch dimension first, got shape %s" % (x.shape,))
    was_training = reference.training
    reference.eval()
    try:
        with torch.no_grad():
            want = reference(torch.from_numpy(x)).detach().cpu().numpy().astype(np.float64)
    finally:
        reference.train(was_training)
    m = _onebit_model(model)
    with m.interpreter(threads=threads) as it:
        got = np.asarray(it.run(x), dtype=np.float64).reshape(want.shape)
    return VerifyReport(want.reshape(want.shape[0], -1), got.reshape(got.shape[0], -1))
