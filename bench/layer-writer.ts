/**
 * Layer writer benchmark: cairn's `writeLayer` (tar → gzip -1 → file, with diffID and digest) against
 * `tar -c --sort=name -C TREE . | gzip -1 | sha256sum` on the same tree, runs interleaved so both see the
 * same machine load. ratio = baseline median / cairn median; ≥ 0.8 meets the goal.
 *
 * Run directly: `node dist/bench/layer-writer.js [tree] [runs]`. Without a tree it uses (and on first use
 * creates, with npm) `.tmp/bench-tree`: a node_modules of about 300 packages.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { writeLayer } from '../src/oci/layer/tar-writer.js';
import { median } from './stats.js';

export interface LayerWriterBench {
  cairnMs: number[];
  baselineMs: number[];
  ratio: number;
}

export async function benchLayerWriter(opts: { tree: string; runs: number }): Promise<LayerWriterBench> {
  const out = await mkdtemp(join(tmpdir(), 'cairn-bench-layer-'));
  try {
    const cairn = async (): Promise<number> => {
      const t0 = performance.now();
      await writeLayer([{ type: 'tree', source: opts.tree }], join(out, 'layer.tar.gz'));
      return performance.now() - t0;
    };
    const baseline = (): Promise<number> => {
      const t0 = performance.now();
      return new Promise((done, fail) => {
        const p = spawn('sh', ['-c', 'tar -c --sort=name -C "$1" . | gzip -1 | sha256sum >/dev/null', 'sh', opts.tree], { stdio: 'ignore' });
        p.on('error', fail);
        p.on('exit', (code) => (code === 0 ? done(performance.now() - t0) : fail(new Error(`baseline exited with ${code}`))));
      });
    };
    await baseline(); // warm the page cache and the JIT; not counted
    await cairn();
    const cairnMs: number[] = [];
    const baselineMs: number[] = [];
    for (let i = 0; i < opts.runs; i++) {
      baselineMs.push(await baseline());
      cairnMs.push(await cairn());
    }
    return { cairnMs, baselineMs, ratio: median(baselineMs) / median(cairnMs) };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** `.tmp/bench-tree`: express, typescript, webpack, eslint, babel, mocha and friends (~300 packages). */
export async function ensureBenchTree(): Promise<string> {
  const tree = resolve('.tmp/bench-tree');
  if (existsSync(join(tree, 'node_modules'))) return tree;
  await mkdir(tree, { recursive: true });
  await writeFile(join(tree, 'package.json'), '{"name":"cairn-bench-tree","private":true}\n');
  const pkgs = ['express@4', 'typescript@5', 'webpack@5', 'eslint@8', '@babel/core@7', 'mocha@10', 'lodash@4', 'moment@2', 'rxjs@7'];
  process.stderr.write(`creating ${tree} (npm install ${pkgs.join(' ')})\n`);
  await promisify(execFile)('npm', ['install', ...pkgs, '--no-audit', '--no-fund'], { cwd: tree });
  return tree;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const tree = process.argv[2] ? resolve(process.argv[2]) : await ensureBenchTree();
  const runs = Number(process.argv[3] ?? 5);
  const r = await benchLayerWriter({ tree, runs });
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(`tree: ${tree}`);
  console.log(`cairn writeLayer ms:              ${fmt(r.cairnMs)} (median ${median(r.cairnMs).toFixed(0)})`);
  console.log(`tar | gzip -1 | sha256sum ms:     ${fmt(r.baselineMs)} (median ${median(r.baselineMs).toFixed(0)})`);
  console.log(`ratio (baseline / cairn):         ${r.ratio.toFixed(2)} ${r.ratio >= 0.8 ? '(meets the 0.8 goal)' : '(below the 0.8 goal)'}`);
}
