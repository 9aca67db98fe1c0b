/**
 * builder.toml → a builder image, as a value: what `cairn builder create` and the default builder
 * (default-builder.ts) share. The build image and buildpackages are opened through `openImage`; the
 * launcher is compiled in the build image (sandboxed, cached under `home/launcher`). Buildpack layers are
 * written under `workDir`, which must outlive the returned image until it is stored.
 */
import { dirname, join } from 'node:path';
import { parseBuilderToml } from '../builder/builder-toml.js';
import { cnbUser, createBuilder, type CreatedBuilder } from '../builder/create-builder.js';
import { launcherFor } from '../builder/launcher.js';
import type { Image } from '../oci/image.js';
import type { PlatformChoice } from '../oci/spec.js';
import { createBwrapExecutor } from '../lifecycle/sandbox/bwrap-executor.js';
import { prepareRootfs } from '../lifecycle/sandbox/rootfs-cache.js';
import { readDefinition } from './read-definition.js';

export interface MakeBuilderOptions {
  configPath: string;
  /** builder.toml's name, for messages. */
  configName: string;
  home: string;
  workDir: string;
  /** The platform when builder.toml names no target. */
  hostPlatform: PlatformChoice;
  /** cairn's version: the lifecycle's. */
  version: string;
  /** cairn's CLI bundle, carried as the lifecycle's phases when a node runtime is (create-builder.ts). */
  lifecycleBundle?: string;
  /** Folders carried at `/cnb/runtime/<name>/`. */
  runtimes: { name: string; dir: string }[];
  openImage: (ref: string, platform: PlatformChoice, what: string) => Promise<Image>;
  /** The host's PATH, where bwrap is looked up. */
  searchPath?: string;
  warn: (message: string) => void;
}

export interface MadeBuilder extends CreatedBuilder {
  /** The run image builder.toml names first. */
  runImage: string;
}

export async function makeBuilder(opts: MakeBuilderOptions): Promise<MadeBuilder> {
  const text = await readDefinition(opts.configPath, opts.configName, 'the builder definition');
  const config = parseBuilderToml(text, opts.configName);
  if (config.lifecycle.version !== undefined || config.lifecycle.uri !== undefined) {
    opts.warn(`${opts.configName}: [lifecycle] ${config.lifecycle.version ? `version ${config.lifecycle.version}` : `uri ${config.lifecycle.uri}`} is ignored: cairn's builders carry cairn's own lifecycle (${opts.version})`);
  }
  const target = config.targets[0];
  const platform: PlatformChoice = target?.arch ? { os: 'linux', architecture: target.arch, ...(target.variant ? { variant: target.variant } : {}) } : opts.hostPlatform;
  const buildImage = await opts.openImage(config.buildImage, platform, 'build image');
  const user = cnbUser(buildImage);
  const created = await createBuilder({
    config,
    configName: opts.configName,
    buildImage,
    launcher: () => launcherFor({
      buildImage,
      rootfs: () => prepareRootfs(buildImage, join(opts.home, 'rootfs')),
      executor: (rootfs) => createBwrapExecutor({ rootfs, ...(opts.searchPath ? { searchPath: opts.searchPath } : {}) }),
      cacheDir: join(opts.home, 'launcher'),
      ...user,
    }),
    version: opts.version,
    runtimes: opts.runtimes,
    ...(opts.lifecycleBundle ? { lifecycleBundle: opts.lifecycleBundle } : {}),
    sources: { baseDir: dirname(opts.configPath), workDir: opts.workDir, openImage: (r) => opts.openImage(r, platform, 'buildpackage') },
    warn: opts.warn,
  });
  return { ...created, runImage: config.runImages[0]!.image };
}
