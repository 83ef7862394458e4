#!/usr/bin/env bash
# Static cycle counts of the NEON binary-GEMM inner loops with llvm-mca (Arm speed without Arm hardware).
# Usage: bench/llvm-mca.sh [OUT_DIR]   (default: a temporary folder; keeps the .s files and loops there)
# Needs scripts/setup's `cross` group (Arm g++ and Debian's `llvm`). Compiles the kernels with -S exactly as
# bench/RESULTS.md says, cuts the innermost loop that contains the popcount (the block from the label to
# its backward branch, loop counter and branch included), and runs llvm-mca on it for each core. Prints a
# Markdown table: per loop iteration (one K step of 64 bits for the whole MR x NR tile) the cycles, the
# binary MACs (MR * NR * 64), cycles per 128 binary MACs, the issue-width bound (uops / dispatch width),
# the busiest pipe (resource pressure) and llvm-mca's Block RThroughput, and the loop's cycles as a
# share of the largest bound ("% of bound", 100 = at the bound).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
mca="${LLVM_MCA:-llvm-mca}"
common=(-O2 -std=c++17 -DNDEBUG -I"$root/kernels" -I"$root/kernels/include" -S)

# cut_loop FILE.s -> the innermost loop with a cnt / vcnt instruction, wrapped in llvm-mca region markers.
cut_loop() {
  python3 - "$1" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split('\n')
labels = {m.group(1): i for i, l in enumerate(lines) for m in [re.match(r'^(\.L\w+):', l)] if m}
best = None
for i, l in enumerate(lines):
    m = re.match(r'^\s+(?:b|cb|tb)\S*\s+(?:[^,]+,\s*)*(\.L\w+)\s*$', l)
    if not m or m.group(1) not in labels or labels[m.group(1)] >= i:
        continue
    body = [x for x in lines[labels[m.group(1)] + 1:i + 1] if x.startswith('\t') and not x.startswith('\t.')]
    if any(re.match(r'\s+v?cnt', x) for x in body) and (best is None or len(body) < len(best)):
        best = body
if best is None:
    sys.exit('no popcount loop found in ' + sys.argv[1])
print('\n'.join(best))
EOF
}

# analyse NAME LOOP MACS TRIPLE CPU [MATTR] -> one table row (or a row saying llvm-mca has no model).
analyse() {
  local name="$1" loop="$2" macs="$3" triple="$4" cpu="$5" mattr="${6:-}" rep
  local args=(-mtriple="$triple" -mcpu="$cpu" -iterations=1000)
  [ -n "$mattr" ] && args+=(-mattr="$mattr")
  if ! rep="$("$mca" "${args[@]}" "$loop" 2>&1)"; then
    echo "| $name | $cpu | no scheduling model in this llvm-mca: $(echo "$rep" | head -1 | sed 's/.*error: //' | cut -c1-60)… | | | | | | |"
    return
  fi
  echo "$rep" > "${loop%.s}-$cpu.mca.txt"
  echo "$rep" | python3 -c '
import re, sys
name, cpu, macs = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = sys.stdin.read()
g = lambda k: float(re.search(k + r":\s+([0-9.]+)", t).group(1))
it = g("Iterations")
cyc, ins, uops = g("Total Cycles") / it, g("Instructions") / it, g("Total uOps") / it
width, rthr = g("Dispatch Width"), g("Block RThroughput")
sec = t.split("Resource pressure per iteration:")[1].split("\n")
press = max(float(x) for x in sec[2].split() if x != "-")
bound = max(uops / width, press, rthr)
print("| %s | %s | %.1f | %d | %.0f | %.2f | %.1f | %.1f | %.1f | %.0f%% |" % (name, cpu, cyc, macs, ins, cyc * 128 / macs,
      uops / width, press, rthr, 100 * bound / cyc))
' "$name" "$cpu" "$macs"
}

a64=(aarch64-linux-gnu-g++ "${common[@]}")
a32=(arm-linux-gnueabihf-g++ "${common[@]}" -march=armv7-a -mfpu=neon-vfpv4 -mfloat-abi=hard)
"${a64[@]}" -o "$out/bgemm-4x8-a64.s" "$root/kernels/bgemm/bgemm-4x8-neon.cc"
"${a32[@]}" -o "$out/bgemm-4x4-a32.s" "$root/kernels/bgemm/bgemm-4x4-neon.cc"
# The armv7 kernel's source compiled for A64: a stand-in for Cortex-A53 running it, since LLVM has no
# A32 scheduling model for the A53 (the A53 runs A32 NEON on the same pipes).
"${a64[@]}" -o "$out/bgemm-4x4-a64.s" "$root/kernels/bgemm/bgemm-4x4-neon.cc"
for s in bgemm-4x8-a64 bgemm-4x4-a32 bgemm-4x4-a64; do cut_loop "$out/$s.s" > "$out/$s-loop.s"; done

echo "| kernel (code) | -mcpu | cycles/iter | binary MACs/iter | instr/iter | cycles/128 MACs | issue bound | busiest pipe | RThroughput | % of bound |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for cpu in cortex-a53 cortex-a72 cortex-a76; do
  analyse "4x8 (A64)" "$out/bgemm-4x8-a64-loop.s" 2048 aarch64 "$cpu"
done
for cpu in cortex-a7 cortex-a53; do
  analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf "$cpu" +neon
done
# Modelled stand-ins for the 32-bit cores above (see bench/RESULTS.md).
analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf cortex-a9 +neon
analyse "4x4 (A32)" "$out/bgemm-4x4-a32-loop.s" 1024 armv7-linux-gnueabihf cortex-a57 +neon
analyse "4x4 (A64 build)" "$out/bgemm-4x4-a64-loop.s" 1024 aarch64 cortex-a53
echo "llvm-mca: $("$mca" --version | grep -o 'LLVM version [0-9.]*'); files in $out" >&2
