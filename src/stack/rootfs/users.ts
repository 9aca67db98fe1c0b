/**
 * `/etc/passwd` and `/etc/group` (passwd(5), group(5)) with root, nobody/nogroup and the CNB user and
 * group, and the CNB user's home folder. When base-passwd is installed its master files
 * (`/usr/share/base-passwd/{passwd,group}.master`, Debian's static system users) are the starting point,
 * as update-passwd would make them; otherwise a minimal set is written. The CNB entries are appended.
 */
import { CairnError } from '../../oci/errors.js';
import type { StackUser } from '../config.js';
import type { RootTree } from '../root-tree.js';

const MIN_PASSWD = ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin'];
const MIN_GROUP = ['root:x:0:', 'nogroup:x:65534:'];

/** Writes passwd and group, and creates the user's home (0755, owned by the user). */
export function writeUsers(tree: RootTree, user: StackUser): void {
  const passwd = masterLines(tree, 'passwd') ?? [...MIN_PASSWD];
  const group = masterLines(tree, 'group') ?? [...MIN_GROUP];
  clash(passwd, user.name, user.uid, 'user', 'uid');
  clash(group, user.group, user.gid, 'group', 'gid');
  passwd.push(`${user.name}:x:${user.uid}:${user.gid}:CNB user:${user.home}:${user.shell}`);
  group.push(`${user.group}:x:${user.gid}:`);
  tree.writeFile('etc/passwd', passwd.join('\n') + '\n', { mode: 0o644 });
  tree.writeFile('etc/group', group.join('\n') + '\n', { mode: 0o644 });
  if (tree.kindOf('root') === undefined) tree.mkdir('root', { mode: 0o700 });
  tree.mkdir(user.home, { mode: 0o755, uid: user.uid, gid: user.gid });
}

function masterLines(tree: RootTree, which: 'passwd' | 'group'): string[] | undefined {
  const data = tree.readFile(`usr/share/base-passwd/${which}.master`);
  return data?.toString('utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/** The CNB user/group must not reuse a name or id of a system entry. */
function clash(lines: string[], name: string, id: number, kind: string, idName: string): void {
  for (const l of lines) {
    const [n, , i] = l.split(':');
    if (n === name || Number(i) === id) {
      throw new CairnError('INVALID_ARGUMENT', `the CNB ${kind} ${name} (${idName} ${id}) collides with the system ${kind} entry "${l}"`, {
        hint: `pick another [user] ${kind === 'user' ? 'name/uid' : 'group/gid'} in stack.toml`,
      });
    }
  }
}
