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

}  // namespace faxline::image
