// The emulator's function runner: one long-lived Node.js process that runs a Gipity app's
// functions, as the platform calls them: `export default async function name(ctx, services)`.
//
// Protocol: one JSON object a line. The emulator writes `call` and `db-result` messages on
// stdin; this process writes `done` and `db` messages on stdout. Anything a function prints
// (console, process.stdout) is captured into its call's log, never mixed into the protocol.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const write = process.stdout.write.bind(process.stdout);
const send = (message) => write(JSON.stringify(message) + '\n');
const current = new AsyncLocalStorage();

// Output outside any call (a module's top level) goes to stderr, which the emulator logs.
function capture(level, args) {
  const call = current.getStore();
  const line = format(...args);
  if (call) {
    call.console.push({ level, message: line });
  } else {
    process.stderr.write(`[${level}] ${line}\n`);
  }
}

for (const level of ['log', 'info', 'warn', 'error', 'debug']) {
  console[level] = (...args) => capture(level, args);
}
process.stdout.write = (chunk, ...rest) => {
  capture('stdout', [String(chunk).replace(/\n$/, '')]);
  const done = rest.find((arg) => typeof arg === 'function');
  if (done) done();
  return true;
};

const modules = new Map();
async function load(file, version) {
  const key = `${file}?v=${version}`;
  if (!modules.has(key)) {
    modules.set(key, import(`${pathToFileURL(file).href}?v=${version}`));
  }
  const module = await modules.get(key);
  if (typeof module.default !== 'function') {
    throw new Error(`${file} has no default export: a Gipity function is \`export default async function name(ctx, services)\``);
  }
  return module.default;
}

class GipityServiceError extends Error {}

// A service the platform offers that the emulator does not: using it fails, naming it.
function missing(name) {
  const fail = () => {
    throw new GipityServiceError(
      `services.${name} is not available in the gipity emulator; the function must not rely on it when run locally`,
    );
  };
  return new Proxy(fail, { get: (_, prop) => (prop === 'then' ? undefined : fail), apply: fail });
}

const pendingDb = new Map();
let dbSeq = 0;

function services(call, request) {
  const allowed = new Set(request.fetchDomains.map((domain) => domain.toLowerCase()));
  const db = {
    query(sql, params = []) {
      if (typeof sql !== 'string') {
        return Promise.reject(new TypeError('db.query(sql, params): sql must be a string'));
      }
      if (!Array.isArray(params)) {
        return Promise.reject(new TypeError('db.query(sql, params): params must be an array'));
      }
      const seq = ++dbSeq;
      return new Promise((resolve, reject) => {
        pendingDb.set(seq, { resolve, reject });
        send({ type: 'db', id: request.id, fn: request.name, seq, sql, params: params.map(toParam) });
      });
    },
  };
  const gipityFetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const host = url.hostname.toLowerCase();
    if (!allowed.has(host)) {
      throw new GipityServiceError(
        `fetch to ${host} is refused: function \`${request.name}\` may reach only its fetch_domains in gipity.yaml (${[...allowed].join(', ') || 'none'})`,
      );
    }
    return fetch(input, init);
  };
  const console = Object.fromEntries(
    ['log', 'info', 'warn', 'error', 'debug'].map((level) => [level, (...args) => capture(level, args)]),
  );
  return {
    db,
    fetch: gipityFetch,
    secrets: Object.freeze({ ...request.secrets }),
    env: Object.freeze({ ...request.env }),
    console,
    guid: (prefix = 'id') => `${prefix}-${randomBytes(4).toString('hex')}`,
    randomToken: (bytes = 32) => randomBytes(bytes).toString('hex'),
    notify: missing('notify'),
    llm: missing('llm'),
  };
}

// node-postgres sends parameters as text: Dates as ISO strings, arrays as PostgreSQL array
// literals, Buffers as bytea hex, other objects as JSON, null and undefined as NULL.
function toParam(value) {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (Array.isArray(value)) return arrayLiteral(value);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function arrayLiteral(values) {
  const items = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (Array.isArray(value)) return arrayLiteral(value);
    const text = toParam(value);
    return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}

function errorOf(error) {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, service: error instanceof GipityServiceError };
  }
  return { name: 'Error', message: String(error), service: false };
}

async function run(request) {
  const call = { console: [] };
  await current.run(call, async () => {
    try {
      const fn = await load(request.file, request.version);
      const value = await fn(request.ctx, services(call, request));
      send({ type: 'done', id: request.id, ok: true, value: value === undefined ? null : value, console: call.console });
    } catch (error) {
      send({ type: 'done', id: request.id, ok: false, error: errorOf(error), console: call.console });
    }
  });
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    process.stderr.write(`runner: not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  if (message.type === 'call') {
    run(message);
  } else if (message.type === 'db-result') {
    const waiting = pendingDb.get(message.seq);
    pendingDb.delete(message.seq);
    if (!waiting) return;
    if (message.error) {
      waiting.reject(new Error(message.error));
    } else {
      waiting.resolve(message.result);
    }
  }
});
input.on('close', () => process.exit(0));
send({ type: 'ready', node: process.version });
