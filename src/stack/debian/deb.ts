/**
 * A binary package file (deb(5)): an ar archive of `debian-binary` ("2.0\n"), `control.tar[.gz|.xz]` and
 * `data.tar[.gz|.xz]`, in that order (extra members whose name starts with `_` are ignored, as dpkg does).
 * `readDeb` reads the control member fully (the control stanza, md5sums, conffiles, maintainer scripts);
 * the data member stays compressed until `decodeData` decodes it for `dataEntries`.
 */
import { Readable } from 'node:stream';
import { CairnError } from '../../oci/errors.js';
import { readAr } from './ar.js';
import { parseStanza, type Stanza } from './deb822.js';
import { compressionOf, decompressBuffer, type Compression } from './decompress.js';
import { forEachTarEntry, readBody, type TarEntryHeader } from './tar-entries.js';
import type { XzPool } from './xz-pool.js';

/** Maintainer scripts dpkg runs (Policy §6); their presence decides whether a package needs configuring. */
export const MAINTAINER_SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm'] as const;

export interface DebPackage {
  /** The control stanza (`control` file of the control member). */
  control: Stanza;
  /** The other control-member files by name: md5sums, conffiles, postinst, triggers, shlibs, … */
  controlFiles: ReadonlyMap<string, { data: Buffer; mode: number }>;
  dataName: string;
  dataCompression: Compression;
  /** The data member, still compressed. */
  data: Buffer;
}

/** Parses a .deb held in memory; `what` names it in errors. */
export async function readDeb(buf: Buffer, what: string): Promise<DebPackage> {
  const members = readAr(buf, what).filter((m) => !m.name.startsWith('_'));
  const [binary, control, data] = members;
  if (!binary || binary.name !== 'debian-binary') throw new CairnError('INVALID_ARCHIVE', `${what}: first member is not debian-binary`, { hint: 'the file is not a Debian package' });
  const format = binary.data.toString('latin1').trim();
  if (!/^2\.[0-9]+$/.test(format)) throw new CairnError('UNSUPPORTED', `${what}: unsupported package format ${format}`, { hint: 'cairn reads format 2.x Debian packages' });
  if (!control || !/^control\.tar(\.[a-z0-9]+)?$/.test(control.name)) throw new CairnError('INVALID_ARCHIVE', `${what}: second member is not control.tar.*`);
  if (!data || !/^data\.tar(\.[a-z0-9]+)?$/.test(data.name)) throw new CairnError('INVALID_ARCHIVE', `${what}: third member is not data.tar.*`);
  const controlCompression = compressionOf(`${what}: ${control.name}`);
  const dataCompression = compressionOf(`${what}: ${data.name}`);

  const files = new Map<string, { data: Buffer; mode: number }>();
  const controlTar = await decompressBuffer(control.data, controlCompression, `${what}: ${control.name}`);
  await forEachTarEntry(Readable.from([controlTar]), `${what}: ${control.name}`, async (h, body) => {
    const name = h.name.replace(/^\.?\//, '');
    if (h.type !== 'file' || name === '' || name.includes('/')) return;
    files.set(name, { data: await readBody(body), mode: h.mode });
  });
  const controlFile = files.get('control');
  if (!controlFile) throw new CairnError('INVALID_ARCHIVE', `${what}: the control member has no control file`);
  files.delete('control');
  return {
    control: parseStanza(controlFile.data.toString('utf8'), `${what}: control`),
    controlFiles: files,
    dataName: data.name,
    dataCompression,
    data: data.data,
  };
}

/** The data member as an uncompressed tar (xz decoded on `pool` when given). */
export function decodeData(deb: DebPackage, what: string, pool?: XzPool): Promise<Buffer> {
  return decompressBuffer(deb.data, deb.dataCompression, `${what}: ${deb.dataName}`, pool);
}

/** Iterates the entries of an uncompressed data tar. */
export function dataEntries(tar: Buffer, what: string, onEntry: (header: TarEntryHeader, body: AsyncIterable<Uint8Array>) => Promise<void> | void): Promise<void> {
  return forEachTarEntry(Readable.from([tar]), `${what}: data.tar`, onEntry);
}

/** Whether the package has maintainer scripts that dpkg would run when configuring it. */
export function hasMaintainerScripts(deb: DebPackage): boolean {
  return MAINTAINER_SCRIPTS.some((s) => deb.controlFiles.has(s));
}
