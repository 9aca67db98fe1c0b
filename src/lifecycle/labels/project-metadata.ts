/**
 * `io.buildpacks.project.metadata` (digest §5.3, platform spec): the JSON form of project-metadata.toml;
 * `{}` when there is none. Keys: `source.type`, `source.version`, `source.metadata` (each omitted when absent).
 */
import type { ProjectMetadataToml } from '../files/project-metadata-toml.js';
import { canonical } from '../files/toml.js';
import { labelJson } from './json.js';

export function projectMetadataLabel(p: ProjectMetadataToml | undefined): string {
  const s = p?.source;
  if (!s) return '{}';
  return labelJson({ source: { type: s.type || undefined, version: s.version && canonical(s.version), metadata: s.metadata && canonical(s.metadata) } });
}
