/*
 * The line simulator's loss model (lib/transports/impairments.ts), bit for bit, for the
 * benchmark's C baselines, so a seed loses the same packets in C as in faxline: PRNG mulberry32,
 * a stream per direction seeded with (seed + direction * 0x9E3779B9) mod 2^32, one draw per
 * packet for random loss and always two (loss, then state change) for Gilbert-Elliott, starting
 * in the good state. test/unit/loss-pattern.test.ts checks it against the TS side.
 *
 * A loss SPEC is none, random:P or burst:P,R[,LOSS_G,LOSS_B] (probabilities as fractions).
 */
#ifndef FAXLINE_BENCH_LOSS_H
#define FAXLINE_BENCH_LOSS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { LOSS_NONE, LOSS_RANDOM, LOSS_BURST } loss_kind_t;

typedef struct {
  loss_kind_t kind;
  double p;
  double r;
  double loss_g;
  double loss_b;
} loss_model_t;

typedef struct {
  uint32_t state;
  const loss_model_t* model;
  int bad;
} loss_process_t;

static inline uint32_t mulberry32_next_u32(uint32_t* state) {
  uint32_t t;

  *state += 0x6D2B79F5u;
  t = *state;
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return t ^ (t >> 14);
}

/* A double in [0, 1), exactly the TS side's value: a uint32 divided by 2^32. */
static inline double mulberry32_next(uint32_t* state) {
  return (double)mulberry32_next_u32(state) / 4294967296.0;
}

static inline void loss_process_init(loss_process_t* lp, uint32_t seed, int direction,
                                     const loss_model_t* model) {
  lp->state = seed + (uint32_t)direction * 0x9E3779B9u;
  lp->model = model;
  lp->bad = 0;
}

/* Whether the next packet is lost. */
static inline int loss_process_lost(loss_process_t* lp) {
  const loss_model_t* m = lp->model;
  double u1;
  double u2;
  int lost;

  switch (m->kind) {
    case LOSS_NONE:
      return 0;
    case LOSS_RANDOM:
      return mulberry32_next(&lp->state) < m->p;
    case LOSS_BURST:
    default:
      /* Always both draws, whatever the state, so the stream stays in step with the TS side. */
      u1 = mulberry32_next(&lp->state);
      u2 = mulberry32_next(&lp->state);
      lost = u1 < (lp->bad ? m->loss_b : m->loss_g);
      if (!lp->bad && u2 < m->p)
        lp->bad = 1;
      else if (lp->bad && u2 < m->r)
        lp->bad = 0;
      return lost;
  }
}

/* A probability (a fraction in [0, 1]) at text; *end is where it stops. */
static inline int parse_probability(const char* text, char** end, double* out) {
  errno = 0;
  *out = strtod(text, end);
  return errno == 0 && *end != text && *out >= 0.0 && *out <= 1.0;
}

/* Parses a loss SPEC into m; returns 0 if it is not one. */
static inline int parse_loss(const char* spec, loss_model_t* m) {
  char* end;
  const char* p;

  memset(m, 0, sizeof(*m));
  m->loss_b = 1.0;
  if (strcmp(spec, "none") == 0) {
    m->kind = LOSS_NONE;
    return 1;
  }
  if (strncmp(spec, "random:", 7) == 0) {
    m->kind = LOSS_RANDOM;
    return parse_probability(spec + 7, &end, &m->p) && *end == '\0';
  }
  if (strncmp(spec, "burst:", 6) == 0) {
    m->kind = LOSS_BURST;
    p = spec + 6;
    if (!parse_probability(p, &end, &m->p) || *end != ',') return 0;
    if (!parse_probability(end + 1, &end, &m->r)) return 0;
    if (*end == '\0') return 1;
    if (*end != ',' || !parse_probability(end + 1, &end, &m->loss_g)) return 0;
    if (*end != ',' || !parse_probability(end + 1, &end, &m->loss_b)) return 0;
    return *end == '\0';
  }
  return 0;
}

#endif
