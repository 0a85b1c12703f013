// T.6 (MMR) coding cost of bilevel rows, and of one row again with one pixel flipped: what
// edge placement weighs its flips with. Counts bits only (the real coder is libtiff's); the
// code lengths are ITU-T T.4's, the modes T.6's (pass, vertical, horizontal).
//
// Header-only so that the search inlines it and the C++ tests can check the quick recoding
// against the general one.
#pragma once

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace faxline::image::t6 {

// ---------------------------------------------------------------------------------------
// T.6 code lengths (ITU-T T.4 tables 1-3), in bits.

inline int WhiteTerminatingBits(int n) {
  static constexpr uint8_t kBits[64] = {8, 6, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6,
                                        6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8,
                                        8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
                                        8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  return kBits[n];
}

inline int BlackTerminatingBits(int n) {
  static constexpr uint8_t kBits[64] = {
      10, 3,  2,  2,  3,  4,  4,  5,  6,  6,  7,  7,  7,  8,  8,  9,  10, 10, 10, 11, 11, 11,
      11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
      12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12};
  return kBits[n];
}

// A run of n pixels of one colour: make-up codes for each 64 (up to 1728 at a time), then a
// terminating code.
inline int RunBits(int n, bool black) {
  int bits = 0;
  while (n >= 64) {
    const int units = std::min(n / 64, 27);
    if (black) {
      bits += units == 1 ? 10 : units <= 7 ? 12 : 13;
    } else {
      bits += units <= 2    ? 5
              : units == 3  ? 6
              : units == 4  ? 7
              : units <= 10 ? 8
              : units == 26 ? 6
                            : 9;
    }
    n -= units * 64;
  }
  return bits + (black ? BlackTerminatingBits(n) : WhiteTerminatingBits(n));
}

inline constexpr int kPassBits = 4;
inline constexpr int kVerticalBits[4] = {1, 3, 6, 7};  // V0, VR1/VL1, VR2/VL2, VR3/VL3
inline constexpr int kHorizontalBits = 3;

// One row as T.6 sees it: its pixels and, for each position, the first changing element (a
// pixel unlike the one before it, the first unlike white) at or after it; optionally with
// one pixel taken as flipped.
struct RowView {
  const uint8_t* pixels;
  const int* next;  // width + 1 entries; next[width] == width
  int width;
  int flipped = -1;
  // With the flip: whether the flipped pixel, and the one after it, are changing elements
  // (a flip changes nothing else).
  bool change_at_flip = false;
  bool change_after_flip = false;

  RowView WithFlip(int x) const {
    RowView view = *this;
    view.flipped = x;
    const uint8_t flipped_pixel = pixels[x] ^ 1;
    view.change_at_flip = flipped_pixel != (x > 0 ? pixels[x - 1] : 0);
    view.change_after_flip = x + 1 < width && pixels[x + 1] != flipped_pixel;
    return view;
  }
  uint8_t Pixel(int x) const {
    if (x < 0) return 0;
    return static_cast<uint8_t>(pixels[x] ^ (x == flipped));
  }
  // The first changing element at or after `from`, or width.
  int NextChange(int from) const {
    if (from >= width) return width;
    const int next_change = next[from];
    if (flipped < 0 || from > flipped + 1 || next_change < flipped) return next_change;
    if (change_at_flip && from <= flipped) return flipped;
    if (change_after_flip) return flipped + 1;
    return flipped + 2 <= width ? next[flipped + 2] : width;
  }
};

// Fills next[0 .. width] for a row (see RowView), from the right, eight entries at a time: a
// block of eight pixels with no changing element among them (most blocks, even of text rows)
// takes the value after it whole; one with changes, pixel by pixel. (Filling each run as it
// ends, left to right, took a third longer on text pages: many short runs.)
inline void IndexChanges(const uint8_t* pixels, int width, int* next) {
  next[width] = width;
  int after = width;  // the first changing element right of the current block
  int x = width;
  // The ragged end first, so that the blocks start at multiples of eight.
  for (const int end = width & ~7; x > end;) {
    --x;
    if (pixels[x] != (x > 0 ? pixels[x - 1] : 0)) after = x;
    next[x] = after;
  }
  while (x > 0) {
    x -= 8;
    if (x > 0) {
      uint64_t word, before;  // pixels x .. x + 7, and each one's left neighbour
      std::memcpy(&word, pixels + x, 8);
      std::memcpy(&before, pixels + x - 1, 8);
      if (word == before) {
        for (int i = 0; i < 8; ++i) next[x + i] = after;
        continue;
      }
    }
    for (int i = 7; i >= 0; --i) {
      const int p = x + i;
      if (pixels[p] != (p > 0 ? pixels[p - 1] : 0)) after = p;
      next[p] = after;
    }
  }
}

// After pixel x of a row flipped: only next[] at or left of x + 1, back to the changing
// element before x, can differ.
inline void ReindexAfterFlip(const uint8_t* pixels, int width, int x, int* next) {
  for (int p = std::min(x + 1, width - 1); p >= 0; --p) {
    const uint8_t before = p > 0 ? pixels[p - 1] : 0;
    const int value = pixels[p] != before ? p : next[p + 1];
    if (p < x && value == next[p]) break;
    next[p] = value;
  }
}

// Where the coder of one row stands: T.6's a0 and its colour, the bits of the step that
// brought it there (0 for the first state), and how far right the steps before it looked (a
// flip at or left of that changes them). Bits per step, not running totals: a kept flip then
// changes only the states it recodes, not every state after them.
struct CoderState {
  int a0;
  uint8_t colour;
  int bits;
  int looked;
};

// One step of T.6 two-dimensional coding from `state`; returns its bits.
inline int CodeStep(const RowView& ref, const RowView& cur, CoderState& state) {
  const int w = cur.width;
  const int a0 = state.a0;
  const int a1 = cur.NextChange(a0 + 1);
  int b1 = ref.NextChange(a0 + 1);
  if (b1 < w && ref.Pixel(b1) == state.colour) b1 = ref.NextChange(b1 + 1);
  // Pass mode needs b2 < a1, so b2 matters (and is looked at) only when b1 < a1.
  int looked = std::max(a1, b1);
  if (b1 < a1) {
    const int b2 = ref.NextChange(b1 + 1);
    if (b2 < a1) {
      state.a0 = b2;
      state.looked = std::max(state.looked, a1);
      return kPassBits;
    }
    looked = std::max(looked, b2);
  }
  const int d = a1 - b1;
  if (d >= -3 && d <= 3) {
    state.a0 = a1;
    state.colour ^= 1;
    state.looked = std::max(state.looked, looked);
    return kVerticalBits[std::abs(d)];
  }
  const int a2 = a1 < w ? cur.NextChange(a1 + 1) : w;
  const int bits = kHorizontalBits + RunBits(a1 - std::max(a0, 0), state.colour != 0) +
                   RunBits(a2 - a1, state.colour == 0);
  state.a0 = a2;
  state.looked = std::max(state.looked, std::max(looked, a2));
  return bits;
}

// The whole coding of `cur` against `ref`: every state it passes through, the last at the
// end of the row.
inline void CodeRow(const RowView& ref, const RowView& cur, std::vector<CoderState>& states) {
  states.clear();
  CoderState state{-1, 0, 0, -1};
  states.push_back(state);
  while (state.a0 < cur.width) {
    state.bits = CodeStep(ref, cur, state);
    states.push_back(state);
  }
}

// A row's coding redone with one pixel flipped: the new states after states[start], up to
// the one where the new coding meets the old (states[meet], or the row's end when meet is
// states.size()), and what it changes the row's bits by. Kept, so that a flip that pays is
// spliced in without coding it again.
struct Recoding {
  size_t start = 0;
  size_t meet = 0;
  int delta = 0;
  int looked = -1;  // how far right the new steps looked
  std::vector<CoderState> steps;
};

// Recodes the coding in `states` (of the rows as they are) with pixel `flip` flipped in `ref`
// or `cur` (set in the views): codes from the last state whose steps looked only left of the
// flip until the new coding meets the old one right of it. Returns the change in bits.
inline int Recode(const RowView& ref, const RowView& cur, const std::vector<CoderState>& states,
                  int flip, size_t& hint, Recoding& out) {
  // states[i].looked is the furthest right any step before state i looked: increasing, and
  // -1 for the first state, so there is always a state to start from. Flips are tried left
  // to right, so the start moves right from the last one (`hint`).
  const size_t n = states.size();
  size_t k = std::min(hint, n - 1);
  while (k > 0 && states[k].looked >= flip) --k;
  while (k + 1 < n && states[k + 1].looked < flip) ++k;
  hint = k;
  out.start = k;
  out.meet = n;
  out.steps.clear();
  CoderState state = states[k];
  int new_bits = 0;
  size_t same = k;  // the old state the new coding may meet next
  while (state.a0 < cur.width) {
    state.bits = CodeStep(ref, cur, state);
    new_bits += state.bits;
    out.steps.push_back(state);
    if (state.a0 > flip + 1) {
      // Right of the flip the coder looks only further right: where it stands in a state of
      // the old coding, the rest is the same.
      while (same < n && states[same].a0 < state.a0) ++same;
      if (same < n && states[same].a0 == state.a0 && states[same].colour == state.colour) {
        out.meet = same;
        break;
      }
    }
  }
  int old_bits = 0;
  const size_t old_last = out.meet < n ? out.meet : n - 1;
  for (size_t i = k + 1; i <= old_last; ++i) old_bits += states[i].bits;
  out.looked = state.looked;
  out.delta = new_bits - old_bits;
  return out.delta;
}

// What MovedEdgeDelta returns for a flip that is not the common case.
inline constexpr int kNotQuick = INT_MIN;
// How many steps MovedEdgeDelta recodes before it leaves the flip to Recode.
inline constexpr int kQuickSteps = 3;

// Recode for the common flip, quickly: pixel x flipped in `cur` (kFlipInCur) or in `ref`
// moves one changing element by a pixel, from e to e2 (an a1, b1 or b2 of a step or two),
// and within kQuickSteps steps the coder stands where it stood before, right of the flip.
// The same steps Recode codes, with the same result in `out`, but looked up in the rows' own
// change indexes with the one element moved, rather than through a view of any flip at every
// look. Any other flip returns kNotQuick (`out` unspecified), and Recode decides. `ref` and
// `cur` are the rows as they are (no flip set); `hint` is Recode's.
template <bool kFlipInCur>
int MovedEdgeDelta(const RowView& ref, const RowView& cur, const std::vector<CoderState>& states,
                   int x, size_t& hint, Recoding& out) {
  const int w = cur.width;
  const uint8_t* p = kFlipInCur ? cur.pixels : ref.pixels;
  if (x + 1 >= w) return kNotQuick;
  const uint8_t left = x > 0 ? p[x - 1] : 0;
  const bool change_at = left != p[x], change_after = p[x + 1] != p[x];
  if (change_at == change_after) return kNotQuick;  // a run of one pixel, or none
  const int e2 = change_at ? x + 1 : x;             // where the flip puts the element
  const int* rn = ref.next;
  const int* cn = cur.next;
  const uint8_t* rp = ref.pixels;
  // The flipped row's first changing element at or after `from` (from <= width): as before,
  // but for the element moved to e2.
  auto moved = [&](const int* next, int from) {
    const int r = next[from];
    if (from > x + 1 || r < x) return r;
    return from <= e2 ? e2 : next[x + 2];
  };
  auto ref_next = [&](int from) { return kFlipInCur ? rn[from] : moved(rn, from); };
  auto cur_next = [&](int from) { return kFlipInCur ? moved(cn, from) : cn[from]; };
  const size_t n = states.size();
  size_t k = std::min(hint, n - 1);
  while (k > 0 && states[k].looked >= x) --k;
  while (k + 1 < n && states[k + 1].looked < x) ++k;
  hint = k;
  out.start = k;
  out.steps.clear();
  CoderState state = states[k];
  int delta = 0;
  size_t same = k + 1;  // the old state the new coding may meet next
  for (int step = 0; step < kQuickSteps && state.a0 < w; ++step) {
    // One step of T.6 coding, as CodeStep (the flipped pixel's colour, where b1 falls on
    // it, is its new one).
    const int a0 = state.a0;
    const uint8_t c = state.colour;
    const int a1 = cur_next(a0 + 1);
    int b1 = ref_next(a0 + 1);
    if (b1 < w && (rp[b1] ^ (!kFlipInCur && b1 == x)) == c) b1 = ref_next(b1 + 1);
    int looked = std::max(a1, b1);
    const int b2 = b1 < a1 ? ref_next(b1 + 1) : w;
    if (b1 < a1) looked = std::max(looked, b2);
    if (b2 < a1) {
      state.a0 = b2, state.bits = kPassBits;
    } else if (a1 - b1 >= -3 && a1 - b1 <= 3) {
      state.a0 = a1, state.colour = c ^ 1, state.bits = kVerticalBits[std::abs(a1 - b1)];
    } else {
      const int a2 = a1 < w ? cur_next(a1 + 1) : w;
      state.bits =
          kHorizontalBits + RunBits(a1 - std::max(a0, 0), c != 0) + RunBits(a2 - a1, c == 0);
      state.a0 = a2, looked = std::max(looked, a2);
    }
    state.looked = std::max(state.looked, looked);
    delta += state.bits;
    out.steps.push_back(state);
    if (state.a0 <= x + 1) continue;
    while (same < n && states[same].a0 < state.a0) delta -= states[same++].bits;
    if (same < n && states[same].a0 == state.a0 && states[same].colour == state.colour) {
      out.meet = same;
      out.looked = state.looked;
      out.delta = delta - states[same].bits;
      return out.delta;
    }
  }
  return kNotQuick;
}

// Makes `states` the coding with the flip `recoding` was made for.
inline void Splice(std::vector<CoderState>& states, const Recoding& recoding) {
  // Replace the old states after the start up to the meeting state (or to the end) with the
  // new ones; the states after that keep their steps, having looked at least as far.
  const auto first = states.begin() + static_cast<std::ptrdiff_t>(recoding.start + 1);
  const auto last = recoding.meet < states.size()
                        ? states.begin() + static_cast<std::ptrdiff_t>(recoding.meet + 1)
                        : states.end();
  const size_t at = recoding.start + 1;
  if (static_cast<size_t>(last - first) == recoding.steps.size()) {
    std::copy(recoding.steps.begin(), recoding.steps.end(), first);  // as many steps: most flips
  } else {
    states.erase(first, last);
    states.insert(states.begin() + static_cast<std::ptrdiff_t>(at), recoding.steps.begin(),
                  recoding.steps.end());
  }
  // `looked` increases along the states, so the update stops at the first that looked further.
  for (size_t i = at + recoding.steps.size();
       i < states.size() && states[i].looked < recoding.looked; ++i) {
    states[i].looked = recoding.looked;
  }
}

}  // namespace faxline::image::t6
