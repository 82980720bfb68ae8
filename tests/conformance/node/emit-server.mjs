// The other side of `flue-decl emit`: one JSON case per stdin line, one JSON answer per
// stdout line, against the real Flue runtime (0.11.1).
//
//   {"kind": "apply", "module": PATH, "env": {...}, "apis": [...], "bindings": {...},
//    "resolve": [...]}
//     imports the emitted module, calls applyProviders({env, apiProviders}) and resolves
//     each specifier exactly as replay.mjs does: {"calls", "results"} or {"error"}.
//   {"kind": "render", "module": PATH, "env": {...}}
//     a module of compiled templates (renderAll(env)): {"rendered": [...]}
//
// Runtime state is reset between cases as replay-server.mjs does (every provider ID the
// last case touched set back to undefined; the environment back to its baseline).
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const { registerProvider, configureProvider } = await import('@flue/runtime');
const { resolveModel } = await import('@flue/runtime/internal');
const { getEnvApiKey } = await import('@earendil-works/pi-ai');

const KEY_PATTERN = /(_API_KEY|_TOKEN|^AWS_|^GOOGLE_|^GCLOUD_)/;
for (const key of Object.keys(process.env)) {
  if (KEY_PATTERN.test(key)) delete process.env[key];
}
const baseline = new Set(Object.keys(process.env));

let touched = new Set();
function reset() {
  for (const id of touched) {
    registerProvider(id, undefined);
    configureProvider(id, undefined);
  }
  touched = new Set();
  for (const key of Object.keys(process.env)) {
    if (!baseline.has(key) || KEY_PATTERN.test(key)) delete process.env[key];
  }
}

async function apply(input) {
  reset();
  Object.assign(process.env, input.env ?? {});
  const module = await import(pathToFileURL(input.module).href);
  const fail = () => { throw new Error('emit-server: no transport'); };
  const apiProviders = Object.fromEntries(
    (input.apis ?? []).map((api) => [api, { api, stream: fail, streamSimple: fail }]),
  );
  let calls;
  try {
    // A binding object stands in as its name, which is what replay.mjs registers.
    calls = module.applyProviders({ env: { ...input.env }, apiProviders, bindings: input.bindings });
  } catch (error) {
    return { error: String(error.message ?? error) };
  }
  const registered = new Map();
  const configured = new Map();
  for (const call of calls) {
    if (call.op === 'registerProvider') registered.set(call.id, call.registration);
    if (call.op === 'configureProvider') configured.set(call.id, call.settings);
    if (call.id !== undefined) touched.add(call.id);
  }
  const results = [];
  for (const spec of input.resolve ?? []) {
    try {
      const model = resolveModel(spec);
      const providerId = spec.slice(0, spec.indexOf('/'));
      const settings = configured.get(providerId);
      const apiKey = settings?.apiKey ?? registered.get(providerId)?.apiKey
        ?? getEnvApiKey(model.provider, process.env) ?? null;
      const storeResponses = (model.api === 'openai-responses' || model.api === 'azure-openai-responses')
        && settings?.storeResponses === true;
      results.push({ spec, ok: true, model, apiKey, storeResponses });
    } catch (error) {
      results.push({ spec, ok: false, error: String(error.message ?? error) });
    }
  }
  return { calls, results };
}

async function render(input) {
  const module = await import(pathToFileURL(input.module).href);
  return { rendered: module.renderAll(input.env ?? {}, input.secrets ?? {}) };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let answer;
  try {
    const input = JSON.parse(line);
    answer = input.kind === 'render' ? await render(input) : await apply(input);
  } catch (error) {
    answer = { fatal: String(error.stack ?? error) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
