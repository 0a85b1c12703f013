// Edge placement for thresholded regions: each edge pixel is set the way that costs the
// fewest bits on the line for how much it changes the page as the eye sees it.
//
// Thresholding puts every edge on the pixel grid where the outline's centre falls. Coverage
// the threshold throws away (a stem 2.4 px wide, a curve between two rows) is still in the
// gray page, and so is the freedom to move an edge by a pixel where nobody can see it but T.6
// pays for it (a 1 px step that costs a 3-bit vertical code, or a 7-bit one). A greedy
// rate-distortion search weighs both: a pixel on an edge flips when the T.6 bits it saves
// outweigh the added squared error between the page and the gray, both blurred by a
// Gaussian eye model; or when the error it removes outweighs the bits it adds.
//
// Pure function over caller-owned buffers; allocates a few rows of scratch per call.
#pragma once

#include <cstddef>
#include <cstdint>

namespace faxline::image {

struct EdgeRegion {
  // Tiles of 1 << tile_shift pixels square, tiles_x per row: only pixels of tiles marked
  // non-zero may change.
  const uint8_t* editable_tiles;
  uint32_t tiles_x;
  uint32_t tile_shift;
};

// `pixels`: the bilevel page unpacked, one byte per pixel (1 = black), `width` per row,
// changed in place. `gray`: the gray page it was made from (0 = black), `stride` bytes apart.
// The eye model's blur and the T.6 cost are sized from the resolution.
void PlaceEdges(uint8_t* pixels, const uint8_t* gray, size_t stride, uint32_t width,
                uint32_t height, const EdgeRegion& region, double x_dpi, double y_dpi);

// The search's parts with an exact shortcut, exposed for the tests (test/cpp).
namespace edge_internal {

// The eight neighbours of pixel x of `row` as bits, counter-clockwise from east (bit 0 east,
// 1 north-east, 2 north, ... 7 south-east); rows of 0/1 bytes, paper beyond the sides.
unsigned Neighbours(const uint8_t* up, const uint8_t* row, const uint8_t* down, int x, int width);

// Whether a pixel (black or not) with these neighbours may flip and keep the page's topology:
// no stroke broken or shortened, no hole opened or filled, no two shapes joined.
bool FlipKeepsTopology(unsigned around, bool black);

// The same, looked up in a table of FlipKeepsTopology (what the search uses).
bool FlipKeepsTopologyQuick(unsigned around, bool black);

// out[x] = the sum over i of k[i] * in[x + i], for x in [x0, x1): float products added in
// order of i from 0.0f, as a scalar loop would, so the result is the same to the bit on any
// CPU (compiled for AVX2 and for baseline x86-64; no fused multiply-add).
void BlurRow(const float* in, const float* k, int taps, float* out, int x0, int x1);

// out[j] = the sum over t of weights[t] * rows[t][x + j], for j in [0, 8): likewise in order of
// t, from 0.0f.
void WeightedSum8(const float* const* rows, const float* weights, int terms, int x, float* out);

}  // namespace edge_internal

}  // namespace faxline::image
