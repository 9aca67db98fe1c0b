/**
 * `cairn lifecycle <phase> [flags…]`: the lifecycle's phase executables (analyzer, detector, restorer,
 * builder, exporter, creator) with the Platform API's own Go-style flags, for orchestrators that drive the
 * phases one by one. In a builder image the same code runs as `/cnb/lifecycle/<phase>`.
 */
import { Command } from 'commander';
import { exitCodeFor, LifecycleError } from '../../lifecycle/exit-codes.js';
import { CairnError } from '../../oci/errors.js';
import { PHASES, type PhaseName, runPhase } from '../../lifecycle/platform/phases.js';
import type { CliContext } from '../context.js';
import { targetContext } from '../context.js';
import { VERSION } from '../version.js';

export function lifecycleCommand(ctx: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('lifecycle')
    .description(`run one lifecycle phase (${PHASES.join(', ')}) with the Platform API's flags`)
    .argument('<phase>', 'the phase to run')
    .argument('[flags...]', 'the phase\'s flags, e.g. -layers /layers -app /workspace')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (phase: string, flags: string[]) => {
      setExitCode(await runLifecyclePhase(phase, flags, ctx));
    });
}

/** Runs a phase and reports its failure the lifecycle's way: a message on stderr and the spec's exit code. */
export async function runLifecyclePhase(phase: string, flags: string[], ctx: CliContext): Promise<number> {
  if (!(PHASES as readonly string[]).includes(phase)) {
    ctx.stderr.write(`error: unknown lifecycle phase "${phase}"\nhint: one of ${PHASES.join(', ')}\n`);
    return 3;
  }
  const log = (level: string, message: string) => {
    if (level !== 'debug') ctx.stderr.write(`${level === 'warn' ? 'warning: ' : ''}${message}\n`);
  };
  try {
    await runPhase(phase as PhaseName, flags, { ...targetContext(ctx), log, now: ctx.now, version: VERSION });
    return 0;
  } catch (e) {
    const code = e instanceof LifecycleError ? e.exitCode : exitCodeFor(phase === 'creator' ? 'export' : 'build', e);
    ctx.stderr.write(`error: ${(e as Error).message}\n`);
    if (e instanceof CairnError && e.hint) ctx.stderr.write(`hint: ${e.hint}\n`);
    return code;
  }
}
