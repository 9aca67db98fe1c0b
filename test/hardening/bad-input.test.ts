/**
 * Hardening, bad input (issue 7, item 4): malformed and hostile files and documents, table-driven. Each case
 * goes through the path a user or a buildpack reaches it by — the CLI (`cairn buildpack inspect`, `cairn
 * lifecycle builder`, `cairn builder create`, `cairn stack create`, `cairn image …`), a buildpack's own
 * `bin/build` as the lifecycle runs it, or the parser where no CLI path exists yet (project.toml) — and must
 * give: a non-zero exit (or a thrown CairnError), an error code (the CairnError code, shown with --verbose, or
 * the lifecycle's exit code), a one-line message and a hint, no stack trace without --verbose, and nothing
 * lost (the local store still validates and the image it held is intact).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../../src/oci/digest.js';
import { isCairnError } from '../../src/oci/errors.js';
import { MediaType } from '../../src/oci/media-types.js';
import { openLocalStore } from '../../src/oci/store/local.js';
import { validateLayout } from '../../src/oci/store/layout/validate-layout.js';
import { parseProjectToml } from '../../src/platform/project-toml.js';
import { type CliResult, runCairn } from '../helpers/cli.js';
import { buildTestImage, makeTestImage } from '../helpers/make-image.js';

const BUILDPACKS = fileURLToPath(new URL('../../buildpacks/', import.meta.url));

let base: string;
let home: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'cairn-badinput-'));
  await chmod(base, 0o755);
  home = join(base, 'home');
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

let seq = 0;
async function scratch(name: string): Promise<string> {
  const dir = join(base, `${name}-${seq++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Deep nesting written both ways TOML allows: inline arrays and dotted table headers. */
const deepTomlArray = (key: string, n: number): string => `${key} = ${'['.repeat(n)}${']'.repeat(n)}\n`;
const deepTomlTables = (prefix: string, n: number): string => `[${prefix}${Array.from({ length: n }, () => 'a').join('.')}]\nx = 1\n`;
const deepJson = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/**
 * A failed CLI run as users must see it: non-zero exit, `error: …` first, a `hint: …` line, no stack trace,
 * a short report. Returns stderr for the case's own pattern.
 */
function assertReported(r: CliResult, what: string): string {
  assert.notEqual(r.code, 0, `${what}: exit status must be non-zero\n${r.stderr}`);
  const err = r.stderr;
  assert.match(err, /^error: /m, `${what}: an error line\n${err}`);
  assert.match(err, /^hint: /m, `${what}: a hint line\n${err}`);
  assert.doesNotMatch(err, /^\s+at .*(:\d+:\d+\)?|native)$/m, `${what}: no stack trace without --verbose\n${err}`);
  assert.doesNotMatch(err, /TypeError|RangeError|ReferenceError|SyntaxError: |Maximum call stack|heap out of memory/, `${what}: no JavaScript error leaks\n${err}`);
  assert.ok(err.length < 4000, `${what}: a short report, got ${err.length} characters`);
  return err;
}

/** The CairnError code the CLI shows with --verbose. */
async function verboseCode(args: string[], env: Record<string, string>): Promise<string | undefined> {
  const r = await runCairn(['--verbose', ...args], { env });
  return /^code: ([A-Z_]+)$/m.exec(r.stderr)?.[1];
}

interface CliCase {
  name: string;
  /** Writes the input; returns the CLI arguments. */
  setup: (dir: string) => Promise<string[]>;
  /** The CairnError code (checked with --verbose) or, for `cairn lifecycle`, the exit code. */
  code: string | number | string[];
  message: RegExp;
}

async function runCliCase(c: CliCase, env: Record<string, string>): Promise<void> {
  const dir = await scratch(c.name.replace(/[^a-z0-9]+/gi, '-'));
  const args = await c.setup(dir);
  const r = await runCairn(args, { env, timeoutMs: 60_000 });
  const err = assertReported(r, c.name);
  assert.match(err, c.message, c.name);
  if (typeof c.code === 'number') assert.equal(r.code, c.code, `${c.name}: exit code\n${err}`);
  else {
    const got = await verboseCode(args, env);
    assert.ok(got !== undefined && (Array.isArray(c.code) ? c.code : [c.code]).includes(got), `${c.name}: error code ${got}, expected ${String(c.code)}`);
  }
}

// ---------------------------------------------------------------------------------------------- buildpack.toml

const BP_TOML = 'api = "0.12"\n[buildpack]\nid = "test/x"\nversion = "1.0.0"\n[[targets]]\nos = "linux"\n';

async function buildpackFolder(dir: string, toml: string | Buffer): Promise<string> {
  const bp = join(dir, 'bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), toml);
  for (const b of ['detect', 'build']) await writeFile(join(bp, 'bin', b), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  return bp;
}

const buildpackTomlCases: Array<[string, string | Buffer, RegExp]> = [
  ['not TOML', 'api = "0.12"\n[buildpack\nid = "x"\n', /not valid TOML/],
  ['binary garbage', Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x00, 0x5b, 0x5b, 0x0a, 0x80]), /buildpack\.toml/],
  ['no [buildpack] table', 'api = "0.12"\n', /buildpack/],
  ['reserved id', BP_TOML.replace('test/x', 'app'), /reserved/],
  ['id with a space and a quote', BP_TOML.replace('test/x', 'a b\\"'), /may contain only/],
  ['version with a v', BP_TOML.replace('1.0.0', 'v1'), /version/],
  ['api a number', BP_TOML.replace('"0.12"', '12'), /api/],
  ['api not a version', BP_TOML.replace('0.12', 'zero'), /api/],
  ['deeply nested (inline arrays)', BP_TOML + deepTomlArray('deep', 5000), /nested|not valid TOML/],
  ['deeply nested (dotted tables, 50 000 levels)', BP_TOML + deepTomlTables('metadata.', 50_000), /nested/],
  ['6 MiB', BP_TOML + `pad = "${'x'.repeat(6 << 20)}"\n`, /larger than/],
];

describe('buildpack.toml (cairn buildpack inspect DIR)', () => {
  for (const [name, toml, message] of buildpackTomlCases) {
    test(name, async () => {
      await runCliCase({
        name: `buildpack.toml: ${name}`,
        setup: async (dir) => ['buildpack', 'inspect', await buildpackFolder(dir, toml)],
        code: 'INVALID_LIFECYCLE_FILE',
        message,
      }, { CAIRN_HOME: home });
    });
  }
});

// ------------------------------------------------------------------- launch.toml and layer toml (bin/build writes)

/**
 * A buildpack whose bin/build copies `payload/` (what the case wrote) into its layers folder, run by
 * `cairn lifecycle builder` with the host executor as the current user: the lifecycle then reads the files.
 */
async function lifecycleBuild(dir: string, payload: Record<string, string | Buffer>): Promise<string[]> {
  const bp = join(dir, 'buildpacks', 'test_evil', '1.0.0');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.12"\n[buildpack]\nid = "test/evil"\nversion = "1.0.0"\n');
  await writeFile(join(bp, 'bin', 'detect'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await writeFile(join(bp, 'bin', 'build'), '#!/bin/sh\ncp -R "$CNB_BUILDPACK_DIR/payload/." "$CNB_LAYERS_DIR/"\n', { mode: 0o755 });
  for (const [path, content] of Object.entries(payload)) {
    await mkdir(join(bp, 'payload', path, '..'), { recursive: true });
    await writeFile(join(bp, 'payload', path), content);
  }
  const layers = join(dir, 'layers');
  for (const d of [layers, join(dir, 'app'), join(dir, 'platform')]) await mkdir(d, { recursive: true });
  await writeFile(join(layers, 'analyzed.toml'), '');
  await writeFile(join(layers, 'group.toml'), '[[group]]\nid = "test/evil"\nversion = "1.0.0"\napi = "0.12"\n');
  await writeFile(join(layers, 'plan.toml'), '');
  const uid = String(process.getuid?.() ?? 1000);
  const gid = String(process.getgid?.() ?? 1000);
  return ['lifecycle', 'builder', '-layers', layers, '-app', join(dir, 'app'), '-platform', join(dir, 'platform'),
    '-buildpacks', join(dir, 'buildpacks'), '-executor', 'host', '-uid', uid, '-gid', gid];
}

const LIFECYCLE_ENV = { CNB_PLATFORM_API: '0.14' };

const buildpackOutputCases: Array<[string, Record<string, string | Buffer>, RegExp]> = [
  ['launch.toml: not TOML', { 'launch.toml': '[[processes]\ntype = "web"\n' }, /launch\.toml.*not valid TOML/],
  ['launch.toml: processes a string', { 'launch.toml': 'processes = "web"\n' }, /launch\.toml.*processes/],
  ['launch.toml: command a number', { 'launch.toml': '[[processes]]\ntype = "web"\ncommand = 42\n' }, /launch\.toml.*command/],
  ['launch.toml: process type with a slash', { 'launch.toml': '[[processes]]\ntype = "../../bin/sh"\ncommand = ["x"]\n' }, /launch\.toml.*type/],
  ['launch.toml: label without a key', { 'launch.toml': '[[labels]]\nvalue = "v"\n' }, /launch\.toml.*key/],
  ['launch.toml: slices paths a table', { 'launch.toml': '[[slices]]\npaths = { a = 1 }\n' }, /launch\.toml.*paths/],
  ['launch.toml: deeply nested', { 'launch.toml': deepTomlTables('x.', 50_000) }, /launch\.toml.*nested/],
  ['launch.toml: 5 MiB', { 'launch.toml': `# ${'x'.repeat(5 << 20)}\n` }, /launch\.toml.*larger than/],
  ['layer toml: not TOML', { 'l.toml': '[types\nlaunch = true\n' }, /l\.toml.*not valid TOML/],
  ['layer toml: types a string', { 'l.toml': 'types = "launch"\n' }, /l\.toml.*types/],
  ['layer toml: launch = "yes"', { 'l.toml': '[types]\nlaunch = "yes"\n' }, /l\.toml.*launch/],
  ['layer toml: metadata nested 50 000 deep', { 'l.toml': deepTomlTables('metadata.', 50_000) }, /l\.toml.*nested/],
  ['layer toml: a folder', { 'l.toml/x': 'not a file' }, /l\.toml/],
  ['build.toml: unmet a number', { 'build.toml': 'unmet = 3\n' }, /build\.toml.*unmet/],
];

describe('files a buildpack writes (cairn lifecycle builder, exit 51)', () => {
  for (const [name, payload, message] of buildpackOutputCases) {
    test(name, async () => {
      await runCliCase({ name, setup: (dir) => lifecycleBuild(dir, payload), code: 51, message }, { CAIRN_HOME: home, ...LIFECYCLE_ENV });
    });
  }
  test('group.toml naming a buildpack whose buildpack.toml is hostile: exit 52 (the build phase\'s own error)', async () => {
    await runCliCase({
      name: 'hostile buildpack.toml in the group',
      setup: async (dir) => {
        const args = await lifecycleBuild(dir, {});
        await writeFile(join(dir, 'buildpacks', 'test_evil', '1.0.0', 'buildpack.toml'), deepTomlTables('buildpack.', 50_000));
        return args;
      },
      code: 52,
      message: /buildpack\.toml.*nested/,
    }, { CAIRN_HOME: home, ...LIFECYCLE_ENV });
  });
});

// ---------------------------------------------------------------------------------------- package.json

/** Runs one of cairn's bundled buildpacks' bin/build on the host, as the lifecycle would. */
function runBuildpack(name: string, app: string, dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const bpDir = join(BUILDPACKS, name);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CNB_NODE: process.execPath,
      CNB_BUILDPACK_DIR: bpDir,
      CNB_LAYERS_DIR: join(dir, 'layers'),
      CNB_PLATFORM_DIR: join(dir, 'platform'),
      CNB_BP_PLAN_PATH: join(dir, 'plan.toml'),
      CNB_TARGET_OS: 'linux',
      CNB_TARGET_ARCH: 'amd64',
    };
    const child = spawn(join(bpDir, 'bin', 'build'), [], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

const packageJsonCases: Array<[string, string, string, RegExp]> = [
  ['cairn_node-start', 'not JSON', '{"name": "x", "scripts": {', /package\.json is not valid JSON/],
  ['cairn_node-start', 'a JSON array', '["a"]', /package\.json is not valid JSON: not a JSON object/],
  ['cairn_node-start', 'scripts.start and main numbers', '{"scripts": {"start": 5}, "main": 7}', /no start command/],
  ['cairn_node-start', 'nested 200 000 deep', deepJson(200_000), /no start command|package\.json/],
  ['cairn_node-start', '32 MiB of brackets', '['.repeat(32 << 20), /package\.json is not valid JSON/],
  ['cairn_node-engine', 'engines.node a number', '{"engines": {"node": 20}}', /engines\.node" must be a non-empty string/],
  ['cairn_node-engine', 'engines.node an object', '{"engines": {"node": {"$gt": 1}}}', /engines\.node" must be a non-empty string/],
  ['cairn_npm-install', 'workspaces escaping the app', '{"workspaces": ["../../etc"]}', /workspace pattern "\.\.\/\.\.\/etc" in package\.json is not supported/],
  ['cairn_npm-install', 'workspaces with **', '{"workspaces": ["packages/**"]}', /workspace pattern/],
];

describe('package.json (cairn\'s Node.js buildpacks, bin/build)', () => {
  for (const [bp, name, text, message] of packageJsonCases) {
    test(`${bp}: ${name}`, async () => {
      const dir = await scratch('pkg');
      const app = join(dir, 'app');
      for (const d of [app, join(dir, 'layers'), join(dir, 'platform')]) await mkdir(d, { recursive: true });
      await writeFile(join(dir, 'plan.toml'), '');
      await writeFile(join(app, 'package.json'), text);
      const r = await runBuildpack(bp, app, dir);
      assert.equal(r.code, 1, `exit 1 (the lifecycle reports 51)\n${r.output}`);
      assert.match(r.output, /^ERROR: /m, r.output);
      assert.match(r.output, /^HINT: /m, r.output);
      assert.doesNotMatch(r.output, /internal error|^\s+at /m, `an expected failure, not a crash\n${r.output}`);
      assert.match(r.output, message);
    });
  }
});

// ---------------------------------------------------------------------------------------- builder.toml, stack.toml

const builderTomlCases: Array<[string, string, RegExp]> = [
  ['not TOML', '[build\nimage = "x"\n', /builder\.toml is not valid TOML/],
  ['unknown key', '[build]\nimage = "b"\nimag = "c"\n[[run.images]]\nimage = "r"\n', /unknown key "build\.imag"/],
  ['no build image', '[[run.images]]\nimage = "r"\n', /build/],
  ['order entry optional a string', '[build]\nimage = "b"\n[[run.images]]\nimage = "r"\n[[order]]\n[[order.group]]\nid = "a/b"\noptional = "yes"\n', /optional/],
  ['deeply nested', deepTomlArray('description', 5000), /not valid TOML|nested/],
  ['a 40 MiB file', `description = "${'x'.repeat(40 << 20)}"\n`, /larger than/],
];

const stackTomlCases: Array<[string, string, RegExp]> = [
  ['not TOML', 'suite = "bookworm\n', /stack\.toml: is not valid TOML/],
  ['unknown key', 'sute = "bookworm"\n', /sute/],
  ['unknown suite', 'suite = "sid"\n', /unknown suite "sid"/],
  ['package name with shell syntax', 'id = "x"\n[build]\npackages = ["bash; rm -rf /"]\n[run]\npackages = []\n', /package/],
  ['deeply nested', deepTomlTables('labels.', 50_000), /nested|labels/],
  ['a 40 MiB file', `id = "${'x'.repeat(40 << 20)}"\n`, /larger than/],
];

describe('builder.toml (cairn builder create) and stack.toml (cairn stack create)', () => {
  for (const [name, text, message] of builderTomlCases) {
    test(`builder.toml: ${name}`, async () => {
      await runCliCase({
        name: `builder.toml: ${name}`,
        setup: async (dir) => {
          await writeFile(join(dir, 'builder.toml'), text);
          return ['builder', 'create', `oci:${join(dir, 'out')}:b`, '--config', join(dir, 'builder.toml')];
        },
        code: 'INVALID_ARGUMENT',
        message,
      }, { CAIRN_HOME: home });
    });
  }
  for (const [name, text, message] of stackTomlCases) {
    test(`stack.toml: ${name}`, async () => {
      await runCliCase({
        name: `stack.toml: ${name}`,
        setup: async (dir) => {
          await writeFile(join(dir, 'stack.toml'), text);
          return ['stack', 'create', '--config', join(dir, 'stack.toml'), '--build-image', `oci:${join(dir, 'out')}:build`, '--run-image', `oci:${join(dir, 'out')}:run`];
        },
        code: 'INVALID_ARGUMENT',
        message,
      }, { CAIRN_HOME: home });
    });
  }
});

// ---------------------------------------------------------------------------------------- image references

const referenceCases: Array<[string, string, string, RegExp]> = [
  ['upper case', 'MyApp:v1', 'INVALID_REFERENCE', /invalid image reference/],
  ['empty', '', 'INVALID_REFERENCE', /reference/],
  ['short digest', 'app@sha256:abc', 'INVALID_REFERENCE', /digest|reference/],
  ['unknown algorithm', 'app@md5:d41d8cd98f00b204e9800998ecf8427e', 'INVALID_REFERENCE', /digest|reference/],
  ['tag of 200 characters', `app:${'t'.repeat(200)}`, 'INVALID_REFERENCE', /reference|tag/],
  ['name of 100 000 characters', `${'a/'.repeat(50_000)}x`, 'INVALID_REFERENCE', /reference|too long/],
  ['port out of range', '127.0.0.1:99999999/app:v1', 'INVALID_REFERENCE', /reference|port/],
  ['terminal escapes', 'app\u001b[2J\u001b]0;pwned\u0007:v1', 'INVALID_REFERENCE', /app\\u001b\[2J/],
  ['unknown transport', 'gopher://host/app', 'UNKNOWN_TRANSPORT', /unknown transport/],
  ['oci: with no folder', 'oci:', 'INVALID_REFERENCE', /oci/],
];

describe('image references (cairn image inspect)', () => {
  for (const [name, ref, code, message] of referenceCases) {
    test(name, async () => {
      await runCliCase({ name: `reference: ${name}`, setup: async () => ['image', 'inspect', ref], code, message }, { CAIRN_HOME: home });
    });
  }
});

// ---------------------------------------------------------------------------------------- registry documents

interface Served {
  status?: number;
  type?: string;
  body: Buffer | string;
  /** Docker-Content-Digest to send; default the body's digest. */
  digest?: string;
}

/** A registry that answers /v2/ and then whatever `routes` says, by path. */
async function tinyRegistry(routes: Map<string, Served>): Promise<{ host: string; close: () => Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    const r = routes.get(path);
    if (!r) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] }));
      return;
    }
    const body = Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    res.writeHead(r.status ?? 200, {
      'content-type': r.type ?? 'application/octet-stream',
      'content-length': String(body.length),
      'docker-content-digest': r.digest ?? sha256(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

type RegistryCase = [name: string, code: string | string[], message: RegExp, routes: (img: Awaited<ReturnType<typeof buildTestImage>>) => Array<[string, Served]>];

const M = MediaType.OciManifest;
const manifestWith = (img: Awaited<ReturnType<typeof buildTestImage>>, edit: (m: Record<string, any>) => void): Buffer => {
  const m = JSON.parse(img.manifestBytes.toString()) as Record<string, any>;
  edit(m);
  return Buffer.from(JSON.stringify(m));
};
/** The manifest with `configBytes` as its config, and the routes serving both. */
const withConfig = (img: Awaited<ReturnType<typeof buildTestImage>>, configBytes: Buffer): Array<[string, Served]> => {
  const manifest = manifestWith(img, (m) => void (m.config = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length }));
  return [
    ['/v2/t/app/manifests/v1', { type: M, body: manifest }],
    [`/v2/t/app/blobs/${sha256(configBytes)}`, { body: configBytes }],
  ];
};

const registryCases: RegistryCase[] = [
  ['manifest not JSON', 'INVALID_MANIFEST', /not valid JSON/, () => [['/v2/t/app/manifests/v1', { type: M, body: '{"schemaVersion": 2, "config": ' }]]],
  ['manifest a JSON array', 'INVALID_MANIFEST', /manifest/, () => [['/v2/t/app/manifests/v1', { type: M, body: '[1,2,3]' }]]],
  ['manifest without layers', 'INVALID_MANIFEST', /layers/, (img) => [['/v2/t/app/manifests/v1', { type: M, body: manifestWith(img, (m) => delete m.layers) }]]],
  ['layer size negative', 'INVALID_MANIFEST', /invalid size/, (img) => [['/v2/t/app/manifests/v1', { type: M, body: manifestWith(img, (m) => void (m.layers[0].size = -1)) }]]],
  ['config digest malformed', ['INVALID_MANIFEST', 'INVALID_DIGEST'], /digest/, (img) => [['/v2/t/app/manifests/v1', { type: M, body: manifestWith(img, (m) => void (m.config.digest = 'sha256:../../etc/passwd')) }]]],
  ['manifest bytes not matching the digest asked for', 'DIGEST_MISMATCH', /digest|hash/, (img) => [
    [`/v2/t/app/manifests/${sha256(Buffer.from('other'))}`, { type: M, body: img.manifestBytes }],
  ]],
  ['manifest of 5 MiB', 'REGISTRY_ERROR', /larger than 4194304 bytes/, (img) => [['/v2/t/app/manifests/v1', { type: M, body: manifestWith(img, (m) => void (m.annotations = { pad: 'x'.repeat(5 << 20) })) }]]],
  ['manifest nested 100 000 deep', 'INVALID_MANIFEST', /nested/, (img) => [['/v2/t/app/manifests/v1', {
    type: M, body: Buffer.from(img.manifestBytes.toString().replace(/}$/, `,"x":${deepJson(100_000)}}`)),
  }]]],
  ['unknown media type', ['INVALID_MANIFEST', 'UNSUPPORTED_MEDIA_TYPE'], /media type/, (img) => [['/v2/t/app/manifests/v1', { type: 'application/x-evil', body: manifestWith(img, (m) => void (m.mediaType = 'application/x-evil')) }]]],
  ['index with no image for linux/amd64', 'NO_MATCHING_PLATFORM', /no image for linux\/amd64.*plan9\/mips/, (img) => [['/v2/t/app/manifests/v1', {
    type: MediaType.OciIndex,
    body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: M, digest: img.digest, size: img.manifestBytes.length, platform: { os: 'plan9', architecture: 'mips' } }] }),
  }], [`/v2/t/app/manifests/${img.digest}`, { type: M, body: img.manifestBytes }]]],
  ['index missing its manifest', 'MANIFEST_NOT_FOUND', /not found/, (img) => [['/v2/t/app/manifests/v1', {
    type: MediaType.OciIndex,
    body: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ mediaType: M, digest: img.digest, size: img.manifestBytes.length, platform: { os: 'linux', architecture: 'amd64' } }] }),
  }]]],
  ['index nested 100 000 deep', 'INVALID_MANIFEST', /nested/, () => [['/v2/t/app/manifests/v1', {
    type: MediaType.OciIndex, body: `{"schemaVersion":2,"mediaType":"${MediaType.OciIndex}","manifests":[],"x":${deepJson(100_000)}}`,
  }]]],
  ['config not JSON', 'INVALID_CONFIG', /config.*not valid JSON/, (img) => withConfig(img, Buffer.from('{"architecture": '))],
  ['config with rootfs a string', 'INVALID_CONFIG', /rootfs|diff_ids/, (img) => withConfig(img, Buffer.from(JSON.stringify({ ...img.config, rootfs: 'evil' })))],
  ['config nested 100 000 deep', 'INVALID_CONFIG', /nested/, (img) => withConfig(img, Buffer.from(JSON.stringify(img.config).replace(/}$/, `,"x":${deepJson(100_000)}}`)))],
  ['config not matching its digest', 'DIGEST_MISMATCH', /digest|hash/, (img) => {
    const routes = withConfig(img, img.configBytes);
    routes[1]![1] = { body: Buffer.from(img.configBytes.toString().replace('amd64', 'arm64')) };
    return routes;
  }],
];

describe('documents a registry serves (cairn image copy REGISTRY → local store, then inspect)', () => {
  let reg: Awaited<ReturnType<typeof tinyRegistry>>;
  const routes = new Map<string, Served>();
  let keep: string;
  const regHome = () => join(base, 'reg-home');
  before(async () => {
    reg = await tinyRegistry(routes);
    const store = await openLocalStore(regHome());
    keep = (await makeTestImage(store, 'app:v1', { label: 'previous' })).digest;
    await store.close();
  });
  after(async () => {
    await reg.close();
    const report = await validateLayout(join(regHome(), 'store'));
    assert.deepEqual(report.tags, ['app:v1'], 'the local store still validates and holds only the previous image');
  });

  for (const [name, code, message, make] of registryCases) {
    test(name, async () => {
      const img = await buildTestImage({ label: name });
      routes.clear();
      const served = make(img);
      routes.set(`/v2/t/app/blobs/${img.manifest.config.digest}`, { body: img.configBytes });
      for (const l of img.layers) routes.set(`/v2/t/app/blobs/${l.digest}`, { body: l.blob });
      for (const [p, s] of served) routes.set(p, s);
      const last = served[0]![0].split('/').pop()!;
      const ref = last.startsWith('sha256:') ? `${reg.host}/t/app@${last}` : `${reg.host}/t/app:${last}`;
      const env = { CAIRN_HOME: regHome(), DOCKER_CONFIG: join(base, 'no-docker') };
      const flags = ['--platform', 'linux/amd64', '--insecure-registry', reg.host];
      for (const args of [['image', 'copy', ref, 'app:v1', ...flags], ['image', 'inspect', '--json', ref, ...flags]]) {
        await runCliCase({ name: `${name} (${args[1]})`, setup: async () => args, code, message }, env);
      }
      const store = await openLocalStore(regHome());
      try {
        const { loadImage } = await import('../../src/oci/image.js');
        assert.equal((await loadImage(store, 'app:v1')).digest, keep, 'the previous app:v1 is intact');
      } finally {
        await store.close();
      }
    });
  }
});

// ---------------------------------------------------------------------------------------- project.toml

const PROJECT = '[_]\nschema-version = "0.2"\nid = "acme/app"\n';
const projectCases: Array<[string, string, RegExp]> = [
  ['not TOML', '[_\nschema-version = "0.2"\n', /not valid TOML/],
  ['schema 0.1', '[project]\nid = "x"\n[build]\nbuilder = "b"\n', /schema 0\.1/],
  ['no schema-version', '[_]\nid = "x"\n', /schema-version is required/],
  ['schema-version 0.3', '[_]\nschema-version = "0.3"\n', /"0\.3" is not supported/],
  ['schema-version a number', '[_]\nschema-version = 0.2\n', /schema-version must be a string/],
  ['include and exclude', `${PROJECT}[io.buildpacks]\ninclude = ["a"]\nexclude = ["b"]\n`, /include and exclude cannot both be set/],
  ['exclude a string', `${PROJECT}[io.buildpacks]\nexclude = "node_modules"\n`, /exclude must be a list of strings/],
  ['typo in io.buildpacks', `${PROJECT}[io.buildpacks]\nbuidler = "x"\n`, /unknown key "io\.buildpacks\.buidler"/],
  ['env name with =', `${PROJECT}[[io.buildpacks.build.env]]\nname = "A=B"\nvalue = "1"\n`, /"A=B" is not an environment variable name/],
  ['env without value', `${PROJECT}[[io.buildpacks.build.env]]\nname = "A"\n`, /value is required/],
  ['env set twice', `${PROJECT}[[io.buildpacks.build.env]]\nname = "A"\nvalue = "1"\n[[io.buildpacks.build.env]]\nname = "A"\nvalue = "2"\n`, /"A" is set twice/],
  ['group entry without id or uri', `${PROJECT}[[io.buildpacks.group]]\nversion = "1.0.0"\n`, /needs an id|id or uri is required/],
  ['group id reserved', `${PROJECT}[[io.buildpacks.group]]\nid = "app"\n`, /reserved/],
  ['post group version not semver', `${PROJECT}[[io.buildpacks.post.group]]\nid = "a/b"\nversion = "latest"\n`, /io\.buildpacks\.post\.group\[0\]\.version/],
  ['inline script without api', `${PROJECT}[[io.buildpacks.group]]\nid = "me/inline"\n[io.buildpacks.group.script]\ninline = "echo hi"\n`, /script\.api is required/],
  ['metadata nested 50 000 deep', `${PROJECT}${deepTomlTables('_.metadata.', 50_000)}`, /nested deeper/],
  ['metadata arrays nested 5000 deep', `${PROJECT}[_.metadata]\n${deepTomlArray('x', 5000)}`, /not valid TOML|nested/],
  ['2 MiB', `${PROJECT}# ${'x'.repeat(2 << 20)}\n`, /larger than/],
];

describe('project.toml (parser; `cairn build --descriptor` is wired by the platform)', () => {
  for (const [name, text, message] of projectCases) {
    test(name, () => {
      assert.throws(() => parseProjectToml(text, 'project.toml'), (e: unknown) => {
        assert.ok(isCairnError(e, 'INVALID_ARGUMENT'), `a CairnError INVALID_ARGUMENT, got ${String(e)}`);
        assert.match(e.message, /^project\.toml/);
        assert.match(e.message, message);
        assert.ok(e.hint, 'a hint');
        return true;
      });
    });
  }
});
