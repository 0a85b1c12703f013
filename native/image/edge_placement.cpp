#include "image/edge_placement.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace faxline::image {
namespace {

// The eye model: a Gaussian of this standard deviation, half the 0.3 mm the benchmark's
// quality figure blurs with: a narrower model keeps edges where the gray has them and lets
// the search move them only where a blur hides it (on the benchmark's text pages it scored
// higher blurred SSIM than 0.3 mm at every line time).
constexpr double kEyeSigmaMm = 0.15;
// Bits of T.6 one unit of squared blurred error is worth (a whole pixel of ink missing, seen
// alone, is about 0.06 units at fine). Lower trades resemblance for line time. Against
// thresholding PDFium's aliased text, on the benchmark's text pages (gnuplot manual, fine):
// 20 saves 7.8% of T.6 for 0.0019 more blurred SSIM, 25 saves 7.1% for 0.0027 more, 40
// saves 4.4% for 0.0043 more.
constexpr double kBitsPerError = 25.0;
// No flip saves more bits than this (it would have to remove two horizontal codes): flips
// whose added error costs more are not coded to find out.
constexpr double kMostBitsSaved = 32.0;
// The eye model's reach in rows at superfine resolution (15.4 lines/mm) is 10.
constexpr int kMaxReach = 16;

// ---------------------------------------------------------------------------------------
// T.6 code lengths (ITU-T T.4 tables 1-3), in bits.

int WhiteTerminatingBits(int n) {
  static constexpr uint8_t kBits[64] = {8, 6, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6,
                                        6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 8,
                                        8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
                                        8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  return kBits[n];
}

int BlackTerminatingBits(int n) {
  static constexpr uint8_t kBits[64] = {
      10, 3,  2,  2,  3,  4,  4,  5,  6,  6,  7,  7,  7,  8,  8,  9,  10, 10, 10, 11, 11, 11,
      11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
      12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12};
  return kBits[n];
}

// A run of n pixels of one colour: make-up codes for each 64 (up to 1728 at a time), then a
// terminating code.
int RunBits(int n, bool black) {
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

constexpr int kPassBits = 4;
constexpr int kVerticalBits[4] = {1, 3, 6, 7};  // V0, VR1/VL1, VR2/VL2, VR3/VL3
constexpr int kHorizontalBits = 3;

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

// Fills next[0 .. width] for a row (see RowView): runs of the same value between changes,
// found eight pixels at a time.
void IndexChanges(const uint8_t* pixels, int width, int* next) {
  int filled = 0;  // next[0 .. filled) are set
  uint8_t before = 0;
  int x = 0;
  while (x < width) {
    // Skip eight pixels at a time while they all equal the one before them.
    while (x + 8 <= width) {
      uint64_t word;
      std::memcpy(&word, pixels + x, 8);
      if (word != 0x0101010101010101ull * before) break;
      x += 8;
    }
    const int end = std::min(width, x + 8);
    for (; x < end; ++x) {
      if (pixels[x] == before) continue;
      std::fill(next + filled, next + x + 1, x);
      filled = x + 1;
      before = pixels[x];
    }
  }
  std::fill(next + filled, next + width + 1, width);
}

// The span [first, last) of a row outside of which both the page (0/1 pixels) and the gray
// are paper, eight pixels at a time.
std::pair<int, int> MarkedSpan(const uint8_t* page, const uint8_t* gray, int width) {
  auto paper = [&](int x) {
    uint64_t ink, shade;
    std::memcpy(&ink, page + x, 8);
    std::memcpy(&shade, gray + x, 8);
    return ink == 0 && shade == ~0ull;
  };
  int first = 0;
  while (first + 8 <= width && paper(first)) first += 8;
  while (first < width && page[first] == 0 && gray[first] == 255) ++first;
  int last = width;
  while (last - 8 >= first && paper(last - 8)) last -= 8;
  while (last > first && page[last - 1] == 0 && gray[last - 1] == 255) --last;
  return {first, last};
}

// Whether flipping pixel x of `row` keeps the page's topology: no stroke broken or
// shortened, no hole opened or filled, no two shapes joined. `up` and `down` are the rows
// around it (0/1, paper beyond the page). Black takes 8-connectivity and paper 4; Yokoi's
// connectivity number counts the black shapes meeting at the pixel (which, by duality, is
// also the number of pieces of paper meeting there). A pixel may change colour only where
// that number is 1; a black one, also only where it is not a stroke's end.
bool KeepsTopology(const uint8_t* up, const uint8_t* row, const uint8_t* down, int x, int width) {
  auto at = [&](const uint8_t* r, int i) -> int { return i >= 0 && i < width ? r[i] : 0; };
  // Around the pixel, counter-clockwise from east.
  const int n[8] = {at(row, x + 1), at(up, x + 1),   at(up, x),   at(up, x - 1),
                    at(row, x - 1), at(down, x - 1), at(down, x), at(down, x + 1)};
  int meeting = 0;
  for (int k = 0; k < 8; k += 2) {
    const int a = 1 - n[k], b = 1 - n[k + 1], c = 1 - n[(k + 2) % 8];
    meeting += a - a * b * c;
  }
  if (meeting != 1) return false;
  if (!row[x]) return true;
  // A stroke's end: one black neighbour, or two side by side. Taking it away would shorten
  // the stroke, and again at the next row. (Three side by side is a corner of a shape at
  // least 2 px thick, which may round off.)
  int neighbours = 0;
  for (int k = 0; k < 8; ++k) neighbours += n[k];
  if (neighbours >= 3) return true;
  if (neighbours <= 1) return false;
  for (int k = 0; k < 8; ++k) {
    if (n[k] && n[(k + 1) % 8]) return false;  // the two are side by side
  }
  return true;
}

// Edge pixels of a row, in order: the pixel before each changing element and its own. The
// next one after x, from the row's index as it is now (after any flip at x).
int NextCandidate(const int* next, int x, int width) {
  const int change = x + 1 < width ? next[x + 1] : width;
  if (change >= width) return width;
  return change - 1 > x ? change - 1 : change;
}

int FirstCandidate(const int* next, int width) {
  return next[0] >= width ? width : std::max(0, next[0] - 1);
}

// After pixel x of a row flipped: only next[] at or left of x + 1, back to the changing
// element before x, can differ.
void ReindexAfterFlip(const uint8_t* pixels, int width, int x, int* next) {
  for (int p = std::min(x + 1, width - 1); p >= 0; --p) {
    const uint8_t before = p > 0 ? pixels[p - 1] : 0;
    const int value = pixels[p] != before ? p : next[p + 1];
    if (p < x && value == next[p]) break;
    next[p] = value;
  }
}

// Where the coder of one row stands: T.6's a0 and its colour, the bits spent before it, and
// how far right the steps before it looked (a flip at or left of that changes them).
struct CoderState {
  int a0;
  uint8_t colour;
  int bits;
  int looked;
};

// One step of T.6 two-dimensional coding from `state`; returns its bits.
int CodeStep(const RowView& ref, const RowView& cur, CoderState& state) {
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
void CodeRow(const RowView& ref, const RowView& cur, std::vector<CoderState>& states) {
  states.clear();
  CoderState state{-1, 0, 0, -1};
  states.push_back(state);
  while (state.a0 < cur.width) {
    state.bits += CodeStep(ref, cur, state);
    states.push_back(state);
  }
}

// How many bits the coding in `states` (of the rows as they are) changes by with pixel
// `flip` flipped in `ref` or `cur` (set in the views): codes from the last state whose steps
// looked only left of the flip until the new coding meets the old one right of it. With
// `splice`, also makes `states` the new coding's, for a flip that is kept.
int CodingDelta(const RowView& ref, const RowView& cur, std::vector<CoderState>& states, int flip,
                size_t& hint, std::vector<CoderState>* splice) {
  // states[i].looked is the furthest right any step before state i looked: increasing, and
  // -1 for the first state, so there is always a state to start from. Flips are tried left
  // to right, so the start moves right from the last one (`hint`).
  size_t k = std::min(hint, states.size() - 1);
  while (k > 0 && states[k].looked >= flip) --k;
  while (k + 1 < states.size() && states[k + 1].looked < flip) ++k;
  hint = k;
  const auto start = states.begin() + static_cast<std::ptrdiff_t>(k);
  CoderState state = *start;
  if (splice) splice->clear();
  auto old_end = states.end();  // the old state the new coding meets, or the end
  auto same = start;
  while (state.a0 < cur.width) {
    state.bits += CodeStep(ref, cur, state);
    if (splice) splice->push_back(state);
    if (state.a0 > flip + 1) {
      // Right of the flip the coder looks only further right: where it stands in a state of
      // the old coding, the rest is the same.
      while (same != states.end() && same->a0 < state.a0) ++same;
      if (same != states.end() && same->a0 == state.a0 && same->colour == state.colour) {
        old_end = same;
        break;
      }
    }
  }
  const int old_bits = (old_end != states.end() ? old_end->bits : states.back().bits) - start->bits;
  const int delta = (state.bits - start->bits) - old_bits;
  if (splice) {
    // Replace the old states after `start` up to the meeting state (or to the end) with the
    // new ones; the states after that keep their steps, shifted by the bits saved.
    const auto first = start + 1;
    const auto last = old_end != states.end() ? old_end + 1 : states.end();
    const size_t at = static_cast<size_t>(first - states.begin());
    const size_t after = static_cast<size_t>(states.end() - last);
    if (static_cast<size_t>(last - first) == splice->size()) {
      std::copy(splice->begin(), splice->end(), first);  // as many steps: most flips
    } else {
      states.erase(first, last);
      states.insert(states.begin() + static_cast<std::ptrdiff_t>(at), splice->begin(),
                    splice->end());
    }
    for (size_t i = states.size() - after; i < states.size(); ++i) {
      states[i].bits += delta;
      states[i].looked = std::max(states[i].looked, state.looked);
    }
  }
  return delta;
}

// A Gaussian of `sigma` pixels out to 3 sigma, normalised.
std::vector<float> GaussianKernel(double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<float> k(2 * radius + 1);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    sum += k[i + radius] = static_cast<float>(std::exp(-i * i / (2 * sigma * sigma)));
  }
  for (float& v : k) v = static_cast<float>(v / sum);
  return k;
}

// The eye model at a page's resolution. The eye sees the page blurred by a Gaussian K. Pixel
// p gaining ink s (+1 or -1) changes the squared difference between the blurred page and the
// blurred gray by 2 s (d * K2)(p) + K2(0), where d is the page's ink minus the gray's and
// K2 = K * K, a Gaussian sqrt(2) times as wide; K2 is separable into kx across and ky down.
struct EyeModel {
  std::vector<float> kx;
  std::vector<float> ky;
  int reach_x;  // kx's radius, pixels
  int reach;    // ky's radius, rows
  float self;   // K2(0)

  EyeModel(double x_dpi, double y_dpi)
      : kx(GaussianKernel(std::sqrt(2.0) * kEyeSigmaMm * x_dpi / 25.4)),
        ky(GaussianKernel(std::sqrt(2.0) * kEyeSigmaMm * y_dpi / 25.4)),
        reach_x(static_cast<int>(kx.size() / 2)),
        reach(static_cast<int>(ky.size() / 2)),
        self(kx[reach_x] * ky[reach]) {}
};

// One run of the search over a page: the page and its model, the blurred difference rows it
// keeps up to date, and the T.6 codings of the rows around the one searched.
class EdgeSearch {
 public:
  EdgeSearch(uint8_t* pixels, const uint8_t* gray, size_t stride, uint32_t width, uint32_t height,
             const EdgeRegion& region, const EyeModel& eye)
      : pixels_(pixels),
        gray_(gray),
        stride_(stride),
        w_(static_cast<int>(width)),
        h_(static_cast<int>(height)),
        region_(region),
        eye_(eye),
        window_(2 * eye.reach + 1),
        white_(w_, 0) {}

  void Run() {
    FindActiveRows();
    if (!ActiveRows(0, h_ - 1)) return;
    StartAcross();
    SearchRows();
  }

 private:
  // Rows worth searching: those in a row of tiles with an editable tile holding ink. (A page
  // that is mostly photograph has its tone tiles left alone, and its paper margins, editable
  // but blank, need nothing.) Rows within `reach` of them need `across`.
  void FindActiveRows() {
    const uint32_t width = static_cast<uint32_t>(w_), height = static_cast<uint32_t>(h_);
    const uint32_t tile = 1u << region_.tile_shift;
    active_before_.assign(static_cast<size_t>(h_) + 1, 0);
    for (uint32_t y0 = 0; y0 < height; y0 += tile) {
      const uint32_t y1 = std::min(height, y0 + tile);
      const uint8_t* tiles =
          region_.editable_tiles + static_cast<size_t>(y0 >> region_.tile_shift) * region_.tiles_x;
      bool active = false;
      for (uint32_t tx = 0; tx < region_.tiles_x && !active; ++tx) {
        if (!tiles[tx]) continue;
        const uint32_t x0 = tx << region_.tile_shift, span = std::min(width, x0 + tile) - x0;
        for (uint32_t y = y0; y < y1 && !active; ++y)
          active = std::memchr(pixels_ + static_cast<size_t>(y) * w_ + x0, 1, span) != nullptr;
      }
      for (uint32_t y = y0; y < y1; ++y) active_before_[y + 1] = active_before_[y] + active;
    }
  }

  // Whether any row in [y0, y1] is active.
  bool ActiveRows(int y0, int y1) const {
    y0 = std::max(0, y0);
    y1 = std::min(h_ - 1, y1);
    return y0 <= y1 && active_before_[y1 + 1] != active_before_[y0];
  }

  // `across` holds rows y - reach .. y + reach of d blurred across (row r in slot r % window),
  // and d * K2 at a pixel of row y is their sum down its column, weighted. A flip changes one
  // row of d by one pixel, so its row in `across` by one kernel's width. Rows enter in order,
  // from rows not yet searched. `dirty` is each slot's span that may be non-zero.
  void StartAcross() {
    across_.assign(static_cast<size_t>(window_) * w_, 0.0f);
    dirty_.assign(window_, {0, 0});
    difference_.assign(static_cast<size_t>(w_) + 2 * eye_.reach_x, 0.0f);  // padded row of d
    for (int y = 0; y < std::min(h_, eye_.reach + 1); ++y) BlurAcross(y);
  }

  float* AcrossRow(int y) { return across_.data() + static_cast<size_t>(y % window_) * w_; }

  // Row y of d, blurred across, into its slot of `across`.
  void BlurAcross(int y) {
    const int slot = y % window_;
    float* out = AcrossRow(y);
    std::fill(out + dirty_[slot].first, out + dirty_[slot].second, 0.0f);
    dirty_[slot] = {0, 0};
    if (!ActiveRows(y - eye_.reach, y + eye_.reach)) return;  // no search reads it
    const uint8_t* p = pixels_ + static_cast<size_t>(y) * w_;
    const uint8_t* g = gray_ + static_cast<size_t>(y) * stride_;
    // d is zero where both are paper: the span from the first to the last pixel with ink in
    // the page or the gray.
    const auto [first, last] = MarkedSpan(p, g, w_);
    if (first >= last) return;
    const int reach_x = eye_.reach_x;
    for (int x = first; x < last; ++x) {
      difference_[x + reach_x] = p[x] - (255 - g[x]) * (1.0f / 255);
    }
    const int x0 = std::max(0, first - reach_x), x1 = std::min(w_, last + reach_x);
    for (int i = 0; i < static_cast<int>(eye_.kx.size()); ++i) {
      const float k = eye_.kx[i];
      const float* in = difference_.data() + i;  // in[x] = d[x + i - reach_x]
      for (int x = x0; x < x1; ++x) out[x] += k * in[x];
    }
    std::fill(difference_.begin() + first + reach_x, difference_.begin() + last + reach_x, 0.0f);
    dirty_[slot] = {x0, x1};
  }

  // The change index of rows y - 1, y and y + 1 (row y in slot y % 3).
  int* NextOf(int y) { return next_rows_.data() + static_cast<size_t>((y + 3) % 3) * (w_ + 1); }
  const uint8_t* RowPixels(int y) const {
    return y >= 0 && y < h_ ? pixels_ + static_cast<size_t>(y) * w_ : white_.data();
  }
  void IndexRow(int y) { IndexChanges(RowPixels(y), w_, NextOf(y)); }
  RowView View(int y) { return RowView{RowPixels(y), NextOf(y), w_}; }

  // Row by row: code rows y and y + 1 against the rows above them, search row y, then move
  // the codings, the change indexes and `across` on by a row.
  void SearchRows() {
    next_rows_.assign(3 * (static_cast<size_t>(w_) + 1), 0);
    thresholded_.assign(w_, 0);
    IndexRow(-1);
    IndexRow(0);
    IndexRow(1);
    bool coded_here = false;  // whether coding_here_ is row y's, coded against row y - 1
    for (int y = 0; y < h_; ++y) {
      const bool last_row = y + 1 == h_;
      const RowView above = View(y - 1);
      const RowView below = View(y + 1);
      const bool search = ActiveRows(y, y) && NextOf(y)[0] < w_;  // one colour: no edges
      if (search) {
        if (!coded_here) CodeRow(above, View(y), coding_here_);
        if (!last_row) CodeRow(View(y), below, coding_below_);
        SearchRow(y, above, below, last_row);
      }
      // Advance: row y + 1's coding is now the one to search, row y + 2 gets its index, and
      // row y + 1 + reach enters `across` (in the slot of row y - reach, no longer needed).
      std::swap(coding_here_, coding_below_);
      coded_here = search && !last_row;
      IndexRow(y + 2);
      if (y + 1 + eye_.reach < h_) BlurAcross(y + 1 + eye_.reach);
    }
  }

  // Tries each edge pixel of row y, left to right, and keeps the flips that pay.
  void SearchRow(int y, const RowView& above, const RowView& below, bool last_row) {
    const int w = w_;
    const int reach = eye_.reach;
    size_t hint_here = 0, hint_below = 0;
    const uint8_t* tiles =
        region_.editable_tiles + static_cast<size_t>(y >> region_.tile_shift) * region_.tiles_x;
    uint8_t* row = pixels_ + static_cast<size_t>(y) * w;
    // The weighted rows of `across` that d * K2 sums for this row.
    const float* rows_across[2 * kMaxReach + 1];
    float weights[2 * kMaxReach + 1];
    int terms = 0;
    for (int j = -reach; j <= reach; ++j) {
      if (y + j < 0 || y + j >= h_) continue;
      rows_across[terms] = AcrossRow(y + j);
      weights[terms++] = eye_.ky[j + reach];
    }
    // Each edge moves by one pixel at most: a pixel may flip only beside a changing element
    // of the row as thresholding left it, so a line cannot drift, however many flips pay.
    std::memcpy(thresholded_.data(), row, w);
    const int* next = NextOf(y);
    for (int x = FirstCandidate(next, w); x < w; x = NextCandidate(next, x, w)) {
      if (!tiles[x >> region_.tile_shift]) continue;
      const uint8_t was = thresholded_[x];
      if ((x == 0 || thresholded_[x - 1] == was) && (x + 1 == w || thresholded_[x + 1] == was))
        continue;
      if (!KeepsTopology(above.pixels, row, below.pixels, x, w)) continue;
      const uint8_t c = row[x];
      const float ink = c ? -1.0f : 1.0f;
      float field = 0;
      for (int t = 0; t < terms; ++t) field += weights[t] * rows_across[t][x];
      const double error = 2.0 * ink * field + eye_.self;
      if (error * kBitsPerError >= kMostBitsSaved) continue;
      const RowView flipped = View(y).WithFlip(x);
      // Where the row above (below) matches this one around the edge, the edge is coded
      // "same as the row above" (and the row below's against it): moving it by a pixel
      // costs that coding 2 bits (V0 to V1), in 98% of cases on text pages. Coding it out
      // is the search's main cost, so a flip is first judged on that estimate and coded
      // only if it could be kept.
      const int edge_at = x > 0 && row[x - 1] != row[x] ? x : x + 1;
      const int from = std::max(0, edge_at - 4), to = std::min(w, edge_at + 4);
      const bool like_above = std::memcmp(row + from, above.pixels + from, to - from) == 0;
      const bool like_below =
          last_row || std::memcmp(row + from, below.pixels + from, to - from) == 0;
      auto code_here = [&] {
        return CodingDelta(above, flipped, coding_here_, x, hint_here, nullptr);
      };
      auto code_below = [&] {
        return last_row ? 0 : CodingDelta(flipped, below, coding_below_, x, hint_below, nullptr);
      };
      const int here_bits = like_above ? 2 : code_here();
      const int below_bits = like_below ? (last_row ? 0 : 2) : code_below();
      if (here_bits + below_bits + kBitsPerError * error >= 0) continue;
      const int bits =
          (like_above ? code_here() : here_bits) + (like_below ? code_below() : below_bits);
      if (bits + kBitsPerError * error >= 0) continue;
      // Keep it: both codings, the row's index, and its row of `across`.
      CodingDelta(above, flipped, coding_here_, x, hint_here, &splice_);
      if (!last_row) CodingDelta(flipped, below, coding_below_, x, hint_below, &splice_);
      row[x] ^= 1;
      ReindexAfterFlip(row, w, x, NextOf(y));
      AddFlipToAcross(y, x, ink);
    }
  }

  // Row y's blurred difference after pixel x gained `ink` (+1 or -1).
  void AddFlipToAcross(int y, int x, float ink) {
    const int reach_x = eye_.reach_x;
    float* blurred = AcrossRow(y);
    const int i0 = std::max(-reach_x, -x), i1 = std::min(reach_x, w_ - 1 - x);
    for (int i = i0; i <= i1; ++i) blurred[x + i] += ink * eye_.kx[i + reach_x];
    auto& span = dirty_[y % window_];
    span = span.first == span.second
               ? std::pair{x + i0, x + i1 + 1}
               : std::pair{std::min(span.first, x + i0), std::max(span.second, x + i1 + 1)};
  }

  uint8_t* const pixels_;
  const uint8_t* const gray_;
  const size_t stride_;
  const int w_;
  const int h_;
  const EdgeRegion region_;
  const EyeModel& eye_;
  const int window_;
  const std::vector<uint8_t> white_;  // the rows beyond the page
  std::vector<int> active_before_;    // active rows before each row
  std::vector<float> across_;
  std::vector<std::pair<int, int>> dirty_;
  std::vector<float> difference_;
  std::vector<int> next_rows_;
  std::vector<CoderState> coding_here_, coding_below_, splice_;
  std::vector<uint8_t> thresholded_;  // the row searched, as it was before any flip
};

}  // namespace

void PlaceEdges(uint8_t* pixels, const uint8_t* gray, size_t stride, uint32_t width,
                uint32_t height, const EdgeRegion& region, double x_dpi, double y_dpi) {
  if (width == 0 || height == 0) return;
  const EyeModel eye(x_dpi, y_dpi);
  if (eye.reach > kMaxReach) return;  // a resolution far beyond fax's: leave the page as it is
  EdgeSearch(pixels, gray, stride, width, height, region, eye).Run();
}

}  // namespace faxline::image
