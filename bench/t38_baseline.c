/*
 * The t38 benchmark's baseline: a T.38 call straight through SpanDSP 0.0.6, with no faxline
 * code in between. bench/parts/t38.ts compiles it into bench/out/ and runs it once per timed
 * run, between the addon's runs, so both sides see the same load on the machine; and once per
 * seed of the loss matrix's cells without error correction (--loss).
 *
 *   t38_baseline <document.tif> [<received.tif>] [--loss SPEC --seed N]
 *
 * prints one JSON line on stdout:
 *   {"ok":bool,"pages":N,"ticks":N,"us_per_tick":F,"raw_us_per_tick":F,"clock_ns":F,
 *    "ifps":N,"sender_code":N,"receiver_code":N}
 * ok = both phase E codes 0 and every page of the document received; "ifps" counts the IFP
 * packets the sender sent (repeats included), so the caller can check that the addon's sender
 * did the same work. us_per_tick is raw_us_per_tick less the clock's own cost (clock_ns). The
 * received file defaults to a fresh file under /tmp, removed at the end.
 *
 * With --loss, one call over a lossy line instead (no warm-up; the time per tick is printed but
 * means little): each packet sent, copies included, is lost or not by the line simulator's loss
 * model (bench/loss.h; SPEC none, random:P or burst:P,R as fractions), a stream per direction
 * from seed N, drawn in the order the packets are sent, as faxline's simulated datagram line
 * draws them. No redundancy (SpanDSP has no UDPTL): a lost packet is lost, and the T.38 core
 * sees the gap in the sequence numbers. The call is bounded by 600 s of line time, as the t38
 * part bounds faxline's; then both ends are hung up.
 *
 * Two t38_terminal_state_t, a sender (calling party) and a receiver, back to back. Each one's
 * tx packet handler gives the IFP the next 16-bit sequence number of its direction and queues it
 * `count` times (at most 3), as faxline's UDPTL sender transmits it (native/engine/udptl_port.h:
 * SpanDSP asks for repeats of indicators and of the ends of data; the repeats are copies, same
 * sequence number). Everything queued in one 20 ms tick reaches the other side at the start of
 * the next tick: each IFP once, with its sequence number, to t38_core_rx_ifp_packet, the
 * copies dropped as a UDPTL receiver drops duplicates. No UDPTL framing: SpanDSP 0.0.6 has none,
 * and this is the work a T.38 endpoint cannot avoid.
 *
 * What is measured: the sender's time per tick, CLOCK_MONOTONIC read around each of its
 * t38_terminal_send_timeout(160) calls (its tx packet handler runs inside and is counted),
 * summed over the call and divided by the ticks. The addon side (bench/parts/t38.ts) times its
 * sender's tick() the same way. Receiving is not timed on either side. Untimed calls first warm
 * the caches, as the JIT is warmed on the addon side; then one call is timed.
 *
 * The terminals are set up as the addon sets up a T.38 terminal with its defaults (the T.30
 * capabilities in baseline.h, ECM on; T.38 version 0, 14 400 bit/s, transferred TCF, paced,
 * native/engine/t38_terminal.cpp). If the addon's set-up changes, change it here too: the bench
 * compares both senders' ticks and IFP counts and fails when they differ.
 */
#include <spandsp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "baseline.h"
#include "loss.h"

enum {
  SAMPLES_PER_TICK = 160,
  /* 30 minutes of line time: far beyond a 3-page call, short enough to stop a stuck one. */
  MAX_TICKS = 30 * 60 * 50,
  /* The lossy call's bound: 600 s of line time. */
  MAX_LOSSY_TICKS = 600 * 50,
  /* Untimed calls before the timed one. */
  WARM_UP_CALLS = 2,
  /* The copies of one IFP sent, as faxline's UDPTL sender caps SpanDSP's repeat count. */
  MAX_PACKET_REPEATS = 3,
};

typedef struct {
  t38_terminal_state_t* t38;
  /* Filled by this side's tx handler during a tick; the other side reads it the next tick. */
  queue_t* outbox;
  /* The sequence number of the next IFP this side sends. */
  uint16_t tx_seq;
  /* The sequence number of the last IFP delivered to this side, once there is one. */
  int rx_started;
  uint16_t rx_seq;
  /* The line's loss decisions for what this side sends, or NULL for a perfect line. */
  loss_process_t* loss;
  long ifps_sent;
  phase_e_t end;
} terminal_t;

typedef struct {
  int ok;
  int pages;
  int ticks;
  int sender_code;
  int receiver_code;
  long ifps;
  int64_t sender_ns;
} call_result_t;

static void fail(const char* message) {
  fprintf(stderr, "t38_baseline: %s\n", message);
  exit(1);
}

/* SpanDSP's transmit callback: the IFP `count` times (1 to 3) into this side's outbox. */
static int on_tx_packet(t38_core_state_t* core, void* user_data, const uint8_t* buf, int len,
                        int count) {
  terminal_t* t = (terminal_t*)user_data;
  queue_t* q = t->outbox;
  uint16_t seq = t->tx_seq++;
  (void)core;
  if (len < 0 || len > MAX_IFP_BYTES) {
    q->overflow++;
    return -1;
  }
  if (count < 1) count = 1;
  if (count > MAX_PACKET_REPEATS) count = MAX_PACKET_REPEATS;
  for (int i = 0; i < count; i++) {
    if (t->loss != NULL && loss_process_lost(t->loss)) {
      t->ifps_sent++;
      continue;
    }
    if (q->count == QUEUE_PACKETS) {
      q->overflow++;
      return -1;
    }
    memcpy(q->bytes[q->count], buf, (size_t)len);
    q->lengths[q->count] = (uint16_t)len;
    q->seqs[q->count] = seq;
    q->count++;
    t->ifps_sent++;
  }
  return 0;
}

static void open_terminal(terminal_t* t, int sending, const char* file, queue_t* outbox) {
  memset(t, 0, sizeof(*t));
  t->outbox = outbox;
  if ((t->t38 = t38_terminal_init(NULL, sending, on_tx_packet, t)) == NULL)
    fail("t38_terminal_init failed");
  /* As faxline's T.38 terminal is set up (bench/baseline.h). */
  configure_t38_terminal(t->t38);

  configure_t30(t38_terminal_get_t30_state(t->t38), 1, ALL_MODEMS, ALL_COMPRESSIONS, sending, file,
                -1, &t->end);
}

/* Hands `to` each IFP in `q` (the other side's previous tick) once, then empties `q`. */
static void deliver(queue_t* q, terminal_t* to) {
  t38_core_state_t* core = t38_terminal_get_t38_core_state(to->t38);
  for (int i = 0; i < q->count; i++) {
    if (to->rx_started && q->seqs[i] == to->rx_seq) continue;
    to->rx_started = 1;
    to->rx_seq = q->seqs[i];
    t38_core_rx_ifp_packet(core, q->bytes[i], q->lengths[i], q->seqs[i]);
  }
  q->count = 0;
}

/* One call; with a loss model, over a line that loses packets (seeded), else a perfect one. */
static call_result_t run_call(const char* tiff, const char* rx_file, int pages,
                              const loss_model_t* model, uint32_t seed) {
  /* Per direction, the outbox being filled this tick and the one being delivered: swapped
     every tick so a packet is heard one tick after it was sent. Static: 2 × 130 kB. */
  static queue_t queues[2][2];
  int filling = 0;
  terminal_t sender;
  terminal_t receiver;
  t30_stats_t stats;
  call_result_t r;
  int tick;
  loss_process_t loss[2];
  const int max_ticks = model != NULL ? MAX_LOSSY_TICKS : MAX_TICKS;

  memset(&r, 0, sizeof(r));
  for (int d = 0; d < 2; d++)
    for (int b = 0; b < 2; b++) queues[d][b].count = queues[d][b].overflow = 0;
  open_terminal(&sender, 1, tiff, &queues[0][filling]);
  open_terminal(&receiver, 0, rx_file, &queues[1][filling]);
  if (model != NULL) {
    loss_process_init(&loss[0], seed, 0, model);
    loss_process_init(&loss[1], seed, 1, model);
    sender.loss = &loss[0];
    receiver.loss = &loss[1];
  }
  for (tick = 0; tick < max_ticks && !(sender.end.finished && receiver.end.finished); tick++) {
    int64_t start;
    int heard = filling;

    filling ^= 1;
    sender.outbox = &queues[0][filling];
    receiver.outbox = &queues[1][filling];
    deliver(&queues[1][heard], &sender);
    start = now_ns(CLOCK_MONOTONIC);
    t38_terminal_send_timeout(sender.t38, SAMPLES_PER_TICK);
    r.sender_ns += now_ns(CLOCK_MONOTONIC) - start;
    deliver(&queues[0][heard], &receiver);
    t38_terminal_send_timeout(receiver.t38, SAMPLES_PER_TICK);
  }
  /* Out of line time: hang both up, which fires their phase E handlers. */
  if (!sender.end.finished) t30_terminate(t38_terminal_get_t30_state(sender.t38));
  if (!receiver.end.finished) t30_terminate(t38_terminal_get_t30_state(receiver.t38));
  for (int d = 0; d < 2; d++)
    for (int b = 0; b < 2; b++)
      if (queues[d][b].overflow) fail("an outbox overflowed: raise QUEUE_PACKETS or MAX_IFP_BYTES");

  memset(&stats, 0, sizeof(stats));
  t30_get_transfer_statistics(t38_terminal_get_t30_state(receiver.t38), &stats);
  r.sender_code = phase_e_code(&sender.end);
  r.receiver_code = phase_e_code(&receiver.end);
  r.pages = stats.pages_rx;
  r.ok = r.sender_code == T30_ERR_OK && r.receiver_code == T30_ERR_OK && r.pages == pages;
  r.ticks = tick;
  r.ifps = sender.ifps_sent;
  t38_terminal_free(sender.t38);
  t38_terminal_free(receiver.t38);
  return r;
}

static void usage(const char* why) {
  fprintf(stderr,
          "t38_baseline: %s\n"
          "usage: t38_baseline <document.tif> [<received.tif>] [--loss SPEC --seed N]\n"
          "SPEC: none | random:P | burst:P,R[,LOSS_G,LOSS_B]\n",
          why);
  exit(2);
}

int main(int argc, char** argv) {
  char dir[] = "/tmp/t38_baseline.XXXXXX";
  char own_file[sizeof(dir) + 32];
  const char* positional[2] = {NULL, NULL};
  int positionals = 0;
  const char* loss_spec = NULL;
  const char* seed_arg = NULL;
  loss_model_t model;
  uint32_t seed = 0;
  const char* rx_file;
  call_result_t r;
  double clock_ns = 0.0;
  double raw_us;
  int pages;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--loss") == 0 || strcmp(argv[i], "--seed") == 0) {
      if (i + 1 == argc) usage("--loss and --seed take a value");
      if (argv[i][2] == 'l')
        loss_spec = argv[++i];
      else
        seed_arg = argv[++i];
    } else if (positionals < 2 && argv[i][0] != '-') {
      positional[positionals++] = argv[i];
    } else {
      usage("unknown option or too many arguments");
    }
  }
  if (positionals == 0) usage("a document is required");
  if ((loss_spec == NULL) != (seed_arg == NULL)) usage("--loss and --seed go together");
  if (loss_spec != NULL && !parse_loss(loss_spec, &model)) usage("bad --loss SPEC");
  if (seed_arg != NULL) {
    const char* end;

    if (!parse_uint32(seed_arg, &end, &seed) || *end != '\0') usage("--seed takes a uint32");
  }

  if ((pages = pages_in_tiff(positional[0])) <= 0) fail("cannot read the pages of the document");
  if (positional[1] != NULL) {
    rx_file = positional[1];
    dir[0] = '\0';
  } else {
    if (mkdtemp(dir) == NULL) fail("cannot create a temporary directory");
    snprintf(own_file, sizeof(own_file), "%s/received.tif", dir);
    rx_file = own_file;
  }

  if (loss_spec != NULL) {
    r = run_call(positional[0], rx_file, pages, &model, seed);
  } else {
    clock_ns = clock_overhead_ns();
    for (int i = 0; i < WARM_UP_CALLS; i++) run_call(positional[0], rx_file, pages, NULL, 0);
    r = run_call(positional[0], rx_file, pages, NULL, 0);
  }
  raw_us = r.ticks > 0 ? r.sender_ns / 1000.0 / r.ticks : 0.0;

  if (dir[0] != '\0') {
    unlink(rx_file);
    rmdir(dir);
  }
  printf(
      "{\"ok\":%s,\"pages\":%d,\"ticks\":%d,\"us_per_tick\":%.4f,\"raw_us_per_tick\":%.4f,"
      "\"clock_ns\":%.2f,\"ifps\":%ld,\"sender_code\":%d,\"receiver_code\":%d}\n",
      r.ok ? "true" : "false", r.pages, r.ticks, raw_us - clock_ns / 1000.0, raw_us, clock_ns,
      r.ifps, r.sender_code, r.receiver_code);
  return 0;
}
