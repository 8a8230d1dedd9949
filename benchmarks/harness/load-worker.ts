/**
 * A load worker thread: runs one scenario driver for its share of the clients
 * and reports what it measures to the main thread. Clients are real Socket.IO
 * clients of the project's SDK, over real sockets.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FlakyLink } from './flaky-link';
import { Recorder } from './recorder';
import type { DriverOptions, ScenarioDriver, WorkerInit } from './scenario';

const REPORT_EVERY_MS = 500;

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  const module = require(init.driverModule) as { createDriver(options: DriverOptions): ScenarioDriver };
  const recorder = new Recorder();
  const driver = module.createDriver({ ...init.options, url: init.url, clients: init.clients, workerIndex: init.workerIndex, recorder, link: new FlakyLink(init.network) });
  const reporter = setInterval(() => parentPort!.postMessage(recorder.take()), REPORT_EVERY_MS);

  parentPort!.on('message', (message: { type: string }) => {
    if (message.type === 'measure') driver.measuring?.();
    if (message.type === 'stop') {
      void driver.stop().then(() => {
        clearInterval(reporter);
        parentPort!.postMessage(recorder.take());
        parentPort!.postMessage({ type: 'done' });
      });
    }
  });
  await driver.start();
  parentPort!.postMessage({ type: 'ready' });
}

main().catch((error: unknown) => {
  parentPort!.postMessage({ type: 'failed', error: error instanceof Error ? error.stack : String(error) });
});
