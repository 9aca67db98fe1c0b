// Bundles cairn's buildpacks (src/buildpacks/<name>/, each with a buildpack.toml) into folders a builder
// can carry: <out>/<id with / as _>/[<version>/]{buildpack.toml, bin/detect, bin/build, bin/detect.mjs,
// bin/build.mjs}. bin/detect.mjs and bin/build.mjs are single ESM files (the SDK, semver and smol-toml
// inside); bin/detect and bin/build are POSIX sh scripts that exec the builder's Node.js runtime. A
// buildpack's detect.sh runs first in bin/detect; one without a detect.ts decides in sh alone (no detect.mjs).
//
// Usage: node scripts/bundle-buildpacks.mjs [outDir] [--versioned]   (default dist/buildpacks)
//   --versioned: the lifecycle's <buildpacks>/<id>/<version>/ layout (/cnb/buildpacks).
// As a module: bundleBuildpacks(outDir, { versioned }) → [{ id, version, dir }].
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = join(ROOT, 'src', 'buildpacks');

/**
 * The wrapper: the builder's runtime (CNB_NODE, else /cnb/runtime/node), else node on PATH, else a clear failure.
 * `first`: a buildpack's detect.sh, sh that decides detection when it can without Node.js (exit 100 when it
 * cannot pass, or the plan written and exit 0), so that most detects cost no Node.js start; when it decides
 * nothing, detect.mjs does. Wherever it decides, it must decide as detect.ts would.
 */
export function wrapper(phase, first = '') {
  return `#!/bin/sh
# Runs bin/${phase}.mjs with the builder's Node.js runtime (never the app's image: it lives in the builder).
${first}node="\${CNB_NODE:-/cnb/runtime/node/bin/node}"
if [ ! -x "$node" ]; then
  node=$(command -v node 2>/dev/null) || node=""
fi
if [ -z "$node" ]; then
  echo "ERROR: this buildpack needs a Node.js runtime: \${CNB_NODE:-/cnb/runtime/node/bin/node} does not exist and there is no node on PATH" >&2
  echo "HINT: use a builder that carries the Node.js runtime at /cnb/runtime/node (cairn's builders do), or set CNB_NODE" >&2
  exit 1
fi
exec "$node" "\${0%/*}/${phase}.mjs" "$@"
`;
}

function stub(name, phase) {
  const fn = phase === 'detect' ? 'runDetect' : 'runBuild';
  return `import { ${phase} } from ${JSON.stringify(join(SOURCES, name, `${phase}.ts`))};
import { ${fn} } from ${JSON.stringify(join(SOURCES, 'sdk', 'run.ts'))};
process.exitCode = await ${fn}(${phase}, {
  env: process.env,
  cwd: process.cwd(),
  now: Date.now,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
});
`;
}

// semver is CommonJS without a `sideEffects` field, so esbuild keeps it in every bundle that reaches an
// `import semver` (the SDK's index reaches them all), used or not. It has no side effects: declared here, so a
// bundle that calls none of it (most bin/detect) does not load it (~3 ms of each process start).
const pureSemver = {
  name: 'pure-semver',
  setup(b) {
    b.onResolve({ filter: /^semver$/ }, async (args) => {
      if (args.pluginData === 'pure-semver') return undefined;
      const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'pure-semver' });
      return r.errors.length ? { errors: r.errors } : { path: r.path, sideEffects: false };
    });
  },
};

export async function bundleBuildpacks(outDir, opts = {}) {
  const names = (await readdir(SOURCES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const out = [];
  for (const name of names) {
    const tomlPath = join(SOURCES, name, 'buildpack.toml');
    const text = await readFile(tomlPath, 'utf8').catch((e) => {
      if (e.code === 'ENOENT') return undefined; // the SDK, not a buildpack
      throw e;
    });
    if (text === undefined) continue;
    const descriptor = parse(text);
    const { id, version } = descriptor.buildpack;
    const dir = join(outDir, id.replaceAll('/', '_'), ...(opts.versioned ? [version] : []));
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'bin'), { recursive: true });
    await copyFile(tomlPath, join(dir, 'buildpack.toml'));
    const detectSh = await readFile(join(SOURCES, name, 'detect.sh'), 'utf8').catch(() => '');
    const shOnly = !(await stat(join(SOURCES, name, 'detect.ts')).catch(() => undefined));
    if (shOnly) {
      if (!detectSh) throw new Error(`${name} has neither detect.ts nor detect.sh`);
      await writeFile(join(dir, 'bin', 'detect'), `#!/bin/sh\n${detectSh}`);
      await chmod(join(dir, 'bin', 'detect'), 0o755);
    }
    for (const phase of shOnly ? ['build'] : ['detect', 'build']) {
      await build({
        stdin: { contents: stub(name, phase), resolveDir: ROOT, loader: 'ts', sourcefile: `${name}-${phase}.ts` },
        outfile: join(dir, 'bin', `${phase}.mjs`),
        bundle: true,
        format: 'esm',
        platform: 'node',
        // The runtime may be the app's own node when a builder carries none: stay loadable by Node.js 16.
        target: 'node16',
        logLevel: 'warning',
        legalComments: 'eof',
        plugins: [pureSemver],
        banner: { js: "import { createRequire as __bpCreateRequire } from 'node:module'; const require = __bpCreateRequire(import.meta.url);" },
      });
      await writeFile(join(dir, 'bin', phase), wrapper(phase, phase === 'detect' ? detectSh : ''));
      await chmod(join(dir, 'bin', phase), 0o755);
    }
    out.push({ id, version, dir });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? join(ROOT, 'dist', 'buildpacks'));
  for (const b of await bundleBuildpacks(outDir, { versioned: args.includes('--versioned') })) console.log(`${b.id}@${b.version} → ${b.dir}`);
}
