import { startProcess, type RunningProcess } from './child-process.js';
import { freePort } from './free-port.js';

export interface Coturn {
  port: number;
  secret: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * A real coturn on loopback with TURN REST API auth (use-auth-secret), the
 * scheme the gateway's ephemeral credentials follow. Loopback peers must be
 * allowed explicitly, and the relay address is loopback too.
 */
export async function startCoturn(): Promise<Coturn> {
  const port = await freePort();
  const minPort = 40000 + Math.floor(Math.random() * 200) * 100;
  const secret = 'coturn-test-secret-0123456789';
  const process = startProcess('turnserver', [
    '-n',
    '--listening-ip', '127.0.0.1',
    '--relay-ip', '127.0.0.1',
    '--listening-port', String(port),
    '--min-port', String(minPort),
    '--max-port', String(minPort + 99),
    '--use-auth-secret',
    '--static-auth-secret', secret,
    '--realm', 'switchboard.test',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--allow-loopback-peers',
    '--log-file', 'stdout',
    '--simple-log',
    '--verbose',
  ]);
  await process.waitFor(/listener opened on|Total General servers|IPv4. UDP listener opened/, 10_000);
  return { port, secret, process, stop: () => process.stop() };
}
