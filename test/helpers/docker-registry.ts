/**
 * Runs Debian's real registry (`docker-registry`, distribution 2.8) on 127.0.0.1 at a free port, storage in a temp
 * dir, for integration tests. Started under `env -i` because it reads every REGISTRY_* variable as a config
 * override. Options: TLS with a throwaway CA (made with openssl; server cert SAN IP:127.0.0.1), htpasswd users
 * (`htpasswd -Bbn`), or token auth against a test token server. Callers check `needTool(t, 'docker-registry')`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DockerRegistryOptions {
  /** Serve HTTPS with a certificate from a fresh test CA (`caPem` of the result). */
  tls?: boolean;
  /** user → password, checked with htpasswd (bcrypt). */
  htpasswd?: Record<string, string>;
  /** Bearer token auth (`auth.token`). */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** storage.delete.enabled; default true. */
  deletes?: boolean;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** The test CA's certificate when `tls` was asked for. */
  caPem: string | undefined;
  /** What the registry printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A throwaway CA and a server certificate for `cn`, valid for IP 127.0.0.1 (EC P-256, 2 days). */
export function makeTestCertificates(dir: string, cn = '127.0.0.1'): { caCert: string; caKey: string; cert: string; key: string } {
  const p = (f: string): string => join(dir, f);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=cairn test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${cn}`);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return { caCert: p('ca.pem'), caKey: p('ca.key'), cert: p('server.pem'), key: p('server.key') };
}

export async function startDockerRegistry(opts: DockerRegistryOptions = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-registry-'));
  try {
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      `    enabled: ${opts.deletes ?? true}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: cairn-test-secret',
    ];
    let caPem: string | undefined;
    if (opts.tls) {
      const certs = makeTestCertificates(dir);
      caPem = readFileSync(certs.caCert, 'utf8');
      lines.push('  tls:', `    certificate: ${certs.cert}`, `    key: ${certs.key}`);
    }
    if (opts.htpasswd) {
      const entries = Object.entries(opts.htpasswd).map(([u, pw]) => execFileSync('htpasswd', ['-Bbn', u, pw], { encoding: 'utf8' }).trim());
      await writeFile(join(dir, 'htpasswd'), entries.join('\n') + '\n');
      lines.push('auth:', '  htpasswd:', '    realm: cairn-test', `    path: ${join(dir, 'htpasswd')}`);
    } else if (opts.token) {
      const t = opts.token;
      lines.push('auth:', '  token:', `    realm: ${t.realm}`, `    service: ${t.service}`, `    issuer: ${t.issuer}`, `    rootcertbundle: ${t.rootCertBundle}`);
    }
    const config = join(dir, 'config.yml');
    await writeFile(config, lines.join('\n') + '\n');

    let output = '';
    const child: ChildProcess = spawn('env', ['-i', '/usr/bin/docker-registry', 'serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const host = `127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    };
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) {
        await stop();
        throw new Error(`docker-registry exited (${child.exitCode}) before answering:\n${output}`);
      }
      if (await answers(host, opts.tls ?? false)) break;
      if (i > 100) {
        await stop();
        throw new Error(`docker-registry did not answer on ${host} within 10 s:\n${output}`);
      }
      await sleep(100);
    }
    return { host, caPem, output: () => output, stop };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Whether `GET /v2/` gets any HTTP answer (200 or 401). */
function answers(host: string, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const req = (tls ? httpsRequest : httpRequest)(`${tls ? 'https' : 'http'}://${host}/v2/`, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
