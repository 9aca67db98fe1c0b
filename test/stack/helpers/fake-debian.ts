/**
 * Test doubles for a Debian archive: `makeDeb` builds real .deb files (ar + gzip'd tars), `FakeMirror`
 * serves a signed archive (InRelease clearsigned with a throw-away OpenPGP key, Packages.gz also by hash,
 * pool files) from an HTTP server on 127.0.0.1, and counts requests.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import tar from 'tar-stream';

export interface FakeEntry {
  path: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  data?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  mtime?: number;
}

/** A tar archive of the entries, in the given order. */
export async function makeTar(entries: readonly FakeEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.path,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date((e.mtime ?? 1700000000) * 1000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const body = type === 'file' ? Buffer.from(e.data ?? '') : undefined;
      pack.entry(body ? { ...header, size: body.length } : header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** An ar archive (deb(5) layout). */
export function makeAr(members: readonly { name: string; data: Buffer }[]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const m of members) {
    const h = m.name.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '100644'.padEnd(8) + String(m.data.length).padEnd(10) + '`\n';
    parts.push(Buffer.from(h, 'latin1'), m.data);
    if (m.data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export interface DebSpec {
  name: string;
  version: string;
  arch?: string;
  /** Extra control fields (Depends, Multi-Arch, …), in order. */
  fields?: Record<string, string>;
  files?: FakeEntry[];
  /** Control-member files besides `control` (postinst, md5sums, conffiles, …). */
  controlFiles?: Record<string, string>;
  /** Name of the data member (default data.tar.gz; the body is gzip'd only for .gz). */
  dataName?: string;
  /** Add directory entries for the parents of `files` (default true). */
  impliedDirs?: boolean;
}

export function controlText(spec: DebSpec): string {
  const fields: Record<string, string> = {
    Package: spec.name,
    Version: spec.version,
    Architecture: spec.arch ?? 'amd64',
    Maintainer: 'Test <test@example.org>',
    ...spec.fields,
    Description: `${spec.name} for tests\n long description\n .\n more`,
  };
  return Object.entries(fields).map(([k, v]) => `${k}: ${v}\n`).join('');
}

/** Builds a .deb whose data member holds `files` (directories for their parents are added first). */
export async function makeDeb(spec: DebSpec): Promise<Buffer> {
  const control = await makeTar([
    { path: './', type: 'directory' },
    { path: './control', data: controlText(spec) },
    ...Object.entries(spec.controlFiles ?? {}).map(([name, data]) => ({ path: `./${name}`, data, mode: ['postinst', 'preinst', 'prerm', 'postrm'].includes(name) ? 0o755 : 0o644 })),
  ]);
  const files = spec.files ?? [];
  const dirs = new Set<string>();
  for (const f of spec.impliedDirs === false ? [] : files) {
    const parts = f.path.replace(/^\.\//, '').split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const explicit = new Set(files.filter((f) => f.type === 'directory').map((f) => f.path.replace(/^\.\//, '').replace(/\/$/, '')));
  const entries: FakeEntry[] = [{ path: './', type: 'directory' }, ...[...dirs].filter((d) => !explicit.has(d)).sort().map((d) => ({ path: `./${d}/`, type: 'directory' as const })), ...files];
  const data = await makeTar(entries);
  const dataName = spec.dataName ?? 'data.tar.gz';
  return makeAr([
    { name: 'debian-binary', data: Buffer.from('2.0\n') },
    { name: 'control.tar.gz', data: gzipSync(control) },
    { name: dataName, data: dataName.endsWith('.gz') ? gzipSync(data) : data },
  ]);
}

export function sha256hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Keys and signatures of the fakes are dated here, so tests verify them at a fixed `now` after it. */
export const SIGNING_DATE = new Date('2023-06-10T09:00:00Z');

/** A throw-away signing key and a keyring folder holding its public half. */
export async function makeSigningKey(): Promise<{ privateKey: openpgp.PrivateKey; keysDir: string; cleanup: () => Promise<void> }> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: 'cairn test archive' }],
    date: new Date('2023-01-01T00:00:00Z'),
    format: 'object',
  });
  const keysDir = await mkdtemp(join(tmpdir(), 'cairn-keys-'));
  await writeFile(join(keysDir, 'test.asc'), publicKey.armor());
  return { privateKey, keysDir, cleanup: () => rm(keysDir, { recursive: true, force: true }) };
}

export async function clearsign(text: string, key: openpgp.PrivateKey): Promise<string> {
  return openpgp.sign({ message: await openpgp.createCleartextMessage({ text }), signingKeys: key, date: SIGNING_DATE });
}

export interface SuiteSpec {
  debs: DebSpec[];
  date?: string;
  validUntil?: string;
  /** Replace the served Packages.gz with other bytes (to test hash checks). */
  corruptPackages?: boolean;
}

/** Serves a signed archive for several suites under one mirror root. */
export class FakeMirror {
  readonly requests: string[] = [];
  private readonly files = new Map<string, Buffer>();
  private server: Server | undefined;
  /** Mirror root URL, e.g. http://127.0.0.1:1234/debian */
  url = '';

  constructor(private readonly key: openpgp.PrivateKey) {}

  /** Adds a suite; returns the .deb bytes by package name. */
  async addSuite(suite: string, spec: SuiteSpec, arch = 'amd64'): Promise<Map<string, Buffer>> {
    const debs = new Map<string, Buffer>();
    const stanzas: string[] = [];
    for (const d of spec.debs) {
      const deb = await makeDeb(d);
      const filename = `pool/main/${d.name[0]}/${d.name}/${d.name}_${d.version}_${d.arch ?? arch}.deb`;
      this.files.set(filename, deb);
      debs.set(d.name, deb);
      stanzas.push(controlText(d) + `Filename: ${filename}\nSize: ${deb.length}\nSHA256: ${sha256hex(deb)}\n`);
    }
    const packages = Buffer.from(stanzas.join('\n'));
    const gz = gzipSync(packages);
    const dir = `dists/${suite}/main/binary-${arch}`;
    this.files.set(`${dir}/Packages.gz`, spec.corruptPackages ? gzipSync(Buffer.from('Package: evil\n')) : gz);
    this.files.set(`${dir}/by-hash/SHA256/${sha256hex(gz)}`, spec.corruptPackages ? gzipSync(Buffer.from('Package: evil\n')) : gz);
    const release = [
      'Origin: Debian',
      `Suite: ${suite}`,
      `Codename: ${suite}`,
      `Date: ${spec.date ?? 'Sat, 10 Jun 2023 09:00:00 UTC'}`,
      ...(spec.validUntil ? [`Valid-Until: ${spec.validUntil}`] : []),
      'Acquire-By-Hash: yes',
      `Architectures: ${arch}`,
      'Components: main',
      'SHA256:',
      ` ${sha256hex(packages)} ${packages.length} main/binary-${arch}/Packages`,
      ` ${sha256hex(gz)} ${gz.length} main/binary-${arch}/Packages.gz`,
      '',
    ].join('\n');
    this.files.set(`dists/${suite}/InRelease`, Buffer.from(await clearsign(release, this.key)));
    return debs;
  }

  /** Replaces a served file (e.g. to tamper with it). */
  put(path: string, data: Buffer): void {
    this.files.set(path, data);
  }

  get(path: string): Buffer | undefined {
    return this.files.get(path);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? '').replace(/^\/debian\//, ''));
      this.requests.push(path);
      const body = this.files.get(path);
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/debian`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
