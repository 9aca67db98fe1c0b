/**
 * `<layers>/<bp>/store.toml` (digest §2.4): a free-form `[metadata]` table kept in the image label
 * (`buildpacks[].store`) and restored for the next build.
 */
import { Fields } from './fields.js';
import { canonical, parseToml, stringifyToml } from './toml.js';

export interface StoreToml {
  metadata: Record<string, unknown>;
}

export function parseStoreToml(text: string, file = 'store.toml'): StoreToml {
  return { metadata: new Fields(file, parseToml(text, file)).freeform('metadata') ?? {} };
}

export function serializeStoreToml(s: StoreToml): string {
  return stringifyToml({ metadata: canonical(s.metadata) });
}
