/**
 * The Node flags every Playhouse server process runs with: `npm start`, the
 * Dockerfile, the local cluster's processes (and, through comedy, the workers
 * they fork, which inherit their parent's flags) and the load tester's
 * servers. One list, so that what is measured is what ships; a test checks
 * that package.json and the Dockerfile say the same.
 *
 * `--max-semi-space-size=64` (MB): V8's young generation grows to 2 × 64 MB
 * instead of 2 × 16 MB. Every move allocates short-lived objects (messages,
 * promises, Socket.IO packets); with the default young generation the server
 * ran a scavenge every few milliseconds under load and copied whatever was
 * still in flight each time. Measured on the duel at 1,000 clients: ~10 %
 * less server CPU per move and a smaller RSS, because fewer objects live long
 * enough to be promoted (benchmarks/README.md). A container with little memory
 * can lower it (NODE_OPTIONS=--max-semi-space-size=16 restores V8's default).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
