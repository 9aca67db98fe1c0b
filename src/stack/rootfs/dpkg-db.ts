/**
 * Records of the installed packages where dpkg and image scanners (syft, trivy, grype) look for them:
 * - build image: dpkg's own database (dpkg(1) "FILES"): `/var/lib/dpkg/status` with one stanza per package
 *   (its control fields, `Status:` and `Conffiles:`), and `/var/lib/dpkg/info/<pkg>.{list,md5sums,
 *   conffiles,postinst,…}` (`<pkg>:<arch>` for Multi-Arch: same packages, as dpkg names them);
 * - run image (no dpkg): the distroless layout, `/var/lib/dpkg/status.d/<pkg>` holding the package's control
 *   stanza and `/var/lib/dpkg/status.d/<pkg>.md5sums`.
 */
import { createHash } from 'node:crypto';
import { Stanza } from '../debian/deb822.js';
import type { RootTree } from '../root-tree.js';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  control: Stanza;
  /** Control-member files other than `control` (md5sums, conffiles, maintainer scripts, triggers, …). */
  controlFiles: ReadonlyMap<string, { data: Buffer; mode: number }>;
  /** Paths as recorded in `<pkg>.list`. */
  files: readonly string[];
}

/** dpkg's info-file stem: `<name>:<arch>` for Multi-Arch: same packages, else `<name>`. */
export function infoName(p: InstalledPackage): string {
  return (p.control.get('Multi-Arch') ?? '').toLowerCase() === 'same' ? `${p.name}:${p.arch}` : p.name;
}

/**
 * `installed`: packages are configured (nothing left to do). `unpacked`: packages with maintainer scripts
 * are left for `dpkg --configure -a`, which runs their postinst.
 */
export type DpkgState = 'installed' | 'unpacked';

const SCRIPTS = new Set(['preinst', 'postinst', 'prerm', 'postrm', 'config']);

/** Writes the full dpkg database (build image). Packages are written sorted by name. */
export function writeDpkgDatabase(tree: RootTree, packages: readonly InstalledPackage[], state: DpkgState): void {
  for (const d of ['var', 'var/lib', 'var/lib/dpkg']) if (tree.kindOf(d) !== 'dir') tree.mkdir(d, { mode: 0o755 });
  for (const d of ['info', 'updates', 'triggers', 'alternatives']) if (tree.kindOf(`var/lib/dpkg/${d}`) !== 'dir') tree.mkdir(`var/lib/dpkg/${d}`, { mode: 0o755 });
  const sorted = [...packages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const stanzas: string[] = [];
  for (const p of sorted) {
    const stem = infoName(p);
    tree.writeFile(`var/lib/dpkg/info/${stem}.list`, p.files.join('\n') + '\n', { mode: 0o644 });
    for (const [name, f] of [...p.controlFiles].sort(([a], [b]) => (a < b ? -1 : 1))) {
      tree.writeFile(`var/lib/dpkg/info/${stem}.${name}`, f.data, { mode: SCRIPTS.has(name) ? 0o755 : 0o644 });
    }
    const pending = state === 'unpacked' && [...SCRIPTS].some((s) => p.controlFiles.has(s));
    stanzas.push(statusStanza(tree, p, pending ? 'install ok unpacked' : 'install ok installed'));
  }
  tree.writeFile('var/lib/dpkg/status', stanzas.join('\n'), { mode: 0o644 });
  if (tree.kindOf('var/lib/dpkg/available') !== 'file') tree.writeFile('var/lib/dpkg/available', '', { mode: 0o644 });
}

/** The status stanza: Package, Status, the control fields, and Conffiles (before Description). */
function statusStanza(tree: RootTree, p: InstalledPackage, status: string): string {
  const conffiles = (p.controlFiles.get('conffiles')?.data.toString('utf8') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
  const lines: string[] = [];
  for (const path of conffiles) {
    const data = tree.readFile(path);
    // dpkg records "newconffile" for a conffile it has not installed yet; a missing one is marked obsolete.
    lines.push(data ? `${path} ${createHash('md5').update(data).digest('hex')}` : `${path} newconffile`);
  }
  const fields = p.control.fields.filter((f) => f.name.toLowerCase() !== 'package' && f.name.toLowerCase() !== 'status');
  const out: { name: string; value: string }[] = [{ name: 'Package', value: p.name }, { name: 'Status', value: status }];
  for (const f of fields) {
    if (f.name.toLowerCase() === 'description' && lines.length > 0) out.push({ name: 'Conffiles', value: '\n' + lines.join('\n') });
    out.push(f);
  }
  if (lines.length > 0 && !fields.some((f) => f.name.toLowerCase() === 'description')) out.push({ name: 'Conffiles', value: '\n' + lines.join('\n') });
  return new Stanza(out).format();
}

/** Writes the distroless-style records (run image). */
export function writeStatusD(tree: RootTree, packages: readonly InstalledPackage[]): void {
  for (const d of ['var', 'var/lib', 'var/lib/dpkg', 'var/lib/dpkg/status.d']) if (tree.kindOf(d) !== 'dir') tree.mkdir(d, { mode: 0o755 });
  for (const p of packages) {
    tree.writeFile(`var/lib/dpkg/status.d/${p.name}`, p.control.format(), { mode: 0o644 });
    const md5 = p.controlFiles.get('md5sums');
    if (md5) tree.writeFile(`var/lib/dpkg/status.d/${p.name}.md5sums`, md5.data, { mode: 0o644 });
  }
}
