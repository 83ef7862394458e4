// ONNX Runtime (onnxruntime-node) peer for bench/peers/run: one session per thread count on the same
// ONNX file, then commands as JSON lines on stdin, answers as JSON lines on stdout.
//   node ort_worker.js MODEL.onnx THREADS[,THREADS...]     (NODE_PATH must reach onnxruntime-node)
// Commands:
//   {"cmd": "time", "threads": T, "runs": N, "warmup": W}  -> {"times_ms": [...]}  (wall time of session.run)
//   {"cmd": "run", "threads": T, "input": "x.bin", "output": "y.bin"}  -> {"ok": true}  (raw float32, batch 1)
//   {"cmd": "quit"}
// Session options: intraOpNumThreads = T, interOpNumThreads = 1, sequential execution,
// graphOptimizationLevel 'all', CPU execution provider.
'use strict';
const fs = require('fs');
const readline = require('readline');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write(`ort_worker: cannot load onnxruntime-node: ${e.message}\n`);
  process.exit(1);
}

function reply(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

async function main() {
  const [modelPath, threadList] = process.argv.slice(2);
  if (!modelPath || !threadList) {
    process.stderr.write('usage: node ort_worker.js MODEL.onnx THREADS[,THREADS...]\n');
    process.exit(2);
  }
  const version = require('onnxruntime-node/package.json').version;
  const sessions = new Map();
  for (const t of threadList.split(',').map(Number)) {
    const s = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: t,
      interOpNumThreads: 1,
    });
    sessions.set(t, s);
  }
  const any = sessions.values().next().value;
  const inputName = any.inputNames[0];
  const outputName = any.outputNames[0];
  const shape = [1, 3, 224, 224];
  const size = shape.reduce((a, b) => a * b, 1);
  // Deterministic timing input (uniform in [-1, 1), like bench's); the values do not change the work.
  const data = new Float32Array(size);
  let state = 7;
  for (let i = 0; i < size; ++i) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = (state / 4294967296) * 2 - 1;
  }
  const timingFeeds = { [inputName]: new ort.Tensor('float32', data, shape) };
  reply({ ready: true, version, node: process.version, input: inputName, output: outputName });

  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (e) {
      reply({ error: `bad command: ${line}` });
      continue;
    }
    try {
      if (cmd.cmd === 'quit') break;
      const s = sessions.get(cmd.threads);
      if (!s) throw new Error(`no session for threads=${cmd.threads}`);
      if (cmd.cmd === 'time') {
        for (let i = 0; i < (cmd.warmup || 0); ++i) await s.run(timingFeeds);
        const times = [];
        for (let i = 0; i < cmd.runs; ++i) {
          const t0 = process.hrtime.bigint();
          await s.run(timingFeeds);
          times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        reply({ times_ms: times });
      } else if (cmd.cmd === 'run') {
        const buf = fs.readFileSync(cmd.input);
        const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
        if (x.length !== size) throw new Error(`input ${cmd.input}: ${x.length} floats, expected ${size}`);
        const out = await s.run({ [inputName]: new ort.Tensor('float32', x, shape) });
        const y = out[outputName].data;
        fs.writeFileSync(cmd.output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
        reply({ ok: true });
      } else {
        throw new Error(`unknown command ${cmd.cmd}`);
      }
    } catch (e) {
      reply({ error: e.message });
    }
  }
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`ort_worker: ${e.stack || e.message}\n`);
  process.exit(1);
});
