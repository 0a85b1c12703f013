/**
 * What send_fax and receive_fax share once a fax operation starts: the status events (one page
 * event per page, in order, then exactly one finished event), the host's onEvent listener, the
 * events kept for the trace, the signals that end the call, and the checks of their common
 * options.
 */
import { StatusCallbacks, type CallbackOptions, type DeliveryReport } from '../callbacks';
import type { LineStats } from '../transports/line';
import { checkBoolean, checkFunction, checkNumber, checkObject, checkSignal } from '../base/checks';
import type { FaxEvent } from '../engine/events';
import type { FaxResult, FaxStats } from '../engine/result';
import { buildTrace, type T30Trace } from '../engine/trace';
import { callingCallFaxEvent, finishedEventBody, pageEventBody, type FaxDirection } from './events';
import type { CheckedContext } from './params';

/** Default time a fax operation waits for its status events after the fax. */
export const CALLBACK_WAIT_MS = 30_000;

/** Options every fax operation takes, whatever its direction. */
export interface FaxOperationOptions {
  /** Permit loopback and private addresses for the status_url (and send_fax's document). Default false. */
  allowPrivate?: boolean;
  /** Aborting hangs up: the fax ends with SpanDSP's call-dropped code and a finished event. */
  signal?: AbortSignal;
  /** Status callback delivery. */
  callbacks?: Omit<CallbackOptions, 'allowPrivate' | 'log'> & {
    /** How long the operation waits, after the fax, for the last events to be delivered, ms. Default 30 000. */
    waitMs?: number;
  };
}

/** Checks the options every fax operation takes, and that `functions` are functions when given. */
export function checkOperationOptions<T extends FaxOperationOptions>(
  options: unknown,
  functions: readonly (keyof T)[],
): T {
  const o = checkObject<T>(options, 'options');
  if (o.allowPrivate !== undefined) checkBoolean(o.allowPrivate, 'allowPrivate');
  if (o.signal !== undefined) checkSignal(o.signal);
  const wait = o.callbacks?.waitMs;
  if (wait !== undefined) checkNumber(wait, 'callbacks.waitMs', 0, Infinity);
  for (const key of functions) {
    if (o[key] !== undefined) checkFunction(o[key], String(key));
  }
  return o;
}

/** One signal aborted by any of several; `detach` removes its listeners from them. */
export function anySignal(signals: (AbortSignal | undefined)[]): {
  signal: AbortSignal | undefined;
  detach: () => void;
} {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return { signal: present[0], detach: () => undefined };
  const combined = new AbortController();
  const listeners = new AbortController();
  for (const s of present) {
    if (s.aborted) {
      combined.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => combined.abort(s.reason), { once: true, signal: listeners.signal });
  }
  return { signal: combined.signal, detach: () => listeners.abort() };
}

/** How a fax operation ended, in either direction; `V` is its seven SWML variables. */
export interface FaxOperationOutcome<V> {
  /** The seven variables, as SWML strings. */
  variables: V;
  /** The typed result of our terminal: SpanDSP's completion code and text, pages, detail, stats. */
  result: FaxResult;
  /** Transfer statistics (also in `result.stats`). */
  stats: FaxStats;
  /** The cause in words beyond the code (HTTP 404, encrypted PDF, a lost line, …), "" when none. */
  detail: string;
  /** Every T.30 frame sent and received with its time, and the phase marks. */
  trace: T30Trace;
  /** The control_id of this fax operation in the status events. */
  controlId: string;
  /** Our station identity as sent (TSI sending, CSI receiving). */
  identity: string;
  /** Line time of the call, ms (0 when the fax failed before the modem started). */
  durationMs: number;
  /** What happened to the status events; null without a status_url. */
  callbacks: DeliveryReport | null;
  /** The medium's line statistics (RTP packets, jitter, …), when it has a line. */
  line?: LineStats;
}

/** How a fax operation's events are reported. */
export interface OperationEventsOptions {
  context: CheckedContext;
  controlId: string;
  direction: FaxDirection;
  statusUrl: string | undefined;
  options: FaxOperationOptions;
  /** The host's listener; a throw is logged, never passed on. */
  listener: ((event: FaxEvent) => void) | undefined;
  /** Where a throwing listener or a status event given up is logged. */
  log(message: string, kind: 'callback' | 'listener'): void;
}

/** The events of one fax operation: kept for the trace, posted to the status_url, told to the host. */
export class OperationEvents {
  readonly #o: OperationEventsOptions;
  readonly #callbacks: StatusCallbacks | null;
  readonly #events: FaxEvent[] = [];
  #pagesPosted = 0;

  constructor(options: OperationEventsOptions) {
    this.#o = options;
    const o = options.options;
    this.#callbacks = options.statusUrl
      ? new StatusCallbacks(options.statusUrl, {
          ...o.callbacks,
          allowPrivate: o.allowPrivate,
          log: (message) => options.log(message, 'callback'),
        })
      : null;
  }

  /** Takes the terminal's next event (a MediaControl's onEvent). */
  readonly onEvent = (event: FaxEvent): void => {
    this.#events.push(event);
    if (event.type === 'page' && event.page > this.#pagesPosted) {
      this.#pagesPosted = event.page;
      this.#callbacks?.post(
        callingCallFaxEvent(this.#o.context, this.#o.controlId, pageEventBody(event.page, this.#o.direction)),
        { droppable: true, label: `page ${event.page}` },
      );
    }
    try {
      this.#o.listener?.(event);
    } catch (error) {
      this.#o.log(`onEvent listener threw: ${error instanceof Error ? error.message : String(error)}`, 'listener');
    }
  };

  /** The T.30 trace of the events so far, ending in `result`. */
  trace(result: FaxResult): T30Trace {
    return buildTrace(this.#events, result);
  }

  /** Posts the one finished event and waits (bounded) for every event's delivery. */
  async finish(document: string, identity: string, result: FaxResult): Promise<DeliveryReport | null> {
    const callbacks = this.#callbacks;
    if (!callbacks) return null;
    callbacks.post(
      callingCallFaxEvent(
        this.#o.context,
        this.#o.controlId,
        finishedEventBody(document, identity, result, this.#o.direction),
      ),
      { label: 'finished' },
    );
    return callbacks.settle(this.#o.options.callbacks?.waitMs ?? CALLBACK_WAIT_MS);
  }

  /** A broken medium ended the operation without a result: drop the events still queued. */
  async abandon(): Promise<void> {
    await this.#callbacks?.settle(0);
  }
}
