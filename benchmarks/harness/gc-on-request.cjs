// Preloaded (--require) into a server under test started with --expose-gc: when the
// load tester asks over the IPC channel, collect garbage and report the RSS, so memory
// per client is measured after a forced GC rather than whenever V8 felt like it.
'use strict';
process.on('message', (message) => {
  if (!message || message.benchmark !== 'gc') return;
  global.gc();
  global.gc();
  const memory = process.memoryUsage();
  process.send({ benchmark: 'gc-done', rss: memory.rss, heapUsed: memory.heapUsed, external: memory.external });
});
// The IPC channel must not keep a server alive once it wants to exit.
if (process.channel) process.channel.unref();
