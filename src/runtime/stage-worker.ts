// A worker thread that puts itself into the container's namespaces and spawns
// the stage from there (stage-spawn.ts). Namespaces belong to threads
// (DESIGN.md §2.2): only this thread moves, the rest of the Node process stays
// on the host. The thread stays alive for the container's life, because the
// stage's parent-death signal is tied to the thread that spawned it.
import { parentPort, workerData } from 'node:worker_threads';
import type { StageWorkerData } from './stage-protocol.js';
import { spawnStage } from './stage-spawn.js';

const port = parentPort!;
port.on('message', spawnStage(workerData as StageWorkerData, (m) => port.postMessage(m), () => port.close()));
