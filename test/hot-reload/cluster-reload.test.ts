/**
 * Hot reload across a cluster: the gateway watches its copy of games/, loads
 * and checks a designer's edit, and publishes the version through Redis; the
 * workers (forked processes, worker threads, then remote workers in a comedy
 * node listener's process), which read their games from the repository's own games/
 * (they never see the edited file), take it up, and a new room on any worker
 * plays by the new rules.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PlayhouseError } from '@playhouse/client';
import { createTestCluster, startScript, stopProcess } from '../support/cluster';
import { startDuel } from '../support/playhouse';
import { eventually, needRedis, REDIS_URL } from '../support/services';

const ROOT = path.resolve(__dirname, '..', '..');

for (const mode of ['forked', 'threaded', 'remote'] as const) {
  test(`a rules edit on the gateway is published to every ${mode} worker: new rooms on any worker play by the new rules`, async (t) => {
    if (!(await needRedis(t))) return;
    const base = mkdtempSync(path.join(tmpdir(), 'playhouse-cluster-games-'));
    const directory = path.join(base, 'games');
    cpSync(path.join(ROOT, 'games'), directory, { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(base, 'node_modules'), 'dir');
    const cluster = createTestCluster({ heartbeatMs: 250, deadAfterMs: 1500 });
    t.after(async () => {
      await cluster.stop();
      rmSync(base, { recursive: true, force: true });
    });
    // Remote workers run in a comedy node listener's process, as on another host (its own games/, no edits).
    const listener = mode === 'remote' ? await startScript('worker-node', 'scripts/worker-node.ts', ['--host', '127.0.0.1', '--port', '0'], process.env) : undefined;
    if (listener) t.after(() => stopProcess(listener));
    await cluster.startWorkers(2, mode, listener ? { PLAYHOUSE_REMOTE_HOSTS: listener.ready.listen! } : {});
    const gateway = await cluster.startGateway({ PLAYHOUSE_GAMES_WATCH: 'true', PLAYHOUSE_GAMES_DIR: directory });
    const admin = async () => ((await (await fetch(`${gateway.url}/admin/games`)).json()) as { games: Array<{ game: string; version: string }> }).games;
    const before = (await admin()).find((entry) => entry.game === 'connect-four')!.version;

    const rules = path.join(directory, 'connect-four', 'rules.ts');
    writeFileSync(
      rules,
      readFileSync(rules, 'utf8').replace('      apply(state, { column }, ctx) {\n', "      apply(state, { column }, ctx) {\n        if (column === 6) return invalid('column-closed', 'column 6 is closed');\n"),
    );
    const after = await eventually(async () => {
      const version = (await admin()).find((entry) => entry.game === 'connect-four')!.version;
      return version !== before ? version : undefined;
    }, 'the gateway loaded the edit');
    assert.notEqual(after, before);

    // Several rooms, so that both workers hold some: every one refuses column 6.
    const workersSeen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const duel = await startDuel({ player: (name) => cluster.player(gateway, name) });
      const mover = await duel.current();
      const refusal = await mover.move(duel.roomId, 'drop', { column: 6 }).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refusal instanceof PlayhouseError, `room ${duel.roomId} refused column 6`);
      assert.equal(refusal.reason, 'column-closed');
      workersSeen.add(execFileSync('redis-cli', ['-u', REDIS_URL, 'get', `${cluster.name}:dir:room:${duel.roomId}`]).toString().trim());
    }
    assert.equal(workersSeen.size, 2, 'rooms on both workers played by the new rules');
  });
}
