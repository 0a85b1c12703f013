/**
 * Delivery of one fax operation's status events to its status_url: in order, one at a time,
 * each POST bounded by a timeout and retried with back-off on network errors and 5xx, never
 * on 4xx. Posting returns at once, so delivery never delays or fails the fax; the owner waits
 * a bounded time for the queue at the end and then gives up on what is left.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkInteger, checkNumber } from '../base/checks';
import { InvalidOptionError } from '../base/errors';
import { describeUrl, NetError, postJson } from '../net';
import { SIGNATURE_HEADER, signBody } from './sign';
import { checkStatusUrl } from './url';

/** Options of status callback delivery. */
export interface CallbackOptions {
  /** Permit loopback and private addresses (default false). */
  allowPrivate?: boolean;
  /** Extra CA certificates (PEM) trusted for an https status_url. */
  ca?: string | Buffer | (string | Buffer)[];
  /** With a secret, every POST carries `X-Faxline-Signature: sha256=<HMAC-SHA256 of the body, hex>`. */
  secret?: string | Buffer;
  /** Time limit of one POST attempt (connect, TLS, response), ms. Default 5000. */
  timeoutMs?: number;
  /** Attempts per event, the first included. Default 3. */
  attempts?: number;
  /** Delay before the first retry, ms; each further retry waits four times longer. Default 250. */
  backoffMs?: number;
  /** Where give-ups are reported (default: console.warn). */
  log?: (message: string) => void;
}

/** What happened to the events of one fax. */
export interface DeliveryReport {
  /** Events handed to the queue. */
  events: number;
  /** Events the status_url acknowledged with a 2xx. */
  delivered: number;
  /** Events given up after their attempts, a 4xx, a refused URL, or the wait running out. */
  failed: number;
  /** Page events skipped because the status_url was unreachable (see `post`). */
  dropped: number;
  /** HTTP requests made (attempts that reached the network). */
  requests: number;
}

/** Defaults of {@link CallbackOptions}. */
export const CALLBACK_DEFAULTS = Object.freeze({ timeoutMs: 5000, attempts: 3, backoffMs: 250 });

interface Queued {
  body: string;
  /** Page events may be dropped when the endpoint is down; the finished event never is. */
  droppable: boolean;
  label: string;
}

type Outcome = 'delivered' | 'retry' | 'permanent' | 'aborted';

function positive(value: unknown, what: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  return integer ? checkInteger(value, what, 1) : checkNumber(value, what, 0, Infinity);
}

/**
 * The ordered delivery queue of one fax operation. `post` returns at once; `settle` waits for
 * the queue, bounded, and reports.
 */
export class StatusCallbacks {
  readonly url: string;
  readonly #options: Required<Pick<CallbackOptions, 'timeoutMs' | 'attempts' | 'backoffMs'>> & CallbackOptions;
  /** The last queued delivery: each event's delivery starts when the one before it is over. */
  #tail: Promise<void> = Promise.resolve();
  /** Events queued and not yet over. */
  #pending = 0;
  readonly #abort = new AbortController();
  readonly #report: DeliveryReport = { events: 0, delivered: 0, failed: 0, dropped: 0, requests: 0 };
  /** Set when an event was given up because the endpoint did not answer: until one gets through, queued page events are skipped and others get one attempt. */
  #unreachable = false;

  constructor(url: string, options: CallbackOptions = {}) {
    this.url = checkStatusUrl(url);
    if (options.secret !== undefined && typeof options.secret !== 'string' && !Buffer.isBuffer(options.secret)) {
      throw new InvalidOptionError('Expected a string or Buffer for the callback secret');
    }
    if (options.secret !== undefined && options.secret.length === 0)
      throw new InvalidOptionError('The callback secret is empty');
    this.#options = {
      ...options,
      timeoutMs: positive(options.timeoutMs, 'callback timeoutMs', CALLBACK_DEFAULTS.timeoutMs),
      attempts: positive(options.attempts, 'callback attempts', CALLBACK_DEFAULTS.attempts, true),
      backoffMs: positive(options.backoffMs, 'callback backoffMs', CALLBACK_DEFAULTS.backoffMs),
    };
  }

  /**
   * Queues an event (serialised now, so its timestamp is when it happened). Page events
   * (`droppable`) queued behind an event that was given up for an unreachable endpoint are
   * skipped, so the finished event is not starved behind them.
   */
  post(event: object, options: { droppable?: boolean; label?: string } = {}): void {
    this.#report.events++;
    if (this.#abort.signal.aborted) {
      this.#report.failed++;
      return;
    }
    const item: Queued = {
      body: JSON.stringify(event),
      droppable: options.droppable ?? false,
      label: options.label ?? 'event',
    };
    this.#pending++;
    this.#tail = this.#tail.then(() => this.#process(item)).finally(() => this.#pending--);
  }

  /**
   * Waits up to `waitMs` for every queued event to be delivered or given up, then abandons
   * the rest (in-flight requests are aborted). Resolves with the report; never rejects.
   */
  async settle(waitMs: number): Promise<DeliveryReport> {
    if (this.#pending > 0) {
      const timer = new AbortController();
      const idle = this.#tail.then(() => true);
      const late = sleep(waitMs, false, { signal: timer.signal, ref: false }).catch(() => false);
      const finished = await Promise.race([idle, late]);
      timer.abort();
      if (!finished) {
        const left = this.#pending;
        this.#abort.abort();
        await this.#tail;
        this.#log(
          `gave up on status callbacks to ${describeUrl(this.url)} after waiting ${waitMs} ms (${left} event(s) not delivered)`,
        );
      }
    }
    this.#abort.abort();
    return { ...this.#report };
  }

  async #process(item: Queued): Promise<void> {
    if (this.#abort.signal.aborted) {
      this.#report.failed++;
    } else if (this.#unreachable && item.droppable) {
      this.#report.dropped++;
      this.#log(`skipped ${item.label}: ${describeUrl(this.url)} is not answering`);
    } else if (await this.#deliver(item)) {
      this.#report.delivered++;
    } else {
      this.#report.failed++;
    }
  }

  async #deliver(item: Queued): Promise<boolean> {
    const o = this.#options;
    const headers: Record<string, string> = {};
    if (o.secret !== undefined) headers[SIGNATURE_HEADER] = signBody(item.body, o.secret);
    const attempts = this.#unreachable ? 1 : o.attempts;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let outcome: Outcome;
      let unanswered = false;
      try {
        this.#report.requests++;
        const response = await postJson(this.url, item.body, {
          allowPrivate: o.allowPrivate,
          ca: o.ca,
          timeoutMs: o.timeoutMs,
          signal: this.#abort.signal,
          headers,
        });
        if (response.status >= 200 && response.status < 300) {
          this.#unreachable = false;
          return true;
        }
        last = `HTTP ${response.status}`;
        outcome = response.status >= 500 ? 'retry' : 'permanent';
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
        if (!(error instanceof NetError)) {
          this.#report.requests--;
          outcome = 'permanent';
        } else if (error.reason === 'aborted') outcome = 'aborted';
        else if (error.reason === 'network' || error.reason === 'timeout') {
          outcome = 'retry';
          unanswered = true;
        } else {
          // The URL policy refused it (address, scheme): no request was made, none will succeed.
          this.#report.requests--;
          outcome = 'permanent';
        }
        if (attempt === attempts && unanswered) this.#unreachable = true;
      }
      if (outcome === 'aborted') return false;
      if (outcome === 'permanent') break;
      if (attempt < attempts) {
        try {
          await sleep(o.backoffMs * 4 ** (attempt - 1), undefined, { signal: this.#abort.signal });
        } catch {
          return false;
        }
      }
    }
    this.#log(`status callback ${item.label} to ${describeUrl(this.url)} not delivered: ${last}`);
    return false;
  }

  #log(message: string): void {
    (this.#options.log ?? ((m: string) => console.warn(`faxline: ${m}`)))(message);
  }
}
