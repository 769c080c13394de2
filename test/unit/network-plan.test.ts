// ContainerNetwork.plan: docker's --network modes turned into the namespaces a
// start makes or joins, and the refusals made before anything is created. No
// root: nothing here touches a link; -p listens on a free port of 127.0.0.1.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ContainerNetwork } from '../../src/runtime/network.js';
import { UserError } from '../../src/runtime/errors.js';

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'containy-plan-'));
process.env.CONTAINY_STATE_DIR = state;
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

const ALL = ['pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup'] as const;
/** The message of the UserError `p` rejects with. */
const refusal = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(UserError);
      return (err as Error).message;
    },
  );

describe('ContainerNetwork.plan', () => {
  it('keeps the namespaces as given by default (configy\'s net namespace is an empty netns)', async () => {
    const plan = await ContainerNetwork.plan({}, ['uts', 'pid']);
    expect(plan.mode).toBe('none');
    expect(plan.namespaces).toEqual(['uts', 'pid']);
  });

  it('none and bridge make a network namespace; host has none', async () => {
    expect((await ContainerNetwork.plan({ network: 'none' }, ['uts'])).namespaces).toEqual(['uts', 'net']);
    const bridge = await ContainerNetwork.plan({ network: 'bridge' }, [...ALL]);
    expect(bridge.unsharesNet).toBe(true);
    expect(bridge.allowsOnThisThread).toBe(false); // the bridge is set up from the host's netns
    const host = await ContainerNetwork.plan({ network: 'host' }, [...ALL]);
    expect(host.namespaces).not.toContain('net');
    expect(host.allowsOnThisThread).toBe(true);
  });

  it('refuses an unknown mode, -p without bridge, a container:NAME that does not run, and a taken port', async () => {
    expect(await refusal(ContainerNetwork.plan({ network: 'wifi' }, [...ALL]))).toMatch(/--network: unknown network mode 'wifi'/);
    expect(await refusal(ContainerNetwork.plan({ network: 'host', publish: ['8080:80'] }, [...ALL]))).toMatch(/-p needs --network bridge/);
    expect(await refusal(ContainerNetwork.plan({ network: 'container:ghost' }, [...ALL]))).toMatch(/no running container named 'ghost'/);
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      expect(await refusal(ContainerNetwork.plan({ network: 'bridge', publish: [`127.0.0.1:${port}:80`] }, [...ALL]))).toMatch(`port ${port} is already in use`);
    } finally {
      taken.close();
    }
  });

  it('listens on a published port at once, and closePorts frees it', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const plan = await ContainerNetwork.plan({ network: 'bridge', publish: [`127.0.0.1:${port}:80`] }, [...ALL]);
    const again = net.createServer();
    await expect(new Promise((res, rej) => again.once('error', rej).listen(port, '127.0.0.1', () => res(undefined)))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    plan.closePorts();
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((r) => again.listen(port, '127.0.0.1', r));
    again.close();
  });
});
