// Gray pages to bilevel fax pages: text and line art thresholded, photos and gradients
// screened with a clustered dot, chosen per region.
//
// Pure functions over caller-owned buffers: no I/O, no global state, safe on any thread.
// A call allocates its output page and a few rows of scratch, never per pixel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/tiff_io.h"

namespace faxline::image {

enum class ConversionMode {
  kAuto,   // per 32 x 32 tile: text and line art thresholded, continuous tone screened
  kText,   // threshold every pixel
  kPhoto,  // screen every pixel
};

struct ConversionOptions {
  ConversionMode mode = ConversionMode::kAuto;
  double x_dpi = 204.0;  // the page's resolution; the screen is sized in millimetres from it
  double y_dpi = 196.0;
};

// `gray` holds `height` rows of `width` bytes, `stride` bytes apart: 0 = black, 255 = white,
// already at fax geometry. The result is packed MSB first, 1 = black, at the options'
// resolution. Throws std::invalid_argument for a null buffer, a size or resolution outside
// the page rule (page_rule.h) or a stride below the width.
//
// Text: black below 50% ink; also a faint thin stroke (a pixel clearly darker than the
// paper on both sides of it, across or along, or a hairline split over two pixels, their
// depths added where the line runs on) unless it is only the anti-aliased fringe past the end of a
// stroke two pixels long or more (a dotted line's 1-pixel dash keeps its fringe); then isolated
// single black pixels are dropped as specks, 1 px bumps and notches on straight stroke edges are
// straightened, and the last pixel of a 1 px stroke ending in a larger shape (a serif's tip) is
// trimmed. Last, each edge of the thresholded regions may move by a pixel where that saves more
// line time than it costs resemblance to the gray, keeping every shape whole (edge_placement.h).
// Tone: smoothed over 5 x 5 pixels, then an ordered clustered-dot screen on a checkerboard of
// cells about 0.62 x 0.39 mm (5 x 3 px at 204 x 196 dpi; about 38 lpi on the diagonal), or
// 0.5 x 0.39 mm (4 x 3 px) in a region (screened tiles touching each other) where a sample of
// its rows shows the finer one takes away enough blurred error for the T.6 bits it adds; sized
// from the resolution: rectangular black dots grow from the centres of half the cells, then
// the other half close in from one side. 30 grey levels at fine, ink in proportion to
// darkness (the darkest greys plain black, the lightest plain white). Rows repeat within a
// band of dots, so T.4 2D and T.6 code most dot edges in one bit; see bilevel.cpp for the
// measurements behind the choice. In a text tile next to a tone tile, flat greys are screened
// too, so that a gradient does not stop in a step where its edge (a frame line, tick marks) falls
// in a text tile. In auto mode, hard-edged marks inside a tone tile (paper and ink within 2 px:
// a chart's labels and axis, a frame round a gradient) are thresholded like text, not screened;
// so is text over a tint: a dark glyph (near black, at least 96 darker than the lightest
// pixel within 2 rows and 4 columns) thresholded at the local midpoint with a 1 px white margin, a
// white glyph on a tint of 50% or darker kept white with a 1 px dark rim, and the tint within 2 px
// of either screened unsmoothed and pushed a quarter of the way away from the glyph's tone.
BilevelPage ConvertToBilevel(const uint8_t* gray, uint32_t width, uint32_t height, size_t stride,
                             const ConversionOptions& options);

// Parts with an exact shortcut, exposed for the tests (test/cpp).
namespace bilevel_internal {

// The text decisions (1 = black) for pixels [x0, x1) of rows[2], rows[0 .. 4] being the five
// rows around it, `width` bytes each. With `skip_paper`, the paper at the ends is not decided
// one by one (as the conversion does); without, every pixel is.
void ThresholdRow(const uint8_t* const rows[5], uint32_t width, uint32_t x0, uint32_t x1,
                  uint8_t* out, bool skip_paper);

}  // namespace bilevel_internal

}  // namespace faxline::image
