/*
 * The RTP loss benchmark's baseline: raw SpanDSP 0.0.6 over a lossy G.711 line, with no
 * faxline code in between. A sender (calling party) and a receiver run back to back, both
 * with transmit-on-idle. Per 20 ms frame and direction: fax_tx 160 samples, G.711 encode
 * (PCMU), the loss decision, then either G.711 decode and fax_rx, or fax_rx_fillin(160) for a
 * lost packet, as an RTP endpoint does with a gap in its jitter buffer. It runs until both
 * phase E handlers fired, or 600 s of line time (then both are t30_terminate'd).
 *
 *   rtp_baseline --tiff FILE --ecm 0|1 --loss SPEC --seeds A-B [--lossy both|0|1]
 *       one JSON line per seed: {"seed":N,"ok":bool,"sender_code":N,"receiver_code":N,
 *       "receiver_pages":N,"pages":N,"line_s":F}; ok = both codes 0 and every page received.
 *   rtp_baseline --pattern SEED --loss SPEC --direction 0|1 --packets N
 *       prints the loss pattern of one direction as a line of 0 (delivered) and 1 (lost).
 *
 * SPEC is none, random:P or burst:P,R[,LOSS_G,LOSS_B] (probabilities as fractions). --lossy
 * says which directions lose packets (default both: 0 = sender to receiver, 1 = back).
 *
 * The loss model is the one lib/transports/impairments.ts implements, bit for bit, so a seed
 * loses the same packets on both sides (bench/loss.h, shared with bench/t38_baseline.c).
 *
 * Build: cc -O2 -o rtp_baseline rtp_baseline.c $(pkg-config --cflags --libs spandsp)
 */
#include <spandsp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "baseline.h"
#include "loss.h"

enum {
  SAMPLES_PER_FRAME = 160,
  /* 600 s of line time at 50 frames a second. */
  MAX_FRAMES = 600 * 50,
  /* Bounds the --pattern output and the seed range: far beyond any use, small enough to stop
     a typo from running for hours. */
  MAX_PACKETS = 10 * 1000 * 1000,
  MAX_SEEDS = 100000,
};

/* ------------------------------------------------------------------ arguments */

static void usage(const char* why) {
  fprintf(stderr,
          "rtp_baseline: %s\n"
          "usage: rtp_baseline --tiff FILE --ecm 0|1 --loss SPEC --seeds A-B [--lossy both|0|1]\n"
          "       rtp_baseline --pattern SEED --loss SPEC --direction 0|1 --packets N\n"
          "SPEC: none | random:P | burst:P,R[,LOSS_G,LOSS_B]\n",
          why);
  exit(2);
}

static void fail(const char* message) {
  fprintf(stderr, "rtp_baseline: %s\n", message);
  exit(1);
}

static uint32_t uint32_arg(const char* text, const char* what) {
  const char* end;
  uint32_t v;

  if (!parse_uint32(text, &end, &v) || *end != '\0') usage(what);
  return v;
}

/* ------------------------------------------------------------------ one call */

typedef struct {
  fax_state_t* fax;
  phase_e_t end;
} terminal_t;

static void open_terminal(terminal_t* t, int sending, int ecm, const char* file) {
  memset(t, 0, sizeof(*t));
  if ((t->fax = fax_init(NULL, sending)) == NULL) fail("fax_init failed");
  fax_set_transmit_on_idle(t->fax, 1);
  /* T.6 needs ECM: without it, offer only T.4. */
  configure_t30(
      fax_get_t30_state(t->fax), ecm, ALL_MODEMS,
      ecm ? ALL_COMPRESSIONS : (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION),
      sending, file, -1, &t->end);
}

/*
 * One 20 ms step of one terminal: hear the packet that came in (or fill in a lost one), then
 * make this frame's audio and put it through PCMU into `payload`.
 */
static void step(terminal_t* t, const uint8_t* heard, int heard_lost, uint8_t* payload) {
  int16_t pcm[SAMPLES_PER_FRAME];
  int written;

  if (heard_lost) {
    fax_rx_fillin(t->fax, SAMPLES_PER_FRAME);
  } else {
    for (int i = 0; i < SAMPLES_PER_FRAME; i++) pcm[i] = ulaw_to_linear(heard[i]);
    fax_rx(t->fax, pcm, SAMPLES_PER_FRAME);
  }
  written = fax_tx(t->fax, pcm, SAMPLES_PER_FRAME);
  if (written < 0) written = 0;
  for (int i = written; i < SAMPLES_PER_FRAME; i++) pcm[i] = 0;
  for (int i = 0; i < SAMPLES_PER_FRAME; i++) payload[i] = linear_to_ulaw(pcm[i]);
}

typedef struct {
  int sender_code;
  int receiver_code;
  int receiver_pages;
  int frames;
} call_result_t;

static call_result_t run_call(const char* tiff, const char* rx_file, int ecm,
                              const loss_model_t* model, uint32_t seed, const int lossy[2]) {
  static const loss_model_t no_loss = {LOSS_NONE, 0, 0, 0, 1};
  terminal_t sender;
  terminal_t receiver;
  loss_process_t loss[2];
  uint8_t to_receiver[SAMPLES_PER_FRAME];
  uint8_t to_sender[SAMPLES_PER_FRAME];
  int to_sender_lost = 0;
  t30_stats_t stats;
  call_result_t result;
  int frame;

  loss_process_init(&loss[0], seed, 0, lossy[0] ? model : &no_loss);
  loss_process_init(&loss[1], seed, 1, lossy[1] ? model : &no_loss);
  open_terminal(&sender, 1, ecm, tiff);
  open_terminal(&receiver, 0, ecm, rx_file);
  /* Before the receiver's first packet the sender hears silence (PCMU 0xFF is 0). */
  memset(to_sender, 0xFF, sizeof(to_sender));
  for (frame = 0; frame < MAX_FRAMES && !(sender.end.finished && receiver.end.finished); frame++) {
    int to_receiver_lost;

    step(&sender, to_sender, to_sender_lost, to_receiver);
    to_receiver_lost = loss_process_lost(&loss[0]);
    step(&receiver, to_receiver, to_receiver_lost, to_sender);
    to_sender_lost = loss_process_lost(&loss[1]);
  }
  /* Out of line time: hang both up, which fires their phase E handlers. */
  if (!sender.end.finished) t30_terminate(fax_get_t30_state(sender.fax));
  if (!receiver.end.finished) t30_terminate(fax_get_t30_state(receiver.fax));

  memset(&stats, 0, sizeof(stats));
  t30_get_transfer_statistics(fax_get_t30_state(receiver.fax), &stats);
  result.sender_code = phase_e_code(&sender.end);
  result.receiver_code = phase_e_code(&receiver.end);
  result.receiver_pages = stats.pages_rx;
  result.frames = frame;
  fax_free(sender.fax);
  fax_free(receiver.fax);
  return result;
}

static int run_seeds(const char* tiff, int ecm, const loss_model_t* model, uint32_t first,
                     uint32_t last, const int lossy[2]) {
  char dir[] = "/tmp/rtp_baseline.XXXXXX";
  char rx_file[sizeof(dir) + 32];
  int pages;

  if ((pages = pages_in_tiff(tiff)) <= 0) fail("cannot read the pages of the --tiff file");
  if (mkdtemp(dir) == NULL) fail("cannot create a temporary directory");
  snprintf(rx_file, sizeof(rx_file), "%s/received.tif", dir);
  for (uint64_t seed = first; seed <= last; seed++) {
    call_result_t r = run_call(tiff, rx_file, ecm, model, (uint32_t)seed, lossy);
    int ok =
        r.sender_code == T30_ERR_OK && r.receiver_code == T30_ERR_OK && r.receiver_pages == pages;

    unlink(rx_file);
    printf(
        "{\"seed\":%u,\"ok\":%s,\"sender_code\":%d,\"receiver_code\":%d,\"receiver_pages\":%d,"
        "\"pages\":%d,\"line_s\":%.2f}\n",
        (unsigned)seed, ok ? "true" : "false", r.sender_code, r.receiver_code, r.receiver_pages,
        pages, r.frames * 0.02);
    fflush(stdout);
  }
  rmdir(dir);
  return 0;
}

static int print_pattern(uint32_t seed, const loss_model_t* model, int direction,
                         uint32_t packets) {
  loss_process_t lp;
  char* line;

  if ((line = malloc((size_t)packets + 2)) == NULL) fail("out of memory");
  loss_process_init(&lp, seed, direction, model);
  for (uint32_t i = 0; i < packets; i++) line[i] = loss_process_lost(&lp) ? '1' : '0';
  line[packets] = '\n';
  line[packets + 1] = '\0';
  fputs(line, stdout);
  free(line);
  return 0;
}

int main(int argc, char** argv) {
  const char* tiff = NULL;
  const char* loss_spec = NULL;
  const char* seeds = NULL;
  const char* pattern = NULL;
  const char* lossy_arg = "both";
  int ecm = -1;
  int direction = -1;
  long long packets = -1;
  loss_model_t model;
  int lossy[2] = {1, 1};

  for (int i = 1; i < argc; i++) {
    const char* name = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;

    if (value == NULL) usage("every option takes a value");
    i++;
    if (strcmp(name, "--tiff") == 0)
      tiff = value;
    else if (strcmp(name, "--ecm") == 0 && (strcmp(value, "0") == 0 || strcmp(value, "1") == 0))
      ecm = value[0] - '0';
    else if (strcmp(name, "--loss") == 0)
      loss_spec = value;
    else if (strcmp(name, "--seeds") == 0)
      seeds = value;
    else if (strcmp(name, "--pattern") == 0)
      pattern = value;
    else if (strcmp(name, "--direction") == 0 &&
             (strcmp(value, "0") == 0 || strcmp(value, "1") == 0))
      direction = value[0] - '0';
    else if (strcmp(name, "--packets") == 0)
      packets = uint32_arg(value, "--packets takes a count");
    else if (strcmp(name, "--lossy") == 0)
      lossy_arg = value;
    else
      usage("unknown option or bad value");
  }
  if (loss_spec == NULL || !parse_loss(loss_spec, &model)) usage("a valid --loss is required");

  if (pattern != NULL) {
    if (direction < 0) usage("--pattern needs --direction 0|1");
    if (packets < 0 || packets > MAX_PACKETS) usage("--pattern needs --packets N (N <= 10^7)");
    return print_pattern(uint32_arg(pattern, "--pattern takes a uint32 seed"), &model, direction,
                         (uint32_t)packets);
  }

  if (tiff == NULL || ecm < 0 || seeds == NULL) usage("--tiff, --ecm and --seeds are required");
  if (strcmp(lossy_arg, "0") == 0)
    lossy[1] = 0;
  else if (strcmp(lossy_arg, "1") == 0)
    lossy[0] = 0;
  else if (strcmp(lossy_arg, "both") != 0)
    usage("--lossy takes both, 0 or 1");
  {
    const char* end;
    uint32_t first;
    uint32_t last;

    if (!parse_uint32(seeds, &end, &first) || *end != '-' || !parse_uint32(end + 1, &end, &last) ||
        *end != '\0' || last < first || (uint64_t)last - first >= MAX_SEEDS)
      usage("--seeds takes A-B with A <= B, at most 100000 seeds");
    return run_seeds(tiff, ecm, &model, first, last, lossy);
  }
}
