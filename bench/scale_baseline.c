/*
 * The scale benchmark's C bound: what one channel costs on raw SpanDSP, with no faxline code in
 * between. bench/parts/scale.ts compiles it into bench/out/ and runs it once; it turns the cost
 * into the most channels the machine's cores could carry in real time, the bound the pool is
 * measured against. It prints one JSON line on stdout:
 *
 *   scale_baseline <document.tif> <scratch-dir>
 *   {"audio_ns_per_channel_frame":F,"t38_ns_per_channel_frame":F,"audio_frames":N,"t38_frames":N}
 *
 * A channel-frame is one terminal's 20 ms: a pair of terminals makes two per frame.
 *
 * Two calls, each timed whole (set-up and tear-down included, as a pooled call pays them too)
 * with CLOCK_PROCESS_CPUTIME_ID, the process having one thread; each made RUNS times, the median
 * reported:
 *  - audio: a sender and a receiver back to back, 160-sample frames, per frame "sender: fax_rx
 *    (the receiver's previous frame), fax_tx; receiver: likewise", until both phase E handlers
 *    fired; set up as the addon sets up an audio terminal with its defaults (transmit on idle,
 *    ECM, every modem, compression, resolution and image size: native/engine/audio_terminal.cpp,
 *    t30_session.cpp), as bench/engine_baseline.c does but with the default modems.
 *  - T.38: two t38_terminal_state_t back to back on 20 ms ticks, set up as the addon's defaults
 *    (configure_t38_terminal), each IFP sent in one tick reaching the other side at the start of
 *    the next, once (a UDPTL receiver drops the repeats), as bench/t38_baseline.c does. No
 *    UDPTL framing: SpanDSP 0.0.6 has none, and this is the work a T.38 endpoint cannot avoid.
 * Each call must end with both phase E codes 0 and every page received, or the program fails.
 * audio_frames and t38_frames are the frames (ticks) of one call, the same in every run.
 */
#include <spandsp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "baseline.h"

enum {
  SAMPLES_PER_FRAME = 160,
  /* 30 minutes of line time: far beyond a 1-page call, short enough to stop a stuck one. */
  MAX_FRAMES = 30 * 60 * 50,
  /* Timed calls per kind; the median is reported. */
  RUNS = 3,
};

typedef struct {
  int frames;
  int64_t cpu_ns;
} timed_call_t;

static void fail(const char* message) {
  fprintf(stderr, "scale_baseline: %s\n", message);
  exit(1);
}

/* Fails unless both ends completed and the receiver has every page of the document. */
static void check_call(const char* kind, const phase_e_t* sender, const phase_e_t* receiver,
                       int pages_received, int pages) {
  if (phase_e_code(sender) == T30_ERR_OK && phase_e_code(receiver) == T30_ERR_OK &&
      pages_received == pages)
    return;
  fprintf(stderr, "scale_baseline: %s call: sender code %d, receiver code %d, %d of %d pages\n",
          kind, phase_e_code(sender), phase_e_code(receiver), pages_received, pages);
  exit(1);
}

static int pages_received(t30_state_t* t30) {
  t30_stats_t stats;

  memset(&stats, 0, sizeof(stats));
  t30_get_transfer_statistics(t30, &stats);
  return stats.pages_rx;
}

/* One terminal's audio frame, as the addon's session does it: hear, then send a full frame. */
static void audio_frame(fax_state_t* fax, int16_t* heard, int16_t* out) {
  int written;

  fax_rx(fax, heard, SAMPLES_PER_FRAME);
  written = fax_tx(fax, out, SAMPLES_PER_FRAME);
  if (written < 0) written = 0;
  if (written < SAMPLES_PER_FRAME)
    memset(out + written, 0, sizeof(int16_t) * (size_t)(SAMPLES_PER_FRAME - written));
}

static fax_state_t* open_audio(int sending, const char* file, phase_e_t* end) {
  fax_state_t* fax;

  /* The sender places the call, as FaxSession's default has it. */
  if ((fax = fax_init(NULL, sending)) == NULL) fail("fax_init failed");
  fax_set_transmit_on_idle(fax, 1);
  configure_t30(fax_get_t30_state(fax), 1, ALL_MODEMS, ALL_COMPRESSIONS, sending, file, 0, end);
  return fax;
}

static timed_call_t audio_call(const char* document, const char* received, int pages) {
  phase_e_t sender_end = {0, 0};
  phase_e_t receiver_end = {0, 0};
  int16_t to_receiver[SAMPLES_PER_FRAME] = {0};
  int16_t to_sender[SAMPLES_PER_FRAME] = {0};
  fax_state_t* sender;
  fax_state_t* receiver;
  timed_call_t call = {0, 0};
  int received_pages;
  int64_t start = now_ns(CLOCK_PROCESS_CPUTIME_ID);

  sender = open_audio(1, document, &sender_end);
  receiver = open_audio(0, received, &receiver_end);
  while (!(sender_end.finished && receiver_end.finished)) {
    if (call.frames++ == MAX_FRAMES)
      fail("the audio call did not finish in 30 minutes of line time");
    audio_frame(sender, to_sender, to_receiver);
    audio_frame(receiver, to_receiver, to_sender);
  }
  received_pages = pages_received(fax_get_t30_state(receiver));
  fax_free(sender);
  fax_free(receiver);
  call.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - start;
  check_call("audio", &sender_end, &receiver_end, received_pages, pages);
  return call;
}

typedef struct {
  t38_terminal_state_t* t38;
  /* Filled by this side's tx handler during a tick. */
  queue_t* outbox;
  uint16_t tx_seq;
  phase_e_t end;
} t38_side_t;

/*
 * SpanDSP's transmit callback: the IFP into this side's outbox, once. The repeats SpanDSP asks for
 * are copies with the same sequence number, which a UDPTL receiver drops: only one reaches SpanDSP.
 */
static int on_tx_packet(t38_core_state_t* core, void* user_data, const uint8_t* buf, int len,
                        int count) {
  t38_side_t* side = (t38_side_t*)user_data;
  queue_t* q = side->outbox;
  (void)core;
  (void)count;
  if (len < 0 || len > MAX_IFP_BYTES || q->count == QUEUE_PACKETS) {
    q->overflow++;
    return -1;
  }
  memcpy(q->bytes[q->count], buf, (size_t)len);
  q->lengths[q->count] = (uint16_t)len;
  q->seqs[q->count] = side->tx_seq++;
  q->count++;
  return 0;
}

static void open_t38(t38_side_t* side, int sending, const char* file, queue_t* outbox) {
  memset(side, 0, sizeof(*side));
  side->outbox = outbox;
  if ((side->t38 = t38_terminal_init(NULL, sending, on_tx_packet, side)) == NULL)
    fail("t38_terminal_init failed");
  configure_t38_terminal(side->t38);
  configure_t30(t38_terminal_get_t30_state(side->t38), 1, ALL_MODEMS, ALL_COMPRESSIONS, sending,
                file, 0, &side->end);
}

/* Hands `to` each IFP of `q`, in order, then empties `q`. */
static void deliver(queue_t* q, t38_side_t* to) {
  t38_core_state_t* core = t38_terminal_get_t38_core_state(to->t38);

  if (q->overflow) fail("an outbox overflowed: raise QUEUE_PACKETS or MAX_IFP_BYTES");
  for (int i = 0; i < q->count; i++)
    t38_core_rx_ifp_packet(core, q->bytes[i], q->lengths[i], q->seqs[i]);
  q->count = 0;
}

static timed_call_t t38_call(const char* document, const char* received, int pages) {
  /* Per direction, the outbox filled this tick and the one delivered, swapped every tick so an
     IFP is heard one tick after it was sent. Static: 4 × 130 kB. */
  static queue_t queues[2][2];
  int filling = 0;
  t38_side_t sender;
  t38_side_t receiver;
  timed_call_t call = {0, 0};
  int received_pages;
  int64_t start = now_ns(CLOCK_PROCESS_CPUTIME_ID);

  memset(queues, 0, sizeof(queues));
  open_t38(&sender, 1, document, &queues[0][filling]);
  open_t38(&receiver, 0, received, &queues[1][filling]);
  while (!(sender.end.finished && receiver.end.finished)) {
    int heard = filling;

    if (call.frames++ == MAX_FRAMES)
      fail("the T.38 call did not finish in 30 minutes of line time");
    filling ^= 1;
    sender.outbox = &queues[0][filling];
    receiver.outbox = &queues[1][filling];
    deliver(&queues[1][heard], &sender);
    t38_terminal_send_timeout(sender.t38, SAMPLES_PER_FRAME);
    deliver(&queues[0][heard], &receiver);
    t38_terminal_send_timeout(receiver.t38, SAMPLES_PER_FRAME);
  }
  received_pages = pages_received(t38_terminal_get_t30_state(receiver.t38));
  t38_terminal_free(sender.t38);
  t38_terminal_free(receiver.t38);
  call.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - start;
  check_call("T.38", &sender.end, &receiver.end, received_pages, pages);
  return call;
}

static int compare_int64(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a;
  int64_t y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

/* The median CPU ns per channel-frame of RUNS calls (a pair's frame is two channel-frames). */
static double median_per_channel_frame(timed_call_t (*make)(const char*, const char*, int),
                                       const char* document, const char* received, int pages,
                                       int* frames) {
  int64_t cpu[RUNS];

  for (int i = 0; i < RUNS; i++) {
    timed_call_t call = make(document, received, pages);

    if (i > 0 && call.frames != *frames) fail("two runs of the same call took different frames");
    *frames = call.frames;
    cpu[i] = call.cpu_ns;
  }
  qsort(cpu, RUNS, sizeof(cpu[0]), compare_int64);
  return (double)cpu[RUNS / 2] / (2.0 * *frames);
}

int main(int argc, char** argv) {
  char received[4096];
  int pages;
  int audio_frames = 0;
  int t38_frames = 0;
  double audio_ns;
  double t38_ns;

  if (argc != 3) fail("usage: scale_baseline <document.tif> <scratch-dir>");
  snprintf(received, sizeof(received), "%s/scale-baseline-received.tif", argv[2]);
  if ((pages = pages_in_tiff(argv[1])) <= 0) fail("cannot read the pages of the document");

  audio_ns = median_per_channel_frame(audio_call, argv[1], received, pages, &audio_frames);
  t38_ns = median_per_channel_frame(t38_call, argv[1], received, pages, &t38_frames);
  remove(received);
  printf(
      "{\"audio_ns_per_channel_frame\":%.1f,\"t38_ns_per_channel_frame\":%.1f,"
      "\"audio_frames\":%d,\"t38_frames\":%d}\n",
      audio_ns, t38_ns, audio_frames, t38_frames);
  return 0;
}
