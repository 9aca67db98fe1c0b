/**
 * Outside tools the integration tests drive (docker-registry, skopeo, umoci, podman, …).
 * A test that needs a tool calls `needTool`: when the tool is missing, the test fails loudly under CI
 * (`CI=true`, where .ci/run must have installed it) and is skipped with the reason elsewhere.
 */
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const found = new Map<string, string | undefined>();

/** Absolute path of a command on PATH (or in /usr/sbin), or undefined. */
export function whichTool(name: string): string | undefined {
  if (!found.has(name)) {
    let path: string | undefined;
    try {
      path = execFileSync('sh', ['-c', `command -v ${name} || { test -x /usr/sbin/${name} && echo /usr/sbin/${name}; }`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      path = undefined;
    }
    found.set(name, path);
  }
  return found.get(name);
}

/**
 * Returns true when every tool is present. Otherwise throws under CI, or marks the test skipped (saying
 * which tool is missing and how to install it) and returns false.
 */
export function needTool(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !whichTool(n));
  if (missing.length === 0) return true;
  const why = `needs ${missing.join(', ')} (apt-get install ${missing.map(debianPackage).join(' ')})`;
  if (process.env.CI) throw new Error(`missing tool under CI: ${why}`);
  t.skip(why);
  return false;
}

function debianPackage(tool: string): string {
  const map: Record<string, string> = {
    'docker-registry': 'docker-registry',
    'oci-image-tool': 'oci-image-tool',
    dockerd: 'docker.io',
    docker: 'docker.io',
    htpasswd: 'apache2-utils',
    bwrap: 'bubblewrap',
  };
  return map[tool] ?? tool;
}
