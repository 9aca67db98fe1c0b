/**
 * pack's `--pull-policy` for the images a build reads (the builder and the run image), daemonless: cairn's local
 * store plays the daemon's part, holding pulled registry images under their full reference
 * (`registry.example.com/team/builder:v1`).
 * - `always` (pack's default): a registry image is read from the registry at every build (its manifest is fetched;
 *   layers whose root filesystem cairn already extracted are not downloaded again).
 * - `if-not-present`: a registry image pulled before is used from the local store without asking the registry;
 *   one not there is pulled into it first.
 * - `never`: only the local store; a registry image not pulled before is an error.
 * Images named in the local store, an OCI layout or an archive are read where they are, whatever the policy.
 * A registry with a mirror (`cairn config registry-mirrors`) is read from the mirror, and stored locally under
 * the mirror's name.
 */
import { CairnError } from '../oci/errors.js';
import { copyRef } from '../oci/copy.js';
import { openTarget, type RegistryOptions } from '../oci/open-target.js';
import { cairnHome, openLocalStore } from '../oci/store/local.js';
import { hasManifest, type Store } from '../oci/store/store.js';
import { formatTarget, parseTarget, type Target } from '../oci/transport.js';
import { type CliContext, targetContext } from './context.js';

export const PULL_POLICIES = ['always', 'if-not-present', 'never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface PolicyImage {
  store: Store;
  /** The tag or digest in `store`. */
  ref: string;
  name: string;
}

/** Opens `name` for reading under `policy`; the caller closes the store. */
export async function openWithPolicy(name: string, policy: PullPolicy, ctx: CliContext, reg: RegistryOptions, what: string, mirrors: Record<string, string> = {}): Promise<PolicyImage> {
  const target = mirrored(parseTarget(name), mirrors);
  if (target.kind !== 'registry' || policy === 'always') {
    const t = await openTarget(target, 'read', targetContext(ctx), reg);
    return { store: t.store, ref: t.key, name };
  }
  const key = formatTarget(target);
  const local = await openLocalStore(cairnHome(ctx.env));
  try {
    if (await hasManifest(local, key)) return { store: local, ref: key, name };
    if (policy === 'never') {
      throw new CairnError('NOT_FOUND', `the ${what} ${key} is not in the local store, and --pull-policy is never`, {
        hint: 'run once with --pull-policy if-not-present (or always) to pull it into the local store',
      });
    }
    const remote = await openTarget(target, 'read', targetContext(ctx), reg);
    try {
      await copyRef(remote.store, remote.key, local, key);
    } finally {
      await remote.store.close();
    }
    return { store: local, ref: key, name };
  } catch (e) {
    await local.close();
    throw e;
  }
}

/** A registry target read through its mirror (`cairn config registry-mirrors`: the host's own, else `*`). */
function mirrored(t: Target, mirrors: Record<string, string>): Target {
  if (t.kind !== 'registry') return t;
  const mirror = mirrors[t.name.registry] ?? mirrors['*'];
  return mirror ? { ...t, name: { ...t.name, registry: mirror } } : t;
}
