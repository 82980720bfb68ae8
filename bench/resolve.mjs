// The reference runtime's resolveModel per call, on the same registry calls as flue-decl.
// Run as `node --input-type=module -e "$(cat bench/resolve.mjs)" INPUT.json` with the
// conformance install (tests/conformance/node) as the working directory.
// INPUT.json: {"calls": [...], "specs": [...], "iterations": N, "rounds": R}
// stdout: {"ns_per_call": median over R rounds}. Same loop shape as bench/run.py's.
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const { registerProvider, configureProvider } = await import('@flue/runtime');
const { resolveModel } = await import('@flue/runtime/internal');
for (const call of input.calls) {
  if (call.op === 'registerProvider') registerProvider(call.id, call.registration);
  else if (call.op === 'configureProvider') configureProvider(call.id, call.settings);
}
const specs = input.specs;
const seq = Array.from({ length: input.iterations }, (_, i) => specs[i % specs.length]);
function rounds(seq, count) {
  // In a function, like bench/run.py's loop; the sink keeps every call observable.
  let sink = 0;
  for (const s of seq) sink += resolveModel(s).maxTokens;
  const runs = [];
  for (let r = 0; r < count; r++) {
    const start = process.hrtime.bigint();
    for (const s of seq) sink += resolveModel(s).maxTokens;
    runs.push(Number(process.hrtime.bigint() - start) / seq.length);
  }
  runs.sort((a, b) => a - b);
  return { ns_per_call: runs[Math.floor(runs.length / 2)], sink };
}
process.stdout.write(JSON.stringify(rounds(seq, input.rounds)) + '\n');
