/**
 * The buildpack SDK: what cairn's buildpacks are written against. Buildpacks import this module only (plus
 * semver and smol-toml), never cairn's OCI or lifecycle code.
 */
export type { BuildContextBase, Context, DetectContext, Env, PlanEntry, Target } from './context.js';
export { BuildpackError, formatFailure, messageOf } from './errors.js';
export { holdLogs, type Logger } from './log.js';
export { Layer, readLayerMetadata, type EnvScope, type LayerOptions, type LayerTypes, type SbomFormat } from './layer.js';
export { runBuild, runDetect, type BuildContext, type BuildPlan, type BuildResult, type DetectResult, type Io, type Process, type Require } from './run.js';
export { exec, type ExecResult } from './exec.js';
export { get, getJson, noProxy, proxyFor } from './http.js';
export { downloadArchive, parseDigest, type ExpectedDigest } from './download.js';
export { extractTar } from './tar.js';
export { commandFor, splitSimpleCommand } from './command.js';
export { parseProcfile, type ProcfileEntry } from './procfile.js';
export { cycloneDx, hashesFromIntegrity, npmPurl, sbomCreated, spdx, type SbomComponent, type SbomSubject } from './sbom.js';
export { copyTree, type CopyFilter, entryKind, readJsonIfExists, readTextIfExists } from './files.js';
export { detectLockfileTool, MODULES_PLAN } from './modules-detect.js';
export { cacheKey } from './cache-key.js';
export { DEFAULT_NPM_REGISTRY, installRelease, registryPackage, resolveRelease, type PackageRelease } from './registry-package.js';
export {
  linkNodeModules, makeSkeleton, nodeToolchain, outputTail, type PackageJson, type PackageManagerField, parsePackageManager, runTool, scriptsToRun, type Toolchain,
} from './node-project.js';
export { installedPackages, writeModulesSboms } from './modules-sbom.js';
