/**
 * Runs the README's examples against a freshly started API on demo data, as a newcomer would paste
 * them into a terminal after `npm start`:
 *
 *   npm run readme:examples            # starts its own API (embedded, in memory, demo data, a free port)
 *   npm run readme:examples -- --banner <file with npm start's output>   # against that running API
 *   npm run readme:examples -- --verbose   # every example's output, not only the failures'
 *
 * What runs is marked in README.md by an HTML comment right before a fenced block:
 *
 *   <!-- example: NAME -->          a `sh` block, run in one bash session with the blocks before it
 *                                   (shell variables carry over, as in one terminal); every JSON it
 *                                   prints must be a GraphQL answer without `errors`, and it must exit 0
 *   <!-- example-setup -->          a `sh` block of `NAME=value` lines the reader fills in from what
 *                                   `npm start` printed; not run: the runner sets each variable itself
 *                                   (API from the banner's endpoint, ROLE_TOKEN from its demo tokens)
 *   <!-- example-answer: NAME -->   a `json` block: the last JSON example NAME printed must have its
 *                                   shape (the same keys and kinds of value, codes in CAPITALS equal)
 *   <!-- example-node: NAME -->     a `js` block, run as an ES module with node from the repository
 *                                   (so its imports resolve) and the shell variables in its
 *                                   environment, until it prints a line `connected`; then stopped
 *
 * Blocks without a marker are prose. The runner takes IDs from the API itself (the examples ask for
 * them) and tokens from the start-up banner, so it keeps working while demo data and tokens change.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The business the README's examples use: its tokens are the banner's ROLE_TOKEN variables. */
export const EXAMPLE_BUSINESS = 'north-end-barbers';
const START_TIMEOUT_MS = 120_000;
const NODE_EXAMPLE_TIMEOUT_MS = 30_000;

export type ExampleKind = 'sh' | 'setup' | 'answer' | 'node';
export interface Example {
  kind: ExampleKind;
  /** The example's name; for an answer, the name of the example whose answer it shows. */
  name: string;
  language: string;
  code: string;
  /** 1-based line of the marker in the README, for messages. */
  line: number;
}

const MARKER = /^<!--\s*(example|example-setup|example-answer|example-node)(?::\s*([\w-]+))?\s*-->\s*$/;
const KINDS: Record<string, { kind: ExampleKind; language: string[]; named: boolean }> = {
  example: { kind: 'sh', language: ['sh', 'bash'], named: true },
  'example-setup': { kind: 'setup', language: ['sh', 'bash'], named: false },
  'example-answer': { kind: 'answer', language: ['json'], named: true },
  'example-node': { kind: 'node', language: ['js', 'mjs', 'javascript'], named: true },
};

/** The marked blocks of a Markdown text, in order. A marker not followed by its kind of block throws. */
export function extractExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim();
    if (!trimmed.startsWith('<!--') || !/^<!--\s*example/.test(trimmed)) continue;
    const marker = MARKER.exec(trimmed);
    if (!marker) throw new Error(`README line ${i + 1}: expected a marker like <!-- example: NAME -->, <!-- example-setup -->, <!-- example-answer: NAME --> or <!-- example-node: NAME -->, got ${trimmed}`);
    const spec = KINDS[marker[1]];
    const name = marker[2] ?? '';
    if (spec.named !== Boolean(name)) throw new Error(`README line ${i + 1}: ${marker[1]} ${spec.named ? 'needs a name' : 'takes no name'}, got ${trimmed}`);
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^(\s*)(`{3,})(\w*)\s*$/.exec(lines[j] ?? '');
    if (!fence || !spec.language.includes(fence[3])) {
      throw new Error(`README line ${i + 1}: expected a fenced ${spec.language.map((l) => '```' + l).join(' or ')} block after ${trimmed}, got ${JSON.stringify(lines[j] ?? 'the end of the file')}`);
    }
    const body: string[] = [];
    let k = j + 1;
    for (; k < lines.length && !(lines[k].trim().startsWith(fence[2]) && lines[k].trim().replace(/`/g, '') === ''); k++) body.push(lines[k].slice(fence[1].length));
    if (k === lines.length) throw new Error(`README line ${j + 1}: the block after ${trimmed} is never closed.`);
    examples.push({ kind: spec.kind, name, language: fence[3], code: body.join('\n'), line: i + 1 });
    i = k;
  }
  const names = new Set<string>();
  for (const example of examples) {
    if (example.kind === 'answer') {
      if (!names.has(example.name)) throw new Error(`README line ${example.line}: the answer of "${example.name}" must follow an example of that name.`);
    } else if (example.name) {
      if (names.has(example.name)) throw new Error(`README line ${example.line}: a second example named "${example.name}".`);
      names.add(example.name);
    }
  }
  return examples;
}

/** Every top-level JSON object in a text that also holds other output (npm's lines, messages). */
export function jsonValuesIn(text: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  while ((i = text.indexOf('{', i)) !== -1) {
    let depth = 0;
    let inString = false;
    let end = -1;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (--depth === 0) {
          end = j;
          break;
        }
      }
    }
    if (end === -1) break;
    try {
      values.push(JSON.parse(text.slice(i, end + 1)));
      i = end + 1;
    } catch {
      i++;
    }
  }
  return values;
}

/**
 * Where `actual` differs in shape from `expected`, as paths: the same keys, the same kinds of value
 * (null only where null is shown), arrays compared by their first element, and strings in CAPITALS
 * (codes, enum values) equal. Other strings and numbers may differ: they carry IDs and dates.
 */
export function shapeDifferences(expected: unknown, actual: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(expected) !== kind(actual)) return [`${path}: expected ${kind(expected)}, got ${kind(actual)} (${JSON.stringify(actual)})`];
  if (typeof expected === 'string' && /^[A-Z][A-Z_]+$/.test(expected) && expected !== actual) return [`${path}: expected ${expected}, got ${JSON.stringify(actual)}`];
  if (Array.isArray(expected)) {
    const items = actual as unknown[];
    if (expected.length === 0) return [];
    if (items.length === 0) return [`${path}: expected at least one item, got []`];
    return shapeDifferences(expected[0], items[0], `${path}[0]`);
  }
  if (kind(expected) !== 'object') return [];
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const differences = Object.keys(e).flatMap((key) => (key in a ? shapeDifferences(e[key], a[key], `${path}.${key}`) : [`${path}.${key}: missing`]));
  // A GraphQL answer's `extensions` (cost, rate limit) are left out of the README's answers.
  for (const key of Object.keys(a)) if (!(key in e) && !(path === '$' && key === 'extensions')) differences.push(`${path}.${key}: not in the README's answer`);
  return differences;
}

/** The variables an `example-setup` block asks the reader to fill in, from npm start's banner. */
export function variablesFromBanner(banner: string, names: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  const endpoint = /GraphQL endpoint:\s+(http\S+)/.exec(banner)?.[1];
  // Tokens: `role: <JWT>` lines; those after the example business's heading line are its own.
  const tokens = new Map<string, string>();
  let section = '';
  // Lenient on purpose, as the banner changes: a line starting with a role word and ending in a JWT
  // is a token; any other line naming a slug (words joined by hyphens) starts that business's part.
  for (const line of banner.split('\n')) {
    const token = /^\s*([a-z]+)\b[^:\n]*:\s+(eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$/.exec(line);
    if (token) {
      if (!tokens.has(`${section}|${token[1]}`)) tokens.set(`${section}|${token[1]}`, token[2]);
      if (token[1] === 'admin' && !tokens.has('|admin')) tokens.set('|admin', token[2]);
      continue;
    }
    const slug = line.includes(EXAMPLE_BUSINESS) ? EXAMPLE_BUSINESS : /\b[a-z0-9]+(?:-[a-z0-9]+)+\b/.exec(line)?.[0];
    if (slug) section = slug;
  }
  for (const name of names) {
    if (name === 'API') {
      if (!endpoint) throw new Error(`Expected npm start's banner to name the GraphQL endpoint, got:\n${banner}`);
      values.API = endpoint;
      continue;
    }
    const role = /^([A-Z]+)_TOKEN$/.exec(name)?.[1]?.toLowerCase();
    const token = role && (tokens.get(`${EXAMPLE_BUSINESS}|${role}`) ?? (role === 'admin' ? tokens.get('|admin') : undefined));
    if (!token) throw new Error(`Expected npm start's banner to print a ${role ?? name} token${role === 'admin' ? '' : ` under ${EXAMPLE_BUSINESS}`} for the README's ${name}, found none in:\n${banner}`);
    values[name] = token;
  }
  return values;
}

/** The variable names `NAME=...` lines of a setup block assign. */
export function setupVariables(code: string): string[] {
  return [...code.matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
}

export interface ExampleOutcome {
  name: string;
  line: number;
  ok: boolean;
  output: string;
  problems: string[];
}

/** Runs the examples in order against the API the banner describes; never throws for a failed example. */
export async function runExamples(examples: Example[], banner: string): Promise<ExampleOutcome[]> {
  const variables: Record<string, string> = {};
  for (const setup of examples.filter((e) => e.kind === 'setup')) Object.assign(variables, variablesFromBanner(banner, setupVariables(setup.code)));
  const outcomes: ExampleOutcome[] = [];
  const lastJson = new Map<string, unknown>();
  const shellBlocks = examples.filter((e) => e.kind === 'sh');
  const shell = shellBlocks.length ? await runShellSession(shellBlocks, variables) : new Map<string, ShellResult>();
  // Only an example whose README answer shows userErrors may be refused: every other one must succeed.
  const refusals = new Set(examples.filter((e) => e.kind === 'answer' && userErrorsIn(JSON.parse(e.code)).length > 0).map((e) => e.name));
  for (const example of examples) {
    if (example.kind === 'setup') continue;
    if (example.kind === 'answer') {
      const actual = lastJson.get(example.name);
      const problems = shapeDifferences(JSON.parse(example.code), actual, '$');
      outcomes.push({ name: `${example.name} (answer)`, line: example.line, ok: problems.length === 0, output: JSON.stringify(actual), problems });
      continue;
    }
    const { output, status, failed = [] } = example.kind === 'node' ? await runNodeExample(example, variables) : shell.get(example.name)!;
    const problems: string[] = failed.map((command) => `a command failed: ${command}`);
    if (status !== 0) problems.push(`exited with ${status}`);
    const values = jsonValuesIn(output);
    if (example.kind === 'sh' && values.length === 0) problems.push('printed no JSON answer');
    for (const value of values) {
      if (value && typeof value === 'object' && 'errors' in value) problems.push(`an answer with errors: ${JSON.stringify((value as { errors: unknown }).errors)}`);
      else if (!refusals.has(example.name) && userErrorsIn(value).length) problems.push(`an answer with userErrors: ${JSON.stringify(userErrorsIn(value))}`);
    }
    if (values.length) lastJson.set(example.name, values[values.length - 1]);
    outcomes.push({ name: example.name, line: example.line, ok: problems.length === 0, output, problems });
  }
  return outcomes;
}

interface ShellResult {
  output: string;
  status: number;
  /** The commands that failed, with their exit codes. */
  failed: string[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every non-empty `userErrors` list in an answer, flattened. */
function userErrorsIn(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(userErrorsIn);
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === 'userErrors' && Array.isArray(inner) ? inner : userErrorsIn(inner)));
}

/** One bash session for every `sh` block, as one terminal: variables set by a block reach the next. */
async function runShellSession(blocks: Example[], variables: Record<string, string>): Promise<Map<string, ShellResult>> {
  const delimiter = `::readme-example-${process.pid}-${Date.now()}::`;
  // Every command that fails is reported, as a terminal would show it; the session goes on.
  const trap = `trap 'echo "${delimiter} failed: $BASH_COMMAND (exit $?)"' ERR`;
  const script = [trap, ...blocks.map((b) => `echo '${delimiter} start ${b.name}'\n${b.code}\n__status=$?\necho\necho "${delimiter} status $__status"`)].join('\n');
  const child = spawn('bash', ['--noprofile', '--norc'], { cwd: ROOT, env: { ...process.env, ...variables, API_URL: variables.API ?? process.env.API_URL ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(script);
  await once(child, 'exit');
  const results = new Map<string, ShellResult>();
  for (const part of output.split(`${delimiter} start `).slice(1)) {
    const name = part.slice(0, part.indexOf('\n'));
    const status = /status (\d+)\s*$/.exec(part.slice(part.lastIndexOf(delimiter)))?.[1];
    const body = part.slice(name.length + 1, part.lastIndexOf(delimiter));
    const failed = [...body.matchAll(new RegExp(`^${escapeRegExp(delimiter)} failed: (.*)$`, 'gm'))].map((m) => m[1]);
    const output = body.replaceAll(`${delimiter} failed: `, 'failed: ').trim();
    results.set(name, { output, status: status === undefined ? -1 : Number(status), failed });
  }
  for (const block of blocks) if (!results.has(block.name)) results.set(block.name, { output: `(the shell stopped before it: ${output.slice(-2000)})`, status: -1, failed: [] });
  return results;
}

/** A `js` example, run from the repository (its imports resolve there) until it prints `connected`. */
async function runNodeExample(example: Example, variables: Record<string, string>): Promise<ShellResult> {
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.data', 'readme-example-'));
  const file = join(dir, `${example.name}.mjs`);
  writeFileSync(file, example.code);
  const child = spawn(process.execPath, [file], { cwd: ROOT, env: { ...process.env, ...variables }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    const status = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(-2), NODE_EXAMPLE_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/^connected$/m.test(output)) {
          clearTimeout(timer);
          resolve(0);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(/^connected$/m.test(output) ? 0 : (code ?? -1));
      });
    });
    return { output: status === -2 ? `${output}\n(no "connected" within ${NODE_EXAMPLE_TIMEOUT_MS} ms)` : output, status: status === -2 ? 1 : status, failed: [] };
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export interface StartedApi {
  banner(): string;
  stop(): Promise<void>;
}

/**
 * `npm start` as a newcomer runs it, but on a throwaway embedded database and a free port (and no
 * outbound webhook sent): fresh demo data, the development secrets, today's slots. Resolves once the banner's last line is out.
 */
export async function startFreshApi(env: Record<string, string> = {}): Promise<StartedApi> {
  // WEBHOOK_POLL_INTERVAL_MS=0: the webhook example's endpoint (example.com) is registered, never called.
  const environment: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: 'memory://', WEBHOOK_POLL_INTERVAL_MS: '0', ...env };
  // A fresh `npm start`: the embedded database and the development secrets, whatever this shell has.
  for (const name of ['DATABASE_URL', 'AUTH_JWT_SECRET', 'AUTH_JWKS_URL', 'PAYMENT_TEST_WEBHOOK_SECRET', 'REDIS_URL', 'NODE_ENV', 'DEMO_DATA']) if (!(name in env)) delete environment[name];
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The API did not print its banner in ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS);
    // The banner ends with the hint to npm run token; its endpoint line and tokens come before.
    const onData = () => {
      if (/GraphQL endpoint:/.test(output) && /npm run token/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The API exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { banner: () => output, stop: () => stopChild(child) };
}

async function main() {
  const { values } = parseArgs({ options: { api: { type: 'string' }, banner: { type: 'string' }, readme: { type: 'string', default: join(ROOT, 'README.md') }, verbose: { type: 'boolean', default: false } } });
  const examples = extractExamples(readFileSync(values.readme!, 'utf8'));
  let api: StartedApi | null = null;
  let banner: string;
  if (values.banner) banner = readFileSync(values.banner, 'utf8');
  else {
    process.stdout.write('Starting a fresh API (embedded database in memory, demo data)... ');
    api = await startFreshApi();
    banner = api.banner();
    console.log('ready.');
  }
  if (values.api) banner = `GraphQL endpoint: ${values.api}\n${banner}`;
  try {
    const outcomes = await runExamples(examples, banner);
    for (const outcome of outcomes) {
      console.log(`${outcome.ok ? 'ok  ' : 'FAIL'} ${outcome.name} (README line ${outcome.line})`);
      if (!outcome.ok || values.verbose) console.log(`     ${outcome.problems.join('\n     ')}\n     output:\n${outcome.output.replace(/^/gm, '       ')}`);
    }
    const failed = outcomes.filter((o) => !o.ok).length;
    console.log(`${outcomes.length - failed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await api?.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  });
}

