/**
 * argv → command → exit status. The CLI is a thin shell over the library: it parses flags, opens stores,
 * calls library functions and prints results.
 */
import { Command, CommanderError } from 'commander';
import { buildCommand } from './commands/build.js';
import { imageCommand } from './commands/image.js';
import { diffCommand, inspectCommand } from './commands/inspect.js';
import { lifecycleCommand } from './commands/lifecycle.js';
import { rebaseCommand } from './commands/rebase.js';
import { runCommand } from './commands/run.js';
import { sbomCommand } from './commands/sbom.js';
import { stackCommand } from './commands/stack.js';
import { builderCommand } from './commands/builder.js';
import { buildpackCommand } from './commands/buildpack.js';
import { configCommand } from './commands/config.js';
import type { CliContext } from './context.js';
import { EXIT_USAGE, exitCodeFor, formatError } from './report-error.js';
import { VERSION } from './version.js';



export async function run(argv: string[], ctx: CliContext): Promise<number> {
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
  program.addCommand(buildCommand(ctx));
  program.addCommand(imageCommand(ctx));
  program.addCommand(lifecycleCommand(ctx, (c) => (exitCode = c)));
  program.addCommand(rebaseCommand(ctx));
  program.addCommand(inspectCommand(ctx));
  program.addCommand(diffCommand(ctx));
  program.addCommand(runCommand(ctx, (c) => (exitCode = c)));
  program.addCommand(sbomCommand(ctx));
  program.addCommand(stackCommand(ctx));
  program.addCommand(builderCommand(ctx));
  program.addCommand(buildpackCommand(ctx));
  program.addCommand(configCommand(ctx));
  for (const c of program.commands) inheritSettings(c, program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      ctx.stderr.write(formatError(e, false));
      return EXIT_USAGE;
    }
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    ctx.stderr.write(formatError(e, verbose));
    return exitCodeFor(e);
  }
}

/** Sub-commands report errors the same way as the program. */
function inheritSettings(cmd: Command, from: Command): void {
  cmd.copyInheritedSettings(from);
  for (const c of cmd.commands) inheritSettings(c, cmd);
}
