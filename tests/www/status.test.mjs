// The status poller's schedule and stopping rules, on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchPayment } from '../../www/status.js';

function fakeClock() {
  let now = 0;
  const sleeps = [];
  return { now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; }, sleeps };
}

const answers = (...statuses) => {
  let i = 0;
  return async () => {
    const next = statuses[Math.min(i++, statuses.length - 1)];
    if (next instanceof Error) throw next;
    return { status: next, code: '11' };
  };
};

test('polls with a delay growing from 1 s to 5 s and stops at a final state', async () => {
  const clock = fakeClock();
  const updates = [];
  await watchPayment('h', { ...clock, getPayment: answers('pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'paid'), onUpdate: (u) => updates.push(u) });
  assert.deepEqual(clock.sleeps, [1000, 1500, 2250, 3375, 5000, 5000]);
  assert.equal(updates.at(-1).payment.status, 'paid');
  assert.equal(updates.length, 7);
});

test('gives up after about two minutes with a timeout update', async () => {
  const clock = fakeClock();
  const updates = [];
  await watchPayment('h', { ...clock, getPayment: answers('pending'), onUpdate: (u) => updates.push(u) });
  assert.equal(updates.at(-1).kind, 'timeout');
  assert.ok(clock.now() <= 120_000 && clock.now() > 110_000, `stopped at ${clock.now()}`);
});

test('keeps polling through gateway errors and unknown codes, stops on a 404', async () => {
  const clock = fakeClock();
  const updates = [];
  const gateway = Object.assign(new Error('timeout'), { status: 504, type: 'upstream_timeout' });
  const missing = Object.assign(new Error('no'), { status: 404, type: 'not_found' });
  await watchPayment('h', { ...clock, getPayment: answers(gateway, 'unknown', missing), onUpdate: (u) => updates.push(u) });
  assert.deepEqual(updates.map((u) => u.kind), ['error', 'status', 'error']);
  assert.deepEqual(updates.map((u) => u.final), [false, undefined, true]);
});

test('an aborted watch reports nothing more', async () => {
  const controller = new AbortController();
  const updates = [];
  await watchPayment('h', {
    ...fakeClock(),
    signal: controller.signal,
    getPayment: async () => { controller.abort(); return { status: 'paid' }; },
    onUpdate: (u) => updates.push(u),
  });
  assert.equal(updates.length, 0);
});
