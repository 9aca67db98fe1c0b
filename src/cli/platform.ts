/** The platform cairn picks from a multi-platform index: `--platform OS/ARCH[/VARIANT]`, else the host's. */
import { CairnError } from '../oci/errors.js';
import type { PlatformChoice } from '../oci/spec.js';

export type { PlatformChoice };

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(nodeArch: string): PlatformChoice {
  return { os: 'linux', architecture: NODE_ARCH[nodeArch] ?? nodeArch };
}

export function parsePlatform(s: string): PlatformChoice {
  const [os, architecture, variant, extra] = s.split('/');
  if (!os || !architecture || extra !== undefined) {
    throw new CairnError('INVALID_ARGUMENT', `invalid platform "${s}"`, { hint: 'write it as OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64 or linux/arm64/v8' });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}
