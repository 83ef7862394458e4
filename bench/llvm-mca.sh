#!/usr/bin/env bash
# Static cycle counts of the NEON inner loops with llvm-mca (Arm speed without Arm hardware).
# Usage: bench/llvm-mca.sh [OUT_DIR]   (default: a temporary folder; keeps the .s files, loops and reports there)
# Needs scripts/setup's `cross` group (Arm g++ and Debian's `llvm`). Compiles each NEON ukernel file with -S and
# the flags a Release build gives it (-O3 -DNDEBUG -ffp-contract=off; armv7: -march=armv7-a -mfpu=neon-vfpv4
# -mfloat-abi=hard), cuts one innermost loop (the block from a label to its backward branch, loop counter and
# branch included: the innermost loop with the most instructions matching the family's pattern, the shortest
# or longest of those) and runs llvm-mca -iterations=1000 on it for each core. Prints one Markdown table per
# loop family: per loop iteration the cycles, the work it does, the instructions, the work per cycle, the
# issue-width bound (uops / dispatch width), the busiest pipe (resource pressure), llvm-mca's Block
# RThroughput, and the loop's cycles as a share of the largest bound ("% of bound", 100 = at the bound).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
mca="${LLVM_MCA:-llvm-mca}"
common=(-O3 -std=c++17 -DNDEBUG -ffp-contract=off -I"$root/kernels" -I"$root/kernels/include" -I"$root/core/include" -S)
a64=(aarch64-linux-gnu-g++ "${common[@]}")
a32=(arm-linux-gnueabihf-g++ "${common[@]}" -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard -Wno-psabi)

# cut_loop FILE.s PATTERN shortest|longest [COUNT] -> the innermost loop with the most instructions matching
# PATTERN (a regex on the instruction text), or with exactly COUNT of them; among those, the shortest or the
# longest.
cut_loop() {
  python3 - "$@" <<'PY'
import re, sys
path, pattern, pick = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else None
lines = open(path).read().split('\n')
labels = {m.group(1): i for i, l in enumerate(lines) for m in [re.match(r'^(\.L\w+):', l)] if m}
loops = []
for i, l in enumerate(lines):
    m = re.match(r'^\s+(?:b|cb|tb)\S*\s+(?:[^,]+,\s*)*(\.L\w+)\s*$', l)
    if m and m.group(1) in labels and labels[m.group(1)] < i:
        loops.append((labels[m.group(1)], i))
best = None
for s, e in loops:
    if any(s <= s2 and e2 <= e and (s2, e2) != (s, e) for s2, e2 in loops):
        continue  # not innermost
    body = [x for x in lines[s + 1:e + 1] if x.startswith('\t') and not x.startswith('\t.')]
    key = (sum(1 for x in body if re.search(pattern, x)), -len(body) if pick == 'shortest' else len(body))
    if count is not None and key[0] != count:
        continue
    if key[0] > 0 and (best is None or key > best[0]):
        best = (key, body)
if best is None:
    sys.exit('no loop matching %r in %s' % (pattern, path))
print('\n'.join(best[1]))
PY
}

# split_ldp LOOP.s -> LOOP-split.s: every LDP of two q registers as two LDR q (a model experiment for the
# Cortex-A55 rows: LLVM 14's A55 model charges LDP q 6 cycles of its load pipe but LDR q 1).
split_ldp() {
  python3 - "$1" <<'PY'
import re, sys
path = sys.argv[1]
out = []
for l in open(path).read().split('\n'):
    m = re.match(r'^\s+ldp\s+(q\d+),\s*(q\d+),\s*\[(\w+)(?:,\s*#?(-?\d+))?\](?:,\s*#?(-?\d+))?\s*$', l)
    if not m:
        out.append(l)
        continue
    a, b, base, off, post = m.group(1), m.group(2), m.group(3), int(m.group(4) or 0), m.group(5)
    out += ['\tldr\t%s, [%s, %d]' % (a, base, off), '\tldr\t%s, [%s, %d]' % (b, base, off + 16)]
    if post:
        out.append('\tadd\t%s, %s, %s' % (base, base, post))
open(path[:-2] + '-split.s', 'w').write('\n'.join(out))
PY
}

# analyse NAME LOOP WORK TRIPLE CPU [MATTR] -> one table row (or a row saying llvm-mca has no model).
# WORK: units of work per loop iteration (the table's header names the unit).
analyse() {
  local name="$1" loop="$2" work="$3" triple="$4" cpu="$5" mattr="${6:-}" rep
  local args=(-mtriple="$triple" -mcpu="$cpu" -iterations=1000)
  [ -n "$mattr" ] && args+=(-mattr="$mattr")
  if ! rep="$("$mca" "${args[@]}" "$loop" 2>&1)"; then
    echo "| $name | $cpu | no scheduling model for this core and ISA in this llvm-mca | | | | | | | |"
    return
  fi
  echo "$rep" > "${loop%.s}-$cpu.mca.txt"
  echo "$rep" | python3 -c '
import re, sys
name, cpu, work = sys.argv[1], sys.argv[2], float(sys.argv[3])
t = sys.stdin.read()
g = lambda k: float(re.search(k + r":\s+([0-9.]+)", t).group(1))
it = g("Iterations")
cyc, ins, uops = g("Total Cycles") / it, g("Instructions") / it, g("Total uOps") / it
width, rthr = g("Dispatch Width"), g("Block RThroughput")
sec = t.split("Resource pressure per iteration:")[1].split("\n")
press = max(float(x) for x in sec[2].split() if x != "-")
bound = max(uops / width, press, rthr)
print("| %s | %s | %.1f | %g | %.0f | %.2f | %.1f | %.1f | %.1f | %.0f%% |" % (name, cpu, cyc, work, ins, work / cyc,
      uops / width, press, rthr, 100 * bound / cyc))
' "$name" "$cpu" "$work"
}

# rows NAME LOOP WORK -> an aarch64 loop's rows on Cortex-A55, A72, A76, and when the loop has an LDP of q
# registers, an A55 row of the split_ldp variant.
rows() {
  local cpu
  for cpu in cortex-a55 cortex-a72 cortex-a76; do analyse "$1" "$2" "$3" aarch64 "$cpu"; done
  if grep -qE '^\s+ldp\s+q' "$2"; then
    split_ldp "$2"
    analyse "$1, LDP q split" "${2%.s}-split.s" "$3" aarch64 cortex-a55
  fi
}

# header TITLE WORK_UNIT -> a family's table header.
header() {
  echo
  echo "$1"
  echo
  echo "| loop (code) | -mcpu | cycles/iter | $2/iter | instr/iter | $2/cycle | issue bound | busiest pipe | RThroughput | % of bound |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
}

# compile ARCH SRC NAME -> $out/NAME.s
compile() {
  if [ "$1" = a64 ]; then "${a64[@]}" -o "$out/$3.s" "$root/kernels/$2"; else "${a32[@]}" -o "$out/$3.s" "$root/kernels/$2"; fi
}
# loop NAME PATTERN PICK LOOPNAME [COUNT] -> $out/LOOPNAME.s, cut from $out/NAME.s
loop() { cut_loop "$out/$1.s" "$2" "$3" ${5:+"$5"} > "$out/$4.s"; }

compile a64 bgemm/bgemm-4x8-neon.cc bgemm-4x8-a64
compile a32 bgemm/bgemm-4x4-neon.cc bgemm-4x4-a32
# The armv7 kernel's source compiled for A64: a stand-in for Cortex-A53 running it, since LLVM has no
# A32 scheduling model for the A53 (the A53 runs A32 NEON on the same pipes).
compile a64 bgemm/bgemm-4x4-neon.cc bgemm-4x4-a64
compile a64 stem/stem-5x16-neon.cc stem-5x16-a64
compile a32 stem/stem-4x8-neon.cc stem-4x8-a32
compile a64 bpool/bpool-x128-neon.cc bpool-a64
compile a32 bpool/bpool-x128-neon.cc bpool-a32
compile a64 pack/pack-x32-neon.cc pack-a64
compile a64 pack/quantize-levels-x32-neon.cc quantize-levels-a64
compile a64 transform/transform-x4-neon.cc transform-a64
for s in bgemm-4x8-a64 bgemm-4x4-a32 bgemm-4x4-a64; do loop "$s" '^\s+v?cnt' shortest "$s-loop"; done
loop stem-5x16-a64 '^\s+fmla' shortest stem-5x16-a64-loop  # the 5x4-vector tile (10x2 has as many FMAs)
loop stem-4x8-a32 '^\s+vfma' shortest stem-4x8-a32-loop    # the 4x2-vector tile (8x1 has as many)
loop bpool-a64 '^\s+and\s+v' shortest bpool-a64-loop
loop bpool-a32 '^\s+vand' shortest bpool-a32-loop
# A whole 32-channel word per iteration (the partial last word has its own loops).
loop pack-a64 '^\s+fcmlt' shortest pack-sign-a64-loop
loop pack-a64 '^\s+fcmgt' shortest pack-thresholds-a64-loop
loop quantize-levels-a64 '^\s+fcmlt' shortest quantize-binary-a64-loop 8
loop quantize-levels-a64 '^\s+fcmgt' shortest quantize-ternary-a64-loop 8
loop quantize-levels-a64 '^\s+cmtst' shortest quantize-2bit-a64-loop 16
loop quantize-levels-a64 '^\s+cmtst' shortest quantize-4bit-a64-loop 32
loop transform-a64 '^\s+scvtf\s+v' shortest transform-f32-a64-loop 4
loop transform-a64 '^\s+scvtf\s+v' longest transform-f32-rc-a64-loop 4
loop transform-a64 '^\s+cmgt' shortest transform-bits-a64-loop 8
loop transform-a64 '^\s+cmgt' longest transform-bits-c-a64-loop 8

header "Binary GEMM (bgemm), one 64-bit K step of the register tile" "binary MACs"
analyse "4x8 (A64)" "$out/bgemm-4x8-a64-loop.s" 2048 aarch64 cortex-a53
rows "4x8 (A64)" "$out/bgemm-4x8-a64-loop.s" 2048
for cpu in cortex-a7 cortex-a53; do
  analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf "$cpu" +neon
done
# Modelled stand-ins for the 32-bit cores above (see bench/RESULTS.md).
analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf cortex-a9 +neon
analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf cortex-a57 +neon
analyse "4x4 (A64 build)" "$out/bgemm-4x4-a64-loop.s" 1024 aarch64 cortex-a53

header "fp32 stem (direct convolution), one tap (input element) of the tile" "float MACs"
rows "5x16 (A64)" "$out/stem-5x16-a64-loop.s" 80
analyse "4x8 (A32)" "$out/stem-4x8-a32-loop.s" 32 armv7-linux-gnueabihf cortex-a57 +neon

header "Binary max pool (bpool), two taps of 128 bits" "bytes"
rows "x128 (A64)" "$out/bpool-a64-loop.s" 32
analyse "x128 (A32)" "$out/bpool-a32-loop.s" 32 armv7-linux-gnueabihf cortex-a57 +neon

header "Pack and QuantizeLevels (float -> bit planes), one whole 32-channel word" "channels"
rows "pack, sign (A64)" "$out/pack-sign-a64-loop.s" 32
rows "pack, thresholds (A64)" "$out/pack-thresholds-a64-loop.s" 32
rows "levels, Binary (A64)" "$out/quantize-binary-a64-loop.s" 32
rows "levels, Ternary (A64)" "$out/quantize-ternary-a64-loop.s" 32
rows "levels, 2-bit Unipolar/Bipolar (A64)" "$out/quantize-2bit-a64-loop.s" 32
rows "levels, 4-bit Unipolar/Bipolar (A64)" "$out/quantize-4bit-a64-loop.s" 32

header "Output transforms (popcounts -> floats / next layer's bits)" "channels"
rows "f32, 16 channels (A64)" "$out/transform-f32-a64-loop.s" 16
rows "f32 + residual + correction, 16 channels (A64)" "$out/transform-f32-rc-a64-loop.s" 16
rows "bits, 32-channel word (A64)" "$out/transform-bits-a64-loop.s" 32
rows "bits + correction, 32-channel word (A64)" "$out/transform-bits-c-a64-loop.s" 32
echo "llvm-mca: $("$mca" --version | grep -o 'LLVM version [0-9.]*'); files in $out" >&2
