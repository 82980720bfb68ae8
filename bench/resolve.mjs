// The reference runtime's resolveModel per call, on the same registry calls as flue-decl.
// Run as `node --input-type=module -e "$(cat bench/resolve.mjs)" INPUT.json` with the
// conformance install (tests/conformance/node) as the working directory.
// INPUT.json: {"calls": [...], "specs": [...], "iterations": N}; stdout: {"ns_per_call": x}
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const { registerProvider, configureProvider } = await import('@flue/runtime');
const { resolveModel } = await import('@flue/runtime/internal');
for (const call of input.calls) {
  if (call.op === 'registerProvider') registerProvider(call.id, call.registration);
  else if (call.op === 'configureProvider') configureProvider(call.id, call.settings);
}
const specs = input.specs;
let sink = 0;
for (let i = 0; i < 20000; i++) sink += resolveModel(specs[i % specs.length]).maxTokens;
const start = process.hrtime.bigint();
for (let i = 0; i < input.iterations; i++) sink += resolveModel(specs[i % specs.length]).maxTokens;
const ns = Number(process.hrtime.bigint() - start) / input.iterations;
process.stdout.write(JSON.stringify({ ns_per_call: ns, sink }) + '\n');
