/**
 * The private MariaDB server for fault tests (test/support/private-mariadb.ts):
 * it starts on its own port with database `test`, rows committed before a
 * SIGKILL are all there after a restart on the same port and datadir, a clean
 * stop/start works too, and destroy removes the directory. Prints how long
 * each step took (fault tests must fit in a minute or two).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { MARIADBD, haveMariadbd, startPrivateMariadb, type PrivateMariadb } from '../support/private-mariadb';

const ROWS = 200;
let server: PrivateMariadb | undefined;

after(async () => {
  await server?.destroy();
});

/** Runs `body` and prints how long it took. */
async function timed<T>(what: string, body: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await body();
  console.log(`${what}: ${Math.round(performance.now() - started)} ms`);
  return result;
}

async function countRows(connection: Connection): Promise<number> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM fault_rows');
  return Number(rows[0]?.['n']);
}

test('a private MariaDB keeps every committed row through a SIGKILL and restart', async (t) => {
  if (!haveMariadbd()) {
    const reason = `${MARIADBD} is missing (apt-get install mariadb-server)`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing binary is a failure)`);
    console.log(`# SKIPPED: ${reason}`);
    t.skip(reason);
    return;
  }
  const db = await timed('init + first start', () => startPrivateMariadb());
  server = db;
  assert.notEqual(db.port, 3306, 'never the shared server');
  assert.equal(db.url, `mysql://root@127.0.0.1:${db.port}/test`);

  const first = await createConnection(db.url);
  await first.query('CREATE TABLE fault_rows (id INT PRIMARY KEY, payload VARCHAR(64) NOT NULL) ENGINE=InnoDB');
  // One autocommitted insert per row: each is acknowledged only once committed.
  for (let id = 1; id <= ROWS; id++) await first.query('INSERT INTO fault_rows VALUES (?, ?)', [id, `row ${id} ✓`]);
  assert.equal(await countRows(first), ROWS);

  await timed('kill (SIGKILL)', () => db.kill());
  first.destroy();
  await assert.rejects(createConnection(db.url), { code: 'ECONNREFUSED' }, 'nothing listens after the kill');

  await timed('restart after SIGKILL (crash recovery)', () => db.start());
  const second = await createConnection(db.url);
  assert.equal(await countRows(second), ROWS, `every committed row survives the crash\n${db.log().slice(-2000)}`);
  const [last] = await second.query<RowDataPacket[]>('SELECT payload FROM fault_rows WHERE id = ?', [ROWS]);
  assert.equal(last[0]?.['payload'], `row ${ROWS} ✓`, 'utf8mb4 round-trips');
  second.destroy();

  await timed('stop (SIGTERM)', () => db.stop());
  await assert.rejects(createConnection(db.url), { code: 'ECONNREFUSED' }, 'nothing listens after the stop');
  await timed('restart after clean stop', () => db.start());
  const third = await createConnection(db.url);
  assert.equal(await countRows(third), ROWS);
  await third.end();
  await assert.rejects(db.start(), /already running/);

  await db.destroy();
  assert.equal(existsSync(db.workDir), false, 'destroy removes the datadir');
  await assert.rejects(createConnection(db.url), { code: 'ECONNREFUSED' }, 'destroy kills the server');
});
