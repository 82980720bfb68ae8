// Made from emit_runtime.ts by `make emit-runtime` (tsc strips the types): do not edit.
// The renderer and the applier of the modules `flue-decl emit` writes; see the .ts file.
class $Missing {
    name;
    constructor(name) {
        this.name = name;
    }
}
class $Problem {
    message;
    constructor(message) {
        this.message = message;
    }
}
const PY_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" +
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const NOT_TEXT = "the rendered value is not text: a variable holds bytes that are not UTF-8";
function $cpLength(s) {
    if (s.length <= MAX_OUTPUT)
        return s.length;
    let n = 0;
    for (const _ of s)
        n += 1;
    return n;
}
function $tooLong() {
    return new $Problem(`the rendered value is longer than ${MAX_OUTPUT} characters`);
}
function $strip(s) {
    let a = 0;
    let b = s.length;
    while (a < b && PY_SPACE.includes(s[a]))
        a += 1;
    while (b > a && PY_SPACE.includes(s[b - 1]))
        b -= 1;
    return s.slice(a, b);
}
function $own(o, k) {
    return o != null && Object.prototype.hasOwnProperty.call(o, k);
}
function $context(env, secrets, defined) {
    const lookup = (name) => {
        if ($own(defined, name))
            return defined[name];
        const [from, key] = name.startsWith(SECRET)
            ? [secrets, name.slice(SECRET.length)]
            : [env, name];
        const found = $own(from, key) ? from[key] : undefined;
        return typeof found === "string" ? found : undefined;
    };
    const text = (v) => {
        if (typeof v !== "string")
            throw new $Missing(v.name);
        return v;
    };
    const joined = (pieces) => {
        const length = pieces.reduce((n, p) => n + p.length, 0);
        if (length > MAX_OUTPUT && $cpLength(pieces.join("")) > MAX_OUTPUT)
            throw $tooLong();
        return pieces.join("");
    };
    return {
        text,
        joined,
        get(name) {
            const v = lookup(name);
            return v === undefined ? { name } : v;
        },
        defined(name) {
            return lookup(name) !== undefined;
        },
        truthy(v) {
            return text(v).length > 0;
        },
        concat(values) {
            return joined(values.map(text));
        },
        dflt(v, args, replaceEmpty) {
            if (typeof v !== "string" || (replaceEmpty && v === ""))
                return args.length ? args[0] : "";
            return v;
        },
        lower(v) {
            return text(v).toLowerCase();
        },
        upper(v) {
            return text(v).toUpperCase();
        },
        trim(v) {
            return $strip(text(v));
        },
        urlencode(v) {
            const s = text(v);
            let out;
            try {
                out = encodeURIComponent(s);
            }
            catch {
                throw new $Problem(NOT_TEXT);
            }
            out = out
                .replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())
                .replace(/%2F/g, "/");
            if ($cpLength(out) > MAX_OUTPUT)
                throw $tooLong();
            return out;
        },
        replace(v, args) {
            const s = text(v);
            const [from, to] = args.map(text);
            const count = from === "" ? $cpLength(s) + 1 : s.split(from).length - 1;
            const grows = Math.max(0, $cpLength(to) - $cpLength(from)) * count;
            if ($cpLength(s) + grows > MAX_OUTPUT)
                throw $tooLong();
            if (from === "")
                return to + Array.from(s).join(to) + (s === "" ? "" : to);
            return s.split(from).join(to);
        },
    };
}
function $render(fn, env, secrets) {
    const missing = [];
    // No prototype: a variable named __proto__ is defined like any other.
    const defined = Object.create(null);
    for (;;) {
        try {
            const $ = $context(env, secrets, defined);
            const value = $.joined(fn($));
            if (missing.length)
                return { missing };
            const check = value;
            if (typeof check.isWellFormed === "function" && !check.isWellFormed()) {
                return { missing, problem: NOT_TEXT };
            }
            return { value };
        }
        catch (error) {
            if (error instanceof $Missing) {
                missing.push(error.name);
                if (missing.length === MAX_MISSING)
                    return { missing };
                defined[error.name] = "";
                continue;
            }
            if (error instanceof $Problem)
                return { missing, problem: error.message };
            throw error;
        }
    }
}
function $shown(name) {
    return name.startsWith(SECRET)
        ? `secret.${name.slice(SECRET.length)}`
        : `environment variable ${name}`;
}
// -- the checks flue-decl makes on rendered values (flue_decl/_urls.py, runtime/_build.py) --
const $CONTROL = new RegExp(RENDERED_CONTROL);
const $WORD_BOUNDARY = new RegExp(WORD_BOUNDARY);
const $PATH_PARAMETER = new RegExp(PATH_PARAMETER, "g");
const $URL_REFUSED = new RegExp(URL_REFUSED_CHARS);
const $AUTHORITY = new RegExp(URL_AUTHORITY);
const $LOOPBACK = new RegExp(`^(?:${LOOPBACK_HOST})$`);
function $singular(word) {
    return word.endsWith("s") && CREDENTIAL_WORDS.includes(word.slice(0, -1))
        ? word.slice(0, -1)
        : word;
}
// flue_decl/_secrets.py is_credential_name
function $isCredentialName(name) {
    const words = name
        .split($WORD_BOUNDARY)
        .filter((word) => word)
        .map((word) => $singular(word.toLowerCase()));
    if (!words.length || DESCRIBING_WORDS.includes(words[words.length - 1]))
        return false;
    if (words.some((word) => QUANTITY_WORDS.includes(word)))
        return false;
    return words.some((word) => CREDENTIAL_WORDS.includes(word));
}
function $readUrl(value) {
    try {
        return new URL(value);
    }
    catch {
        return undefined;
    }
}
// flue_decl/_urls.py url_problem
function $urlProblem(value, anyScheme) {
    const scheme = value.startsWith("/")
        ? "unix"
        : (/^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1]?.toLowerCase() ?? "");
    if (anyScheme && scheme !== "http" && scheme !== "https") {
        if (value === "")
            return "the URL is empty";
        if ($URL_REFUSED.test(value))
            return "the URL contains whitespace or control characters";
        return undefined;
    }
    if ($URL_REFUSED.test(value))
        return "the URL contains whitespace or control characters";
    const url = $readUrl(value);
    if (url === undefined)
        return "not a valid URL (as Flue's fetch reads URLs)";
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        return "a base URL starts with https:// (or http:// for a local server)";
    }
    if (!$AUTHORITY.test(value))
        return "write the host right after https:// (or http://)";
    if (value.includes("\\"))
        return "a backslash, which URL readers disagree on";
    if (url.username || url.password) {
        return "a base URL cannot carry a user or password (user:password@host): put credentials in headers or apiKey";
    }
    return undefined;
}
function $credentialParameter(name, value) {
    let decoded = name;
    try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
    }
    catch { }
    return value !== "" && $isCredentialName(decoded);
}
// flue_decl/_secrets.py url_credentials: `?key=...` in the query, `;key=...` in the path
function $urlCredentials(value) {
    const [head, ...rest] = value.split("?");
    const query = rest.join("?").split("#")[0];
    for (const match of head.matchAll($PATH_PARAMETER)) {
        if ($credentialParameter(match[1], match[2]))
            return true;
    }
    if (!rest.length || query === "")
        return false;
    return query.split("&").some((part) => {
        const [name, ...value] = part.split("=");
        return $credentialParameter(name, value.join("="));
    });
}
// flue_decl/_secrets.py mask_url
function $maskUrl(url) {
    const at = url.indexOf("?");
    let head = at === -1 ? url : url.slice(0, at);
    const rest = at === -1 ? "" : url.slice(at + 1);
    const hash = rest.indexOf("#");
    const query = hash === -1 ? rest : rest.slice(0, hash);
    const tail = hash === -1 ? "" : rest.slice(hash);
    head = head.replace(new RegExp(USERINFO), (_match, scheme) => `${scheme}${MASK}@`);
    head = head.replace($PATH_PARAMETER, (match, name, value) => $credentialParameter(name, value) ? `;${name}=${MASK}` : match);
    if (!query)
        return head + (at === -1 ? "" : "?") + tail;
    const shown = query.split("&").map((part) => {
        const [name, ...value] = part.split("=");
        return $credentialParameter(name, value.join("=")) ? `${name}=${MASK}` : part;
    });
    return `${head}?${shown.join("&")}${tail}`;
}
// flue_decl/_secrets.py mask_payload: what applyProviders returns, for logging
function $masked(call, facts) {
    const field = call.op === "registerProvider" ? "registration" : call.op === "configureProvider" ? "settings" : "";
    if (!field)
        return call;
    const out = JSON.parse(JSON.stringify(call[field]));
    if (out.apiKey)
        out.apiKey = MASK;
    const headers = out.headers;
    if (headers !== null && typeof headers === "object" && !Array.isArray(headers)) {
        for (const [name, value] of Object.entries(headers)) {
            if ($isCredentialName(name) && value)
                headers[name] = MASK;
        }
    }
    if (typeof out.baseUrl === "string")
        out.baseUrl = $maskUrl(out.baseUrl);
    for (const path of facts?.credentials ?? []) {
        const parent = $get(out, path.slice(0, -1));
        const last = path[path.length - 1];
        if (parent !== null && typeof parent === "object" && !Array.isArray(parent)) {
            if (parent[last])
                parent[last] = MASK;
        }
    }
    return { ...call, [field]: out };
}
// flue_decl/_urls.py insecure_transport
function $inClear(value) {
    const url = $readUrl(value);
    if (url === undefined)
        return false; // not a URL: reported as invalid, nothing is sent
    return CLEAR_PROTOCOLS.includes(url.protocol) && !$LOOPBACK.test(url.hostname);
}
// flue_decl/_urls.py is_blank_key: pi-ai reads the environment's key for such a one
function $blankKey(value) {
    return typeof value !== "string" || value.trim() === "";
}
function $get(data, path) {
    let value = data;
    for (const part of path) {
        if (value == null || typeof value !== "object")
            return undefined;
        value = value[part];
    }
    return value;
}
function $transport(calls, facts, places) {
    const registered = new Map();
    const configured = new Map();
    calls.forEach((call, i) => {
        if (call.op === "registerProvider")
            registered.set(call.id, i);
        if (call.op === "configureProvider")
            configured.set(call.id, i);
    });
    const out = [];
    for (const provider of new Set([...registered.keys(), ...configured.keys()])) {
        const r = registered.get(provider);
        const c = configured.get(provider);
        const data = (i) => (calls[i].registration ?? calls[i].settings);
        if ([r, c].some((i) => i !== undefined && facts[i].allowPlainHttp))
            continue;
        // A null is no value, as in resolution: the registration's holds.
        const urlOwner = c !== undefined && data(c).baseUrl != null ? c : r;
        if (urlOwner === undefined)
            continue;
        const url = data(urlOwner).baseUrl;
        if (typeof url !== "string" || !$inClear(url))
            continue;
        const keyOwner = c !== undefined && data(c).apiKey != null ? c : r;
        const sent = [];
        const keyed = keyOwner !== undefined && !$blankKey(data(keyOwner).apiKey);
        const runtime = facts[urlOwner].runtimeKey;
        const itself = runtime ? (keyed ? runtime.keyed : runtime.unkeyed) : null;
        if (itself)
            sent.push(`the credentials Flue's runtime sends by itself (${itself})`);
        if (keyed)
            sent.push("its API key");
        for (const i of [r, c]) {
            if (i === undefined)
                continue;
            for (const path of facts[i].credentials) {
                const value = $get(data(i), path);
                if (path[0] === "apiKey" || typeof value !== "string" || !value)
                    continue;
                if (path[0] === "baseUrl" && i !== urlOwner)
                    continue;
                sent.push(path[0] === "headers" ? `header \`${path[1]}\`` : path.join("/"));
            }
            const headers = (data(i).headers ?? {});
            for (const [name, value] of Object.entries(headers)) {
                const label = `header \`${name}\``;
                if (typeof value === "string" && value && $isCredentialName(name) && !sent.includes(label)) {
                    sent.push(label);
                }
            }
        }
        if ($urlCredentials(url))
            sent.push("the credentials in its base URL");
        if (sent.length) {
            out.push(`provider \`${provider}\` would send ${[...new Set(sent)].join(" and ")} over plain ` +
                `http:// to a host that is not loopback (${places[urlOwner]})`);
        }
    }
    return out;
}
function $start(options) {
    const host = globalThis.process;
    const env = options.env ?? host?.env ?? {};
    const secrets = options.secrets ?? {};
    const problems = [];
    const calls = [];
    const $where = [];
    return {
        calls,
        $where,
        $facts: [],
        $render(fn, where, field, url) {
            const result = $render(fn, env, secrets);
            for (const name of result.missing ?? []) {
                problems.push(`${$shown(name)} is not set (${where})`);
            }
            if (result.problem)
                problems.push(`${result.problem} (${where})`);
            const value = result.value;
            if (value !== undefined && url !== undefined) {
                const problem = $urlProblem(value, url === "any");
                if (problem)
                    problems.push(`baseUrl is invalid: ${problem} (${where})`);
            }
            else if (value !== undefined && $CONTROL.test(value)) {
                problems.push(`${field} contains a line break or control character (${where})`);
            }
            return value; // when it is not a string, $finish throws
        },
        $finish(done, places, api, facts = []) {
            if (!problems.length)
                problems.push(...$transport(done, facts, places));
            const handlers = options.apiProviders ?? {};
            const declared = new Set();
            done.forEach((call, i) => {
                if (call.op !== "registerApiProvider")
                    return;
                const name = call.api;
                declared.add(name);
                if (!$own(handlers, name)) {
                    const where = `(${places[i]}) needs an entry in options.apiProviders`;
                    problems.push(`the ApiProvider \`${name}\` ${where}`);
                    return;
                }
                // registerApiProvider files a handler under its own `api`, not under the key.
                const own = handlers[name]?.api;
                if (own !== name) {
                    problems.push(`options.apiProviders["${name}"] is a handler for api \`${String(own)}\`, ` +
                        `not \`${name}\` (${places[i]})`);
                }
            });
            for (const name of Object.keys(handlers)) {
                if (!declared.has(name)) {
                    problems.push(`options.apiProviders["${name}"] is not an ApiProvider of this tree ` +
                        `(it declares: ${[...declared].sort().join(", ") || "none"})`);
                }
            }
            if (problems.length) {
                throw new Error(`flue-decl: cannot apply providers:\n  ${problems.join("\n  ")}`);
            }
            const bindings = options.bindings ?? env;
            for (const call of done) {
                if (call.op === "registerApiProvider") {
                    api.registerApiProvider(handlers[call.api]);
                }
                else if (call.op === "registerProvider") {
                    const given = call.registration;
                    const registration = given.api === "cloudflare-ai-binding"
                        ? { ...given, binding: bindings[given.binding] }
                        : given;
                    api.registerProvider(call.id, registration);
                }
                else {
                    api.configureProvider(call.id, call.settings);
                }
            }
            // The runtime alone has the values: what is returned (for logging) shows none.
            return done.map((call, i) => $masked(call, facts[i]));
        },
    };
}
