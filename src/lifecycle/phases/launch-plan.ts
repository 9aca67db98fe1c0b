/**
 * The launch plan: cairn's launcher input (`<layers>/config/launch.plan`), written by the exporter next to
 * metadata.toml. The format is documented in `../launcher/launcher.c`: NUL-terminated fields, so that the C
 * launcher needs no TOML parser. Launch layers are listed in buildpack order, then layer name.
 */
import { CairnError } from '../../oci/errors.js';
import type { BuildMetadataProcess } from '../files/build-metadata-toml.js';

export const LAUNCH_PLAN_MAGIC = 'CAIRN-LAUNCH-PLAN-1';

export interface LaunchPlan {
  /** Launch layer folders as the running image sees them (`/layers/<bp>/<layer>`). */
  layers: string[];
  processes: BuildMetadataProcess[];
  defaultType: string | undefined;
}

export function serializeLaunchPlan(plan: LaunchPlan): Buffer {
  const fields: string[] = [LAUNCH_PLAN_MAGIC];
  for (const l of plan.layers) fields.push('L', l);
  for (const p of plan.processes) {
    const execEnv = p.execEnv.includes('*') ? [] : p.execEnv;
    fields.push('P', p.type, p.workingDir ?? '', String(p.command.length), ...p.command, String(p.args.length), ...p.args, String(execEnv.length), ...execEnv);
  }
  if (plan.defaultType) fields.push('D', plan.defaultType);
  for (const f of fields) {
    if (f.includes('\0')) throw new CairnError('INVALID_LIFECYCLE_FILE', `a process command or argument contains a NUL character: ${JSON.stringify(f)}`, { hint: 'remove the NUL from launch.toml' });
  }
  return Buffer.from(fields.map((f) => f + '\0').join(''));
}
