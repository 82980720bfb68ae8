// Conformance oracle as a long-lived process: one JSON case per stdin line,
// one JSON result per stdout line, in replay.mjs's input and output shapes.
//
// The per-case logic is replay.mjs's, verbatim. Between cases the runtime's
// module-level registries are reset by writing `undefined` for every provider
// ID the previous case touched: resolveModel() treats an undefined
// registration or settings object exactly like a missing one
// (`if (!registration) return undefined`, `if (!providerSettings) return model`),
// so each case sees a fresh runtime. tests/conformance checks this server
// against replay.mjs itself.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const { registerProvider, configureProvider, registerApiProvider } = await import('@flue/runtime');
const { resolveModel } = await import('@flue/runtime/internal');
const { getEnvApiKey, streamSimple } = await import('@earendil-works/pi-ai');

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

function runCase(input) {
  reset();
  Object.assign(process.env, input.env ?? {});
  const registered = new Map();
  const configured = new Map();
  for (const call of input.calls ?? []) {
    if (call.op === 'registerProvider') {
      registerProvider(call.id, call.registration);
      registered.set(call.id, call.registration);
      touched.add(call.id);
    } else if (call.op === 'configureProvider') {
      configureProvider(call.id, call.settings);
      configured.set(call.id, call.settings);
      touched.add(call.id);
    } else if (call.op === 'registerApiProvider') {
      const fail = () => { throw new Error(`replay: no transport for ${call.api}`); };
      registerApiProvider({ api: call.api, stream: fail, streamSimple: fail });
    } else {
      throw new Error(`replay: unknown op ${call.op}`);
    }
  }
  return { results: resolveAll(input.resolve ?? [], registered, configured) };
}

function resolveAll(specs, registered, configured) {
  const results = [];
  for (const spec of specs) {
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
  return results;
}

// `flue-decl emit`'s modules. {"kind": "apply", "module", "env", "apis", "bindings",
// "resolve"}: the module applies its own calls (applyProviders), which are then resolved as
// above: {"calls", "results"} or {"error"}. {"kind": "render", "module", "env", "secrets"}:
// a module of compiled templates (renderAll): {"rendered"}. {"kind": "check", "module",
// "urls", "names"}: a module of the emitted runtime's own checks (checkAll): {"checked"}.
async function applyCase(input) {
  reset();
  Object.assign(process.env, input.env ?? {});
  const module = await import(pathToFileURL(input.module).href);
  const fail = () => { throw new Error('replay: no transport'); };
  const apiProviders = Object.fromEntries(
    // `handlerApis` (optional): the `api` a handler says it is, where it differs from its key.
    (input.apis ?? []).map((api) => [
      api,
      { api: input.handlerApis?.[api] ?? api, stream: fail, streamSimple: fail },
    ]),
  );
  let calls;
  try {
    // A binding object stands in as its name, which is what the replayed calls register.
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
  return { calls, results: resolveAll(input.resolve ?? [], registered, configured) };
}

async function renderCase(input) {
  const module = await import(pathToFileURL(input.module).href);
  return { rendered: module.renderAll(input.env ?? {}, input.secrets ?? {}) };
}

async function checkCase(input) {
  const module = await import(pathToFileURL(input.module).href);
  return { checked: module.checkAll(input.urls ?? [], input.names ?? []) };
}

// {"kind": "send", "calls", "env", "spec"}: one request for the model as Flue's agent makes
// it (the key from getProviderApiKey, then pi-ai's streamSimple, which falls back to the
// environment's key), sent wherever the model's baseUrl points: {"sent"} with pi-ai's
// error message, if any (a recording server answers every request with an error).
async function sendCase(input) {
  runCase({ ...input, resolve: [] });
  const model = resolveModel(input.spec);
  const providerId = input.spec.slice(0, input.spec.indexOf('/'));
  const configured = (input.calls ?? []).filter((c) => c.op === 'configureProvider' && c.id === providerId);
  const registered = (input.calls ?? []).filter((c) => c.op === 'registerProvider' && c.id === providerId);
  const settings = configured.at(-1)?.settings;
  const registration = registered.at(-1)?.registration;
  let apiKey = settings?.apiKey;
  if (apiKey === undefined && registration && registration.api !== 'cloudflare-ai-binding') {
    apiKey = registration.apiKey;
  }
  const context = { messages: [{ role: 'user', content: 'hi', timestamp: 0 }] };
  const options = apiKey ? { apiKey, maxRetries: 0 } : { maxRetries: 0 };
  try {
    const result = await streamSimple(model, context, options).result();
    return { sent: true, error: result.errorMessage ?? null };
  } catch (error) {
    return { sent: false, error: String(error.message ?? error) };
  }
}

const KINDS = { apply: applyCase, render: renderCase, check: checkCase, send: sendCase };

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let out;
  try {
    const input = JSON.parse(line);
    out = await (KINDS[input.kind] ?? runCase)(input);
  } catch (error) {
    out = { fatal: String(error?.stack ?? error) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
