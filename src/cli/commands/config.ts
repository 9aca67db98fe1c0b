/**
 * `cairn config` (pack's `pack config`): the default builder, the default pull policy, registry mirrors and
 * run-image mirrors, kept in `$CAIRN_HOME/config.toml` (config-file.ts). With no value a key is printed;
 * `--unset` removes it.
 */
import { Command } from 'commander';
import { CairnError } from '../../oci/errors.js';
import { parseImageName } from '../../oci/reference.js';
import { parseTarget } from '../../oci/transport.js';
import { type CairnConfig, configPath, readConfig, writeConfig } from '../config-file.js';
import type { CliContext } from '../context.js';
import { collect } from '../flags.js';
import { PULL_POLICIES, type PullPolicy } from '../pull-policy.js';

export function configCommand(ctx: CliContext): Command {
  const config = new Command('config').description(`cairn's settings (${configPath(ctx.env)})`);
  const update = async (change: (c: CairnConfig) => void): Promise<void> => {
    const c = await readConfig(ctx.env);
    change(c);
    await writeConfig(ctx.env, c);
  };

  config.command('default-builder').argument('[image]', 'the builder `cairn build` uses without --builder')
    .description('show or set the default builder')
    .option('--unset', 'go back to cairn\'s own default builder')
    .action(async (image: string | undefined, o: { unset?: boolean }) => {
      if (image !== undefined) parseTarget(image);
      if (o.unset) await update((c) => void delete c.defaultBuilder);
      else if (image !== undefined) await update((c) => void (c.defaultBuilder = image));
      else ctx.stdout.write(`${(await readConfig(ctx.env)).defaultBuilder ?? '(cairn\'s own: cairn/builder:bookworm)'}\n`);
    });

  config.command('pull-policy').addArgument(new Command().createArgument('[policy]', `one of ${PULL_POLICIES.join(', ')}`).choices(PULL_POLICIES))
    .description('show or set the default --pull-policy of cairn build')
    .option('--unset', 'go back to always')
    .action(async (policy: PullPolicy | undefined, o: { unset?: boolean }) => {
      if (o.unset) await update((c) => void delete c.pullPolicy);
      else if (policy !== undefined) await update((c) => void (c.pullPolicy = policy));
      else ctx.stdout.write(`${(await readConfig(ctx.env)).pullPolicy ?? 'always'}\n`);
    });

  const registry = config.command('registry-mirrors').description('read images of a registry from a mirror');
  registry.command('add').argument('<registry>', 'a registry host, or * for every registry')
    .requiredOption('-m, --mirror <host>', 'the mirror host (HOST[:PORT])')
    .action(async (host: string, o: { mirror: string }) => {
      checkHost(host === '*' ? o.mirror : host);
      checkHost(o.mirror);
      await update((c) => void (c.registryMirrors[host] = o.mirror));
    });
  registry.command('remove').argument('<registry>').action(async (host: string) => {
    await update((c) => {
      if (!(host in c.registryMirrors)) throw new CairnError('NOT_FOUND', `no mirror is set for ${host}`, { hint: '`cairn config registry-mirrors list` shows them' });
      delete c.registryMirrors[host];
    });
  });
  registry.command('list').action(async () => {
    const m = (await readConfig(ctx.env)).registryMirrors;
    ctx.stdout.write(Object.keys(m).length === 0 ? 'no registry mirrors\n' : Object.entries(m).map(([k, v]) => `${k} → ${v}\n`).join(''));
  });

  const run = config.command('run-image-mirrors').description('other places the same run image can be read from');
  run.command('add').argument('<image>', 'the run image a builder names')
    .requiredOption('-m, --mirror <image>', 'a mirror of it (repeatable)', collect)
    .action(async (image: string, o: { mirror: string[] }) => {
      for (const r of [image, ...o.mirror]) parseImageName(r);
      await update((c) => {
        const entry = c.runImageMirrors.find((e) => e.image === image) ?? (c.runImageMirrors.push({ image, mirrors: [] }), c.runImageMirrors.at(-1)!);
        for (const m of o.mirror) if (!entry.mirrors.includes(m)) entry.mirrors.push(m);
      });
    });
  run.command('remove').argument('<image>').option('-m, --mirror <image>', 'remove only this mirror (repeatable)', collect)
    .action(async (image: string, o: { mirror?: string[] }) => {
      await update((c) => {
        const entry = c.runImageMirrors.find((e) => e.image === image);
        if (!entry) throw new CairnError('NOT_FOUND', `no mirrors are set for ${image}`, { hint: '`cairn config run-image-mirrors list` shows them' });
        entry.mirrors = o.mirror ? entry.mirrors.filter((m) => !o.mirror!.includes(m)) : [];
        c.runImageMirrors = c.runImageMirrors.filter((e) => e.mirrors.length > 0);
      });
    });
  run.command('list').action(async () => {
    const m = (await readConfig(ctx.env)).runImageMirrors;
    ctx.stdout.write(m.length === 0 ? 'no run image mirrors\n' : m.map((e) => `${e.image}\n${e.mirrors.map((x) => `  ${x}\n`).join('')}`).join(''));
  });

  config.addCommand(new Command('trusted-builders').description('(pack\'s; not needed by cairn)').allowUnknownOption().argument('[args...]').action(() => {
    throw new CairnError('INVALID_ARGUMENT', 'cairn has no trusted builders: every builder\'s buildpacks run in the sandbox, and registry credentials never enter it', { hint: 'nothing to configure; see docs/pack-compat.md' });
  }));
  return config;
}

function checkHost(host: string): void {
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host)) throw new CairnError('INVALID_ARGUMENT', `"${host}" is not a registry host`, { hint: 'write HOST or HOST:PORT, e.g. mirror.example.com or 127.0.0.1:5000' });
}
