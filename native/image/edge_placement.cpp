#include "image/edge_placement.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "image/t6_cost.h"

namespace faxline::image {
namespace {

using t6::CodeRow;
using t6::CoderState;
using t6::IndexChanges;
using t6::kNotQuick;
using t6::MovedEdgeDelta;
using t6::Recode;
using t6::Recoding;
using t6::ReindexAfterFlip;
using t6::RowView;
using t6::Splice;

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

// Black takes 8-connectivity and paper 4; Yokoi's connectivity number counts the black shapes
// meeting at the pixel (which, by duality, is also the number of pieces of paper meeting
// there). A pixel may change colour only where that number is 1; a black one, also only
// where it is not a stroke's end. (edge_internal::FlipKeepsTopology.)
constexpr bool YokoiRule(unsigned around, bool black) {
  int n[8] = {};
  for (int k = 0; k < 8; ++k) n[k] = (around >> k) & 1;
  int meeting = 0;
  for (int k = 0; k < 8; k += 2) {
    const int a = 1 - n[k], b = 1 - n[k + 1], c = 1 - n[(k + 2) % 8];
    meeting += a - a * b * c;
  }
  if (meeting != 1) return false;
  if (!black) return true;
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

// YokoiRule for every neighbourhood: bit 0 for a white pixel, bit 1 for a black one.
struct TopologyTable {
  uint8_t ok[256];
};
constexpr TopologyTable MakeTopologyTable() {
  TopologyTable t{};
  for (unsigned a = 0; a < 256; ++a) {
    t.ok[a] = static_cast<uint8_t>((YokoiRule(a, false) ? 1 : 0) | (YokoiRule(a, true) ? 2 : 0));
  }
  return t;
}
constexpr TopologyTable kTopology = MakeTopologyTable();

// edge_internal::Neighbours, inlined into the search.
inline unsigned GatherNeighbours(const uint8_t* up, const uint8_t* row, const uint8_t* down, int x,
                                 int width) {
  if (x > 0 && x + 1 < width) {
    return row[x + 1] | up[x + 1] << 1 | up[x] << 2 | up[x - 1] << 3 | row[x - 1] << 4 |
           down[x - 1] << 5 | down[x] << 6 | down[x + 1] << 7;
  }
  auto at = [&](const uint8_t* r, int i) -> unsigned { return i >= 0 && i < width ? r[i] : 0; };
  return at(row, x + 1) | at(up, x + 1) << 1 | at(up, x) << 2 | at(up, x - 1) << 3 |
         at(row, x - 1) << 4 | at(down, x - 1) << 5 | at(down, x) << 6 | at(down, x + 1) << 7;
}

// Eight floats, for loops GCC would otherwise leave scalar or 4-wide. Every lane does the same
// float operations, in the same order, as the scalar code it replaces (mul then add, never
// fused: no FMA is enabled), so results are bit-identical on any x86-64.
typedef float Floats8 __attribute__((vector_size(32)));
// The same, at any float's address (loads and stores of rows at any offset).
typedef float UnalignedFloats8 __attribute__((vector_size(32), aligned(4), may_alias));
#define LOAD8(p) (*reinterpret_cast<const UnalignedFloats8*>(p))
#define STORE8(p, v) (*reinterpret_cast<UnalignedFloats8*>(p) = (v))

// The prebuild runs on any x86-64, so the hot loops are compiled twice, for AVX2 and for the
// baseline, and the loader picks one for the CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FAXLINE_HOT_LOOP __attribute__((target_clones("avx2", "default")))
#else
#define FAXLINE_HOT_LOOP
#endif

}  // namespace

namespace edge_internal {

bool FlipKeepsTopology(unsigned around, bool black) { return YokoiRule(around, black); }

bool FlipKeepsTopologyQuick(unsigned around, bool black) {
  return (kTopology.ok[around & 255] >> black) & 1;
}

unsigned Neighbours(const uint8_t* up, const uint8_t* row, const uint8_t* down, int x, int width) {
  return GatherNeighbours(up, row, down, x, width);
}

// All taps summed in registers rather than each tap's row added to `out` in turn.
FAXLINE_HOT_LOOP
void BlurRow(const float* in, const float* k, int taps, float* out, int x0, int x1) {
  int x = x0;
  for (; x + 32 <= x1; x += 32) {
    Floats8 a = {}, b = {}, c = {}, d = {};
    for (int i = 0; i < taps; ++i) {
      const float* p = in + x + i;
      const float ki = k[i];
      a += ki * LOAD8(p), b += ki * LOAD8(p + 8), c += ki * LOAD8(p + 16), d += ki * LOAD8(p + 24);
    }
    STORE8(out + x, a), STORE8(out + x + 8, b), STORE8(out + x + 16, c), STORE8(out + x + 24, d);
  }
  for (; x + 8 <= x1; x += 8) {
    Floats8 a = {};
    for (int i = 0; i < taps; ++i) a += k[i] * LOAD8(in + x + i);
    STORE8(out + x, a);
  }
  for (; x < x1; ++x) {
    float sum = 0.0f;
    for (int i = 0; i < taps; ++i) sum += k[i] * in[x + i];
    out[x] = sum;
  }
}

FAXLINE_HOT_LOOP
void WeightedSum8(const float* const* rows, const float* weights, int terms, int x, float* out) {
  Floats8 a = {};
  for (int t = 0; t < terms; ++t) a += weights[t] * LOAD8(rows[t] + x);
  STORE8(out, a);
}

}  // namespace edge_internal

namespace {

// Whether flipping pixel x of `row` keeps the page's topology: no stroke broken or
// shortened, no hole opened or filled, no two shapes joined (edge_internal's rule, looked up).
// `up` and `down` are the rows around it (0/1, paper beyond the page).
inline bool KeepsTopology(const uint8_t* up, const uint8_t* row, const uint8_t* down, int x,
                          int width) {
  return (kTopology.ok[GatherNeighbours(up, row, down, x, width)] >> (row[x] != 0)) & 1;
}

// Whether a[0 .. n) equals b[0 .. n), for the few bytes around an edge (mostly 8).
inline bool SameBytes(const uint8_t* a, const uint8_t* b, int n) {
  if (n == 8) {
    uint64_t u, v;
    std::memcpy(&u, a, 8);
    std::memcpy(&v, b, 8);
    return u == v;
  }
  return std::memcmp(a, b, n) == 0;
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
    // (Eight floats more: the field is summed eight pixels at a time, past the last row's end.)
    across_.assign(static_cast<size_t>(window_) * w_ + 8, 0.0f);
    field_.assign(static_cast<size_t>(w_) + 8, 0.0f);
    field_stamps_.assign(static_cast<size_t>(w_ + 7) / 8, 0);
    dirty_.assign(window_, {0, 0});
    difference_.assign(static_cast<size_t>(w_) + 2 * eye_.reach_x, 0.0f);  // padded row of d
    for (int y = 0; y < std::min(h_, eye_.reach + 1); ++y) BlurAcross(y);
  }

  float* AcrossRow(int y) { return across_.data() + static_cast<size_t>(y % window_) * w_; }

  // Row y of d, blurred across, into its slot of `across`.
  void BlurAcross(int y) {
    const int slot = y % window_;
    float* out = AcrossRow(y);
    const auto [dirty_from, dirty_to] = dirty_[slot];
    dirty_[slot] = {0, 0};
    auto clear = [&](int from, int to) {
      if (from < to) std::fill(out + from, out + to, 0.0f);
    };
    if (!ActiveRows(y - eye_.reach, y + eye_.reach)) {  // no search reads it
      clear(dirty_from, dirty_to);
      return;
    }
    const uint8_t* p = pixels_ + static_cast<size_t>(y) * w_;
    const uint8_t* g = gray_ + static_cast<size_t>(y) * stride_;
    // d is zero where both are paper: the span from the first to the last pixel with ink in
    // the page or the gray.
    const auto [first, last] = MarkedSpan(p, g, w_);
    if (first >= last) {
      clear(dirty_from, dirty_to);
      return;
    }
    const int reach_x = eye_.reach_x;
    for (int x = first; x < last; ++x) {
      difference_[x + reach_x] = p[x] - (255 - g[x]) * (1.0f / 255);
    }
    const int x0 = std::max(0, first - reach_x), x1 = std::min(w_, last + reach_x);
    // BlurRow writes [x0, x1) whole: only the rest of the old span needs clearing.
    clear(dirty_from, std::min(dirty_to, x0));
    clear(std::max(dirty_from, x1), dirty_to);
    // in[x + i] = d[x + i - reach_x]
    edge_internal::BlurRow(difference_.data(), eye_.kx.data(), static_cast<int>(eye_.kx.size()),
                           out, x0, x1);
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
    ++field_stamp_;  // no block of the field is summed for this row yet
    const int* next = NextOf(y);
    for (int x = FirstCandidate(next, w); x < w; x = NextCandidate(next, x, w)) {
      if (!tiles[x >> region_.tile_shift]) continue;
      const uint8_t was = thresholded_[x];
      if ((x == 0 || thresholded_[x - 1] == was) && (x + 1 == w || thresholded_[x + 1] == was))
        continue;
      if (!KeepsTopology(above.pixels, row, below.pixels, x, w)) continue;
      const uint8_t c = row[x];
      const float ink = c ? -1.0f : 1.0f;
      // d * K2 at x, summed for its block of eight pixels when the block is first needed (a
      // kept flip voids the blocks it changes): the same sums, fewer and wider.
      const int block = x >> 3;
      if (field_stamps_[block] != field_stamp_) {
        edge_internal::WeightedSum8(rows_across, weights, terms, block << 3,
                                    field_.data() + (block << 3));
        field_stamps_[block] = field_stamp_;
      }
      const float field = field_[x];
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
      const bool like_above = SameBytes(row + from, above.pixels + from, to - from);
      const bool like_below = last_row || SameBytes(row + from, below.pixels + from, to - from);
      // The change in bits, quickly where the flip is the common case (and `here_`, `below_`
      // the codings with it, for Splice).
      auto code_here = [&] {
        const RowView current = View(y);
        const int quick = MovedEdgeDelta<true>(above, current, coding_here_, x, hint_here, here_);
        return quick != kNotQuick ? quick
                                  : Recode(above, flipped, coding_here_, x, hint_here, here_);
      };
      auto code_below = [&] {
        if (last_row) return 0;
        const int quick =
            MovedEdgeDelta<false>(View(y), below, coding_below_, x, hint_below, below_);
        return quick != kNotQuick ? quick
                                  : Recode(flipped, below, coding_below_, x, hint_below, below_);
      };
      const int here_bits = like_above ? 2 : code_here();
      const int below_bits = like_below ? (last_row ? 0 : 2) : code_below();
      if (here_bits + below_bits + kBitsPerError * error >= 0) continue;
      const int bits =
          (like_above ? code_here() : here_bits) + (like_below ? code_below() : below_bits);
      if (bits + kBitsPerError * error >= 0) continue;
      // Keep it: both codings (recoded for this flip), the row's index, and its row of
      // `across`.
      Splice(coding_here_, here_);
      if (!last_row) Splice(coding_below_, below_);
      row[x] ^= 1;
      ReindexAfterFlip(row, w, x, NextOf(y));
      AddFlipToAcross(y, x, ink);
      const int void_from = std::max(0, x - eye_.reach_x) >> 3;
      const int void_to = std::min(w - 1, x + eye_.reach_x) >> 3;
      for (int b = void_from; b <= void_to; ++b) field_stamps_[b] = 0;
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
  std::vector<float> field_;            // d * K2 along the row searched, by blocks of 8
  std::vector<uint32_t> field_stamps_;  // a block is summed for this row if it holds the stamp
  uint32_t field_stamp_ = 0;            // the row's stamp (never 0)
  std::vector<int> next_rows_;
  std::vector<CoderState> coding_here_, coding_below_;
  Recoding here_, below_;             // the codings with the flip being tried
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
