/**
 * `npm run bench:actors -- [--pairs N] [--moves N] [--runs N]`: the CPU one
 * move costs on the actor path alone, in one process, with no sockets —
 * gateway port → session → room → the other session → gateway port, as in
 * `npm start` (in-memory stores, persistence actor, resume bookkeeping). The
 * duel benchmark measures the whole server; this isolates what the actors
 * add, so a change to them can be measured in seconds. Best of `runs`.
 */
import { parseArgs } from 'node:util';
import { gatewayRef, type GatewayMessage } from '../actors/messages';
import { startActorSystem } from '../actors/system';
import { ACTOR_RESOURCES } from '../infra/actor-resources';
import { actorSettings, workerPersistence } from '../infra/cluster/worker-supervisor';
import { loadConfig } from '../infra/config';
import type { ConnectFourView } from '../games/connect-four/rules';
import type { RoomStateMessage } from '../protocol/messages';

const { values } = parseArgs({
  options: { pairs: { type: 'string', default: '200' }, moves: { type: 'string', default: '40000' }, runs: { type: 'string', default: '5' } },
});
const PAIRS = Number(values.pairs);
const MOVES = Number(values.moves);
const RUNS = Number(values.runs);

interface Seat {
  readonly playerId: string;
  roomId: string;
  actions: number;
}

async function main(): Promise<void> {
  const config = loadConfig(
    { persistence: { snapshots: 'memory', records: 'memory' }, limits: { requestsPerSecond: 1e6, requestBurst: 1e6 } },
    { ...process.env, PLAYHOUSE_GAMES_WATCH: 'false' },
  );
  const address = gatewayRef('bench');
  /** The newest state each room has shown, from pushes and move answers. */
  const rooms = new Map<string, RoomStateMessage>();
  let pushes = 0;
  const deliver = (message: GatewayMessage) => {
    if (message.type !== 'push') return;
    pushes++;
    if (message.event === 'room:state') keep(message.payload as RoomStateMessage);
  };
  const keep = (state: RoomStateMessage) => {
    const known = rooms.get(state.roomId);
    if (!known || known.version < state.version) rooms.set(state.roomId, state);
  };
  const actors = await startActorSystem({ settings: actorSettings(config), persistence: workerPersistence(config), resources: ACTOR_RESOURCES, gateway: { address, deliver } });
  const params = (playerId: string) => ({
    playerId,
    name: playerId,
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    delivery: { bufferMessages: config.resume.bufferMessages, actionWindow: config.resume.actionWindow, graceMs: config.resume.graceMs },
  });

  const seats: Seat[] = [];
  for (let i = 0; i < PAIRS * 2; i++) {
    const playerId = `p${i}`;
    await actors.openSession(params(playerId));
    await actors.attach(playerId, `c${i}`);
    const found = (await actors.request(playerId, { type: 'client', connectionId: `c${i}`, event: 'match:find', request: { actionId: `find-${i}`, game: 'connect-four' } })) as {
      ok: boolean;
      roomId?: string;
    };
    if (!found.ok || !found.roomId) throw new Error(`match:find failed for ${playerId}`);
    seats.push({ playerId, roomId: found.roomId, actions: 0 });
  }
  const byPlayer = new Map(seats.map((seat, i) => [seat.playerId, { seat, connectionId: `c${i}` }]));

  /** One move by whoever's turn it is in `roomId` (or a rematch vote when the game is over). */
  const step = async (roomId: string): Promise<boolean> => {
    const state = rooms.get(roomId);
    if (!state) return false;
    const view = state.view as ConnectFourView | null;
    if (state.status === 'over' || !view) {
      await Promise.all(
        state.players.map(({ playerId }) => {
          const { seat, connectionId } = byPlayer.get(playerId)!;
          return actors.request(playerId, { type: 'client', connectionId, event: 'room:rematch', request: { actionId: `a${seat.actions++}`, roomId } });
        }),
      );
      return false;
    }
    const mover = view.currentPlayer!;
    const { seat, connectionId } = byPlayer.get(mover)!;
    const open = [...Array(view.columns).keys()].filter((column) => view.board[view.rows - 1]![column] === null);
    const column = open[(seat.actions * 7) % open.length]!;
    const reply = (await actors.request(mover, {
      type: 'client',
      connectionId,
      event: 'room:move',
      request: { actionId: `a${seat.actions++}`, roomId, version: state.version, move: 'drop', payload: { column } },
    })) as { ok: boolean; state?: RoomStateMessage };
    if (reply.state) keep(reply.state);
    if (reply.ok) actors.delivered(mover, Number.MAX_SAFE_INTEGER);
    return reply.ok;
  };

  const roomIds = [...new Set(seats.map((seat) => seat.roomId))];
  const results: number[] = [];
  for (let run = 0; run < RUNS + 1; run++) {
    let moves = 0;
    const started = process.cpuUsage();
    const startedAt = performance.now();
    // Every room plays in parallel, one move at a time each, until MOVES moves were applied.
    await Promise.all(
      roomIds.map(async (roomId) => {
        while (moves < MOVES) if (await step(roomId)) moves++;
      }),
    );
    const used = process.cpuUsage(started);
    const us = (used.user + used.system) / moves;
    if (run > 0) results.push(us); // the first run warms up
    process.stdout.write(`run ${run}${run === 0 ? ' (warm-up)' : ''}: ${us.toFixed(1)} µs CPU per move, ${moves} moves in ${(performance.now() - startedAt).toFixed(0)} ms\n`);
  }
  process.stdout.write(`best of ${RUNS}: ${Math.min(...results).toFixed(1)} µs per move (median ${results.sort((a, b) => a - b)[Math.floor(results.length / 2)]!.toFixed(1)}); ${pushes} pushes\n`);
  await actors.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
