/** Image label names the lifecycle writes or reads (digest §5.3, §8, §12). */
export const LIFECYCLE_METADATA_LABEL = 'io.buildpacks.lifecycle.metadata';
export const BUILD_METADATA_LABEL = 'io.buildpacks.build.metadata';
export const PROJECT_METADATA_LABEL = 'io.buildpacks.project.metadata';
/** The reference lifecycle's separate label for `CNB_EXEC_ENV` (Platform ≥ 0.15; the spec puts it in the lifecycle metadata). */
export const EXEC_ENV_LABEL = 'io.buildpacks.exec-env';
export const REBASABLE_LABEL = 'io.buildpacks.rebasable';
/**
 * Whether a label belongs to the lifecycle or the base image (`io.buildpacks.*`). The reference exporter lets
 * launch.toml labels overwrite these (digest §2.5); an exporter should refuse or skip them instead.
 */
export function isLifecycleLabel(key: string): boolean {
  return key.startsWith('io.buildpacks.');
}
