/**
 * A layer of this buildpack (digest §2.6, §2.7): `<layers>/<name>/` and `<layers>/<name>.toml`.
 *
 * A layer declares its types and a cache key. Opening it compares the key with the metadata the lifecycle
 * restored (from the cache, or from the previous image for launch-only layers) and decides:
 * - **reused**: the restored key equals the new one and what the layer needs is there: the folder for a
 *   `build` or `cache` layer (restored from the cache), nothing for a launch-only layer (its folder stays
 *   absent, so the exporter takes the previous image's layer as it is). The buildpack leaves it alone.
 * - **fresh**: anything else. The folder is emptied (created) and the buildpack fills it; env files and
 *   exec.d programs may only be written then, since they are part of the contents.
 * Either way `commit()` (the SDK calls it after `build` returns) writes `<name>.toml` with `[types]` (restored
 * files have none, and a layer without types is dropped) and `[metadata]` holding `cache-key` and the
 * buildpack's own keys.
 */
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { BuildpackError } from './errors.js';

export interface LayerTypes {
  launch?: boolean;
  build?: boolean;
  cache?: boolean;
}

/** Where an env file applies: `env/` (build and launch), `env.build/`, `env.launch/` (or one process type's). */
export interface EnvScope {
  scope?: 'all' | 'build' | 'launch';
  /** With scope `launch`: only this process type (`env.launch/<type>/`). */
  process?: string;
}

export type SbomFormat = 'cdx' | 'spdx' | 'syft';

const FORBIDDEN = new Set(['build', 'launch', 'store']);
const META_KEY = 'cache-key';

export interface LayerOptions {
  types: LayerTypes;
  /** Identifies the contents: same key, same contents. */
  key: string;
  /** Extra metadata stored with the key (values TOML can hold). */
  metadata?: Record<string, unknown>;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export class Layer {
  readonly path: string;
  readonly types: Required<LayerTypes>;
  readonly key: string;
  /** True when the restored layer is still valid and is kept as it is. */
  readonly reused: boolean;
  /** Metadata the lifecycle restored (undefined when none was). */
  readonly restored: Readonly<Record<string, unknown>> | undefined;
  metadata: Record<string, unknown>;
  private committed = false;

  private constructor(readonly layersDir: string, readonly name: string, opts: LayerOptions, restored: Record<string, unknown> | undefined, reused: boolean) {
    this.path = join(layersDir, name);
    this.types = { launch: opts.types.launch ?? false, build: opts.types.build ?? false, cache: opts.types.cache ?? false };
    this.key = opts.key;
    this.restored = restored;
    this.reused = reused;
    this.metadata = reused && restored ? { ...restored, ...opts.metadata } : { ...opts.metadata };
  }

  /** Opens `name` with `opts`; a layer that is not reused starts as an empty folder. */
  static async open(layersDir: string, name: string, opts: LayerOptions): Promise<Layer> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name) || FORBIDDEN.has(name)) {
      throw new BuildpackError(`invalid layer name "${name}"`, { hint: 'use letters, digits, "-" and "_"; not build, launch or store' });
    }
    const restored = await readRestoredMetadata(join(layersDir, `${name}.toml`));
    const hasDir = await isDir(join(layersDir, name));
    const needsContents = Boolean(opts.types.build || opts.types.cache);
    // A launch-only layer is valid without its folder (the previous image has it); a folder restored anyway
    // (never by a spec lifecycle) is used as it is.
    const reused = restored !== undefined && restored[META_KEY] === opts.key && (hasDir || !needsContents);
    const layer = new Layer(layersDir, name, opts, restored, reused);
    if (!reused) {
      await rm(layer.path, { recursive: true, force: true });
      await mkdir(layer.path, { recursive: true });
    }
    return layer;
  }

  private ensureFresh(what: string): void {
    if (this.reused) throw new Error(`internal: ${what} written to the reused layer ${this.name}`);
  }

  private async envFile(file: string, value: string, where: EnvScope): Promise<void> {
    this.ensureFresh('an env file');
    const scope = where.scope ?? 'all';
    if (where.process && scope !== 'launch') throw new Error('internal: a per-process env file must have scope launch');
    const dir = join(this.path, scope === 'all' ? 'env' : `env.${scope}`, where.process ?? '');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, file), value);
  }

  /** `NAME.override`: the value, whatever was there. */
  override(name: string, value: string, where: EnvScope = {}): Promise<void> {
    return this.envFile(`${name}.override`, value, where);
  }

  /** `NAME.default`: the value when the variable is unset or empty. */
  default(name: string, value: string, where: EnvScope = {}): Promise<void> {
    return this.envFile(`${name}.default`, value, where);
  }

  /** `NAME.prepend` and `NAME.delim`: value + delim + existing. */
  async prepend(name: string, value: string, delim: string, where: EnvScope = {}): Promise<void> {
    await this.envFile(`${name}.prepend`, value, where);
    await this.envFile(`${name}.delim`, delim, where);
  }

  /** `NAME.append` and `NAME.delim`: existing + delim + value. */
  async append(name: string, value: string, delim: string, where: EnvScope = {}): Promise<void> {
    await this.envFile(`${name}.append`, value, where);
    await this.envFile(`${name}.delim`, delim, where);
  }

  /**
   * An exec.d program (digest §2.10): run by the launcher before the process, with fd 3 for its output
   * (`NAME = "value"` TOML lines). It must be executable on the run image: a script's interpreter must be there.
   */
  async execD(file: string, content: string, process?: string): Promise<string> {
    this.ensureFresh('an exec.d program');
    const dir = join(this.path, 'exec.d', process ?? '');
    await mkdir(dir, { recursive: true });
    const p = join(dir, file);
    await writeFile(p, content);
    await chmod(p, 0o755);
    return p;
  }

  /** Writes `<layers>/<name>.sbom.<ext>` (allowed for reused layers: it lies beside the folder). */
  async sbom(format: SbomFormat, text: string): Promise<void> {
    await writeFile(join(this.layersDir, `${this.name}.sbom.${format}.json`), text);
  }

  /** Writes `<name>.toml`; idempotent. */
  async commit(): Promise<void> {
    if (this.committed) return;
    const toml = stringifyToml({ types: this.types, metadata: sortKeys({ ...this.metadata, [META_KEY]: this.key }) });
    await writeFile(join(this.layersDir, `${this.name}.toml`), `${toml}\n`);
    this.committed = true;
  }
}

/** The metadata the lifecycle restored for layer `name` (undefined when none). */
export function readLayerMetadata(layersDir: string, name: string): Promise<Record<string, unknown> | undefined> {
  return readRestoredMetadata(join(layersDir, `${name}.toml`));
}

async function readRestoredMetadata(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const t = parseToml(text) as { metadata?: unknown };
    return t.metadata && typeof t.metadata === 'object' ? (t.metadata as Record<string, unknown>) : {};
  } catch {
    return undefined; // unreadable metadata: the layer is rebuilt
  }
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}
