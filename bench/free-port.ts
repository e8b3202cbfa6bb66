import { type AddressInfo, createServer } from 'node:net';

/** A port nobody listens on now (the OS picks it), for a server whose log level hides its address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}
