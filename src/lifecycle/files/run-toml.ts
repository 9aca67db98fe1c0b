/**
 * run.toml (Platform ≥ 0.12, digest §4.2) and the deprecated stack.toml (Platform < 0.12) that it replaced,
 * plus the choice of the mirror set recorded for a run image (digest §4.3).
 */
import { normalizeRegistryName, parseImageName } from '../../oci/reference.js';
import type { RunImageRef } from '../labels/lifecycle-metadata.js';
import { Fields } from './fields.js';
import { parseToml, stringifyToml } from './toml.js';

export interface RunImageEntry {
  /** May be empty; `mirrors` are only allowed with an image. */
  image: string;
  mirrors: string[];
}

export interface RunToml {
  images: RunImageEntry[];
}

function readEntry(f: Fields): RunImageEntry {
  const image = f.string('image') ?? '';
  const mirrors = f.strings('mirrors') ?? [];
  if (image === '' && mirrors.length > 0) f.fail('mirrors', 'must not be given without image');
  return { image, mirrors };
}

function entryToToml(e: RunImageEntry): Record<string, unknown> {
  return { image: e.image || undefined, mirrors: e.mirrors.length > 0 ? e.mirrors : undefined };
}

export function parseRunToml(text: string, file = 'run.toml'): RunToml {
  const root = new Fields(file, parseToml(text, file), '', 'run.toml lists [[images]] image = "<ref>", mirrors = ["<ref>", ...]');
  return { images: root.tables('images').map(readEntry) };
}

export function serializeRunToml(r: RunToml): string {
  return stringifyToml({ images: r.images.map(entryToToml) });
}

/** Deprecated stack.toml: `[run-image] image, mirrors`. */
export interface StackToml {
  runImage: RunImageEntry;
}

export function parseStackToml(text: string, file = 'stack.toml'): StackToml {
  const root = new Fields(file, parseToml(text, file), '', 'stack.toml holds [run-image] image = "<ref>", mirrors = [...]');
  const run = root.table('run-image');
  return { runImage: run ? readEntry(run) : { image: '', mirrors: [] } };
}

export function serializeStackToml(s: StackToml): string {
  return stringifyToml({ 'run-image': entryToToml(s.runImage) });
}

/** Registry and repository of a reference, ignoring tag and digest; undefined if it does not parse. */
function repositoryOf(ref: string): string | undefined {
  try {
    const n = normalizeRegistryName(parseImageName(ref));
    return `${n.registry}/${n.repository}`;
  } catch {
    return undefined;
  }
}

/**
 * The image + mirrors to record for a chosen run image (digest §4.3): the first entry whose image or a mirror
 * names the same repository (tag/digest ignored); else the first entry; none when run.toml is empty.
 */
export function runImageForExport(run: RunToml, runImage: string): RunImageRef {
  const want = repositoryOf(runImage);
  const hit = run.images.find((e) => [e.image, ...e.mirrors].some((r) => r !== '' && want !== undefined && repositoryOf(r) === want));
  const e = hit ?? run.images[0];
  return e ? { image: e.image || undefined, mirrors: [...e.mirrors] } : {};
}
