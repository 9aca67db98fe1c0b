/**
 * cairn's local image store: an OCI layout at `<cairn home>/store`, created on first use. Bare image names
 * (`myapp`, `myapp:v2`) live there as ref names `myapp:latest`, `myapp:v2`; the reference code normalises
 * names, this store keeps what it is given.
 */
import { join } from 'node:path';
import { CairnError } from '../errors.js';
import { type LayoutStore, type LayoutStoreOptions, openLayoutStore } from './layout/layout-store.js';

export interface CairnHomeEnv {
  CAIRN_HOME?: string | undefined;
  XDG_CACHE_HOME?: string | undefined;
  HOME?: string | undefined;
}

/** `$CAIRN_HOME`, else `$XDG_CACHE_HOME/cairn`, else `$HOME/.cache/cairn` (empty values count as unset). */
export function cairnHome(env: CairnHomeEnv): string {
  if (env.CAIRN_HOME) return env.CAIRN_HOME;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'cairn');
  if (env.HOME) return join(env.HOME, '.cache', 'cairn');
  throw new CairnError('INVALID_ARGUMENT', 'cannot find a place for cairn\'s local store: CAIRN_HOME, XDG_CACHE_HOME and HOME are all unset', {
    hint: 'set CAIRN_HOME to a writable folder',
  });
}

/** The local store of the cairn home `home`, created when missing. */
export function openLocalStore(home: string, opts: Omit<LayoutStoreOptions, 'create'> = {}): Promise<LayoutStore> {
  return openLayoutStore(join(home, 'store'), { ...opts, create: true });
}
