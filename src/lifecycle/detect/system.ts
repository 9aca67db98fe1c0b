/**
 * System buildpacks (Platform API 0.15, digest §3.1, platform spec "detector"): `pre` buildpacks go before and
 * `post` buildpacks after the entries of every order group, skipping any whose ID the group already lists.
 * Unlike the reference lifecycle, an entry's `optional` is kept, as the spec allows it (digest §12).
 */
import type { OrderGroup } from '../files/module-ref.js';
import type { SystemToml } from '../files/system-toml.js';

export function withSystemBuildpacks(order: readonly OrderGroup[], system: SystemToml): OrderGroup[] {
  return order.map((g) => {
    const ids = new Set(g.group.map((e) => e.id));
    const fresh = (list: SystemToml['pre']) => list.filter((e) => !ids.has(e.id));
    return { group: [...fresh(system.pre), ...g.group, ...fresh(system.post)] };
  });
}
