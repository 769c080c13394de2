// A worker thread that puts itself into the container's namespaces and spawns
// the stage from there (spawn.ts). Namespaces belong to threads
// (docs/architecture.md, fact 2): only this thread moves, the rest of the Node process stays
// on the host. The thread stays alive for the container's life, because the
// stage's parent-death signal is tied to the thread that spawned it.
import { parentPort, workerData } from 'node:worker_threads';
import type { StageWorkerData } from './protocol.js';
import { spawnStage } from './spawn.js';

const port = parentPort!;
port.on('message', spawnStage(workerData as StageWorkerData, (m) => port.postMessage(m), () => port.close()));
