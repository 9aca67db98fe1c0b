/**
 * system.toml (Platform API 0.15; digest §3.1): buildpacks put before (`pre`) and after (`post`) every order
 * group, skipping any whose ID the group already has (see `detect/system.ts`).
 */
import { Fields } from './fields.js';
import { moduleRefToToml, readModuleRef, type ModuleRef } from './module-ref.js';
import { parseToml, stringifyToml } from './toml.js';

export interface SystemToml {
  pre: ModuleRef[];
  post: ModuleRef[];
}

const HINT = 'fix system.toml; it holds [[system.pre.buildpacks]] and [[system.post.buildpacks]] { id, version } entries';

export function parseSystemToml(text: string, file = 'system.toml'): SystemToml {
  const root = new Fields(file, parseToml(text, file), '', HINT);
  const system = root.table('system');
  const list = (key: 'pre' | 'post'): ModuleRef[] => system?.table(key)?.tables('buildpacks').map(readModuleRef) ?? [];
  return { pre: list('pre'), post: list('post') };
}

export function serializeSystemToml(s: SystemToml): string {
  return stringifyToml({
    system: {
      pre: { buildpacks: s.pre.map(moduleRefToToml) },
      post: { buildpacks: s.post.map(moduleRefToToml) },
    },
  });
}
