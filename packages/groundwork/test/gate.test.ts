import { describe, expect, it } from 'vitest';
import { ConnectionGate, PoolTimeoutError } from '../src/database/gate.ts';

/** A task that runs until `finish()` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { task: () => done, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConnectionGate', () => {
  it('admits two statements per connection and queues the next until one finishes', async () => {
    const gate = new ConnectionGate(2, 5_000);
    const running = Array.from({ length: 4 }, () => held());
    const results = running.map((r) => gate.run(r.task));
    let fifthStarted = false;
    const fifth = gate.run(async () => {
      fifthStarted = true;
    });
    await tick();
    expect({ active: gate.active, waiting: gate.waiting, fifthStarted }).toEqual({
      active: 4,
      waiting: 1,
      fifthStarted: false,
    });
    running[0]!.finish();
    await fifth;
    expect(fifthStarted).toBe(true);
    for (const r of running) r.finish();
    await Promise.all(results);
    expect({ active: gate.active, waiting: gate.waiting }).toEqual({ active: 0, waiting: 0 });
  });

  it('gives a session a whole connection, and statements behind a waiting session wait their turn', async () => {
    const gate = new ConnectionGate(1, 5_000);
    const statement = held();
    const first = gate.run(statement.task);
    const order: string[] = [];
    const session = gate.acquireConnection().then(() => order.push('session'));
    const later = gate.run(async () => {
      order.push('statement');
    });
    await tick();
    // One place is free, but the session needs both, and the statement behind it does not overtake it.
    expect(order).toEqual([]);
    statement.finish();
    await first;
    await session;
    await tick();
    expect(order).toEqual(['session']);
    gate.releaseConnection();
    await later;
    expect(order).toEqual(['session', 'statement']);
  });

  it('fails a waiter after the wait timeout, and a timed-out session lets the statements behind it in', async () => {
    const gate = new ConnectionGate(1, 50);
    const statement = held();
    const first = gate.run(statement.task);
    const session = gate.runOnConnection(async () => 'never');
    session.catch(() => {});
    // Queued later than the session, so its own deadline is later too.
    await new Promise((resolve) => setTimeout(resolve, 25));
    const behind = gate.run(async () => 'ran');
    await expect(session).rejects.toBeInstanceOf(PoolTimeoutError);
    // The session's place in the queue is gone: the statement fits beside the running one.
    await expect(behind).resolves.toBe('ran');
    statement.finish();
    await first;
    expect({ active: gate.active, waiting: gate.waiting }).toEqual({ active: 0, waiting: 0 });
  });
});
