import { setTimeout as delay } from 'node:timers/promises';

/** Resolves once `condition` holds, checking every 50 ms; throws after `ms`. */
export async function until(condition: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await delay(50);
  }
}

/**
 * `clients` loops requesting `url` over keep-alive connections until stopped: the traffic a restart must not
 * fail. Every answer but a 200 is a failure (its status and the start of its body), and so is every request
 * that errs or takes over 10 s (its cause).
 */
export function keepRequesting(
  url: string,
  clients: number,
): { stop(): Promise<{ served: number; failures: string[] }> } {
  let running = true;
  let served = 0;
  const failures: string[] = [];
  const client = async () => {
    while (running) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        const body = await response.text();
        if (response.status === 200) served++;
        else failures.push(`status ${response.status}: ${body.slice(0, 200)}`);
      } catch (error) {
        failures.push(String((error as Error).cause ?? error));
      }
    }
  };
  const loops = Array.from({ length: clients }, client);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { served, failures };
    },
  };
}
