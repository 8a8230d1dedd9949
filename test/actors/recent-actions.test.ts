/** A session's recent actions: an action id is run once, however often the device sends it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecentActions } from '../../actors/session/recent-actions';

type Reply = { ok: true; n: number; bulky?: string } | { ok: false; code: string };
const final = (reply: Reply) => reply.ok || reply.code !== 'rate/limited';
const slim = (reply: Reply): Reply => (reply.ok ? { ok: true, n: reply.n } : reply);

test('a repeated id gets the first answer without running again, while running and once settled', async () => {
  const actions = new RecentActions<Reply>(8, final, slim);
  let runs = 0;
  let finish!: (reply: Reply) => void;
  const first = actions.answer('a1', () => {
    runs++;
    return new Promise<Reply>((resolve) => (finish = resolve));
  });
  const whileRunning = actions.answer('a1', async () => (runs++, { ok: true, n: -1 }));
  assert.equal(first.repeated, false);
  assert.equal(whileRunning.repeated, true);
  assert.equal(actions.pending().length, 1);
  finish({ ok: true, n: 1, bulky: 'x'.repeat(1000) });
  assert.deepEqual(await whileRunning.result, { ok: true, n: 1, bulky: 'x'.repeat(1000) });
  const settled = actions.answer('a1', async () => (runs++, { ok: true, n: -1 }));
  assert.deepEqual(await settled.result, { ok: true, n: 1 }, 'what is remembered is the slim form');
  assert.equal(runs, 1);
  assert.equal(actions.pending().length, 0);
  assert.deepEqual(actions.answered(), [['a1', { ok: true, n: 1 }]]);
});

test('an answer that is not final (rate limited) or a failure is forgotten: the retry runs', async () => {
  const actions = new RecentActions<Reply>(8, final, slim);
  await actions.answer('a1', async () => ({ ok: false, code: 'rate/limited' })).result;
  await assert.rejects(actions.answer('a2', () => Promise.reject(new Error('lost'))).result, /lost/);
  const retried = actions.answer('a1', async () => ({ ok: true, n: 2 }));
  const again = actions.answer('a2', async () => ({ ok: true, n: 3 }));
  assert.equal(retried.repeated, false);
  assert.equal(again.repeated, false);
  assert.deepEqual(await retried.result, { ok: true, n: 2 });
  assert.deepEqual(await again.result, { ok: true, n: 3 });
});

test('only the newest `window` ids are remembered, oldest out first; a saved window is taken up elsewhere', async () => {
  const actions = new RecentActions<Reply>(3, final, slim);
  for (let n = 1; n <= 5; n++) await actions.answer(`a${n}`, async () => ({ ok: true, n })).result;
  assert.equal(actions.size, 3);
  assert.deepEqual(
    actions.answered().map(([id]) => id),
    ['a3', 'a4', 'a5'],
  );
  assert.equal(actions.answer('a1', async () => ({ ok: true, n: 10 })).repeated, false, 'a1 fell out of the window');

  const elsewhere = new RecentActions<Reply>(2, final, slim);
  elsewhere.remember(actions.answered());
  assert.deepEqual(await elsewhere.answer('a5', async () => ({ ok: true, n: -1 })).result, { ok: true, n: 5 });
  assert.equal(elsewhere.answer('a3', async () => ({ ok: true, n: 30 })).repeated, false, 'a window of 2 keeps the newest two');
});

test('a new id turned away before it runs (rate limited) is not remembered and takes no place in the window', async () => {
  const actions = new RecentActions<Reply>(2, final, slim);
  await actions.answer('a1', async () => ({ ok: true, n: 1 })).result;
  await actions.answer('a2', async () => ({ ok: true, n: 2 })).result;
  const limited: Reply = { ok: false, code: 'rate/limited' };
  for (let i = 0; i < 5; i++) {
    const refused = actions.answer(`r${i}`, () => assert.fail('a refused action ran'), () => limited);
    assert.equal(await refused.result, limited);
  }
  assert.equal(actions.answer('a1', () => assert.fail('a1 ran again')).repeated, true, 'the oldest answer is still remembered');
  assert.deepEqual(actions.answered().map(([id]) => id), ['a1', 'a2']);
  const admitted = actions.answer('r0', async () => ({ ok: true, n: 3 }), () => undefined);
  assert.deepEqual(await admitted.result, { ok: true, n: 3 }, 'a refused id sent again when admitted runs');
});
