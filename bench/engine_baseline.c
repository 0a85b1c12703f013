/*
 * The engine benchmark's baseline: the same V.17 ECM call as bench/parts/engine.ts, driven
 * straight through SpanDSP with no addon in between. bench/parts/engine.ts compiles it into
 * bench/out/ and runs it once per timed run, between the addon's runs, so both sides see the
 * same load on the machine. It prints one JSON line on stdout.
 *
 *   engine_baseline <document.tif> <scratch-dir>
 *
 * What is measured (the same as on the addon side, see bench/parts/engine.ts):
 *  1. A live loopback call, sender and receiver back to back, 160-sample frames, per frame
 *     "sender: fax_rx(previous receiver frame), fax_tx; receiver: likewise", until both
 *     phase E handlers fired. It checks the fax went through and records, per frame, the
 *     audio the sender heard and the audio it sent.
 *  2. Replays, the measurement: a fresh sender fed the recorded frames alone, frame by frame,
 *     in the same order of calls. SpanDSP is deterministic (time advances only by samples),
 *     so the sender redoes exactly its work in the call, which each replay checks by
 *     comparing its audio with the recording. A whole replay is timed as one batch with
 *     CLOCK_PROCESS_CPUTIME_ID, the clock process.cpuUsage() reads on the addon side (this
 *     process has one thread, so it is the sender's CPU time). Timing each ~5 us call instead
 *     would add a clock reading per call, and a wall clock would count other load on the
 *     machine. Untimed replays warm the caches first, as on the addon side; then one
 *     replay is timed.
 *
 * The terminals are set up as the addon sets them up (native/engine/audio_terminal.cpp,
 * t30_session.cpp), in the same order: transmit on idle, ECM, modems, every compression,
 * resolution and image size, the file, then the phase E handler. If the addon's setup changes,
 * change it here too: the bench compares both senders' line audio and fails when they differ.
 * The addon's phase B/D and frame-trace handlers run a few dozen times per call, so leaving
 * them out here changes nothing measurable.
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
  /* 30 minutes of line time: far beyond a 3-page call, short enough to stop a stuck one. */
  MAX_FRAMES = 30 * 60 * 50,
  /* As many untimed replays as the addon side makes. */
  WARM_UP_REPLAYS = 2,
};

typedef struct {
  fax_state_t* fax;
  phase_e_t end;
} terminal_t;

/* The audio of one call as the sender saw it: heard[i] was fed before sent[i] was made. */
typedef struct {
  int16_t* heard;
  int16_t* sent;
  int frames;
} recording_t;

static void fail(const char* message) {
  fprintf(stderr, "engine_baseline: %s\n", message);
  exit(1);
}

static void open_terminal(terminal_t* t, int sending, const char* file) {
  memset(t, 0, sizeof(*t));
  /* The sender places the call, as FaxSession's default has it. */
  if ((t->fax = fax_init(NULL, sending)) == NULL) fail("fax_init failed");
  fax_set_transmit_on_idle(t->fax, 1);
  configure_t30(fax_get_t30_state(t->fax), 1, sending ? T30_SUPPORT_V17 : ALL_MODEMS,
                ALL_COMPRESSIONS, sending, file, 0, &t->end);
}

static void close_terminal(terminal_t* t) {
  fax_free(t->fax);
  t->fax = NULL;
}

static t30_stats_t statistics(terminal_t* t) {
  t30_stats_t stats;

  memset(&stats, 0, sizeof(stats));
  t30_get_transfer_statistics(fax_get_t30_state(t->fax), &stats);
  return stats;
}

/* One frame of a terminal, as the addon's FaxSession.process does it. */
static void process(terminal_t* t, int16_t* heard, int16_t* out) {
  int written;

  fax_rx(t->fax, heard, SAMPLES_PER_FRAME);
  written = fax_tx(t->fax, out, SAMPLES_PER_FRAME);
  /* Transmit-on-idle fills the frame; the addon zeroes any rest all the same. */
  if (written < 0) written = 0;
  if (written < SAMPLES_PER_FRAME)
    memset(out + written, 0, sizeof(int16_t) * (size_t)(SAMPLES_PER_FRAME - written));
}

/* FNV-1a over the sender's audio, so the JS side can check both sent the same line audio. */
static uint32_t fnv1a(const int16_t* samples, size_t count) {
  const uint8_t* bytes = (const uint8_t*)samples;
  uint32_t hash = 2166136261u;

  for (size_t i = 0; i < count * sizeof(int16_t); i++) hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

typedef struct {
  int sender_code;
  int receiver_code;
  int pages_sent;
  int pages_received;
  int pages_in_file;
} live_call_t;

static live_call_t live_call(const char* document, const char* received, recording_t* rec) {
  terminal_t sender;
  terminal_t receiver;
  int16_t to_receiver[SAMPLES_PER_FRAME] = {0};
  int16_t to_sender[SAMPLES_PER_FRAME] = {0};
  t30_stats_t sent_stats;
  live_call_t call;

  rec->heard = malloc(sizeof(int16_t) * SAMPLES_PER_FRAME * MAX_FRAMES);
  rec->sent = malloc(sizeof(int16_t) * SAMPLES_PER_FRAME * MAX_FRAMES);
  if (rec->heard == NULL || rec->sent == NULL) fail("out of memory");
  open_terminal(&sender, 1, document);
  open_terminal(&receiver, 0, received);
  for (rec->frames = 0; !(sender.end.finished && receiver.end.finished); rec->frames++) {
    int16_t* heard = rec->heard + (size_t)rec->frames * SAMPLES_PER_FRAME;
    int16_t* sent = rec->sent + (size_t)rec->frames * SAMPLES_PER_FRAME;

    if (rec->frames == MAX_FRAMES) fail("the call did not finish within 30 minutes of line time");
    memcpy(heard, to_sender, sizeof(to_sender));
    process(&sender, to_sender, to_receiver);
    memcpy(sent, to_receiver, sizeof(to_receiver));
    process(&receiver, to_receiver, to_sender);
  }
  call.sender_code = sender.end.code;
  call.receiver_code = receiver.end.code;
  sent_stats = statistics(&sender);
  call.pages_sent = sent_stats.pages_tx;
  call.pages_in_file = sent_stats.pages_in_file;
  call.pages_received = statistics(&receiver).pages_rx;
  close_terminal(&sender);
  close_terminal(&receiver);
  return call;
}

typedef struct {
  int64_t cpu_ns;
  int64_t wall_ns;
} replay_t;

static replay_t replay(const char* document, const recording_t* rec, int16_t* sent) {
  terminal_t sender;
  int64_t cpu;
  int64_t wall;
  replay_t r;

  /* Cleared so the check below sees this replay's audio, not the previous one's. */
  memset(sent, 0, sizeof(int16_t) * SAMPLES_PER_FRAME * (size_t)rec->frames);
  open_terminal(&sender, 1, document);
  cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID);
  wall = now_ns(CLOCK_MONOTONIC);
  for (int i = 0; i < rec->frames; i++) {
    process(&sender, rec->heard + (size_t)i * SAMPLES_PER_FRAME,
            sent + (size_t)i * SAMPLES_PER_FRAME);
  }
  r.wall_ns = now_ns(CLOCK_MONOTONIC) - wall;
  r.cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu;
  if (!sender.end.finished || sender.end.code != T30_ERR_OK)
    fail("a replayed sender did not complete the fax");
  if (memcmp(sent, rec->sent, sizeof(int16_t) * SAMPLES_PER_FRAME * (size_t)rec->frames) != 0)
    fail("a replay sent other audio than the call did: it is not the same work");
  close_terminal(&sender);
  return r;
}

int main(int argc, char** argv) {
  char received[4096];
  recording_t rec;
  live_call_t call;
  replay_t timed;
  int16_t* sent;

  if (argc != 3) fail("usage: engine_baseline <document.tif> <scratch-dir>");
  snprintf(received, sizeof(received), "%s/baseline-received.tif", argv[2]);

  call = live_call(argv[1], received, &rec);
  if (call.sender_code != T30_ERR_OK || call.receiver_code != T30_ERR_OK) {
    fprintf(stderr, "engine_baseline: sender code %d, receiver code %d\n", call.sender_code,
            call.receiver_code);
    fail("the loopback call did not complete");
  }
  if (call.pages_sent != call.pages_in_file || call.pages_received != call.pages_in_file)
    fail("the receiver did not get every page of the document");

  if ((sent = malloc(sizeof(int16_t) * SAMPLES_PER_FRAME * (size_t)rec.frames)) == NULL)
    fail("out of memory");
  for (int i = 0; i < WARM_UP_REPLAYS; i++) replay(argv[1], &rec, sent);
  timed = replay(argv[1], &rec, sent);

  printf("{\"frames\":%d,\"pages\":%d,\"tx_fnv1a\":%u,\"cpu_ns\":%lld,\"wall_ns\":%lld}\n",
         rec.frames, call.pages_received, fnv1a(rec.sent, (size_t)rec.frames * SAMPLES_PER_FRAME),
         (long long)timed.cpu_ns, (long long)timed.wall_ns);
  free(sent);
  free(rec.heard);
  free(rec.sent);
  return 0;
}
