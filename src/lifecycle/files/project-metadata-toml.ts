/**
 * project-metadata.toml (digest §4.2, platform spec): optional, written by the platform; every value optional.
 * Its JSON form is the `io.buildpacks.project.metadata` label (`labels/project-metadata.ts`).
 */
import { Fields } from './fields.js';
import { canonical, parseToml, stringifyToml } from './toml.js';

export interface ProjectSource {
  /** Where the source came from: `git`, `s3`, … */
  type?: string;
  /** Identifies the source version (free-form, e.g. `{ commit = "…" }`). */
  version?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface ProjectMetadataToml {
  source?: ProjectSource;
}

export function parseProjectMetadataToml(text: string, file = 'project-metadata.toml'): ProjectMetadataToml {
  const root = new Fields(file, parseToml(text, file));
  const s = root.table('source');
  return s ? { source: { type: s.string('type'), version: s.freeform('version'), metadata: s.freeform('metadata') } } : {};
}

export function serializeProjectMetadataToml(p: ProjectMetadataToml): string {
  const s = p.source;
  return stringifyToml({ source: s ? { type: s.type, version: s.version && canonical(s.version), metadata: s.metadata && canonical(s.metadata) } : undefined });
}
