// The runtime's host-file operations (what a lesson's work directory is made
// with) and the one mountinfo parser. Mount refusals need root: see
// test/integration/lessons-engine.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listNames, listTree, makeDirectory, mountsUnder, removeTree, writeHostFile } from '../../src/runtime/host-files.js';
import { parseMountinfo, readMountinfo, unescapeMountField } from '../../src/runtime/mountinfo.js';

let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-host-files-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('parseMountinfo', () => {
  it('reads the fields of proc_pid_mountinfo(5), optional fields or not, and unescapes paths', () => {
    const text = [
      '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
      '40 1 0:45 / /tmp/with\\040space rw,relatime shared:3 master:2 - tmpfs my\\040tmpfs rw,size=1024k',
      '41 1 0:46 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '',
      'not a mount line',
    ].join('\n');
    expect(parseMountinfo(text)).toEqual([
      { id: 36, parentId: 35, root: '/mnt1', mountPoint: '/mnt2', options: 'rw,noatime', fstype: 'ext3', source: '/dev/root', superOptions: 'rw,errors=continue' },
      { id: 40, parentId: 1, root: '/', mountPoint: '/tmp/with space', options: 'rw,relatime', fstype: 'tmpfs', source: 'my tmpfs', superOptions: 'rw,size=1024k' },
      { id: 41, parentId: 1, root: '/', mountPoint: '/sys/fs/cgroup/memory', options: 'rw', fstype: 'cgroup', source: 'cgroup', superOptions: 'rw,memory' },
    ]);
    expect(unescapeMountField('a\\011b\\012c\\134d')).toBe('a\tb\nc\\d');
  });

  it('reads our own table: / and /proc are in it', () => {
    const points = readMountinfo().map((m) => m.mountPoint);
    expect(points).toContain('/');
    expect(points).toContain('/proc');
    expect(mountsUnder('/proc')).toContain('/proc');
    expect(mountsUnder(tmp)).toEqual([]);
  });
});

describe('work directory files', () => {
  it('makes a directory once, writes files with their directories, lists names', () => {
    const dir = path.join(tmp, 'a', 'b');
    expect(makeDirectory(dir)).toBe(true);
    expect(makeDirectory(dir)).toBe(false);
    writeHostFile(path.join(dir, 'deep', 'x.txt'), 'hello');
    expect(fs.readFileSync(path.join(dir, 'deep', 'x.txt'), 'utf8')).toBe('hello');
    expect(listNames(dir)).toEqual(['deep']);
    expect(listNames(path.join(tmp, 'nowhere'))).toEqual([]);
  });

  it('lists a tree as ls -lR walks it: sorted, depth-limited, capped, symlinks not followed', () => {
    writeHostFile(path.join(tmp, 'etc', 'motd'), 'hello');
    writeHostFile(path.join(tmp, 'etc', 'deep', 'er', 'file'), '');
    fs.symlinkSync('/etc/passwd', path.join(tmp, 'link'));
    const me = fs.statSync(tmp); // the owner, as the host sees it
    expect(listTree(tmp, { depth: 2, max: 100 })).toEqual({
      entries: [
        { path: 'etc', type: 'directory', size: 0, whiteout: false, uid: me.uid, gid: me.gid },
        { path: 'etc/deep', type: 'directory', size: 0, whiteout: false, uid: me.uid, gid: me.gid },
        { path: 'etc/motd', type: 'file', size: 5, whiteout: false, uid: me.uid, gid: me.gid },
        { path: 'link', type: 'symlink', size: 0, linkTarget: '/etc/passwd', whiteout: false, uid: me.uid, gid: me.gid },
      ],
      more: 0,
    });
    expect(listTree(tmp, { depth: 8, max: 2 })).toMatchObject({ entries: [{ path: 'etc' }, { path: 'etc/deep' }], more: 3 });
    expect(() => listTree(path.join(tmp, 'nowhere'), { depth: 1, max: 1 })).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('removes a tree, and nothing when it is not there', () => {
    writeHostFile(path.join(tmp, 'w', 'x'), 'x');
    removeTree(path.join(tmp, 'w'));
    expect(fs.existsSync(path.join(tmp, 'w'))).toBe(false);
    expect(() => removeTree(path.join(tmp, 'w'))).not.toThrow();
  });
});
