/** Flags shared by several commands. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CairnError } from '../oci/errors.js';
import type { RegistryOptions } from '../oci/open-target.js';
import type { CliContext } from './context.js';

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registryFlags(cmd: Command): Command {
  return cmd
    .option('--insecure-registry <host:port>', 'talk plain HTTP to this registry (repeatable)', collect)
    .option('--ca-cert <file>', 'trust this PEM CA certificate for registry TLS (repeatable)', collect)
    .option('--registry-timeout <seconds>', 'cut a registry connection that stays silent this long, then retry (default 60)');
}

export async function registryOptionsFrom(o: Record<string, unknown>, ctx: CliContext): Promise<RegistryOptions> {
  const insecure = (o.insecureRegistry as string[] | undefined) ?? [];
  const caCerts: string[] = [];
  for (const f of (o.caCert as string[] | undefined) ?? []) {
    try {
      caCerts.push(await readFile(resolve(ctx.cwd, f), 'utf8'));
    } catch (e) {
      throw new CairnError('INVALID_ARGUMENT', `cannot read CA certificate ${f}: ${(e as Error).message}`, { cause: e, hint: 'pass the path of a PEM file' });
    }
  }
  const timeout = o.registryTimeout as string | undefined;
  if (timeout === undefined) return { insecure, caCerts };
  const seconds = Number(timeout);
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new CairnError('INVALID_ARGUMENT', `--registry-timeout "${timeout}" is not a number of seconds between 0 and 3600`, { hint: 'e.g. --registry-timeout 30' });
  }
  return { insecure, caCerts, timeoutMs: Math.round(seconds * 1000) };
}
