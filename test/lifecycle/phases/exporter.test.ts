/**
 * Export, end to end: a build's output (layers + metadata.toml, as the builder leaves them) on a run image
 * → an image that podman runs with cairn's launcher: the default process, another process type through
 * `--entrypoint /cnb/process/<type>`, user args replacing default args, the launch env applied, as uid 1000 —
 * on a run image without a shell and on one with a shell. A second export of the same output reuses every
 * layer of the first by diffID and gives the same digest.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeImage } from '../../../src/oci/copy.js';
import { loadImage } from '../../../src/oci/image.js';
import { createDockerArchive } from '../../../src/oci/store/archive/docker-archive.js';
import { MemoryStore } from '../../../src/oci/store/memory/memory-store.js';
import { validate } from '../../../src/oci/validate.js';
import { type BuildMetadataToml, serializeBuildMetadataToml } from '../../../src/lifecycle/files/build-metadata-toml.js';
import { type BuildOutcome, readBuildResult } from '../../../src/lifecycle/phases/build-result.js';
import { parseLifecycleMetadataLabel } from '../../../src/lifecycle/labels/lifecycle-metadata.js';
import { compileLauncherOnHost } from '../../../src/lifecycle/launcher/compile.js';
import { exportImage } from '../../../src/lifecycle/phases/exporter.js';
import { hostShellFiles, makeTestImage, type TestFile } from '../../helpers/make-image.js';
import { type Podman, setupPodman } from '../../helpers/podman.js';
import { needTool, whichTool } from '../../helpers/tools.js';

const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\ncnb:x:1000:1000:cnb:/home/cnb:/sbin/nologin\n';
const GROUP = 'root:x:0:\ncnb:x:1000:\n';
// Prints its uid, working folder, arguments, and the value of every argument that names a set variable.
const SHOW = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char cwd[4096];
  printf("uid=%d cwd=%s\\n", (int)getuid(), getcwd(cwd, sizeof cwd) ? cwd : "?");
  for (int i = 1; i < argc; i++) { const char *v = getenv(argv[i]); printf("arg=%s%s%s\\n", argv[i], v ? " value=" : "", v ? v : ""); }
  return 0;
}
`;

// An exec.d program (digest §2.10): writes TOML to fd 3, which the launcher sets into the environment.
const EXECD = `#include <string.h>
#include <unistd.h>
int main(void) { const char *s = "EXECD = \\"set by exec.d \\\\u00e9\\"\\n"; return write(3, s, strlen(s)) < 0; }
`;

let work: string;
let execd: string;
let podman: Podman | undefined;
let launcher: string;
let show: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cairn-export-'));
  launcher = join(work, 'launcher');
  show = join(work, 'show');
  execd = join(work, 'execd');
  if (whichTool('cc')) {
    await compileLauncherOnHost(launcher);
    await writeFile(join(work, 'show.c'), SHOW);
    execFileSync('cc', ['-static', '-O2', '-o', show, join(work, 'show.c')]);
    await writeFile(join(work, 'execd.c'), EXECD);
    execFileSync('cc', ['-static', '-O2', '-o', execd, join(work, 'execd.c')]);
  }
  if (whichTool('podman')) podman = await setupPodman();
});
after(async () => {
  await podman?.cleanup();
  await rm(work, { recursive: true, force: true });
});

/** The folders a build leaves: one buildpack with a launch layer holding launch env files. */
async function buildOutput(dir: string): Promise<{ layersDir: string; appDir: string; build: BuildOutcome }> {
  const layersDir = join(dir, 'layers');
  const appDir = join(dir, 'workspace');
  const layer = join(layersDir, 'example_greeter', 'greeting');
  await mkdir(join(layer, 'env.launch', 'worker'), { recursive: true });
  await mkdir(join(layer, 'bin'), { recursive: true });
  await writeFile(join(layer, 'env.launch', 'GREETING.override'), 'hello from the launch env');
  await writeFile(join(layer, 'env.launch', 'worker', 'ROLE.default'), 'worker');
  await writeFile(join(layer, 'env.launch', 'LIST.append'), 'b');
  await writeFile(join(layer, 'env.launch', 'LIST.delim'), ',');
  await mkdir(join(layer, 'profile.d'), { recursive: true });
  await writeFile(join(layer, 'profile.d', 'greet.sh'), 'export FROM_PROFILE="sourced by bash"\n');
  await mkdir(join(layer, 'exec.d'), { recursive: true });
  await writeFile(join(layer, 'exec.d', '10-set'), await readFile(execd), { mode: 0o755 });
  await writeFile(join(layersDir, 'example_greeter', 'greeting.toml'), '[types]\nlaunch = true\n[metadata]\nversion = "1.0"\n');
  await mkdir(join(layersDir, 'example_greeter', 'scratch'), { recursive: true });
  await writeFile(join(layersDir, 'example_greeter', 'scratch.toml'), '[types]\nbuild = true\n');
  await mkdir(appDir, { recursive: true });
  await mkdir(join(appDir, 'sub'), { recursive: true });
  await writeFile(join(appDir, 'index.txt'), 'the app\n');
  await chmod(join(appDir, 'index.txt'), 0o600); // the umask/mode of the source must not matter
  const metadata: BuildMetadataToml = {
    buildpackDefaultProcessType: 'web',
    buildpacks: [{ id: 'example/greeter', version: '1.0.0', api: '0.12' }],
    extensions: [],
    labels: [{ key: 'org.example.greeter', value: 'yes' }],
    processes: [
      { type: 'web', command: ['show', 'GREETING', 'EXECD'], args: ['LIST'], direct: true, buildpackId: 'example/greeter', execEnv: ['*'] },
      { type: 'worker', command: ['show', 'ROLE'], args: [], direct: true, buildpackId: 'example/greeter', workingDir: '/workspace/sub', execEnv: ['*'] },
    ],
    slices: [],
  };
  await mkdir(join(layersDir, 'config'), { recursive: true });
  await writeFile(join(layersDir, 'config', 'metadata.toml'), serializeBuildMetadataToml(metadata));
  return { layersDir, appDir, build: await readBuildResult(layersDir) };
}

async function runImageFiles(withShell: boolean): Promise<TestFile[]> {
  const files: TestFile[] = [
    { path: 'etc/passwd', content: PASSWD },
    { path: 'etc/group', content: GROUP },
    { path: 'usr/bin/show', content: await readFile(show), mode: 0o755 },
  ];
  return withShell ? [...files, ...hostShellFiles(['/bin/sh', '/bin/bash'])] : files;
}

for (const withShell of [false, true]) {
  test(`exported image runs under podman (run image ${withShell ? 'with' : 'without'} a shell)`, async (t) => {
    if (!needTool(t, 'cc', 'podman')) return;
    const dir = await mkdtemp(join(work, 'build-'));
    const out = await buildOutput(dir);
    const store = new MemoryStore('export');
    await makeTestImage(store, 'run', {
      layers: [await runImageFiles(withShell)],
      runtime: { User: '1000:1000', Env: ['PATH=/usr/bin:/bin', 'LIST=a'] },
    });
    const runImage = await loadImage(store, 'run');
    const input = {
      ...out,
      runImage,
      runImageRef: { reference: `run@${runImage.digest}`, image: 'example/run' },
      launcherPath: launcher,
      launcherInfo: { version: '0.1.0', source: { git: { repository: 'cairn', commit: 'test' } } },
      uid: 1000,
      gid: 1000,
      created: new Date('1980-01-01T00:00:01Z'),
      platformApi: '0.13',
      workDir: await mkdtemp(join(dir, 'blobs-')),
      warn: (m: string) => t.diagnostic(m),
    };
    const first = await exportImage(input);
    await validate(first.image);
    const cfg = first.image.config.config!;
    assert.deepEqual(cfg.Entrypoint, ['/cnb/process/web']);
    assert.equal(cfg.WorkingDir, '/workspace');
    assert.equal(cfg.User, '1000:1000');
    assert.ok(cfg.Env!.includes('PATH=/cnb/process:/cnb/lifecycle:/usr/bin:/bin'));
    assert.equal(cfg.Labels!['org.example.greeter'], 'yes');
    const md = parseLifecycleMetadataLabel(cfg.Labels!['io.buildpacks.lifecycle.metadata']!);
    assert.equal(md.runImage.topLayer, runImage.layers.at(-1)!.diffID);
    assert.deepEqual(Object.keys(md.buildpacks[0]!.layers), ['greeting'], 'only launch layers are in the image');
    assert.equal(first.image.layers.length, runImage.layers.length + 5, 'greeting, app, launcher, config, process types');
    assert.equal(first.image.config.created, '1980-01-01T00:00:01Z');

    // A second export of the same output, with the first as previous image: same digest, every layer reused.
    const second = await exportImage({ ...input, workDir: await mkdtemp(join(dir, 'blobs-')), previous: { image: first.image, metadata: md } });
    assert.equal(second.image.digest, first.image.digest);
    assert.equal(second.reusedLayers, 1);
    assert.ok(second.image.layers.every((l, i) => l === first.image.layers[i] || i < runImage.layers.length), 'layers are the previous image\'s values');

    const archive = join(dir, 'image.tar');
    const sink = await createDockerArchive(archive);
    await writeImage(first.image, sink, `localhost/export-test:${withShell ? 'shell' : 'noshell'}`);
    await sink.close();
    podman!.podman(['load', '-i', archive]);
    const ref = `localhost/export-test:${withShell ? 'shell' : 'noshell'}`;
    const web = podman!.podman(['run', '--rm', '--network', 'none', ref]);
    assert.match(web, /^uid=1000 cwd=\/workspace$/m);
    assert.match(web, /^arg=GREETING value=hello from the launch env$/m);
    assert.match(web, /^arg=LIST value=a,b$/m, 'default args, with the append rule applied to the image env');
    assert.match(web, /^arg=EXECD value=set by exec.d é$/m, 'exec.d output set into the env');
    const args = podman!.podman(['run', '--rm', '--network', 'none', ref, 'HOME', 'extra']);
    assert.match(args, /^arg=HOME value=/m);
    assert.match(args, /^arg=extra$/m);
    assert.doesNotMatch(args, /arg=LIST/, 'user args replace the default args');
    const worker = podman!.podman(['run', '--rm', '--network', 'none', '--entrypoint', '/cnb/process/worker', ref]);
    assert.match(worker, /^uid=1000 cwd=\/workspace\/sub$/m);
    assert.match(worker, /^arg=ROLE value=worker$/m, 'process-specific env');
    const user = podman!.podman(['run', '--rm', '--network', 'none', '-e', 'GREETING=mine', ref]);
    assert.match(user, /^arg=GREETING value=hello from the launch env$/m, 'an .override beats the user\'s value');
    if (withShell) {
      const sh = podman!.podman(['run', '--rm', '--network', 'none', '--entrypoint', '/cnb/lifecycle/launcher', ref, 'echo "shell: $GREETING; $FROM_PROFILE"']);
      assert.match(sh, /^shell: hello from the launch env; sourced by bash$/m, 'profile.d scripts are sourced for shell processes');
    }
  });
}
