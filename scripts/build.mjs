// Transpiles src/, test/ and bench/ (TypeScript, ESM) file by file into dist/ with esbuild.
// Type checking is separate (`npm run typecheck`, part of `npm test`): esbuild strips types only.
import { build } from 'esbuild';
import { copyFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

async function tsFiles(dir) {
  let out = [];
  let entries;
  try { entries = await readdir(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) {
    const p = join(dir, e.name);
    // bench/apps holds sample apps the benchmarks build (with their own tsc), not part of cairn.
    if (e.isDirectory()) out = p === join('bench', 'apps') ? out : out.concat(await tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const entryPoints = (await Promise.all(['src', 'test', 'bench'].map(tsFiles))).flat();
// Build beside dist/ and swap it in, so that a build never leaves a half-written or stale dist/ to a run that uses it.
const next = `dist.next-${process.pid}`;
const old = `dist.old-${process.pid}`;
await build({
  entryPoints,
  outdir: next,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The CLI bundled: loading a few modules instead of hundreds cuts cairn's start-up time several-fold.
const bundled = {
  bundle: true,
  // Loaded from node_modules only when used (see src/stack/debian/keyring.ts), to keep start-up fast.
  external: ['openpgp'],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies inside an ESM bundle need a require().
  banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" },
};
// dist/cairn.mjs: the whole CLI in one self-contained file, the lifecycle builders carry (/cnb/lifecycle/cairn.mjs).
await build({ ...bundled, entryPoints: ['src/cli/main.ts'], outfile: join(next, 'cairn.mjs') });
// dist/cli.mjs, what bin/cairn.js runs: the same CLI split into chunks (dist/cli-chunk-*.mjs) along its dynamic
// imports, so that a command loads only its own code (src/cli/main.ts). The chunks sit beside cairn.mjs, so
// paths resolved from import.meta.url (xz-worker.js, launcher.c, the package root) are the same in both.
await build({
  ...bundled,
  entryPoints: { cli: 'src/cli/main.ts' },
  outdir: next,
  splitting: true,
  chunkNames: 'cli-chunk-[hash]',
  outExtension: { '.js': '.mjs' },
});
// The xz decoder's worker thread (src/stack/debian/xz-pool.ts) is loaded by path beside the CLI bundle.
await build({
  entryPoints: ['src/stack/debian/xz-worker.ts'],
  outfile: join(next, 'xz-worker.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cairnCreateRequire } from 'node:module'; const require = __cairnCreateRequire(import.meta.url);" },
});
// Non-TypeScript sources the code loads at run time.
await copyFile('src/lifecycle/launcher/launcher.c', join(next, 'src/lifecycle/launcher/launcher.c'));
await copyFile('src/lifecycle/launcher/launcher.c', join(next, 'launcher.c'));
// cairn's own buildpacks, bundled: dist/buildpacks/<id>/ (see scripts/bundle-buildpacks.mjs).
await (await import('./bundle-buildpacks.mjs')).bundleBuildpacks(join(next, 'buildpacks'));
await rename('dist', old).catch((e) => { if (e.code !== 'ENOENT') throw e; });
await rename(next, 'dist');
await rm(old, { recursive: true, force: true });
