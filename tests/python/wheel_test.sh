#!/usr/bin/env bash
# The wheel a Python user installs (issue 22): scripts/build-wheel on this build, `pip install --no-index` into
# a fresh `venv --system-site-packages` (numpy and torch from Debian), then `python -m onebit convert`,
# `python -m onebit verify` and `python -m onebit` from there, with no ONEBIT_* variable or PYTHONPATH: the
# wheel's own _install.py finds its libraries. Usage: wheel_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1" build="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
wheel="$("$src/scripts/build-wheel" "$build" "$tmp/dist" 2>"$tmp/build.log" | tail -n1)" ||
  { cat "$tmp/build.log" >&2; exit 1; }
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install --no-index --quiet "$wheel"
cd "$tmp"
clean=(env -u ONEBIT_LIBRARY -u ONEBIT_CONVERT_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH)
"${clean[@]}" "$tmp/venv/bin/python" -m onebit convert "$src/models/fashion_mnist/bnn_resnet.onnx" -o "$tmp/m.fb" \
  --input-mean 0.2860 --input-std 0.3530 >"$tmp/convert.log"
grep -q '^binary layers: 6 ' "$tmp/convert.log" || { cat "$tmp/convert.log"; echo "wheel_test: not 6 binary layers"; exit 1; }
# onebit-convert --verify's reference through the wheel's libonebit_convert (2 seeded inputs).
"${clean[@]}" "$tmp/venv/bin/python" -m onebit verify "$src/models/fashion_mnist/bnn_resnet.onnx" "$tmp/m.fb" \
  --count 2 >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "wheel_test: python -m onebit verify failed"; exit 1; }
grep -q '^verify: 2 inputs, argmax agreement 2/2, ' "$tmp/verify.log" || { cat "$tmp/verify.log"; exit 1; }
out="$("${clean[@]}" "$tmp/venv/bin/python" -m onebit "$tmp/m.fb")"
case "$out" in
  *"library: $tmp/venv/"*) ;;
  *) echo "$out"; echo "wheel_test: the module did not load the wheel's own libonebit"; exit 1 ;;
esac
echo "wheel_test: $(basename "$wheel") installed into a fresh venv; python -m onebit convert, verify and run work from it"
