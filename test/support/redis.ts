/**
 * A real Redis for tests: Debian's redis-server on 127.0.0.1 and a free port, nothing on disk,
 * stopped by its PID. `restart()` stops it and starts a fresh, empty one on the same port (what
 * a crashed Redis without persistence comes back as).
 */
import { createConnection } from 'node:net';
import { startProcess, type RunningProcess } from './child-process.js';
import { allocatePort } from './sip/ports.js';

export interface TestRedis {
  port: number;
  url: string;
  process(): RunningProcess;
  /** Sends one inline command and returns the raw reply (for checks without a client library). */
  command(...args: string[]): Promise<string>;
  /** Stops Redis and resolves when it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await allocatePort();
  let running: RunningProcess | undefined;
  const start = async () => {
    running = startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes']);
    await running.waitFor(/Ready to accept connections/, 10_000);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: () => running!,
    command: (...args) => redisCommand(port, args),
    stop: async () => {
      await running?.stop();
    },
    start,
  };
}

/** One command in RESP, one reply read back whole (enough for the small replies tests look at). */
function redisCommand(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(reply);
    }, 300);
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
  });
}
