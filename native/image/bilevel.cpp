#include "image/bilevel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "image/edge_placement.h"
#include "image/page_rule.h"
#include "image/t6_cost.h"

namespace faxline::image {
namespace {

// The prebuild runs on any x86-64 (no -march), so the vectorized byte loops are compiled twice,
// for AVX2 (32 pixels a step) and for the baseline (SSE2, 16), and the loader picks one for
// the CPU. Integer arithmetic only: both give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FAXLINE_HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define FAXLINE_HOT_LOOP
#endif

// ---------------------------------------------------------------------------------------
// Tuning. Every number here was chosen on PDFium renders of text, photo and mixed pages at
// 204 x 196 and 204 x 98 dpi, against T.6 size and blurred similarity to the gray page.

// Regions are classified in tiles of 32 x 32 pixels (about 4 mm square at fine).
constexpr uint32_t kTileShift = 5;
constexpr uint32_t kTile = 1u << kTileShift;

// Text: a pixel is ink below 50% gray...
constexpr uint8_t kTextThreshold = 128;
// ...or when it is this much darker than the paper on both sides of it (within 2 px,
// horizontally or vertically): a faint hairline or a light 1 px stroke stays continuous.
constexpr uint8_t kValleyMargin = 40;
// A hairline split over two pixels (PDFium draws one 1 px wide, however thin, so 30% grey
// comes out as two pixels 38 darker than the paper, or one 76 darker) is a valley when the
// two together are this much darker than the paper, and it runs on: a neighbour along it is
// kRunDepth darker too. (Less, 40 like a single pixel, also caught a light tint's 2 x 2
// specks on the CUPS test page: 0.01 lower blurred SSIM, 3% more T.6.)
constexpr uint8_t kSplitMargin = 56;
constexpr uint8_t kRunDepth = 16;
// How much darker than that paper a pixel may be and still count as paper.
constexpr uint8_t kPaperTolerance = 24;
// A black pixel with no black neighbour is a speck, dropped (CleanText), unless the gray there
// is a lone dot: the darkest of its 3 x 3 pixels, another of those kRunDepth darker than the
// paper (a dot drawn anti-aliased spreads over two pixels or more; a speck of dirt in a scan
// is one), all the 16 around them within kPaperTolerance of the lightest of them. Then it is a
// dot of a dotted line (a 0.5 pt dot at 30% grey thresholds to one pixel) or a full stop, and
// stays.

// A "flat mid-tone" pixel, the evidence for continuous tone: neither near-white nor
// near-black, and close to its neighbours on both axes (anti-aliased text edges are
// mid-tones too, but always steep). The dark end is low, so that the shadows of a photograph
// (greys 20-40, smooth but for JPEG noise) count as tone and are screened, not thresholded
// to solid black: text rendered for fax is 0 or 255, solid fills 0.
// The light end reaches up to a 7% grey: a light tint (a shaded plot area, a table's 10%
// band) is tone, screened near its grey rather than thresholded to plain paper; greys lighter
// than the screen's light clip come out white either way. (At 216, a 10% tint came out blank
// and a 15% one half blank, in a patchwork of tiles.)
constexpr int kToneLow = 20;
constexpr int kToneHigh = 236;
constexpr int kFlatStep = 24;
// A tile is continuous tone when at least 1/8 of its pixels are flat mid-tones.
constexpr uint32_t kToneShareDenominator = 8;
// A "steep" pixel: its neighbours on one axis differ by more than this. Text is full of
// them; a tile with at most 1/64 of them is smooth.
constexpr int kSteepStep = 48;
constexpr uint32_t kSmoothShareDenominator = 64;
// Continuous tone spreads into smooth neighbouring tiles, up to 4 tiles (16 mm) away: the
// light and dark ends of a gradient have no mid-tones, yet must be screened like the rest
// of it, or the screen stops in a visible step. Paper white and solid black come out the
// same either way.
constexpr int kGrowPasses = 4;
// A text tile with at least this many continuous-tone tiles among its 8 neighbours joins
// them, so a photo with hard-edged or near-black patches is not cut into a patchwork.
constexpr int kFillNeighbours = 5;
constexpr int kFillPasses = 2;
// Tone tiles stop at tile edges, but a gradient need not: a text tile that holds a frame line
// or tick marks along a gradient's edge is neither smooth nor full of mid-tones, so it stays
// text, and thresholding its greys to plain white or black would cut a step into the screen
// at the tile boundary. In a text tile next to a tone tile (one of its 8 neighbours), a pixel
// is screened instead when it is flat, within kFlatStep of its 4 neighbours (anti-aliased
// glyph edges and faint 1 px lines are not), and a grey the screen does not clip. Paper,
// black and strokes come out as in any text tile. (Screening only the light greys left the
// dark end of a grey scale above its tick marks solid black under a screened band: a step
// plain to see with the 5 x 3 px screen's holes. Screening the dark ones too costs the
// benchmark's photo pages 0.1% more T.6 and scores 0.0003 higher.)

// A light line over a light tint (a 30% grid line on a 15% plot area) stands out from the tint
// by less than kSplitMargin (51 grey levels on 10%, 13 on 25%), and the screen would break it
// into dots. In a tile that is a flat tint (below), it is drawn solid where a pixel and its
// twin (as in a split hairline) are kTintLineMargin darker than the tint together, the pixels
// each side of them within kTintSides of the tint and of each other, and kTintStep lighter than
// the pixel at least (an edge between two greys has one side as dark as the edge: without this,
// the block edges of scribus-kites-bw's posterized sky became lines, 0.005 lower); and the
// line runs on, kTintRun darker than the tint, a pixel each way along it or two pixels one way
// (to its end). (Margin 10, run 5: a 30% 0.25 pt line over a 25% tint is two pixels 7 darker.)
constexpr uint8_t kTintLineMargin = 10;
constexpr uint8_t kTintSides = 10;
constexpr uint8_t kTintRun = 5;
constexpr uint8_t kTintStep = 3;
// A tile is a flat tint when half its pixels or more are within kTintSpread of one grey from
// kTintPaper to kTintLight, and 2/5 of them still too (the same grey as the pixels right of
// and below them): a flat fill is one grey, a chart's 10-25% gradient 2-3 greys a tile, its
// lines and marks the rest (the test chart's tiles: 0.47 still at least). A photograph's
// tiles mostly are not (the bench's JPEG photographs: 0.38 still at most but for 19 tiles of
// bluebells, up to 0.61, where the line rule then finds nothing): applied in all
// tone tiles, the rule drew their textures' specks and edges as lines, and the six bench
// photographs lost 0.006 blurred SSIM; with the still share, 0.00001. A tile across the tint's
// edge is the tint too when half the pixels that are not paper (255) are within kTintSpread of
// the grey of such a tile next to it. Every other pixel of every other row is counted.
constexpr int kTintSpread = 3;
constexpr int kTintPaper = 160;
constexpr int kTintLight = kToneHigh;
constexpr uint32_t kTintShareDenominator = 2;
constexpr uint32_t kTintStillNumerator = 2;
constexpr uint32_t kTintStillDenominator = 5;

// The screen: rectangular dots on a checkerboard of cells 5 x 3 pixels at 204 x 196 dpi
// (0.62 x 0.39 mm). A checkerboard is a diagonal screen (its fundamental runs along the
// diagonals: about 38 lpi at 58 degrees here), yet every dot edge is horizontal or vertical,
// so the rows inside a band of dots repeat exactly (one bit per edge in T.6). Where one band
// hands over to the next, the dots move 5 px sideways: beyond the reach of the vertical
// codes, so T.6 uses its cheaper horizontal mode there (3 px cells would cost 40% more).
// The cell size sets a photo's line time against its texture: 4 x 3 px cells (41 lpi) cost
// 12-15% more T.6 on the benchmark's six photographs for 0.015-0.028 more blurred SSIM; 5 x 3
// brings a photo page under 0.6x Ghostscript's line time while still scoring above
// Ghostscript's own screen. So both are used: 5 x 3, and 4 x 3 in a region where it is worth
// its cost (ChooseScreens).
constexpr double kCellWidthMm = 25.4 * 5.0 / 204.0;
constexpr double kFineCellWidthMm = 25.4 * 4.0 / 204.0;
constexpr double kCellHeightMm = 25.4 * 3.0 / 196.0;
// In screened areas, greys darker than this are plain black and greys at or above
// 256 - kScreenClipLight plain white: a lone dot or hole costs a dozen bits on the line.
// The dark one is low because shadows are where a photograph loses most: a dark uniform at
// greys 9-25, clipped at 17, came out a black blob (the benchmark's portrait scored 0.80
// blurred SSIM, against 0.95 at 8, for 24% more T.6); at 4, the screen's darkest level, the
// hole of a dark silhouette's edge is kept too: the benchmark's six photographs score 0.0033
// higher (a sunset's silhouettes 0.013) for 0.65% more T.6. The light one stays at 16 though 32
// would save 2.5% of T.6 for 0.006 of SSIM: a light sky or a pale background (greys 224-240)
// would turn to plain paper.
constexpr int kScreenClipDark = 4;
constexpr int kScreenClipLight = 16;
// Screened areas are smoothed first, over 5 x 5 pixels with weights 1 2 2 2 1 on each axis
// (about 1.2 px): detail finer than a cell can only come out as a dot's ragged edge, which
// aliases into texture. Plus 0.006 of SSIM on photographs, the same T.6 size.
constexpr uint32_t kSmoothEdge = 1;
constexpr uint32_t kSmoothInner = 2;
constexpr uint32_t kSmoothSum = 2 * kSmoothEdge + 3 * kSmoothInner;

// ---------------------------------------------------------------------------------------
// The screen

// Thresholds over one period of the screen: a pixel is black when gray < threshold.
struct Screen {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> thresholds;  // row-major, width * height
};

// Growth order of a dot inside a cell_w x cell_h cell: a rectangle grown one pixel at a
// time from the centre, widening or heightening whichever is relatively smaller, so the
// dot is a rectangle (rows identical) as often as possible. Returns rank[y * cell_w + x].
std::vector<int> DotGrowthOrder(int cell_w, int cell_h) {
  // Columns (and rows) in the order they join: centre, then alternately after and before.
  auto axis_order = [](int n) {
    std::vector<int> order;
    const int centre = (n - 1) / 2;
    order.push_back(centre);
    for (int step = 1; static_cast<int>(order.size()) < n; ++step) {
      if (centre + step < n) order.push_back(centre + step);
      if (centre - step >= 0 && static_cast<int>(order.size()) < n) order.push_back(centre - step);
    }
    return order;
  };
  const std::vector<int> cols = axis_order(cell_w);
  const std::vector<int> rows = axis_order(cell_h);
  std::vector<int> rank(static_cast<size_t>(cell_w) * cell_h, -1);
  int next = 0;
  rank[static_cast<size_t>(rows[0]) * cell_w + cols[0]] = next++;
  int w = 1, h = 1;
  while (w < cell_w || h < cell_h) {
    const bool widen = h == cell_h || (w < cell_w && w * cell_h <= h * cell_w);
    if (widen) {
      for (int i = 0; i < h; ++i) rank[static_cast<size_t>(rows[i]) * cell_w + cols[w]] = next++;
      ++w;
    } else {
      for (int j = 0; j < w; ++j) rank[static_cast<size_t>(rows[h]) * cell_w + cols[j]] = next++;
      ++h;
    }
  }
  return rank;
}

// The order in which a white-centred cell turns black (its hole closes), as the position of
// each pixel: y * cell_w + x -> 0 first. Column by column from the left, snaking (the first
// bottom to top, the next top to bottom), until two columns are left; then those two row by
// row from the bottom, so the last hole is the top row's last two pixels. Found by searching
// orders for the smallest T.6 size of flat greys: 6% less than the centred growth of the
// black dots on the dark half of the range at 4 x 3 px (4% at 4 x 2, 6% at 4 x 6), 3% less on
// the benchmark's photo pages, at the same blurred SSIM. (Its mirror images do not do as
// well against the black dots' centred growth; the same search found nothing better than
// that growth for the black dots.)
std::vector<int> HoleClosingOrder(int cell_w, int cell_h) {
  std::vector<int> position(static_cast<size_t>(cell_w) * cell_h);
  int next = 0;
  for (int x = 0; x < cell_w - 2; ++x) {
    for (int i = 0; i < cell_h; ++i) {
      const int y = x % 2 == 0 ? cell_h - 1 - i : i;
      position[static_cast<size_t>(y) * cell_w + x] = next++;
    }
  }
  for (int y = cell_h - 1; y >= 0; --y) {
    for (int x = std::max(0, cell_w - 2); x < cell_w; ++x) {
      position[static_cast<size_t>(y) * cell_w + x] = next++;
    }
  }
  return position;
}

// One period of the screen: 2 x 2 cells, black-centred at top left and bottom right. All
// black-centred cells grow alike and all white-centred cells close alike, so every grey is
// a single dot shape repeated on the checkerboard: 2 * cell area grey levels (30 at fine).
// Interleaving the growth of the two cells of each colour (one pixel ahead in one of them,
// twice the levels) scored 0.0045 lower blurred SSIM on photographs for the same T.6 size:
// the cells that differ put a texture of the 2 x 2-cell period on half the greys, which a
// 0.3 mm blur does not hide, where the extra levels are finer than the blur can tell apart.
Screen BuildScreen(int cell_w, int cell_h) {
  const std::vector<int> growth = DotGrowthOrder(cell_w, cell_h);
  const std::vector<int> closing = HoleClosingOrder(cell_w, cell_h);
  const int area = cell_w * cell_h;
  const int levels = 2 * area;

  Screen screen;
  screen.width = 2 * cell_w;
  screen.height = 2 * cell_h;
  screen.thresholds.resize(static_cast<size_t>(screen.width) * screen.height);
  for (int y = 0; y < screen.height; ++y) {
    for (int x = 0; x < screen.width; ++x) {
      const int cx = x / cell_w, cy = y / cell_h;
      const size_t in_cell = static_cast<size_t>(y % cell_h) * cell_w + x % cell_w;
      // Black-centred cells fill first (0..50%), then white-centred cells close in.
      const int level = ((cx + cy) & 1) == 0 ? growth[in_cell] : area + closing[in_cell];
      // The level-th pixel to turn black does so below this grey: levels spread evenly over
      // the whole 0..255 range, so a flat grey g gets (255 - g) / 255 of ink, as the eye
      // (or a blur) averages it; the clip only moves the ends to plain black or white.
      // (Spreading the levels over the clipped range instead made every shadow too dark:
      // a photograph lost 0.07 of blurred SSIM.)
      const double t = 255.0 * (1.0 - (level + 0.5) / levels) + 0.5;
      screen.thresholds[static_cast<size_t>(y) * screen.width + x] = static_cast<uint8_t>(
          std::clamp(static_cast<int>(std::lround(t)), kScreenClipDark, 256 - kScreenClipLight));
    }
  }
  return screen;
}

Screen ScreenFor(double cell_width_mm, double x_dpi, double y_dpi) {
  const int cell_w = std::max(2, static_cast<int>(std::lround(cell_width_mm * x_dpi / 25.4)));
  const int cell_h = std::max(2, static_cast<int>(std::lround(kCellHeightMm * y_dpi / 25.4)));
  return BuildScreen(cell_w, cell_h);
}

// ---------------------------------------------------------------------------------------
// The page

struct GrayPage {
  const uint8_t* data;
  uint32_t width;
  uint32_t height;
  size_t stride;

  // Row y, clamped to the page: the border is repeated.
  const uint8_t* Row(int64_t y) const {
    const int64_t clamped = std::clamp<int64_t>(y, 0, static_cast<int64_t>(height) - 1);
    return data + static_cast<size_t>(clamped) * stride;
  }
};

inline uint8_t AbsDiff(uint8_t a, uint8_t b) { return static_cast<uint8_t>(a > b ? a - b : b - a); }

// Tile kinds.
constexpr uint8_t kTextTile = 0;
constexpr uint8_t kToneTile = 1;
constexpr uint8_t kToneBorder = 2;  // text, next to tone: its flat greys are screened

// The columns [first, last) of [x0, x1) outside which all `count` rows are paper (255), found
// 32 and then 8 columns at a time; first >= last if they are paper throughout. (Inlined into
// its callers, AVX2 clones and all.)
template <int count>
__attribute__((always_inline)) inline std::pair<size_t, size_t> InkColumns(
    const uint8_t* const* rows, size_t x0, size_t x1) {
  typedef uint8_t Bytes32 __attribute__((vector_size(32)));
  auto paper32 = [&](size_t x) {
    Bytes32 all, row;
    std::memcpy(&all, rows[0] + x, 32);
    for (int i = 1; i < count; ++i) {
      std::memcpy(&row, rows[i] + x, 32);
      all &= row;
    }
    uint64_t words[4];
    std::memcpy(words, &all, 32);
    return (words[0] & words[1] & words[2] & words[3]) == ~0ull;
  };
  auto paper8 = [&](size_t x) {
    uint64_t all = ~0ull;
    for (int i = 0; i < count; ++i) {
      uint64_t word;
      std::memcpy(&word, rows[i] + x, 8);
      all &= word;
    }
    return all == ~0ull;
  };
  auto paper1 = [&](size_t x) {
    uint8_t all = 255;
    for (int i = 0; i < count; ++i) all &= rows[i][x];
    return all == 255;
  };
  size_t first = x0;
  while (first + 32 <= x1 && paper32(first)) first += 32;
  while (first + 8 <= x1 && paper8(first)) first += 8;
  while (first < x1 && paper1(first)) ++first;
  size_t last = x1;
  while (last >= first + 32 && paper32(last - 32)) last -= 32;
  while (last >= first + 8 && paper8(last - 8)) last -= 8;
  while (last > first && paper1(last - 1)) --last;
  return {first, last};
}

// The kind of each tile, row-major over ceil(width / 32) x ceil(height / 32).
FAXLINE_HOT_LOOP
std::vector<uint8_t> ClassifyTiles(const GrayPage& page, uint32_t tiles_x, uint32_t tiles_y) {
  const size_t tiles = static_cast<size_t>(tiles_x) * tiles_y;
  std::vector<uint32_t> flat(tiles, 0);
  std::vector<uint32_t> steep(tiles, 0);
  // Counts per column within the current row of tiles, summed into tiles every 32 rows.
  std::vector<uint16_t> flat_columns(page.width, 0);
  std::vector<uint16_t> steep_columns(page.width, 0);
  uint16_t* __restrict flat_column = flat_columns.data();
  uint16_t* __restrict steep_column = steep_columns.data();
  for (uint32_t y = 0; y < page.height; ++y) {
    const uint8_t* __restrict up = page.Row(static_cast<int64_t>(y) - 1);
    const uint8_t* __restrict row = page.Row(y);
    const uint8_t* __restrict down = page.Row(static_cast<int64_t>(y) + 1);
    // Paper (255) all round counts as neither flat nor steep: only the columns with anything
    // else in reach are counted.
    const uint8_t* rows[3] = {up, row, down};
    const auto [ink0, ink1] = InkColumns<3>(rows, 0, page.width);
    const size_t x0 = std::max<size_t>(1, ink0 >= 1 ? ink0 - 1 : 0);
    const size_t x1 = std::min<size_t>(page.width >= 1 ? page.width - 1 : 0, ink1 + 1);
    for (size_t x = x0; x < x1; ++x) {
      const uint8_t g = row[x];
      const uint8_t mid = static_cast<uint8_t>(g - kToneLow) <= kToneHigh - kToneLow;
      const uint8_t across = AbsDiff(row[x - 1], row[x + 1]);
      const uint8_t along = AbsDiff(up[x], down[x]);
      flat_column[x] += mid & (across <= kFlatStep) & (along <= kFlatStep);
      steep_column[x] += (across > kSteepStep) | (along > kSteepStep);
    }
    if ((y & (kTile - 1)) != kTile - 1 && y + 1 != page.height) continue;
    const size_t first = static_cast<size_t>(y >> kTileShift) * tiles_x;
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const uint32_t x0 = tx << kTileShift;
      const uint32_t x1 = std::min(page.width, x0 + kTile);
      for (uint32_t x = x0; x < x1; ++x) {
        flat[first + tx] += flat_column[x];
        steep[first + tx] += steep_column[x];
      }
    }
    std::fill(flat_columns.begin(), flat_columns.end(), 0);
    std::fill(steep_columns.begin(), steep_columns.end(), 0);
  }

  std::vector<uint8_t> tone(tiles, 0);
  std::vector<uint8_t> smooth(tiles, 0);
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    const uint32_t h = std::min(kTile, page.height - (ty << kTileShift));
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const uint32_t w = std::min(kTile, page.width - (tx << kTileShift));
      const size_t i = static_cast<size_t>(ty) * tiles_x + tx;
      tone[i] = flat[i] * kToneShareDenominator >= w * h;
      smooth[i] = steep[i] * kSmoothShareDenominator <= w * h;
    }
  }

  // How many of a tile's neighbours (4 or 8) were continuous tone in `previous`.
  auto tone_neighbours = [&](const std::vector<uint8_t>& previous, uint32_t tx, uint32_t ty,
                             bool diagonals) {
    int n = 0;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        if ((dx == 0 && dy == 0) || (!diagonals && dx != 0 && dy != 0)) continue;
        const int64_t nx = static_cast<int64_t>(tx) + dx, ny = static_cast<int64_t>(ty) + dy;
        if (nx < 0 || ny < 0 || nx >= tiles_x || ny >= tiles_y) continue;
        n += previous[static_cast<size_t>(ny) * tiles_x + nx];
      }
    }
    return n;
  };
  std::vector<uint8_t> previous;
  // Marks tiles that are not yet tone (and are in `only`, if given) with `mark` where at
  // least `needed` of their neighbours were tone, `passes` times or until nothing changes.
  auto spread = [&](int passes, bool diagonals, int needed, const std::vector<uint8_t>* only,
                    uint8_t mark) {
    for (int pass = 0; pass < passes; ++pass) {
      previous = tone;
      bool changed = false;
      for (uint32_t ty = 0; ty < tiles_y; ++ty) {
        for (uint32_t tx = 0; tx < tiles_x; ++tx) {
          const size_t i = static_cast<size_t>(ty) * tiles_x + tx;
          if (previous[i] || (only != nullptr && !(*only)[i])) continue;
          if (tone_neighbours(previous, tx, ty, diagonals) >= needed) {
            tone[i] = mark;
            changed = true;
          }
        }
      }
      if (!changed) return;
    }
  };
  spread(kGrowPasses, false, 1, &smooth, kToneTile);
  spread(kFillPasses, true, kFillNeighbours, nullptr, kToneTile);
  spread(1, true, 1, nullptr, kToneBorder);  // text tiles next to tone
  return tone;
}

// Per tile, row-major: 1 where it may be a flat tint (TintTiles), that is half its sampled
// pixels and 2/5 of them still ones are within kTintSpread of greys kTintPaper - kTintSpread
// to kTintLight + kTintSpread (where a tint's grey may be). Most tiles of a photograph are
// not: this count, vectorized over whole rows (as ClassifyTiles), rules them out before
// TintTiles' histograms (whose increments of one grey wait on each other). Rows of tiles all
// text are skipped.
FAXLINE_HOT_LOOP
std::vector<uint8_t> MayBeTints(const GrayPage& page, const std::vector<uint8_t>& kinds,
                                uint32_t tiles_x, uint32_t tiles_y) {
  constexpr uint8_t kLow = kTintPaper - 2 * kTintSpread;
  constexpr uint8_t kSpan = kTintLight - kTintPaper + 4 * kTintSpread;
  std::vector<uint8_t> maybe(kinds.size(), 0);
  const uint32_t width = page.width;
  if (width == 0) return maybe;
  // Sampled pixels in range, and still ones, per column within the current row of tiles
  // (16 rows sampled at most: a byte each).
  std::vector<uint8_t> in_columns(width), still_columns(width);
  uint8_t* __restrict in_column = in_columns.data();
  uint8_t* __restrict still_column = still_columns.data();
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    const auto kinds_row = kinds.begin() + static_cast<std::ptrdiff_t>(ty) * tiles_x;
    if (std::all_of(kinds_row, kinds_row + tiles_x, [](uint8_t k) { return k == kTextTile; })) {
      continue;
    }
    std::fill(in_columns.begin(), in_columns.end(), 0);
    std::fill(still_columns.begin(), still_columns.end(), 0);
    const uint32_t y0 = ty << kTileShift, y1 = std::min(page.height, y0 + kTile);
    for (uint32_t y = y0; y < y1; y += 2) {
      const uint8_t* __restrict row = page.Row(y);
      const uint8_t* __restrict down = page.Row(static_cast<int64_t>(y) + 1);
      for (size_t x = 0; x + 1 < width; ++x) {
        const uint8_t g = row[x];
        const uint8_t in = static_cast<uint8_t>(g - kLow) <= kSpan;
        in_column[x] += in;
        still_column[x] += in & (g == row[x + 1]) & (g == down[x]);
      }
      // The last column's right neighbour is itself, as in TintTiles.
      const uint8_t g = row[width - 1];
      const uint8_t in = static_cast<uint8_t>(g - kLow) <= kSpan;
      in_column[width - 1] += in;
      still_column[width - 1] += in & (g == down[width - 1]);
    }
    const uint32_t rows = (y1 - y0 + 1) / 2;
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const uint32_t x0 = tx << kTileShift, x1 = std::min(width, x0 + kTile);
      uint32_t in_range = 0, still = 0;
      for (uint32_t x = x0; x < x1; x += 2) in_range += in_column[x], still += still_column[x];
      const uint32_t samples = rows * ((x1 - x0 + 1) / 2);
      maybe[static_cast<size_t>(ty) * tiles_x + tx] =
          (in_range * kTintShareDenominator >= samples) &
          (still * kTintStillDenominator >= samples * kTintStillNumerator);
    }
  }
  return maybe;
}

// The grey of the flat tint (kTintSpread and after) each tile of kinds kToneTile and kToneBorder
// is, row-major as `kinds`; 0 for the others.
std::vector<uint8_t> TintTiles(const GrayPage& page, const std::vector<uint8_t>& kinds,
                               uint32_t tiles_x, uint32_t tiles_y) {
  std::vector<uint8_t> tint(kinds.size(), 0);
  const std::vector<uint8_t> maybe = MayBeTints(page, kinds, tiles_x, tiles_y);
  // A tile's sampled pixels by grey, all and still ones (the same grey as the pixels right of
  // and below them); returns how many were sampled.
  uint32_t histogram[256], still[256];
  auto sample = [&](uint32_t tx, uint32_t ty) {
    std::fill(std::begin(histogram), std::end(histogram), 0u);
    std::fill(std::begin(still), std::end(still), 0u);
    const uint32_t x0 = tx << kTileShift, x1 = std::min(page.width, x0 + kTile);
    const uint32_t y0 = ty << kTileShift, y1 = std::min(page.height, y0 + kTile);
    uint32_t samples = 0;
    for (uint32_t y = y0; y < y1; y += 2) {
      const uint8_t* row = page.Row(y);
      const uint8_t* down = page.Row(static_cast<int64_t>(y) + 1);
      for (uint32_t x = x0; x < x1; x += 2) {
        const uint8_t g = row[x];
        ++histogram[g];
        still[g] += (g == row[std::min(x + 1, page.width - 1)]) & (g == down[x]);
      }
      samples += (x1 - x0 + 1) / 2;
    }
    return samples;
  };
  // How many sampled pixels, all and still ones, are within kTintSpread of `grey`.
  auto near = [&](int grey, const uint32_t* counts) {
    uint32_t n = 0;
    for (int g = std::max(0, grey - kTintSpread); g <= std::min(254, grey + kTintSpread); ++g) {
      n += counts[g];
    }
    return n;
  };
  auto flat = [&](int grey, uint32_t total) {
    return (near(grey, histogram) * kTintShareDenominator >= total) &
           (near(grey, still) * kTintStillDenominator >= total * kTintStillNumerator);
  };
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const size_t i = static_cast<size_t>(ty) * tiles_x + tx;
      if (kinds[i] == kTextTile || !maybe[i]) continue;
      const uint32_t samples = sample(tx, ty);
      // The window of greys richest in pixels, slid a grey at a time (the first on a tie).
      uint32_t n = 0;
      for (int g = kTintPaper - kTintSpread; g <= kTintPaper + kTintSpread; ++g) n += histogram[g];
      uint32_t most = n;
      int grey = kTintPaper;
      for (int g = kTintPaper + 1; g <= kTintLight; ++g) {
        n += histogram[g + kTintSpread] - histogram[g - kTintSpread - 1];
        if (n > most) most = n, grey = g;
      }
      if (most == 0) continue;
      // The tint's grey: the mean of those (a gradient's middle, not the end its window starts).
      uint32_t sum = 0;
      for (int g = grey - kTintSpread; g <= grey + kTintSpread; ++g) sum += histogram[g] * g;
      grey = static_cast<int>((sum + most / 2) / most);
      if (flat(grey, samples)) tint[i] = static_cast<uint8_t>(grey);
    }
  }
  // A tile across the tint's edge, its other pixels paper, is the tint too.
  const std::vector<uint8_t> inside = tint;
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const size_t i = static_cast<size_t>(ty) * tiles_x + tx;
      if (kinds[i] == kTextTile || inside[i]) continue;
      // The tint greys of the tiles next to it, in the order they are tried; sampled only if any.
      uint8_t greys[8];
      int count = 0;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int64_t nx = static_cast<int64_t>(tx) + dx, ny = static_cast<int64_t>(ty) + dy;
          if (nx < 0 || ny < 0 || nx >= tiles_x || ny >= tiles_y) continue;
          const uint8_t grey = inside[static_cast<size_t>(ny) * tiles_x + nx];
          if (grey) greys[count++] = grey;
        }
      }
      if (count == 0) continue;
      const uint32_t samples = sample(tx, ty);
      const uint32_t ink = samples - histogram[255];
      if (ink == 0) continue;
      for (int k = 0; k < count; ++k) {
        if (near(greys[k], histogram) * kTintShareDenominator >= ink) {
          tint[i] = greys[k];
          break;
        }
      }
    }
  }
  return tint;
}

// Five rows centred on the one being decided, clamped at the page edges.
struct Window {
  const uint8_t* rows[5];
};

Window WindowAt(const GrayPage& page, uint32_t y) {
  Window w;
  for (int i = 0; i < 5; ++i) w.rows[i] = page.Row(static_cast<int64_t>(y) + i - 2);
  return w;
}

inline uint8_t Min(uint8_t a, uint8_t b) { return a < b ? a : b; }
inline uint8_t Max(uint8_t a, uint8_t b) { return a > b ? a : b; }

// The paper level around g along one axis: the lighter of the two nearest pixels on each
// side (so that a stroke 2 px wide still stands out), the darker side of the two.
inline uint8_t Paper(uint8_t before1, uint8_t before2, uint8_t after1, uint8_t after2) {
  return Min(Max(before1, before2), Max(after1, after2));
}

// 1 when g is a valley along one axis: kValleyMargin darker than the paper on both sides,
// and no lighter than its direct neighbours, so a faint line 2 px wide becomes 1 px, not 2.
// A hairline that falls across two pixels counts both pixels' depth (kSplitMargin), where it
// runs on (`along1` or `along2`, its neighbours the other way, kRunDepth darker than the
// paper), and comes out as one line of pixels: the darker of the two, on a tie the first.
inline uint8_t Valley(uint8_t g, uint8_t paper, uint8_t before1, uint8_t after1, uint8_t along1,
                      uint8_t along2) {
  const uint8_t depth = static_cast<uint8_t>(paper - Min(paper, g));
  const uint8_t twin = Min(before1, after1);
  const uint8_t twin_depth = static_cast<uint8_t>(paper - Min(paper, twin));
  const uint8_t run = static_cast<uint8_t>(paper - Min(paper, Min(along1, along2)));
  // Both depths together, saturating at 255.
  const uint8_t pair = static_cast<uint8_t>(Min(255 - depth, twin_depth) + depth);
  const uint8_t single = (depth >= kValleyMargin) & (g <= twin);
  const uint8_t split = (pair >= kSplitMargin) & (run >= kRunDepth) & (g <= after1) & (g < before1);
  return static_cast<uint8_t>(single | split);
}

// 1 when g is a light line over a light tint along one axis (kTintLineMargin and after): `b1`,
// `b2` the pixels before it across the line, `a1`, `a2` after it, `along1`, `along2` its
// neighbours along the line and `far1`, `far2` the ones beyond those. The line runs on two
// pixels past g on one side at least (to its end, whose last pixel may fade into paper), or
// one pixel on each. A line split over two pixels comes out as the darker of the two, on a tie
// the first (as Valley).
inline uint8_t TintValley(uint8_t tint, uint8_t g, uint8_t b1, uint8_t b2, uint8_t a1, uint8_t a2,
                          uint8_t along1, uint8_t far1, uint8_t along2, uint8_t far2) {
  const uint8_t side1 = Max(b1, b2), side2 = Max(a1, a2);
  const uint8_t sides = Min(side1, side2);
  const uint8_t even = (AbsDiff(side1, side2) <= kTintSides) & (AbsDiff(sides, tint) <= kTintSides);
  // Depths from the tint, or from the sides where they are lighter (the fringe of a line
  // across this one, where the two cross, is darker).
  const uint8_t paper = Max(sides, tint);
  const uint8_t depth = static_cast<uint8_t>(paper - Min(paper, g));
  const uint8_t twin_depth = static_cast<uint8_t>(paper - Min(paper, Min(b1, a1)));
  const uint8_t pair = static_cast<uint8_t>(Min(255 - depth, twin_depth) + depth);
  auto run = [&](uint8_t v, uint8_t w) {
    return static_cast<uint8_t>(static_cast<uint8_t>(paper - Min(paper, Max(v, w))) >= kTintRun);
  };
  const uint8_t runs = run(along1, along2) | run(along1, far1) | run(along2, far2);
  const uint8_t below = static_cast<uint8_t>(sides - Min(sides, g)) >= kTintStep;
  return static_cast<uint8_t>(even & below & (pair >= kTintLineMargin) & runs & (g <= a1) &
                              (g < b1));
}

// Whether a valley pixel is where a stroke running across the valley ends: ink next to it on
// one side, two pixels long at least (`far` beyond `next`), and paper on the other (all three
// pixels of that side as light as the paper the valley stands in). That is the anti-aliased
// fringe past the end of a stem or a serif, which would grow a spur; a pixel with ink or more
// line on both sides is a gap in a thin line, and stays. So does the fringe of a single pixel
// of ink (a dash of a dotted line, 1 pt long, may have only one): without it, the dash would
// be a lone pixel, dropped as a speck (CleanText).
inline uint8_t StrokeEnd(uint8_t paper, uint8_t next1, uint8_t far1, uint8_t darkest1,
                         uint8_t next2, uint8_t far2, uint8_t darkest2) {
  const uint8_t light = static_cast<uint8_t>(paper - Min(paper, kPaperTolerance));
  return static_cast<uint8_t>(
      ((next1 < kTextThreshold) & (far1 < kTextThreshold) & (darkest2 >= light)) |
      ((next2 < kTextThreshold) & (far2 < kTextThreshold) & (darkest1 >= light)));
}

// The pixels around one being decided: rows -2 .. +2 in its column, columns -2 .. +2 in its
// row, and its four diagonal neighbours.
struct Neighbourhood {
  uint8_t g;
  uint8_t left1, left2, right1, right2;
  uint8_t up1, up2, down1, down2;
  uint8_t up_left, up_right, down_left, down_right;
};

// The text decision for one pixel: ink below 50%, or a thin valley that is not the end of a
// stroke.
inline uint8_t TextPixel(const Neighbourhood& n) {
  const uint8_t above = Min(Min(n.up_left, n.up1), n.up_right);
  const uint8_t below = Min(Min(n.down_left, n.down1), n.down_right);
  const uint8_t before = Min(Min(n.up_left, n.left1), n.down_left);
  const uint8_t after = Min(Min(n.up_right, n.right1), n.down_right);
  const uint8_t paper_across = Paper(n.left1, n.left2, n.right1, n.right2);
  const uint8_t paper_along = Paper(n.up1, n.up2, n.down1, n.down2);
  const uint8_t across =
      Valley(n.g, paper_across, n.left1, n.right1, n.up1, n.down1) &
      (StrokeEnd(paper_across, n.up1, n.up2, above, n.down1, n.down2, below) ^ 1);
  const uint8_t along =
      Valley(n.g, paper_along, n.up1, n.down1, n.left1, n.right1) &
      (StrokeEnd(paper_along, n.left1, n.left2, before, n.right1, n.right2, after) ^ 1);
  return static_cast<uint8_t>((n.g < kTextThreshold) | across | along);
}

// Text decisions for pixels [x0, x1) of the window's centre row: 1 = black.
// TextPixel is branch-free byte arithmetic so that the compiler vectorizes this loop: at -O3
// (node-gyp's and CMake Release's level) a text page takes 2-5 ms, unvectorized ten times that.
// `skip_paper` false decides every pixel (the tests' oracle for the shortcut).
FAXLINE_HOT_LOOP
void ThresholdSpan(const Window& w, uint32_t width, uint32_t x0, uint32_t x1,
                   uint8_t* __restrict out, bool skip_paper = true) {
  const uint8_t* __restrict r0 = w.rows[0];
  const uint8_t* __restrict r1 = w.rows[1];
  const uint8_t* __restrict r2 = w.rows[2];
  const uint8_t* __restrict r3 = w.rows[3];
  const uint8_t* __restrict r4 = w.rows[4];
  auto clamped = [&](uint32_t x) {
    auto at = [&](const uint8_t* row, int64_t i) {
      return row[std::clamp<int64_t>(i, 0, static_cast<int64_t>(width) - 1)];
    };
    const int64_t i = x;
    return TextPixel({r2[x], at(r2, i - 1), at(r2, i - 2), at(r2, i + 1), at(r2, i + 2), r1[x],
                      r0[x], r3[x], r4[x], at(r1, i - 1), at(r1, i + 1), at(r3, i - 1),
                      at(r3, i + 1)});
  };
  const uint32_t inner0 = std::min(x1, std::max<uint32_t>(x0, 2));
  const uint32_t inner1 = std::max(inner0, std::min(x1, width >= 2 ? width - 2 : 0));
  for (uint32_t x = x0; x < inner0; ++x) out[x] = clamped(x);
  // A paper pixel (255) is white whatever is around it: it is no ink, and no valley (a valley
  // pixel is kValleyMargin darker than the paper beside it, or darker than the pixel before
  // it). Those are the margins and the gaps between words and lines of a text page: only the
  // span from the first to the last pixel of the row that is not paper is decided one by one.
  size_t from = inner0, to = inner1;
  if (skip_paper) {
    const uint8_t* centre[1] = {r2};
    std::tie(from, to) = InkColumns<1>(centre, inner0, inner1);
    if (from >= to) from = to = inner1;
  }
  std::memset(out + inner0, 0, from - inner0);
  // size_t, so that x - 2 is an affine address the compiler can vectorize.
  for (size_t x = from; x < to; ++x) {
    out[x] = TextPixel({r2[x], r2[x - 1], r2[x - 2], r2[x + 1], r2[x + 2], r1[x], r0[x], r3[x],
                        r4[x], r1[x - 1], r1[x + 1], r3[x - 1], r3[x + 1]});
  }
  std::memset(out + to, 0, inner1 - to);
  for (uint32_t x = inner1; x < x1; ++x) out[x] = clamped(x);
}

// Screen decisions for pixels [x0, x1) of the window's centre row against that row's
// thresholds, the page smoothed over 5 x 5 first (kSmoothEdge, kSmoothInner). `columns` is
// scratch of width + 4: the column sums, with two of the border repeated on each side.
FAXLINE_HOT_LOOP
void ScreenSpan(const Window& w, uint32_t width, const uint8_t* __restrict thresholds, uint32_t x0,
                uint32_t x1, uint16_t* __restrict columns, uint8_t* __restrict out) {
  const uint8_t* __restrict r0 = w.rows[0];
  const uint8_t* __restrict r1 = w.rows[1];
  const uint8_t* __restrict r2 = w.rows[2];
  const uint8_t* __restrict r3 = w.rows[3];
  const uint8_t* __restrict r4 = w.rows[4];
  const uint32_t c0 = x0 >= 2 ? x0 - 2 : 0;
  const uint32_t c1 = std::min(width, x1 + 2);
  for (size_t x = c0; x < c1; ++x) {
    columns[x + 2] = static_cast<uint16_t>(kSmoothEdge * (r0[x] + r4[x]) +
                                           kSmoothInner * (r1[x] + r2[x] + r3[x]));
  }
  if (c0 == 0) columns[0] = columns[1] = columns[2];
  if (c1 == width) columns[width + 2] = columns[width + 3] = columns[width + 1];
  // Black when the smoothed grey, rounded, is below the threshold.
  constexpr uint32_t kTotal = kSmoothSum * kSmoothSum;
  for (size_t x = x0; x < x1; ++x) {
    const uint16_t* c = columns + x + 2;
    const uint32_t sum = kSmoothEdge * (c[-2] + c[2]) + kSmoothInner * (c[-1] + c[0] + c[1]);
    out[x] = sum + kTotal / 2 < thresholds[x] * kTotal;
  }
}

// Whether pixel x of the window's centre row is a flat grey: within kFlatStep of its four
// neighbours (anti-aliased glyph edges and faint 1 px lines are not), and between the
// screen's clip points.
inline bool FlatGrey(const Window& w, uint32_t width, uint32_t x) {
  const uint8_t* row = w.rows[2];
  const uint8_t g = row[x];
  const uint8_t left = row[x > 0 ? x - 1 : x];
  const uint8_t right = row[x + 1 < width ? x + 1 : x];
  return g >= kScreenClipDark && g < 256 - kScreenClipLight && AbsDiff(g, left) <= kFlatStep &&
         AbsDiff(g, right) <= kFlatStep && AbsDiff(g, w.rows[1][x]) <= kFlatStep &&
         AbsDiff(g, w.rows[3][x]) <= kFlatStep;
}

// In a text tile next to tone (kToneBorder): replaces the text decisions for pixels [x0, x1)
// of the window's centre row by screen decisions where the pixel is a flat grey (FlatGrey);
// `screened` marks them, so that CleanText leaves their dots alone.
void ScreenFlatSpan(const Window& w, uint32_t width, const uint8_t* __restrict thresholds,
                    uint32_t x0, uint32_t x1, uint8_t* __restrict out,
                    uint8_t* __restrict screened) {
  for (uint32_t x = x0; x < x1; ++x) {
    const bool flat = FlatGrey(w, width, x);
    screened[x] = flat;
    if (flat) out[x] = w.rows[2][x] < thresholds[x];
  }
}

// A tone tile may hold hard-edged marks too: the labels under a chart and its axis, the frame
// round a gradient, a caption beside a photograph. Smoothed and screened, they come out as
// mush and wavy lines. A pixel whose 5 x 5 neighbourhood holds both paper (at least
// kHardPaper) and ink (at most kHardInk: a thin stroke anti-aliased over two rows is 50%
// grey), and that is not itself a flat grey, belongs to such a mark and takes the text
// decision instead. In photographs that is the sharpest edges only: the benchmark's photo
// pages code 0.2% smaller and score 0.0004 lower blurred SSIM (two other photographs: 1.1%
// smaller, 0.0008 lower); the sample letter's chart page and a vector diagram code 3% smaller.
constexpr uint8_t kHardPaper = 240;
constexpr uint8_t kHardInk = 128;
// Text over a tint (a caption on a grey bar, a table header on a shaded row) has no paper
// round it, so neither rule above sees it, and screened it breaks up. A dark glyph is there
// when the neighbourhood (5 rows by 5 columns, its lightest by 9, so that the middle of a stem
// 5 px wide still sees the tint) reaches near black (at most kGlyphInk: text is drawn solid)
// and spans at least kGlyphContrast (black on a 60% tint spans 102). Its steep pixels (not
// flat greys: the glyph and its anti-aliased edge) and its near-black ones are thresholded at
// the neighbourhood's midpoint, so the glyph comes out solid, as on paper, and the tint's
// pixels at its edge come out white: a 1 px margin. The tint's flat pixels within 2 px are
// screened without the smoothing (which would pull the glyph's tone into the dots touching it)
// and 1/kGlyphPushDenominator of the way lighter, so the dots keep off it. White text on a
// dark tint (at most kHardInk) is a hard mark: thresholded at 50%, its edge pixels come out as
// a 1 px dark rim; its white pixels stay white wherever the tint is within 2 rows or 4 columns
// (the smoothing would put dots inside a wide stem), and the tint's flat pixels within 2 px
// are screened unsmoothed and 1/kGlyphPushDenominator darker.
// On the measuring set (bench/tools/tone-measure.ts), a real page with text on tints
// (package-lifecycle) now reads clearly and scores 0.0099 lower blurred SSIM against the gray
// (the margins are lighter than the gray there); photographs move by -0.002 to +0.003 and
// 0.5% less T.6; text pages 0.2% more T.6 (the fainter hairlines Valley now keeps). The near
// black is 8: text and lines drawn black reach it (a 0.5 pt line's core too; at 0 it does not),
// and a photograph's dark texture mostly does not. At 24 the benchmark's six photographs lost
// 0.005 blurred SSIM, its stones and foliage (scribus-nature, 0.022) thresholded into white
// squiggles between highlights; at 8 they are within 0.002 of having no glyph rule at all.
constexpr uint8_t kGlyphContrast = 96;
constexpr uint8_t kGlyphInk = 8;
constexpr int kGlyphPushDenominator = 4;

// In a tone tile: replaces the screen decisions for pixels [x0, x1) of the window's centre row
// by text decisions where the pixel belongs to a hard-edged mark or a glyph over a tint (both
// above). `thresholds` are the row's screen thresholds; `low` and `high` are scratch of
// width + 8, `marks` and `mids` of width (marks: bit 0 a hard mark's neighbourhood, bit 1 a
// dark glyph's, bit 2 a white pixel by a dark tint; mids: the neighbourhood's midpoint).
FAXLINE_HOT_LOOP
void KeepHardSpan(const Window& w, uint32_t width, const uint8_t* __restrict thresholds,
                  uint32_t x0, uint32_t x1, uint8_t* __restrict low, uint8_t* __restrict high,
                  uint8_t* __restrict marks, uint8_t* __restrict mids, uint8_t* __restrict out) {
  // The darkest and lightest of each column's five rows, then of five columns (nine for the
  // lightest a glyph stands in): two passes the compiler vectorizes. Column x is at x + 4.
  const uint32_t c0 = x0 >= 4 ? x0 - 4 : 0;
  const uint32_t c1 = std::min(width, x1 + 4);
  // (The rows as local restrict pointers: read through `w`, the loop stays scalar.)
  const uint8_t* __restrict r0 = w.rows[0];
  const uint8_t* __restrict r1 = w.rows[1];
  const uint8_t* __restrict r2 = w.rows[2];
  const uint8_t* __restrict r3 = w.rows[3];
  const uint8_t* __restrict r4 = w.rows[4];
  for (size_t x = c0; x < c1; ++x) {
    low[x + 4] = Min(Min(Min(r0[x], r1[x]), Min(r2[x], r3[x])), r4[x]);
    high[x + 4] = Max(Max(Max(r0[x], r1[x]), Max(r2[x], r3[x])), r4[x]);
  }
  for (uint32_t i = 0; c0 == 0 && i < 4; ++i) {
    low[i] = low[4];
    high[i] = high[4];
  }
  for (uint32_t i = 0; c1 == width && i < 4; ++i) {
    low[width + 4 + i] = low[width + 3];
    high[width + 4 + i] = high[width + 3];
  }
  uint8_t any = 0;
  uint8_t any_hard = 0;
  for (size_t x = x0; x < x1; ++x) {
    const uint8_t* l = low + x + 2;
    const uint8_t* h = high + x + 2;
    const uint8_t darkest = Min(Min(Min(l[0], l[1]), Min(l[2], l[3])), l[4]);
    const uint8_t lightest = Max(Max(Max(h[0], h[1]), Max(h[2], h[3])), h[4]);
    // A stem up to 5 px wide: from its middle, the tint is 3 or 4 px away.
    const uint8_t around = Max(Max(Max(h[-2], h[-1]), Max(h[5], h[6])), lightest);
    const uint8_t hard = (darkest <= kHardInk) & (lightest >= kHardPaper);
    const uint8_t dark_around = Min(Min(Min(l[-2], l[-1]), Min(l[5], l[6])), darkest);
    const uint8_t glyph =
        (static_cast<uint8_t>(around - darkest) >= kGlyphContrast) & (darkest <= kGlyphInk);
    const uint8_t white_glyph = (w.rows[2][x] >= kHardPaper) & (dark_around <= kHardInk);
    marks[x] = static_cast<uint8_t>(hard | (glyph << 1) | (white_glyph << 2));
    any |= marks[x];
    any_hard |= hard;
    mids[x] = static_cast<uint8_t>((darkest + around + 1) >> 1);
  }
  if (!any) return;  // most rows of a photograph
  // The text decisions of the span, where a hard mark needs them: ThresholdSpan writes whole
  // spans, so it fills `high` (no longer needed) first.
  uint8_t* decisions = high;
  if (any_hard) ThresholdSpan(w, width, x0, x1, decisions);
  const uint8_t* row = w.rows[2];
  for (uint32_t x = x0; x < x1; ++x) {
    if (x + 8 <= x1) {  // eight unmarked pixels at a time: most of a row with marks
      uint64_t eight;
      std::memcpy(&eight, marks + x, 8);
      if (eight == 0) {
        x += 7;
        continue;
      }
    }
    if (!marks[x]) continue;
    const uint8_t g = row[x];
    const uint8_t mid = mids[x];
    if (marks[x] & 4) {
      out[x] = 0;  // inside a white glyph (or paper) by a dark tint
    } else if (!FlatGrey(w, width, x)) {
      out[x] = (marks[x] & 1) ? decisions[x] : static_cast<uint8_t>(g < mid);
    } else if ((marks[x] & 2) && g <= kGlyphInk) {
      out[x] = 1;  // inside a glyph's stroke, flat too
    } else if ((marks[x] & 2) && g >= mid) {
      // A flat tint next to a dark glyph: lighter.
      out[x] = static_cast<uint8_t>(g + (255 - g) / kGlyphPushDenominator < thresholds[x]);
    } else if ((marks[x] & 1) && g < mid) {
      // A flat dark tint next to paper or a white glyph: darker.
      out[x] = static_cast<uint8_t>(g - g / kGlyphPushDenominator < thresholds[x]);
    }
  }
}

// Whether pixel g, in a tile that is a flat tint, is on a light line across the tint
// (TintValley, across and along) or where two cross: `c` the centre row's pixels from 2 left
// of g to 2 right (c[2] is g), `up1`, `up2`, `down1`, `down2` the pixels above and below g, and
// `corners` the four 2 px out along the diagonals.
inline uint8_t TintLine(uint8_t tint, const uint8_t c[5], uint8_t up1, uint8_t up2, uint8_t down1,
                        uint8_t down2, const uint8_t corners[4]) {
  const uint8_t g = c[2];
  const uint8_t line = TintValley(tint, g, up1, up2, down1, down2, c[1], c[0], c[3], c[4]) |
                       TintValley(tint, g, c[1], c[0], c[3], c[4], up1, up2, down1, down2);
  // Where two lines cross, each is the other's side: the tint is in the diagonals, 2 px out.
  const uint8_t paper = Min(Min(corners[0], corners[1]), Min(corners[2], corners[3]));
  auto dark = [paper](uint8_t v) {
    return static_cast<uint8_t>(static_cast<uint8_t>(paper - Min(paper, v)) >= kTintRun);
  };
  const uint8_t across =
      dark(c[1]) & dark(c[3]) & ((dark(up1) & dark(up2)) | (dark(down1) & dark(down2)));
  const uint8_t along =
      dark(up1) & dark(down1) & ((dark(c[1]) & dark(c[0])) | (dark(c[3]) & dark(c[4])));
  const uint8_t crossing = (AbsDiff(paper, tint) <= kTintSides) &
                           (static_cast<uint8_t>(paper - Min(paper, g)) >= kTintLineMargin) &
                           (across | along);
  return static_cast<uint8_t>(line | crossing);
}

// In a tile that is a flat tint: marks in `lines` the pixels [x0, x1) of the window's centre
// row where a light line crosses the tint (TintLine), 1 each. Reads are clamped to the page
// only in the two columns at each end; the rest is one branch-free loop, vectorized.
FAXLINE_HOT_LOOP
void TintLinesSpan(const Window& w, uint32_t width, uint8_t tint, uint32_t x0, uint32_t x1,
                   uint8_t* __restrict lines) {
  const uint8_t* __restrict r0 = w.rows[0];
  const uint8_t* __restrict r1 = w.rows[1];
  const uint8_t* __restrict r2 = w.rows[2];
  const uint8_t* __restrict r3 = w.rows[3];
  const uint8_t* __restrict r4 = w.rows[4];
  auto clamped = [&](uint32_t x) {
    auto at = [&](const uint8_t* row, int64_t i) {
      return row[std::clamp<int64_t>(i, 0, static_cast<int64_t>(width) - 1)];
    };
    const int64_t i = x;
    const uint8_t c[5] = {at(r2, i - 2), at(r2, i - 1), r2[x], at(r2, i + 1), at(r2, i + 2)};
    const uint8_t corners[4] = {at(r0, i - 2), at(r0, i + 2), at(r4, i - 2), at(r4, i + 2)};
    lines[x] = TintLine(tint, c, r1[x], r0[x], r3[x], r4[x], corners);
  };
  const uint32_t inner0 = std::clamp<uint32_t>(2, x0, x1);
  const uint32_t inner1 = std::max(inner0, std::min(x1, width >= 2 ? width - 2 : 0));
  for (uint32_t x = x0; x < inner0; ++x) clamped(x);
  // size_t: x - 2 in uint32_t may wrap, as far as GCC knows, which keeps it from vectorizing.
  for (size_t x = inner0; x < inner1; ++x) {
    const uint8_t c[5] = {r2[x - 2], r2[x - 1], r2[x], r2[x + 1], r2[x + 2]};
    const uint8_t corners[4] = {r0[x - 2], r0[x + 2], r4[x - 2], r4[x + 2]};
    lines[x] = TintLine(tint, c, r1[x], r0[x], r3[x], r4[x], corners);
  }
  for (uint32_t x = inner1; x < x1; ++x) clamped(x);
}

// Draws the lines TintLinesSpan found in pixels [x0, x1) of row y (`lines[2]`; rows y - 2 ..
// y + 2 in lines[0 .. 4]) solid into `out`. With `thresholds` (a tone tile), the tint within
// 2 px of a line, across it or along it, is screened again without smoothing: smoothed, it
// took on ink from the line, drawn solid as well (the table rules on a 16% tint of the bench's
// package-lifecycle page came out too dark: 0.007 lower blurred SSIM; now 0.0004 higher).
// Only there: screening all of a tile's tint unsmoothed cost a posterized photograph's flat
// sky (scribus-kites-bw) 0.0007.
FAXLINE_HOT_LOOP
void DrawTintLinesSpan(const Window& w, uint8_t tint, const uint8_t* const lines[5],
                       const uint8_t* __restrict thresholds, uint32_t x0, uint32_t x1,
                       uint8_t* __restrict out) {
  const uint8_t* __restrict row = w.rows[2];
  const uint8_t* __restrict here = lines[2];
  if (thresholds == nullptr) {
    for (uint32_t x = x0; x < x1; ++x) out[x] |= here[x];
    return;
  }
  const uint8_t* __restrict l0 = lines[0];
  const uint8_t* __restrict l1 = lines[1];
  const uint8_t* __restrict l3 = lines[3];
  const uint8_t* __restrict l4 = lines[4];
  for (size_t x = x0; x < x1; ++x) {
    // lines[] rows are padded by two zero bytes each side: here[x - 2] is in the row.
    const uint8_t near =
        l0[x] | l1[x] | l3[x] | l4[x] | here[x - 2] | here[x - 1] | here[x + 1] | here[x + 2];
    const uint8_t redo = (AbsDiff(row[x], tint) <= kTintSpread) & (near != 0);
    const uint8_t screened = row[x] < thresholds[x];
    out[x] = static_cast<uint8_t>((redo ? screened : out[x]) | here[x]);
  }
}

// Whether pixel (x, y) of the gray page is a lone dot (defined in the Tuning block, before
// KeepDots: a dot of a dotted line, not a speck).
bool LoneDot(const GrayPage& page, int64_t y, uint32_t x) {
  const int64_t last = static_cast<int64_t>(page.width) - 1;
  auto at = [&](int64_t dy, int64_t dx) {
    return page.Row(y + dy)[std::clamp<int64_t>(static_cast<int64_t>(x) + dx, 0, last)];
  };
  const uint8_t g = at(0, 0);
  uint8_t ring_light = 0, ring_dark = 255, twin = 255;
  for (int dy = -2; dy <= 2; ++dy) {
    for (int dx = -2; dx <= 2; ++dx) {
      const uint8_t v = at(dy, dx);
      if (std::abs(dy) <= 1 && std::abs(dx) <= 1) {
        if (v < g) return false;
        if (dy != 0 || dx != 0) twin = Min(twin, v);
      } else {
        ring_light = Max(ring_light, v);
        ring_dark = Min(ring_dark, v);
      }
    }
  }
  return ring_light - ring_dark <= kPaperTolerance && twin + kRunDepth <= ring_light;
}

// After CleanText over pixels [x0, x1) of row y (padded rows, as CleanText's): puts back the
// black pixels it dropped as specks (no black neighbour in `up`, `row`, `down`) where the gray
// is a lone dot (LoneDot).
void KeepDots(const GrayPage& page, int64_t y, const uint8_t* up, const uint8_t* row,
              const uint8_t* down, uint32_t x0, uint32_t x1, uint8_t* cleaned) {
  for (size_t i = x0 + 1; i < static_cast<size_t>(x1) + 1; ++i) {
    if (!row[i] || cleaned[i]) continue;
    const uint8_t neighbours = up[i - 1] | up[i] | up[i + 1] | row[i - 1] | row[i + 1] |
                               down[i - 1] | down[i] | down[i + 1];
    if (!neighbours && LoneDot(page, y, static_cast<uint32_t>(i - 1))) cleaned[i] = 1;
  }
}

// Copies pixels [x0, x1) of a thresholded row, cleaned: without its isolated black pixels
// (no black among the 8 neighbours), and with the 1 px jaggies of stroke edges straightened.
// A bump is a black pixel sticking out of a straight edge, attached to it on one side only
// (white on the other three), where the edge runs on in the rows (or columns) either side of
// it; a notch is the white pixel of the same shape cut into an edge. Each costs T.6 two
// vertical codes of 3 bits (VL1 then VR1) where a straight edge costs two of 1, or a
// horizontal code of a dozen bits on a top or bottom edge. Straightening them saves about 4%
// of a text page's T.6 size; its blurred SSIM moves by 0.001. A 1 px line, its ends and its
// corners are none of these, and stay (but see TrimTips). All decisions read the unchanged
// rows.
// Rows are padded by one zero byte on each side: index x + 1 holds pixel x.
FAXLINE_HOT_LOOP
void CleanText(const uint8_t* __restrict up, const uint8_t* __restrict row,
               const uint8_t* __restrict down, uint32_t x0, uint32_t x1, uint8_t* __restrict out) {
  for (size_t i = x0 + 1; i < static_cast<size_t>(x1) + 1; ++i) {
    const uint8_t ul = up[i - 1], u = up[i], ur = up[i + 1];
    const uint8_t l = row[i - 1], c = row[i], r = row[i + 1];
    const uint8_t dl = down[i - 1], d = down[i], dr = down[i + 1];
    const uint8_t nul = ul ^ 1, nu = u ^ 1, nur = ur ^ 1, nl = l ^ 1, nr = r ^ 1;
    const uint8_t ndl = dl ^ 1, nd = d ^ 1, ndr = dr ^ 1;
    const uint8_t neighbours = ul | u | ur | l | r | dl | d | dr;
    // Bumps on a vertical edge (left, right), then on a horizontal one (top, bottom).
    const uint8_t bump = (nl & nu & nd & r & ur & dr) | (nr & nu & nd & l & ul & dl) |
                         (nu & nl & nr & d & dl & dr) | (nd & nl & nr & u & ul & ur);
    const uint8_t notch = (u & d & r & nl & nul & ndl) | (u & d & l & nr & nur & ndr) |
                          (l & r & d & nu & nul & nur) | (l & r & u & nd & ndl & ndr);
    out[i] = static_cast<uint8_t>((c & neighbours & (bump ^ 1)) | ((c ^ 1) & notch));
  }
}

// The number of black pixels among each pixel's 8 neighbours, for one row (padded like the
// rows: index x + 1 holds pixel x).
FAXLINE_HOT_LOOP
void CountNeighbours(const uint8_t* __restrict up, const uint8_t* __restrict row,
                     const uint8_t* __restrict down, uint32_t width, uint8_t* __restrict out) {
  for (size_t i = 1; i < static_cast<size_t>(width) + 1; ++i) {
    out[i] = static_cast<uint8_t>(up[i - 1] + up[i] + up[i + 1] + row[i - 1] + row[i + 1] +
                                  down[i - 1] + down[i] + down[i + 1]);
  }
}

// Three rows of cleaned pixels and their neighbour counts (CountNeighbours), padded.
struct TipRows {
  const uint8_t* up;
  const uint8_t* row;
  const uint8_t* down;
  const uint8_t* count_up;
  const uint8_t* count_row;
  const uint8_t* count_down;
};

// Copies pixels [x0, x1) of a cleaned row (CleanText) without the tips of its 1 px strokes.
// A tip is a black pixel with a single black neighbour, which has another: the last pixel of
// a 1 px stroke, mostly the end of a serif. A serif is 1 px high at fax resolutions and its
// ends move the stem's edges 2 or 3 px at once, a 6 or 7 bit code where 1 px costs 3: trimming
// them saves another 4% of a text page's T.6 size for 0.0015 of blurred SSIM. A tip whose
// neighbour is on its right (the left end of a 1 px row) stays: trimming those too saved 3%
// more but cost 0.0023 more SSIM, more than all the others together. Two pixels alone (a
// small dot) have no tip, and stay. Decisions read the untrimmed rows.
FAXLINE_HOT_LOOP
void TrimTips(const TipRows& rows, uint32_t x0, uint32_t x1, uint8_t* __restrict out) {
  const uint8_t* __restrict up = rows.up;
  const uint8_t* __restrict row = rows.row;
  const uint8_t* __restrict down = rows.down;
  const uint8_t* __restrict count_up = rows.count_up;
  const uint8_t* __restrict count_row = rows.count_row;
  const uint8_t* __restrict count_down = rows.count_down;
  for (size_t i = x0 + 1; i < static_cast<size_t>(x1) + 1; ++i) {
    // With a single black neighbour, this sum is that neighbour's own count. (Masks, not
    // products: SSE2 has no byte multiply, and this loop must vectorize.)
    auto masked = [](uint8_t bit, uint8_t count) {
      return static_cast<uint8_t>(static_cast<uint8_t>(0 - bit) & count);
    };
    const uint8_t neighbour_count = static_cast<uint8_t>(
        masked(up[i - 1], count_up[i - 1]) + masked(up[i], count_up[i]) +
        masked(up[i + 1], count_up[i + 1]) + masked(row[i - 1], count_row[i - 1]) +
        masked(row[i + 1], count_row[i + 1]) + masked(down[i - 1], count_down[i - 1]) +
        masked(down[i], count_down[i]) + masked(down[i + 1], count_down[i + 1]));
    const uint8_t tip = (count_row[i] == 1) & (row[i + 1] ^ 1) & (neighbour_count >= 2);
    out[i] = static_cast<uint8_t>(row[i] & (tip ^ 1));
  }
}

// Packs 0/1 bytes into MSB-first bits.
void PackRow(const uint8_t* bits, uint32_t width, uint8_t* out) {
  uint32_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // Byte i of a little-endian word lands on bit 7 - i of the top byte of the product.
  for (; x + 8 <= width; x += 8) {
    uint64_t v;
    std::memcpy(&v, bits + x, sizeof v);
    *out++ = static_cast<uint8_t>((v * 0x8040201008040201ULL) >> 56);
  }
#endif
  for (; x < width; x += 8) {
    uint8_t byte = 0;
    for (uint32_t i = 0; i < 8 && x + i < width; ++i) byte |= bits[x + i] << (7 - i);
    *out++ = byte;
  }
}

void CheckArguments(const uint8_t* gray, uint32_t width, uint32_t height, size_t stride,
                    const ConversionOptions& options) {
  if (gray == nullptr) throw std::invalid_argument("no gray pixels");
  const std::string problem =
      PageGeometryProblem(width, height, options.x_dpi, options.y_dpi, "the page");
  if (!problem.empty()) throw std::invalid_argument(problem);
  if (stride < width) throw std::invalid_argument("the row stride is below the width");
}

// How each 32 x 32 tile of the page is converted (kTextTile, kToneTile or kToneBorder).
std::vector<uint8_t> TileKinds(const GrayPage& page, ConversionMode mode, uint32_t tiles_x,
                               uint32_t tiles_y) {
  switch (mode) {
    case ConversionMode::kAuto:
      return ClassifyTiles(page, tiles_x, tiles_y);
    case ConversionMode::kText:
      return std::vector<uint8_t>(static_cast<size_t>(tiles_x) * tiles_y, kTextTile);
    case ConversionMode::kPhoto:
      return std::vector<uint8_t>(static_cast<size_t>(tiles_x) * tiles_y, kToneTile);
  }
  return {};
}

// The screen's thresholds laid out a whole row wide, one row per screen row.
std::vector<uint8_t> ScreenRows(const Screen& screen, uint32_t width) {
  std::vector<uint8_t> rows(static_cast<size_t>(screen.height) * width);
  for (int sy = 0; sy < screen.height; ++sy) {
    const uint8_t* period = screen.thresholds.data() + static_cast<size_t>(sy) * screen.width;
    uint8_t* row = rows.data() + static_cast<size_t>(sy) * width;
    for (uint32_t x = 0; x < width; ++x) row[x] = period[x % screen.width];
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// The screen, chosen per region

// Screened tiles (tone, and text next to tone) that any screen leaves white: every grey in
// them at the screen's light clip or lighter. (Tone spreads over the paper round a
// photograph, kGrowPasses: that paper belongs to no region, or photographs near each other
// would be one.)
std::vector<uint8_t> BlankTiles(const GrayPage& page, const std::vector<uint8_t>& tone,
                                uint32_t tiles_x) {
  static_assert(256 - kScreenClipLight == 0xF0,
                "a grey at the light clip or lighter has its top four bits set");
  std::vector<uint8_t> blank(tone.size(), 0);
  for (size_t i = 0; i < tone.size(); ++i) blank[i] = tone[i] != kTextTile;
  for (uint32_t y = 0; y < page.height; ++y) {
    const uint8_t* row = page.Row(y);
    uint8_t* tiles = blank.data() + static_cast<size_t>(y >> kTileShift) * tiles_x;
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      if (!tiles[tx]) continue;  // text, or a grey darker than the clip already seen
      const uint32_t x0 = tx << kTileShift, x1 = std::min(page.width, x0 + kTile);
      uint8_t all = 0xFF;
      for (uint32_t x = x0; x < x1; ++x) all &= row[x];
      tiles[tx] = (all & 0xF0) == 0xF0;
    }
  }
  return blank;
}

// A region is a group of screened tiles that are not blank (BlankTiles), touching at an edge
// or a corner: a photograph, a gradient, a shaded box. Returns each tile's region (kNoRegion
// for text tiles and blank ones) and sets `count`.
constexpr uint32_t kNoRegion = UINT32_MAX;
std::vector<uint32_t> LabelRegions(const std::vector<uint8_t>& tone,
                                   const std::vector<uint8_t>& blank, uint32_t tiles_x,
                                   uint32_t tiles_y, uint32_t& count) {
  std::vector<uint32_t> label(tone.size(), kNoRegion);
  std::vector<uint32_t> stack;
  count = 0;
  for (size_t start = 0; start < tone.size(); ++start) {
    if (tone[start] == kTextTile || blank[start] || label[start] != kNoRegion) continue;
    label[start] = count;
    stack.push_back(static_cast<uint32_t>(start));
    while (!stack.empty()) {
      const uint32_t at = stack.back();
      stack.pop_back();
      const int64_t tx = at % tiles_x, ty = at / tiles_x;
      for (int64_t ny = std::max<int64_t>(0, ty - 1); ny <= std::min<int64_t>(tiles_y - 1, ty + 1);
           ++ny) {
        for (int64_t nx = std::max<int64_t>(0, tx - 1);
             nx <= std::min<int64_t>(tiles_x - 1, tx + 1); ++nx) {
          const size_t n = static_cast<size_t>(ny * tiles_x + nx);
          if (tone[n] == kTextTile || blank[n] || label[n] != kNoRegion) continue;
          label[n] = count;
          stack.push_back(static_cast<uint32_t>(n));
        }
      }
    }
    ++count;
  }
  return label;
}

// One screen's figures on the sampled rows of a region.
struct ScreenTrial {
  int64_t bits = 0;   // T.6 bits
  int64_t error = 0;  // blurred error: the sum of |box sum of the gray - box sum of the page|
};

// Both screens are tried on each region's pixels, in bands of kTrialRows rows every
// kTrialStride rows: a sixteenth of its rows, at a cost of about 1 ms for a page-wide
// photograph. (Bands of 12 rows ranked the benchmark's photographs alike at 1/8 and 1/16;
// bands of 24 at 1/16 did not.)
constexpr uint32_t kTrialRows = 12;
constexpr uint32_t kTrialStride = 192;
static_assert(kTrialStride % kTile == 0 && kTrialRows <= kTile,
              "a trial band stays in one row of tiles");

// What a screen keeps is measured through a 7 x 7 px box blur: 0.9 mm square at fine, its
// sigma (2 px) about that of the 0.3 mm blur the benchmark scores quality through.
constexpr int kKeepBlur = 7;

class ScreenTrials {
 public:
  ScreenTrials(const GrayPage& page, const std::vector<uint32_t>& label, uint32_t tiles_x)
      : page_(page),
        label_(label),
        tiles_x_(tiles_x),
        columns_(page.width + 4),
        decided_{std::vector<uint8_t>(static_cast<size_t>(kTrialRows) * page.width),
                 std::vector<uint8_t>(static_cast<size_t>(kTrialRows) * page.width)},
        next_(page.width + 1),
        ref_next_(page.width + 1),
        gray_sums_(page.width),
        ink_sums_{std::vector<int32_t>(page.width), std::vector<int32_t>(page.width)} {}

  // Adds one band's figures to `trials[s]` for screen s, rows [y0, y1) of the columns
  // [c0, c1) that belong to `region`.
  void Band(uint32_t region, uint32_t y0, uint32_t y1, uint32_t c0, uint32_t c1,
            const uint8_t* const screen_rows[2], const int screen_height[2],
            ScreenTrial trials[2]) {
    const uint32_t width = page_.width;
    const uint32_t* tiles = label_.data() + static_cast<size_t>(y0 >> kTileShift) * tiles_x_;
    const uint32_t rows = y1 - y0;
    for (int s = 0; s < 2; ++s) {
      for (uint32_t r = 0; r < rows; ++r) {
        const uint32_t y = y0 + r;
        uint8_t* out = decided_[s].data() + static_cast<size_t>(r) * width;
        ScreenSpan(WindowAt(page_, y), width,
                   screen_rows[s] + static_cast<size_t>(y % screen_height[s]) * width, c0, c1,
                   columns_.data(), out);
        for (uint32_t x = c0; x < c1; x += kTile) {
          if (tiles[x >> kTileShift] != region)
            std::memset(out + x, 0, std::min(c1, x + kTile) - x);
        }
      }
      trials[s].bits += Bits(decided_[s].data(), rows, c0, c1);
    }
    Errors(region, tiles, y0, rows, c0, c1, trials);
  }

 private:
  // T.6 bits of rows 1 .. rows - 1 of `decided`, each against the one above.
  int64_t Bits(const uint8_t* decided, uint32_t rows, uint32_t c0, uint32_t c1) {
    const int span = static_cast<int>(c1 - c0);
    const size_t width = page_.width;
    int64_t bits = 0;
    t6::IndexChanges(decided + c0, span, ref_next_.data());
    for (uint32_t r = 1; r < rows; ++r) {
      const uint8_t* row = decided + r * width + c0;
      t6::IndexChanges(row, span, next_.data());
      const t6::RowView ref{decided + (r - 1) * width + c0, ref_next_.data(), span};
      const t6::RowView cur{row, next_.data(), span};
      t6::CodeRow(ref, cur, states_);
      for (const t6::CoderState& state : states_) bits += state.bits;
      std::swap(next_, ref_next_);
    }
    return bits;
  }

  // The region's blurred error, both screens: for each pixel of it kKeepBlur / 2 inside the
  // band and the columns, |the gray's box sum - the white's box sum of the screened page|.
  void Errors(uint32_t region, const uint32_t* tiles, uint32_t y0, uint32_t rows, uint32_t c0,
              uint32_t c1, ScreenTrial trials[2]) {
    constexpr int kHalf = kKeepBlur / 2;
    if (rows < static_cast<uint32_t>(kKeepBlur) || c1 - c0 < static_cast<uint32_t>(kKeepBlur))
      return;
    const size_t width = page_.width;
    std::fill(gray_sums_.begin() + c0, gray_sums_.begin() + c1, 0);
    for (int s = 0; s < 2; ++s) std::fill(ink_sums_[s].begin() + c0, ink_sums_[s].begin() + c1, 0);
    for (uint32_t r = 0; r < rows; ++r) {
      // Column sums over rows r - kKeepBlur + 1 .. r.
      const uint8_t* gray = page_.Row(y0 + r);
      const uint8_t* gone =
          r >= static_cast<uint32_t>(kKeepBlur) ? page_.Row(y0 + r - kKeepBlur) : nullptr;
      for (uint32_t x = c0; x < c1; ++x) gray_sums_[x] += gray[x] - (gone ? gone[x] : 0);
      for (int s = 0; s < 2; ++s) {
        const uint8_t* ink = decided_[s].data() + r * width;
        const uint8_t* ink_gone =
            r >= static_cast<uint32_t>(kKeepBlur) ? ink - kKeepBlur * width : nullptr;
        for (uint32_t x = c0; x < c1; ++x) ink_sums_[s][x] += ink[x] - (ink_gone ? ink_gone[x] : 0);
      }
      if (r + 1 < static_cast<uint32_t>(kKeepBlur)) continue;
      // Boxes centred on row r - kHalf, sliding along the columns.
      int32_t gray_box = 0, ink_box[2] = {0, 0};
      for (uint32_t x = c0; x < c1; ++x) {
        gray_box += gray_sums_[x];
        for (int s = 0; s < 2; ++s) ink_box[s] += ink_sums_[s][x];
        if (x >= c0 + kKeepBlur) {
          gray_box -= gray_sums_[x - kKeepBlur];
          for (int s = 0; s < 2; ++s) ink_box[s] -= ink_sums_[s][x - kKeepBlur];
        }
        if (x < c0 + kKeepBlur - 1) continue;
        const uint32_t centre = x - kHalf;
        if (tiles[centre >> kTileShift] != region) continue;
        for (int s = 0; s < 2; ++s) {
          const int32_t white = 255 * (kKeepBlur * kKeepBlur - ink_box[s]);
          trials[s].error += std::abs(gray_box - white);
        }
      }
    }
  }

  const GrayPage& page_;
  const std::vector<uint32_t>& label_;
  const uint32_t tiles_x_;
  std::vector<uint16_t> columns_;
  std::vector<uint8_t> decided_[2];
  std::vector<int> next_, ref_next_;
  std::vector<t6::CoderState> states_;
  std::vector<int32_t> gray_sums_;
  std::vector<int32_t> ink_sums_[2];
};

// How many grey levels of blurred error (ScreenTrial's, over the box's 49 pixels) the fine screen
// must take away for each T.6 bit it adds. On the benchmark's six photographs it takes away
// 12-21 a bit: one gets it (scribus-kites-bw's posterized one, 21), for 2.9% more T.6 on the six
// and 0.0046 more blurred SSIM; at 18 the sunset would too (18.7), and the photo pages would
// come within 0.005 of 0.6x Ghostscript's line time. Flat greys differ more: at 180, the fine
// screen codes smaller.
constexpr double kGreyPerBit = 20.0;

// Each tile's screen: 0 the coarse one, 1 the fine one. A region gets the fine screen where
// what it keeps beyond the coarse one is worth its extra bits on the line.
std::vector<uint8_t> ChooseScreens(const GrayPage& page, const std::vector<uint8_t>& tone,
                                   uint32_t tiles_x, uint32_t tiles_y,
                                   const std::vector<uint8_t> (&screen_rows)[2],
                                   const Screen (&screens)[2]) {
  std::vector<uint8_t> chosen(tone.size(), 0);
  uint32_t regions = 0;
  const std::vector<uint8_t> blank = BlankTiles(page, tone, tiles_x);
  const std::vector<uint32_t> label = LabelRegions(tone, blank, tiles_x, tiles_y, regions);
  if (regions == 0) return chosen;
  struct Box {
    uint32_t tx0 = UINT32_MAX, tx1 = 0, ty0 = UINT32_MAX, ty1 = 0;
  };
  std::vector<Box> boxes(regions);
  for (size_t i = 0; i < label.size(); ++i) {
    if (label[i] == kNoRegion) continue;
    Box& box = boxes[label[i]];
    const uint32_t tx = static_cast<uint32_t>(i % tiles_x), ty = static_cast<uint32_t>(i / tiles_x);
    box.tx0 = std::min(box.tx0, tx);
    box.tx1 = std::max(box.tx1, tx + 1);
    box.ty0 = std::min(box.ty0, ty);
    box.ty1 = std::max(box.ty1, ty + 1);
  }
  ScreenTrials trials(page, label, tiles_x);
  const uint8_t* rows[2] = {screen_rows[0].data(), screen_rows[1].data()};
  const int heights[2] = {screens[0].height, screens[1].height};
  std::vector<uint8_t> fine(regions, 0);
  for (uint32_t region = 0; region < regions; ++region) {
    const Box& box = boxes[region];
    const uint32_t c0 = box.tx0 << kTileShift, c1 = std::min(page.width, box.tx1 << kTileShift);
    const uint32_t y1 = std::min(page.height, box.ty1 << kTileShift);
    ScreenTrial figures[2];
    for (uint32_t y = box.ty0 << kTileShift; y < y1; y += kTrialStride) {
      trials.Band(region, y, std::min(y1, y + kTrialRows), c0, c1, rows, heights, figures);
    }
    const int64_t extra_bits = figures[1].bits - figures[0].bits;
    const double kept =
        static_cast<double>(figures[0].error - figures[1].error) / (kKeepBlur * kKeepBlur);
    fine[region] = kept > 0 && kept >= kGreyPerBit * static_cast<double>(extra_bits);
  }
  for (size_t i = 0; i < label.size(); ++i) {
    if (label[i] != kNoRegion) chosen[i] = fine[label[i]];
  }
  // A blank tile takes the fine screen when a neighbour has it: the smoothing carries a
  // region's dots a pixel or two into the blank tiles round it, and they stay on its screen.
  std::vector<uint8_t> by_region = chosen;
  for (uint32_t ty = 0; ty < tiles_y; ++ty) {
    for (uint32_t tx = 0; tx < tiles_x; ++tx) {
      const size_t i = static_cast<size_t>(ty) * tiles_x + tx;
      if (!blank[i]) continue;
      for (uint32_t ny = ty > 0 ? ty - 1 : 0; ny <= std::min(tiles_y - 1, ty + 1); ++ny) {
        for (uint32_t nx = tx > 0 ? tx - 1 : 0; nx <= std::min(tiles_x - 1, tx + 1); ++nx) {
          chosen[i] |= by_region[static_cast<size_t>(ny) * tiles_x + nx];
        }
      }
    }
  }
  return chosen;
}

// The last `slots` rows of one stage of RowStages, row y in slot y % slots.
class Ring {
 public:
  Ring(int64_t slots, size_t row_bytes)
      : slots_(slots), row_bytes_(row_bytes), rows_(static_cast<size_t>(slots) * row_bytes, 0) {}
  uint8_t* operator()(int64_t y) {
    return rows_.data() + static_cast<size_t>(y % slots_) * row_bytes_;
  }

 private:
  int64_t slots_;
  size_t row_bytes_;
  std::vector<uint8_t> rows_;
};

// Per row of tiles, 1 if any of them is not 0 in `tiles` (a flat tint's grey, the fine screen).
std::vector<uint8_t> AnyPerTileRow(const std::vector<uint8_t>& tiles, uint32_t tiles_x) {
  std::vector<uint8_t> rows(tiles_x == 0 ? 0 : tiles.size() / tiles_x, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto first = tiles.begin() + static_cast<std::ptrdiff_t>(i * tiles_x);
    rows[i] = std::any_of(first, first + tiles_x, [](uint8_t value) { return value != 0; });
  }
  return rows;
}

// Rows roll down the page through three stages, each a row behind the one before: row y is
// decided; row y - 1 cleaned (CleanText) against its neighbours; row y - 2's neighbour counts
// taken; row y - 3's tips trimmed (TrimTips) and the row finished: packed into the page, or
// kept unpacked for edge placement. Rows are padded by a zero byte each side; rows off the
// page are zero.
class RowStages {
 public:
  RowStages(const GrayPage& page, const std::vector<uint8_t>& tone,
            const std::vector<uint8_t>& tint, uint32_t tiles_x, const Screen (&screens)[2],
            const std::vector<uint8_t> (&screen_rows)[2], const std::vector<uint8_t>& chosen,
            ConversionMode mode, bool place_edges, BilevelPage& out)
      : page_(page),
        width_(page.width),
        rows_on_page_(page.height),
        padded_(static_cast<size_t>(page.width) + 2),
        tone_(tone),
        tint_(tint),
        tiles_x_(tiles_x),
        screens_(screens),
        screen_rows_(screen_rows),
        chosen_(chosen),
        fine_rows_(AnyPerTileRow(chosen, tiles_x)),
        thresholds_(page.width),
        keep_hard_(mode == ConversionMode::kAuto),
        place_edges_(place_edges),
        out_(out),
        zero_row_(padded_, 0),
        columns_(static_cast<size_t>(width_) + 4, 0),
        low_(static_cast<size_t>(width_) + 8),
        high_(low_.size()),
        hard_(width_),
        mids_(width_),
        tint_lines_(5, static_cast<size_t>(width_) + 4),
        tint_rows_(AnyPerTileRow(tint, tiles_x)),
        unpacked_(place_edges ? static_cast<size_t>(width_) * page.height : 0, 0),
        trimmed_(padded_, 0) {}

  void Run() {
    for (int64_t y = 0; y < rows_on_page_ + 3; ++y) {
      if (y < rows_on_page_) Decide(y);
      if (y - 1 >= 0 && y - 1 < rows_on_page_) Clean(y - 1);
      if (y - 2 >= 0 && y - 2 < rows_on_page_) Count(y - 2);
      if (y - 3 >= 0) Finish(y - 3);
    }
  }

  // The finished rows, one byte a pixel, when they wait for edge placement.
  std::vector<uint8_t>& unpacked() { return unpacked_; }

 private:
  const uint8_t* OnPage(Ring& ring, int64_t y) {
    return y >= 0 && y < rows_on_page_ ? ring(y) : zero_row_.data();
  }
  const uint8_t* RowTiles(int64_t y) const {
    return tone_.data() + static_cast<size_t>(y >> kTileShift) * tiles_x_;
  }
  // Calls each(kind, x0, x1) for each run of tiles of one kind along row y.
  template <typename Each>
  void ForRuns(int64_t y, Each&& each) const {
    const uint8_t* tiles = RowTiles(y);
    for (uint32_t tx = 0; tx < tiles_x_;) {
      uint32_t end = tx + 1;
      while (end < tiles_x_ && tiles[end] == tiles[tx]) ++end;
      each(tiles[tx], tx << kTileShift, std::min(width_, end << kTileShift));
      tx = end;
    }
  }
  // Screened pixels of a kToneBorder run keep the decision in `from`.
  void KeepScreened(int64_t y, const uint8_t* from, uint32_t x0, uint32_t x1, uint8_t* to) {
    const uint8_t* screened = screened_rows_(y) + 1;
    for (uint32_t x = x0; x < x1; ++x) {
      if (screened[x]) to[x + 1] = from[x + 1];
    }
  }
  // The lines over tints of row y (TintLinesSpan), found two rows ahead of the row decided;
  // rows off the page have none. Padded by two zero bytes each side.
  const uint8_t* TintLinesRow(int64_t y) {
    // The first call for a row decided asks for the row 2 below it, then the 4 above that:
    // only those are read from here on, and the rows before them are skipped.
    lines_found_ = std::max(lines_found_, y - 5);
    while (lines_found_ < std::min(y, rows_on_page_ - 1)) {
      const int64_t row = ++lines_found_;
      uint8_t* lines = tint_lines_(row) + 2;
      std::memset(lines, 0, width_);
      if (!tint_rows_[static_cast<size_t>(row >> kTileShift)]) continue;
      const uint8_t* tint = tint_.data() + static_cast<size_t>(row >> kTileShift) * tiles_x_;
      const Window window = WindowAt(page_, static_cast<uint32_t>(row));
      for (uint32_t tx = 0; tx < tiles_x_; ++tx) {
        if (!tint[tx]) continue;
        const uint32_t x0 = tx << kTileShift;
        const uint32_t x1 = std::min(width_, x0 + kTile);
        TintLinesSpan(window, width_, tint[tx], x0, x1, lines);
      }
    }
    return y >= 0 && y < rows_on_page_ ? tint_lines_(y) + 2 : zero_row_.data() + 2;
  }
  // DrawTintLinesSpan over the tiles of [x0, x1) that are a flat tint (TintTiles); the lines
  // drawn are marked in `screened` too, if given, to keep them through the clean-ups.
  void KeepTintLines(int64_t y, const Window& window, const uint8_t* thresholds, uint32_t x0,
                     uint32_t x1, uint8_t* decided, uint8_t* screened) {
    if (!tint_rows_[static_cast<size_t>(y >> kTileShift)]) return;
    const uint8_t* tint = tint_.data() + static_cast<size_t>(y >> kTileShift) * tiles_x_;
    const uint8_t* lines[5] = {nullptr};
    for (uint32_t t0 = x0; t0 < x1; t0 += kTile) {
      if (!tint[t0 >> kTileShift]) continue;
      if (lines[0] == nullptr) {
        for (int i = 4; i >= 0; --i) lines[i] = TintLinesRow(y - 2 + i);
      }
      const uint32_t t1 = std::min(x1, t0 + kTile);
      DrawTintLinesSpan(window, tint[t0 >> kTileShift], lines, thresholds, t0, t1, decided);
      if (screened != nullptr) {
        for (uint32_t x = t0; x < t1; ++x) screened[x] |= lines[2][x];
      }
    }
  }
  // Most rows of a text page are blank paper: each stage passes them through untouched (a
  // blank row cleans to a blank row, and its neighbour counts are never read).
  bool Blank(const uint8_t* row) const { return std::memchr(row + 1, 1, width_) == nullptr; }

  // Row y's screen thresholds, each tile's from its region's screen.
  const uint8_t* Thresholds(int64_t y) {
    auto row_of = [&](int s) {
      return screen_rows_[s].data() + static_cast<size_t>(y % screens_[s].height) * width_;
    };
    if (!fine_rows_[static_cast<size_t>(y >> kTileShift)]) return row_of(0);
    const uint8_t* chosen = chosen_.data() + static_cast<size_t>(y >> kTileShift) * tiles_x_;
    const uint8_t* rows[2] = {row_of(0), row_of(1)};
    for (uint32_t x0 = 0; x0 < width_; x0 += kTile) {
      const uint32_t x1 = std::min(width_, x0 + kTile);
      std::memcpy(thresholds_.data() + x0, rows[chosen[x0 >> kTileShift]] + x0, x1 - x0);
    }
    return thresholds_.data();
  }

  void Decide(int64_t y) {
    const uint8_t* thresholds = Thresholds(y);
    const Window window = WindowAt(page_, static_cast<uint32_t>(y));
    uint8_t* decided = decided_rows_(y) + 1;
    ForRuns(y, [&](uint8_t kind, uint32_t x0, uint32_t x1) {
      if (kind == kToneTile) {
        ScreenSpan(window, width_, thresholds, x0, x1, columns_.data(), decided);
        if (keep_hard_) {
          KeepHardSpan(window, width_, thresholds, x0, x1, low_.data(), high_.data(), hard_.data(),
                       mids_.data(), decided);
          KeepTintLines(y, window, thresholds, x0, x1, decided, nullptr);
        }
      } else {
        ThresholdSpan(window, width_, x0, x1, decided);
      }
      if (kind == kToneBorder) {
        uint8_t* screened = screened_rows_(y) + 1;
        ScreenFlatSpan(window, width_, thresholds, x0, x1, decided, screened);
        KeepTintLines(y, window, nullptr, x0, x1, decided, screened);
      }
    });
  }

  void Clean(int64_t y) {
    const uint8_t* row = decided_rows_(y);
    uint8_t* cleaned = cleaned_rows_(y);
    if (Blank(row)) {
      std::memset(cleaned, 0, padded_);
      *cleaned_blank_(y) = 1;
      return;
    }
    ForRuns(y, [&](uint8_t kind, uint32_t x0, uint32_t x1) {
      if (kind == kToneTile) {
        std::memcpy(cleaned + 1 + x0, row + 1 + x0, x1 - x0);
        return;
      }
      CleanText(OnPage(decided_rows_, y - 1), row, OnPage(decided_rows_, y + 1), x0, x1, cleaned);
      KeepDots(page_, y, OnPage(decided_rows_, y - 1), row, OnPage(decided_rows_, y + 1), x0, x1,
               cleaned);
      if (kind == kToneBorder) KeepScreened(y, row, x0, x1, cleaned);
    });
    *cleaned_blank_(y) = Blank(cleaned);  // its specks gone, a row may be blank now
  }

  void Count(int64_t y) {
    if (*cleaned_blank_(y)) return;
    CountNeighbours(OnPage(cleaned_rows_, y - 1), cleaned_rows_(y), OnPage(cleaned_rows_, y + 1),
                    width_, count_rows_(y));
  }

  void Finish(int64_t y) {
    if (*cleaned_blank_(y)) return;  // the page's bits start zero
    const TipRows rows{OnPage(cleaned_rows_, y - 1), cleaned_rows_(y), OnPage(cleaned_rows_, y + 1),
                       OnPage(count_rows_, y - 1),   count_rows_(y),   OnPage(count_rows_, y + 1)};
    ForRuns(y, [&](uint8_t kind, uint32_t x0, uint32_t x1) {
      if (kind == kToneTile) {
        std::memcpy(trimmed_.data() + 1 + x0, rows.row + 1 + x0, x1 - x0);
        return;
      }
      TrimTips(rows, x0, x1, trimmed_.data());
      if (kind == kToneBorder) KeepScreened(y, rows.row, x0, x1, trimmed_.data());
    });
    if (place_edges_) {
      std::memcpy(unpacked_.data() + static_cast<size_t>(y) * width_, trimmed_.data() + 1, width_);
    } else {
      PackRow(trimmed_.data() + 1, width_,
              out_.bits.data() + static_cast<size_t>(y) * out_.stride());
    }
  }

  const GrayPage& page_;
  const uint32_t width_;
  const int64_t rows_on_page_;
  const size_t padded_;
  const std::vector<uint8_t>& tone_;
  const std::vector<uint8_t>& tint_;  // TintTiles
  const uint32_t tiles_x_;
  const Screen (&screens_)[2];                    // coarse, fine
  const std::vector<uint8_t> (&screen_rows_)[2];  // their thresholds a row wide (ScreenRows)
  const std::vector<uint8_t>& chosen_;            // each tile's screen (ChooseScreens)
  const std::vector<uint8_t> fine_rows_;          // per row of tiles: 1 if any has the fine one
  std::vector<uint8_t> thresholds_;               // Thresholds' row
  const bool keep_hard_;  // photo mode screens tone tiles whole, marks and all
  const bool place_edges_;
  BilevelPage& out_;
  const std::vector<uint8_t> zero_row_;
  Ring decided_rows_{3, padded_};
  Ring cleaned_rows_{4, padded_};
  Ring count_rows_{3, padded_};
  // Which pixels of the last four rows ScreenFlatSpan screened (in kToneBorder tiles only):
  // those keep their screen decision through both clean-ups.
  Ring screened_rows_{4, padded_};
  // Whether each of the last four cleaned rows is blank paper (see Clean).
  Ring cleaned_blank_{4, 1};
  std::vector<uint16_t> columns_;                  // ScreenSpan's scratch
  std::vector<uint8_t> low_, high_, hard_, mids_;  // KeepHardSpan's scratch
  Ring tint_lines_;                                // TintLinesRow's rows, the last five
  int64_t lines_found_ = -1;                       // the last row in tint_lines_
  std::vector<uint8_t> tint_rows_;                 // per row of tiles: 1 if any is a tint
  std::vector<uint8_t> unpacked_;
  std::vector<uint8_t> trimmed_;
};

}  // namespace

namespace bilevel_internal {

void ThresholdRow(const uint8_t* const rows[5], uint32_t width, uint32_t x0, uint32_t x1,
                  uint8_t* out, bool skip_paper) {
  Window w;
  for (int i = 0; i < 5; ++i) w.rows[i] = rows[i];
  ThresholdSpan(w, width, x0, x1, out, skip_paper);
}

}  // namespace bilevel_internal

BilevelPage ConvertToBilevel(const uint8_t* gray, uint32_t width, uint32_t height, size_t stride,
                             const ConversionOptions& options) {
  CheckArguments(gray, width, height, stride, options);
  const GrayPage page{gray, width, height, stride};

  BilevelPage out;
  out.width = width;
  out.height = height;
  out.x_dpi = options.x_dpi;
  out.y_dpi = options.y_dpi;
  out.bits.assign(out.stride() * height, 0);

  const uint32_t tiles_x = (width + kTile - 1) >> kTileShift;
  const uint32_t tiles_y = (height + kTile - 1) >> kTileShift;
  const std::vector<uint8_t> tone = TileKinds(page, options.mode, tiles_x, tiles_y);
  // With thresholded tiles on the page (text, and text next to tone), the finished rows wait
  // unpacked for edge placement (edge_placement.h), which leaves the tone tiles alone. (In a
  // text tile next to tone, the dots of its screened greys are edges like any other.)
  std::vector<uint8_t> editable(tone.size());
  for (size_t i = 0; i < tone.size(); ++i) editable[i] = tone[i] != kToneTile;
  const bool place_edges = std::find(editable.begin(), editable.end(), 1) != editable.end();

  const Screen screens[2] = {ScreenFor(kCellWidthMm, options.x_dpi, options.y_dpi),
                             ScreenFor(kFineCellWidthMm, options.x_dpi, options.y_dpi)};
  const std::vector<uint8_t> screen_rows[2] = {ScreenRows(screens[0], width),
                                               ScreenRows(screens[1], width)};
  const std::vector<uint8_t> chosen =
      ChooseScreens(page, tone, tiles_x, tiles_y, screen_rows, screens);
  // Only in auto mode: photo mode screens tone tiles whole, marks and all (as KeepHardSpan).
  const std::vector<uint8_t> tint = options.mode == ConversionMode::kAuto
                                        ? TintTiles(page, tone, tiles_x, tiles_y)
                                        : std::vector<uint8_t>(tone.size(), 0);
  RowStages stages(page, tone, tint, tiles_x, screens, screen_rows, chosen, options.mode,
                   place_edges, out);
  stages.Run();
  if (place_edges) {
    std::vector<uint8_t>& unpacked = stages.unpacked();
    PlaceEdges(unpacked.data(), gray, stride, width, height,
               EdgeRegion{editable.data(), tiles_x, kTileShift}, options.x_dpi, options.y_dpi);
    for (uint32_t y = 0; y < height; ++y) {
      PackRow(unpacked.data() + static_cast<size_t>(y) * width, width,
              out.bits.data() + static_cast<size_t>(y) * out.stride());
    }
  }
  return out;
}

}  // namespace faxline::image
