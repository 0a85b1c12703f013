/*
 * What the benchmark's C baselines share: the T.30 capabilities the addon offers
 * (native/engine/t30_session.cpp), so raw SpanDSP negotiates as faxline does; the clock they
 * time with; a terminal's phase E bookkeeping; a T.38 terminal's set-up; the document's page
 * count; a uint32 argument.
 * All static inline: each baseline is one translation unit and uses only some of them.
 */
#ifndef FAXLINE_BENCH_BASELINE_H
#define FAXLINE_BENCH_BASELINE_H

#include <errno.h>
#include <spandsp.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define ALL_MODEMS (T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER)
#define ALL_COMPRESSIONS \
  (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION)
#define ALL_RESOLUTIONS                                                                        \
  (T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |                             \
   T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION | T30_SUPPORT_R16_RESOLUTION | \
   T30_SUPPORT_300_300_RESOLUTION | T30_SUPPORT_400_400_RESOLUTION |                           \
   T30_SUPPORT_600_600_RESOLUTION | T30_SUPPORT_1200_1200_RESOLUTION |                         \
   T30_SUPPORT_300_600_RESOLUTION | T30_SUPPORT_400_800_RESOLUTION |                           \
   T30_SUPPORT_600_1200_RESOLUTION)
#define ALL_IMAGE_SIZES                                                                        \
  (T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH | T30_SUPPORT_UNLIMITED_LENGTH | \
   T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH |               \
   T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH)

/* Empty timed intervals measured to find what the clock itself adds to each one. */
#define CLOCK_OVERHEAD_SAMPLES 1000000

static inline int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * What two CLOCK_MONOTONIC readings add to an interval between them, in ns: the mean of empty
 * intervals. Subtracted from a time per call, as the addon side subtracts its clock's, so the
 * figures compare SpanDSP's and faxline's work, not clock_gettime with performance.now().
 */
static inline double clock_overhead_ns(void) {
  int64_t total = 0;
  for (int i = 0; i < CLOCK_OVERHEAD_SAMPLES; i++) {
    int64_t start = now_ns(CLOCK_MONOTONIC);
    total += now_ns(CLOCK_MONOTONIC) - start;
  }
  return (double)total / CLOCK_OVERHEAD_SAMPLES;
}

/* How a terminal's call ended: set once, by the first phase E. */
typedef struct {
  int finished;
  int code;
} phase_e_t;

/* A phase E handler; its user data is the terminal's phase_e_t. */
static inline void on_phase_e(t30_state_t* t30, void* user_data, int completion_code) {
  phase_e_t* end = (phase_e_t*)user_data;
  (void)t30;
  if (end->finished) return;
  end->finished = 1;
  end->code = completion_code;
}

/*
 * A terminal's T.30 set-up, in the order the addon makes it (native/engine/t30_session.cpp):
 * ECM, modems, compressions, every resolution and image size, the document to send (from
 * `start_page`, -1 for the first) or the file to receive into, then phase E into `end`.
 */
static inline void configure_t30(t30_state_t* t30, int ecm, int modems, int compressions,
                                 int sending, const char* file, int start_page, phase_e_t* end) {
  t30_set_ecm_capability(t30, ecm);
  t30_set_supported_modems(t30, modems);
  t30_set_supported_compressions(t30, compressions);
  t30_set_supported_resolutions(t30, ALL_RESOLUTIONS);
  t30_set_supported_image_sizes(t30, ALL_IMAGE_SIZES);
  if (sending)
    t30_set_tx_file(t30, file, start_page, -1);
  else
    t30_set_rx_file(t30, file, -1);
  t30_set_phase_e_handler(t30, on_phase_e, end);
}

enum {
  /* The IFPs one T.38 side may queue in one tick. SpanDSP sends a few per 20 ms (one per 30 ms
     chunk of image data, indicators three times); overflow fails the run rather than hiding. */
  QUEUE_PACKETS = 256,
  /* SpanDSP's largest IFP: an ECM HDLC frame of T38_MAX_HDLC_LEN octets plus the IFP header. */
  MAX_IFP_BYTES = 512,
};

/* The IFPs one T.38 side sent during a tick, for the other side's next tick. */
typedef struct {
  int count;
  int overflow;
  uint16_t lengths[QUEUE_PACKETS];
  uint16_t seqs[QUEUE_PACKETS];
  uint8_t bytes[QUEUE_PACKETS][MAX_IFP_BYTES];
} queue_t;

/*
 * A T.38 terminal's set-up as the addon makes it with its default T.38 settings
 * (native/engine/t38_terminal.cpp): version 0, 14 400 bit/s, transferred TCF, a 2000-octet
 * buffer, 400-octet datagrams less the 6 octets of UDPTL framing, no fill-bit removal or
 * transcoding, sequence numbers checked. Paced, indicators sent when the signal changes (not
 * REGULAR_INDICATORS: with SpanDSP 0.0.6 two terminals that repeat them never finish a call).
 */
static inline void configure_t38_terminal(t38_terminal_state_t* t38) {
  t38_core_state_t* core = t38_terminal_get_t38_core_state(t38);

  t38_terminal_set_config(t38, 0);
  t38_set_data_transport_protocol(core, T38_TRANSPORT_UDPTL);
  t38_set_t38_version(core, 0);
  t38_set_fastest_image_data_rate(core, 14400);
  t38_set_data_rate_management_method(core, T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF);
  t38_set_max_buffer_size(core, 2000);
  t38_set_max_datagram_size(core, 400 - 6);
  t38_set_fill_bit_removal(core, 0);
  t38_set_mmr_transcoding(core, 0);
  t38_set_jbig_transcoding(core, 0);
  t38_set_sequence_number_handling(core, 1);
  t38_terminal_set_fill_bit_removal(t38, 0);
}

/* The completion code, or SpanDSP's call-dropped code for a call that never finished. */
static inline int phase_e_code(const phase_e_t* end) {
  return end->finished ? end->code : T30_ERR_CALLDROPPED;
}

/* The pages of the TIFF, counted by SpanDSP's own reader (-1 if it cannot read the file). */
static inline int pages_in_tiff(const char* tiff) {
  t4_tx_state_t* t4;
  int pages;

  if ((t4 = t4_tx_init(NULL, tiff, -1, -1)) == NULL) return -1;
  pages = t4_tx_get_pages_in_file(t4);
  t4_tx_free(t4);
  return pages;
}

/* A decimal uint32 at the start of text (a digit first: no sign, no space); *end after it. */
static inline int parse_uint32(const char* text, const char** end, uint32_t* out) {
  char* e;
  unsigned long long v;

  if (*text < '0' || *text > '9') return 0;
  errno = 0;
  v = strtoull(text, &e, 10);
  if (errno != 0 || v > 0xFFFFFFFFull) return 0;
  *out = (uint32_t)v;
  *end = e;
  return 1;
}

#endif
