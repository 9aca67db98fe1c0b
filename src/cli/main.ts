/**
 * argv → command → exit status. The CLI is a thin shell over the library: it parses flags, opens stores,
 * calls library functions and prints results.
 *
 * Each command's module is loaded only when it runs (see `commandsFor`): a command then starts without
 * compiling the code of every other one (the bundled CLI splits into chunks along these imports).
 */
import { Command, CommanderError } from 'commander';
import type { CliContext } from './context.js';
import { EXIT_USAGE, exitCodeFor, formatError } from './report-error.js';
import { VERSION } from './version.js';

type SetExitCode = (code: number) => void;
type CommandLoader = (ctx: CliContext, setExitCode: SetExitCode) => Promise<Command>;

/** Top-level commands in help order, each with the loader of its module. */
const COMMANDS: [name: string, load: CommandLoader][] = [
  ['build', async (ctx) => (await import('./commands/build.js')).buildCommand(ctx)],
  ['image', async (ctx) => (await import('./commands/image.js')).imageCommand(ctx)],
  ['lifecycle', async (ctx, set) => (await import('./commands/lifecycle.js')).lifecycleCommand(ctx, set)],
  ['rebase', async (ctx) => (await import('./commands/rebase.js')).rebaseCommand(ctx)],
  ['inspect', async (ctx) => (await import('./commands/inspect.js')).inspectCommand(ctx)],
  ['diff', async (ctx) => (await import('./commands/inspect.js')).diffCommand(ctx)],
  ['run', async (ctx, set) => (await import('./commands/run.js')).runCommand(ctx, set)],
  ['sbom', async (ctx) => (await import('./commands/sbom.js')).sbomCommand(ctx)],
  ['stack', async (ctx) => (await import('./commands/stack.js')).stackCommand(ctx)],
  ['builder', async (ctx) => (await import('./commands/builder.js')).builderCommand(ctx)],
  ['buildpack', async (ctx) => (await import('./commands/buildpack.js')).buildpackCommand(ctx)],
  ['config', async (ctx) => (await import('./commands/config.js')).configCommand(ctx)],
];

/**
 * The commands `argv` needs: the one it names (its first argument not starting with `-`: cairn's own options
 * take no values), none for a bare `--version`, and every one otherwise (help, or an unknown command, whose
 * error lists the known ones).
 */
export function commandsFor(argv: string[]): string[] {
  const first = argv.find((a) => !a.startsWith('-'));
  const named = COMMANDS.find(([name]) => name === first);
  if (named) return [named[0]];
  if (first === undefined && argv.includes('--version') && !argv.includes('--help') && !argv.includes('-h')) return [];
  return COMMANDS.map(([name]) => name);
}

export async function run(argv: string[], ctx: CliContext): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const program = new Command('cairn')
      .description('Cloud Native Buildpacks without a Docker daemon')
      .version(VERSION, '--version')
      .option('-v, --verbose', 'show details, and the stack trace of an error')
      .showHelpAfterError('(run with --help for usage)')
      .exitOverride()
      .configureOutput({
        writeOut: (s) => ctx.stdout.write(s),
        writeErr: (s) => ctx.stderr.write(s),
        outputError: () => undefined, // reported below, in cairn's own format
      });
    let exitCode = 0;
    const setExitCode = (c: number): void => void (exitCode = c);
    const wanted = new Set(commandsFor(argv));
    const loaded = await Promise.all(COMMANDS.filter(([name]) => wanted.has(name)).map(([, load]) => load(ctx, setExitCode)));
    for (const c of loaded) program.addCommand(c);
    for (const c of program.commands) inheritSettings(c, program);
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      ctx.stderr.write(formatError(e, false));
      return EXIT_USAGE;
    }
    ctx.stderr.write(formatError(e, verbose));
    return exitCodeFor(e);
  }
}

/** Sub-commands report errors the same way as the program. */
function inheritSettings(cmd: Command, from: Command): void {
  cmd.copyInheritedSettings(from);
  for (const c of cmd.commands) inheritSettings(c, cmd);
}
