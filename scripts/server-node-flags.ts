/**
 * The Node flags every Playhouse server process runs with: `npm start`, the
 * Dockerfile, the local cluster's processes (and, through comedy, the workers
 * they fork, which inherit their parent's flags) and the load tester's
 * servers. One list, so that what is measured is what ships; a test checks
 * that package.json and the Dockerfile say the same.
 *
 * `--max-semi-space-size=64` (MB): V8's young generation grows to 2 × 64 MB
 * instead of 2 × 16 MB. Every move allocates short-lived objects (messages,
 * promises, Socket.IO packets, the game's new state); with the default young
 * generation the server scavenged about seven times a second under the duel
 * at 1,000 clients and promoted whatever lived through a turn. Measured there
 * (benchmarks/README.md): ~10 % less server CPU per move (scavenging 1.1 s →
 * 0.5 s of main-thread time per run), and no larger RSS under load, because
 * fewer objects reach the old generation. The costs: each scavenge pauses
 * longer (median 3.4 → 6.2 ms), and an idle server keeps up to 96 MB more
 * committed. A container with little memory can start node with
 * --max-semi-space-size=16 (V8's default) instead; NODE_OPTIONS cannot lower
 * it, because a flag on the command line wins over NODE_OPTIONS.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
