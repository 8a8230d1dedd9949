/** The ring behind a session's recent actions: the last `capacity` ids, found by id, oldest out first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdRing } from '../../actors/session/id-ring';
import { SeededRandom } from '../../actors/room/seeded-random';

test('holds the newest `capacity` ids with their values, oldest first', () => {
  const ring = new IdRing<number>(3);
  for (let n = 1; n <= 5; n++) ring.add(`a${n}`, n);
  assert.equal(ring.size, 3);
  assert.deepEqual(
    [...ring.slots()].map((slot) => [ring.idAt(slot), ring.valueAt(slot)]),
    [
      ['a3', 3],
      ['a4', 4],
      ['a5', 5],
    ],
  );
  assert.equal(ring.has('a2'), false);
  const slot = ring.slotOf('a4');
  ring.setAt(slot, 40);
  assert.equal(ring.valueAt(ring.slotOf('a4')), 40);
  ring.removeAt(slot);
  assert.equal(ring.has('a4'), false);
  assert.equal(ring.size, 2);
  assert.throws(() => new IdRing(0), RangeError);
});

test('agrees with a plain Map model over many random adds and removals, at sizes where probe runs wrap and collide', () => {
  const random = new SeededRandom(7);
  for (const [capacity, initialSlots] of [[1, 8], [2, 1], [3, 2], [5, 8], [8, 8], [13, 2], [128, 8], [128, 128]] as const) {
    const ring = new IdRing<number>(capacity, initialSlots);
    // Where each id went: it must stay in that slot while the ring grows (callers hold slots).
    const slots = new Map<string, number>();
    // The model: ids in insertion order, each with its value; the ring forgets by position, so the model keeps positions too.
    const model = new Map<string, { value: number; position: number }>();
    let position = 0;
    // Few distinct ids, so that lookups hit, miss and come back after being forgotten.
    const idOf = () => `id-${Math.floor(random.next() * capacity * 3)}`;
    for (let step = 0; step < 20_000; step++) {
      const id = idOf();
      const choice = random.next();
      if (choice < 0.6) {
        if (!model.has(id)) {
          slots.set(id, ring.add(id, step));
          model.set(id, { value: step, position: position++ });
          for (const [known, entry] of model) if (entry.position <= position - 1 - capacity) model.delete(known);
        }
      } else if (choice < 0.8) {
        const slot = ring.slotOf(id);
        if (slot >= 0) {
          ring.removeAt(slot);
          model.delete(id);
        }
      }
      const slot = ring.slotOf(id);
      assert.equal(slot >= 0, model.has(id), `capacity ${capacity}, step ${step}: ${id} held?`);
      if (slot >= 0) {
        assert.equal(ring.valueAt(slot), model.get(id)!.value);
        assert.equal(slot, slots.get(id), `capacity ${capacity}, step ${step}: ${id} moved`);
      }
      assert.equal(ring.size, model.size);
    }
    assert.deepEqual(
      [...ring.slots()].map((slot) => ring.idAt(slot)),
      [...model.keys()],
      `capacity ${capacity}: oldest first`,
    );
  }
});
