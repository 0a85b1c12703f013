// The exact shortcuts of edge placement (native/image/edge_placement.h, edge_internal): the
// topology test looked up in a table against the rule it tabulates and against an
// independent count of the paper around the pixel; the neighbours' bit order; and the
// vectorized blur and field sums against the scalar loops they replace, to the bit.
//
// Build by hand (one line):
//   g++ -std=c++17 -O2 -Inative -Itest/cpp test/cpp/edge_placement_test.cpp
//       native/image/edge_placement.cpp native/image/tiff_io.cpp
//       -pthread $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include "image/edge_placement.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "harness.h"

namespace edge = faxline::image::edge_internal;
using faxline::test::Expect;
using faxline::test::Finish;
using faxline::test::Run;

namespace {

// Neighbour bits, counter-clockwise from east (edge_internal::Neighbours).
constexpr unsigned kE = 1, kNE = 2, kN = 4, kNW = 8, kW = 16, kSW = 32, kS = 64, kSE = 128;

// The topology rule worked out another way: the pieces of paper around the pixel are the
// runs of white round its ring of eight neighbours that touch it by a side (hold an east,
// north, west or south neighbour); a pixel may flip where there is exactly one (a ring all
// paper counts none: the pixel is alone), and a black one only where it is not a stroke's end
// (one black neighbour, or two next to each other round the ring).
bool RingRule(unsigned around, bool black) {
  auto white = [&](int k) { return ((around >> (k & 7)) & 1) == 0; };
  int pieces = 0;
  if (around != 0) {
    for (int k = 0; k < 8; ++k) {
      if (!white(k) || white(k - 1 + 8)) continue;  // not the first pixel of a run
      bool by_a_side = false;
      for (int j = k; white(j); ++j) by_a_side = by_a_side || (j & 1) == 0;
      pieces += by_a_side;
    }
  }
  if (pieces != 1) return false;
  if (!black) return true;
  int neighbours = 0;
  for (int k = 0; k < 8; ++k) neighbours += !white(k);
  if (neighbours == 1) return false;
  if (neighbours == 2) {
    for (int k = 0; k < 8; ++k) {
      if (!white(k) && !white(k + 1)) return false;
    }
  }
  return true;
}

void TableEqualsRule() {
  int mismatches = 0;
  for (unsigned around = 0; around < 256; ++around) {
    for (bool black : {false, true}) {
      const bool rule = edge::FlipKeepsTopology(around, black);
      if (edge::FlipKeepsTopologyQuick(around, black) != rule) ++mismatches;
      Expect(RingRule(around, black) == rule, "the ring count disagrees with Yokoi's rule at " +
                                                  std::to_string(around) +
                                                  (black ? " (black)" : " (white)"));
    }
  }
  Expect(mismatches == 0, std::to_string(mismatches) + " table entries differ from the rule");
}

void HandWorkedNeighbourhoods() {
  // A white pixel on its own: flipping it makes a speck.
  Expect(!edge::FlipKeepsTopologyQuick(0, false), "a lone white pixel may not turn black");
  // A white pixel against a straight edge on its west: the edge moves.
  Expect(edge::FlipKeepsTopologyQuick(kNW | kW | kSW, false), "white beside an edge");
  Expect(edge::FlipKeepsTopologyQuick(kNW | kW | kSW, true), "black at an edge's side");
  // White between two shapes (west and east): turning it black joins them.
  Expect(!edge::FlipKeepsTopologyQuick(kW | kE, false), "white between two shapes");
  // Black in the middle of a 1 px line: taking it away breaks the line.
  Expect(!edge::FlipKeepsTopologyQuick(kW | kE, true), "black inside a 1 px line");
  // Black at the end of a 1 px line (one neighbour), or of a diagonal pair: a stroke's end.
  Expect(!edge::FlipKeepsTopologyQuick(kW, true), "the end of a 1 px line");
  Expect(!edge::FlipKeepsTopologyQuick(kW | kNW, true), "the end of a 2 px wide stroke");
  // Black with three neighbours side by side: a corner that may round off.
  Expect(edge::FlipKeepsTopologyQuick(kS | kSE | kE, true), "a corner of a thick shape");
  // Black surrounded by black: removing it opens a hole.
  Expect(!edge::FlipKeepsTopologyQuick(255, true), "black inside a shape");
  // White inside a ring of black: filling it closes a hole.
  Expect(!edge::FlipKeepsTopologyQuick(255, false), "a one-pixel hole");
}

void NeighbourBits() {
  // Each neighbour alone, in the middle of the row and at both ends (paper beyond).
  const int width = 5;
  const int dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
  const int dy[8] = {0, -1, -1, -1, 0, 1, 1, 1};
  for (int x : {0, 2, width - 1}) {
    for (int k = 0; k < 8; ++k) {
      std::vector<uint8_t> rows[3] = {std::vector<uint8_t>(width, 0),
                                      std::vector<uint8_t>(width, 0),
                                      std::vector<uint8_t>(width, 0)};
      const int nx = x + dx[k];
      if (nx >= 0 && nx < width) rows[1 + dy[k]][nx] = 1;
      const unsigned expected = nx >= 0 && nx < width ? 1u << k : 0u;
      const unsigned got =
          edge::Neighbours(rows[0].data(), rows[1].data(), rows[2].data(), x, width);
      Expect(got == expected, "neighbour " + std::to_string(k) + " of x = " + std::to_string(x) +
                                  ": bits " + std::to_string(got));
    }
  }
  // Everything black but the pixel itself: all eight inside, the outside ones dropped at an end.
  std::vector<uint8_t> black(width, 1);
  Expect(edge::Neighbours(black.data(), black.data(), black.data(), 2, width) == 255,
         "all eight neighbours");
  Expect(edge::Neighbours(black.data(), black.data(), black.data(), 0, width) ==
             (kE | kNE | kN | kS | kSE),
         "west of the page is paper");
}

// The scalar loops BlurRow and WeightedSum8 stand for: each tap's (row's) products added in
// turn, as edge placement summed them before.
void BlurByTaps(const float* in, const float* k, int taps, float* out, int x0, int x1) {
  for (int x = x0; x < x1; ++x) out[x] = 0.0f;
  for (int i = 0; i < taps; ++i) {
    for (int x = x0; x < x1; ++x) out[x] += k[i] * in[x + i];
  }
}

void VectorSumsEqualScalar() {
  std::mt19937 random(13);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const int taps = 3 + 2 * static_cast<int>(random() % 14);  // 3 .. 29, odd as the kernels
    const int width = 1 + static_cast<int>(random() % 300);
    std::vector<float> in(static_cast<size_t>(width) + taps), k(taps);
    for (float& v : in) v = value(random);
    for (float& v : k) v = value(random);
    const int x0 = static_cast<int>(random() % width);
    const int x1 = x0 + static_cast<int>(random() % (width - x0 + 1));
    std::vector<float> vector_out(width, 7.0f), scalar_out(width, 7.0f);
    edge::BlurRow(in.data(), k.data(), taps, vector_out.data(), x0, x1);
    BlurByTaps(in.data(), k.data(), taps, scalar_out.data(), x0, x1);
    Expect(std::memcmp(vector_out.data(), scalar_out.data(), sizeof(float) * width) == 0,
           "BlurRow differs from the loop over taps (trial " + std::to_string(trial) + ")");

    const int terms = 1 + static_cast<int>(random() % 33);
    std::vector<std::vector<float>> rows(terms, std::vector<float>(16));
    std::vector<const float*> row_pointers;
    std::vector<float> weights(terms);
    for (int t = 0; t < terms; ++t) {
      for (float& v : rows[t]) v = value(random);
      row_pointers.push_back(rows[t].data());
      weights[t] = value(random);
    }
    const int x = static_cast<int>(random() % 8);
    float sums[8];
    edge::WeightedSum8(row_pointers.data(), weights.data(), terms, x, sums);
    for (int j = 0; j < 8; ++j) {
      float field = 0;
      for (int t = 0; t < terms; ++t) field += weights[t] * rows[t][x + j];
      Expect(std::memcmp(&field, &sums[j], sizeof field) == 0,
             "WeightedSum8 differs from the sum over rows (trial " + std::to_string(trial) + ")");
    }
  }
}

}  // namespace

int main() {
  Run("the topology table equals the rule, and the rule the ring count", TableEqualsRule);
  Run("hand-worked neighbourhoods", HandWorkedNeighbourhoods);
  Run("neighbour bits, counter-clockwise from east", NeighbourBits);
  Run("vectorized blur and field sums equal the scalar loops to the bit", VectorSumsEqualScalar);
  return Finish("edge_placement");
}
