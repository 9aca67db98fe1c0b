/**
 * The key of the node_modules layers: sha256 over every package.json of the project (root and
 * workspaces), the lockfile (name and bytes; "none" differs from empty), the Node.js version, the npm
 * version, the architecture, the selected workspace and the layer layout. A change to any of them installs
 * again; in particular a new Node.js version rebuilds native addons.
 */
import { cacheKey } from '../sdk/index.js';
import type { Project } from './project.js';

export interface Tools {
  node: string;
  arch: string;
  npm: string;
}

export const LAYOUT = '1';

export function modulesKey(project: Pick<Project, 'manifests' | 'lockfile'>, tools: Tools, workspace: string | undefined): string {
  return cacheKey({
    ...Object.fromEntries(Object.entries(project.manifests).map(([d, text]) => [`manifest:${d}`, text])),
    lockfile: project.lockfile ? `${project.lockfile.name}\n${project.lockfile.text}` : undefined,
    node: tools.node,
    npm: tools.npm,
    arch: tools.arch,
    workspace,
    layout: LAYOUT,
  });
}
