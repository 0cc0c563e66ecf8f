// The emulator's function runner: one long-lived Node.js process that runs a Gipity app's
// functions, as the platform calls them: `export default async function name(ctx, services)`.
//
// Protocol: one JSON object a line. The emulator writes `call` and `db-result` messages on
// stdin; this process writes `done` and `db` messages on stdout, each between newlines (so
// that bytes a function writes to fd 1 by itself end up on lines of their own, skipped).
// What a function prints (console, process.stdout) is captured into its call's log.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const write = process.stdout.write.bind(process.stdout);
const send = (message) => write('\n' + JSON.stringify(message) + '\n');
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

// A function that leaves a rejection unhandled, or throws from a timer, must not take the
// other calls down with the process.
process.on('unhandledRejection', (reason) => capture('error', ['unhandled rejection:', reason]));
process.on('uncaughtException', (error) => capture('error', ['uncaught exception:', error]));

const modules = new Map();
async function load(file, version) {
  const key = `${file}?v=${version}`;
  if (!modules.has(key)) {
    const loading = import(`${pathToFileURL(file).href}?v=${version}`);
    // A file that fails to load is tried again on the next call (after a fix).
    loading.catch(() => modules.delete(key));
    modules.set(key, loading);
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
  const check = (url) => {
    const host = new URL(url).hostname.toLowerCase();
    if (!allowed.has(host)) {
      throw new GipityServiceError(
        `fetch to ${host} is refused: function \`${request.name}\` may reach only its fetch_domains in gipity.yaml (${[...allowed].join(', ') || 'none'})`,
      );
    }
  };
  // Redirects are followed by hand, each hop checked like the first.
  const gipityFetch = async (input, init = {}) => {
    let url = input instanceof Request ? input.url : String(input);
    for (let hop = 0; hop <= 20; hop++) {
      check(url);
      const response = await fetch(url, { ...init, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location || init.redirect === 'manual') {
        return response;
      }
      url = new URL(location, url).href;
    }
    throw new GipityServiceError('fetch: more than 20 redirects');
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
  try {
    if (error instanceof Error) {
      return { name: String(error.name), message: String(error.message), service: error instanceof GipityServiceError };
    }
    return { name: 'Error', message: String(error), service: false };
  } catch {
    return { name: 'Error', message: Object.prototype.toString.call(error), service: false };
  }
}

async function run(request) {
  const call = { console: [] };
  await current.run(call, async () => {
    try {
      // Loaded outside the call's context: what a module prints when it loads is not the
      // call's.
      const fn = await current.exit(() => load(request.file, request.version));
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
