// The T.6 cost model edge placement weighs its flips with (native/image/t6_cost.h): the change
// index against its definition; the quick recoding of a moved edge (MovedEdgeDelta) against
// the general one (Recode), and both against coding the flipped row from scratch, for every
// pixel of many random and text-like rows.
//
// Build by hand (one line):
//   g++ -std=c++17 -O2 -Inative -Itest/cpp test/cpp/t6_cost_test.cpp native/image/tiff_io.cpp
//       -pthread $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include "image/t6_cost.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

namespace t6 = faxline::image::t6;
using faxline::test::Expect;
using faxline::test::Finish;
using faxline::test::Run;

namespace {

// A row and its change index, as the search keeps them.
struct Row {
  std::vector<uint8_t> pixels;
  std::vector<int> next;

  explicit Row(std::vector<uint8_t> p) : pixels(std::move(p)), next(pixels.size() + 1) {
    t6::IndexChanges(pixels.data(), Width(), next.data());
  }
  int Width() const { return static_cast<int>(pixels.size()); }
  t6::RowView View() const { return t6::RowView{pixels.data(), next.data(), Width()}; }
};

int TotalBits(const std::vector<t6::CoderState>& states) {
  int bits = 0;
  for (const t6::CoderState& s : states) bits += s.bits;
  return bits;
}

// The bits of `cur` coded against `ref` from scratch.
int CodedBits(const Row& ref, const Row& cur) {
  std::vector<t6::CoderState> states;
  t6::CodeRow(ref.View(), cur.View(), states);
  return TotalBits(states);
}

Row Flipped(const Row& row, int x) {
  std::vector<uint8_t> p = row.pixels;
  p[x] ^= 1;
  return Row(std::move(p));
}

// What the comparison of one pair of rows found.
struct Tally {
  long flips = 0;
  long moves = 0;  // flips that move an edge by a pixel: the ones MovedEdgeDelta is for
  long quick = 0;  // flips MovedEdgeDelta worked out itself
};

bool SameSteps(const t6::Recoding& a, const t6::Recoding& b) {
  if (a.start != b.start || a.meet != b.meet || a.delta != b.delta || a.looked != b.looked ||
      a.steps.size() != b.steps.size()) {
    return false;
  }
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const t6::CoderState &s = a.steps[i], &t = b.steps[i];
    if (s.a0 != t.a0 || s.colour != t.colour || s.bits != t.bits || s.looked != t.looked) {
      return false;
    }
  }
  return true;
}

// Every pixel of `cur`, then of `ref`, flipped in turn (left to right, hints carried as the
// search carries them): MovedEdgeDelta, where it answers, gives Recode's very recoding, and
// Recode's change in bits is the change in the row coded from scratch.
void CompareAll(const Row& ref, const Row& cur, const std::string& what, Tally& tally) {
  std::vector<t6::CoderState> states;
  t6::CodeRow(ref.View(), cur.View(), states);
  const int before = TotalBits(states);
  for (int side = 0; side < 2; ++side) {
    const bool in_cur = side == 0;
    size_t hint_quick = 0, hint_full = 0;
    t6::Recoding quick, full;
    for (int x = 0; x < cur.Width(); ++x) {
      ++tally.flips;
      const std::vector<uint8_t>& p = (in_cur ? cur : ref).pixels;
      const bool change_at = p[x] != (x > 0 ? p[x - 1] : 0);
      tally.moves += x + 1 < cur.Width() && change_at != (p[x + 1] != p[x]);
      const std::string where = what + (in_cur ? " cur" : " ref") + " x=" + std::to_string(x);
      const t6::RowView flipped = (in_cur ? cur : ref).View().WithFlip(x);
      const int delta = in_cur ? t6::Recode(ref.View(), flipped, states, x, hint_full, full)
                               : t6::Recode(flipped, cur.View(), states, x, hint_full, full);
      const int scratch =
          in_cur ? CodedBits(ref, Flipped(cur, x)) : CodedBits(Flipped(ref, x), cur);
      Expect(delta == scratch - before, where + ": Recode " + std::to_string(delta) +
                                            ", from scratch " + std::to_string(scratch - before));
      const int q =
          in_cur ? t6::MovedEdgeDelta<true>(ref.View(), cur.View(), states, x, hint_quick, quick)
                 : t6::MovedEdgeDelta<false>(ref.View(), cur.View(), states, x, hint_quick, quick);
      if (q == t6::kNotQuick) continue;
      ++tally.quick;
      Expect(q == delta,
             where + ": quick " + std::to_string(q) + ", Recode " + std::to_string(delta));
      Expect(SameSteps(quick, full), where + ": quick recoding differs from Recode's");
    }
  }
}

// Runs of random lengths (short ones mostly, now and then a long one, for make-up codes).
std::vector<uint8_t> RandomRow(std::mt19937& rng, int width) {
  std::vector<uint8_t> p(width);
  std::geometric_distribution<int> run(0.25);
  std::uniform_int_distribution<int> rare(0, 19);
  uint8_t colour = rng() & 1;
  for (int x = 0; x < width;) {
    const int n = 1 + (rare(rng) == 0 ? 60 + run(rng) * 20 : run(rng));
    for (int i = 0; i < n && x < width; ++i) p[x++] = colour;
    colour ^= 1;
  }
  return p;
}

// `ref` with each edge moved by -2..2 pixels now and then, and a few pixels toggled: two
// rows of a glyph, one under the other.
std::vector<uint8_t> NextRowOf(std::mt19937& rng, const std::vector<uint8_t>& ref) {
  const int width = static_cast<int>(ref.size());
  std::vector<uint8_t> p = ref;
  std::uniform_int_distribution<int> shift(-2, 2), chance(0, 9);
  for (int x = 1; x < width; ++x) {
    if (ref[x] == ref[x - 1] || chance(rng) > 3) continue;
    const int to = std::clamp(x + shift(rng), 1, width - 1);
    for (int i = std::min(x, to); i < std::max(x, to); ++i) p[i] = to > x ? ref[x - 1] : ref[x];
  }
  for (int i = 0; i < width / 40; ++i) p[rng() % width] ^= 1;
  return p;
}

// A text-like row pair: strokes 1 to 5 px wide, upright or slanting by a pixel a row, the
// way thresholding leaves the rows of a line of text.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> TextRows(std::mt19937& rng, int width) {
  std::vector<uint8_t> a(width), b(width);
  std::uniform_int_distribution<int> gap(2, 12), stem(1, 5), slant(-1, 1);
  for (int x = gap(rng); x + 7 < width; x += gap(rng)) {
    const int w = stem(rng), s = slant(rng), w2 = std::max(1, w + slant(rng));
    for (int i = 0; i < w; ++i) a[x + i] = 1;
    for (int i = 0; i < w2; ++i) b[std::clamp(x + s + i, 0, width - 1)] = 1;
    x += w;
  }
  return {a, b};
}

void RandomRowsAgree() {
  std::mt19937 rng(20261203);
  Tally tally;
  for (int i = 0; i < 300; ++i) {
    const int width = 8 + static_cast<int>(rng() % 250);
    const Row ref(RandomRow(rng, width));
    const Row cur(i % 3 == 0 ? RandomRow(rng, width) : NextRowOf(rng, ref.pixels));
    CompareAll(ref, cur, "random pair " + std::to_string(i), tally);
  }
  // White rows, black rows and one-pixel rows: the edges of the coding.
  const std::vector<std::vector<uint8_t>> edge_rows = {{0},
                                                       {1},
                                                       {0, 1},
                                                       {1, 0},
                                                       std::vector<uint8_t>(100, 0),
                                                       std::vector<uint8_t>(100, 1),
                                                       std::vector<uint8_t>(1728, 0)};
  for (const auto& r : edge_rows) {
    for (const auto& s : edge_rows) {
      if (r.size() == s.size()) CompareAll(Row(r), Row(s), "plain rows", tally);
    }
  }
  std::printf("  random rows: %ld flips, %ld moving an edge, %ld worked out quickly\n", tally.flips,
              tally.moves, tally.quick);
  Expect(tally.quick > tally.moves / 2, "the quick recoding answers for under half of moves");
}

void TextRowsAgree() {
  std::mt19937 rng(1728);
  Tally tally;
  for (int i = 0; i < 40; ++i) {
    const auto [a, b] = TextRows(rng, 1728);
    CompareAll(Row(a), Row(b), "text pair " + std::to_string(i), tally);
  }
  std::printf("  text rows: %ld flips, %ld moving an edge, %ld worked out quickly\n", tally.flips,
              tally.moves, tally.quick);
  // On text nearly every move is the common case.
  Expect(tally.quick > tally.moves * 9 / 10, "the quick recoding answers for under 90% of moves");
}

// A hand-worked case: a 3 px stem under a 3 px stem (V0, V0), its left edge moved right by
// a pixel: the first element is coded VR1 (3 bits) instead of V0 (1).
void HandWorkedStem() {
  std::vector<uint8_t> ref(16, 0), cur(16, 0);
  for (int x = 5; x < 8; ++x) ref[x] = cur[x] = 1;
  const Row r(ref), c(cur);
  std::vector<t6::CoderState> states;
  t6::CodeRow(r.View(), c.View(), states);
  // V0 at 5, V0 at 8, V0 at the end (b1 = 16): 3 bits.
  Expect(TotalBits(states) == 3, "stem under stem: " + std::to_string(TotalBits(states)) + " bits");
  size_t hint = 0;
  t6::Recoding out;
  const int q = t6::MovedEdgeDelta<true>(r.View(), c.View(), states, 5, hint, out);
  Expect(q == 2, "left edge moved right: " + std::to_string(q) + " bits more, not 2");
  // Flipping the pixel left of the stem moves the edge left: VL1, also 2 bits more; flipping
  // a pixel inside it (x = 6) splits the stem: not the quick case.
  hint = 0;
  Expect(t6::MovedEdgeDelta<true>(r.View(), c.View(), states, 4, hint, out) == 2,
         "edge moved left");
  hint = 0;
  Expect(t6::MovedEdgeDelta<true>(r.View(), c.View(), states, 6, hint, out) == t6::kNotQuick,
         "a split stem is not the quick case");
}

// IndexChanges (eight pixels at a time, from the right) against its definition, pixel by pixel:
// next[x] is the first p >= x with pixels[p] unlike pixels[p - 1] (white before the row), or the
// width. Every width from 1 to 80 (shorter than a block of eight, and not a multiple of it), runs
// of every length from sparse to one pixel.
void IndexMatchesDefinition() {
  std::mt19937 rng(2151);
  int mismatches = 0;
  for (int width = 1; width <= 80; ++width) {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<uint8_t> pixels(width);
      const unsigned flip_one_in = 1 + trial % 20;  // the odds of a change at each pixel
      uint8_t colour = static_cast<uint8_t>(rng() & 1);
      for (uint8_t& p : pixels) {
        if (rng() % flip_one_in == 0) colour ^= 1;
        p = colour;
      }
      std::vector<int> next(width + 1, -1);
      t6::IndexChanges(pixels.data(), width, next.data());
      for (int x = 0; x <= width; ++x) {
        int expected = width;
        for (int p = x; p < width; ++p) {
          if (pixels[p] != (p > 0 ? pixels[p - 1] : 0)) {
            expected = p;
            break;
          }
        }
        if (next[x] != expected && ++mismatches <= 5) {
          Expect(false, "width " + std::to_string(width) + ", next[" + std::to_string(x) +
                            "] = " + std::to_string(next[x]) + ", not " + std::to_string(expected));
        }
      }
    }
  }
  Expect(mismatches == 0, std::to_string(mismatches) + " entries differ");
}

}  // namespace

int main() {
  Run("the change index matches its definition", IndexMatchesDefinition);
  Run("quick recoding equals Recode and coding from scratch on random rows", RandomRowsAgree);
  Run("quick recoding equals Recode and coding from scratch on text-like rows", TextRowsAgree);
  Run("hand-worked stem", HandWorkedStem);
  return Finish("t6_cost");
}
