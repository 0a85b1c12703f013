/**
 * A FaxPool's Prometheus metrics, in a prom-client Registry of the pool's own (never the global one,
 * so two pools in a process do not collide). A host mounts it on its /metrics endpoint:
 * `res.end(await pool.metrics.registry.metrics())`, or merges it into its own registry.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { FaxResult } from '../engine/result';
import type { PoolStats } from './pool-protocol';

/** The metrics of one pool; the pool feeds them as calls start and end and workers report. */
export class PoolMetrics {
  /** The registry to mount (its `metrics()` gives the Prometheus text format). */
  readonly registry = new Registry();
  readonly #started: Counter<'direction'>;
  readonly #finished: Counter<'direction' | 'code' | 'success'>;
  readonly #refused: Counter<'reason'>;
  readonly #frames: Counter<'worker'>;
  readonly #lateFrames: Counter<'worker'>;
  readonly #draining: Gauge;

  constructor(stats: () => PoolStats) {
    const registers = [this.registry];
    this.#started = new Counter({
      name: 'faxline_faxes_started_total',
      help: 'Faxes started, by direction (send, receive).',
      labelNames: ['direction'],
      registers,
    });
    this.#finished = new Counter({
      name: 'faxline_faxes_finished_total',
      help: 'Faxes finished, by direction and SpanDSP result code (0 is success).',
      labelNames: ['direction', 'code', 'success'],
      registers,
    });
    this.#refused = new Counter({
      name: 'faxline_pool_refused_total',
      help: 'Calls the pool refused: full, behind (a worker late on its tick) or draining.',
      labelNames: ['reason'],
      registers,
    });
    this.#frames = new Counter({
      name: 'faxline_pool_frames_total',
      help: '20 ms frames run, summed over sessions, by worker.',
      labelNames: ['worker'],
      registers,
    });
    this.#lateFrames = new Counter({
      name: 'faxline_pool_late_frames_total',
      help: 'Frames of sessions whose tick started more than 20 ms after it was due, by worker.',
      labelNames: ['worker'],
      registers,
    });
    this.#draining = new Gauge({
      name: 'faxline_pool_draining',
      help: '1 while the pool takes no new calls (draining before a deploy).',
      registers,
    });
    this.#draining.set(0);
    new Gauge({
      name: 'faxline_pool_active_sessions',
      help: 'Sessions in flight, by worker: what a dispatcher balances on.',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of stats().workers) this.set({ worker: String(w.worker) }, w.calls);
      },
    });
    new Gauge({
      name: 'faxline_pool_tick_lateness_seconds',
      help: 'How late the latest 20 ms tick started, by worker.',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of stats().workers) this.set({ worker: String(w.worker) }, w.lastLatenessMs / 1000);
      },
    });
    new Gauge({
      name: 'faxline_pool_worker_behind',
      help: '1 while a worker takes no new calls because it is late on its tick.',
      labelNames: ['worker'],
      registers,
      collect() {
        for (const w of stats().workers) this.set({ worker: String(w.worker) }, w.behind ? 1 : 0);
      },
    });
  }

  started(direction: 'send' | 'receive'): void {
    this.#started.inc({ direction });
  }

  finished(direction: 'send' | 'receive', result: FaxResult): void {
    this.#finished.inc({ direction, code: String(result.code), success: String(result.success) });
  }

  refused(reason: 'full' | 'behind' | 'draining'): void {
    this.#refused.inc({ reason });
  }

  setDraining(draining: boolean): void {
    this.#draining.set(draining ? 1 : 0);
  }

  /** A worker's report: the frames and late frames since its previous one. */
  observe(worker: number, lateFrames: number, frames: number): void {
    this.#frames.inc({ worker: String(worker) }, frames);
    this.#lateFrames.inc({ worker: String(worker) }, lateFrames);
  }
}
