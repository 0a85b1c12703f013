// Gray to bilevel conversion: text thresholded crisply, tone screened, chosen per region, on
// synthetic pages drawn with anti-aliasing the way a PDF renderer draws them.
//
// Build by hand (one line):
//   g++ -std=c++17 -O2 -Inative test/cpp/bilevel_test.cpp native/image/bilevel.cpp
//       native/image/edge_placement.cpp native/image/tiff_io.cpp -pthread
//       $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include "image/bilevel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.h"
#include "image/edge_placement.h"
#include "image/page_rule.h"
#include "image/tiff_io.h"

using faxline::image::BilevelPage;
using faxline::image::ConversionMode;
using faxline::image::ConversionOptions;
using faxline::image::ConvertToBilevel;
using faxline::image::EdgeRegion;
using faxline::image::PlaceEdges;
using faxline::image::TiffCompression;
using faxline::image::WriteTiffF;
using faxline::test::Expect;
using faxline::test::FileSize;
using faxline::test::Fixed;
using faxline::test::Run;
using faxline::test::SetPixel;
using faxline::test::TempPath;
using faxline::test::WhitePage;

namespace {

// ---------------------------------------------------------------------------------------
// Gray pages, drawn with anti-aliasing

constexpr uint32_t kFaxWidth = 1728;
constexpr double kFine = 196.0;

struct Gray {
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<uint8_t> pixels;  // 0 = black, 255 = white

  Gray(uint32_t w, uint32_t h, uint8_t fill = 255)
      : width(w), height(h), pixels(size_t{w} * h, fill) {}
  uint8_t& at(uint32_t x, uint32_t y) { return pixels[size_t{y} * width + x]; }
  uint8_t at(uint32_t x, uint32_t y) const { return pixels[size_t{y} * width + x]; }
};

// Paints `colour` over the pixels a shape covers, in proportion to the covered area, which
// is measured on a 4 x 4 grid of samples per pixel: what a renderer's anti-aliasing does.
// `inside(x, y)` says whether a point (in pixel units, pixel centres at +0.5) is in the shape.
void Paint(Gray& g, double x0, double y0, double x1, double y1, uint8_t colour,
           const std::function<bool(double, double)>& inside) {
  const int64_t left = std::max<int64_t>(0, static_cast<int64_t>(std::floor(x0)) - 1);
  const int64_t top = std::max<int64_t>(0, static_cast<int64_t>(std::floor(y0)) - 1);
  const int64_t right = std::min<int64_t>(g.width - 1, static_cast<int64_t>(std::ceil(x1)) + 1);
  const int64_t bottom = std::min<int64_t>(g.height - 1, static_cast<int64_t>(std::ceil(y1)) + 1);
  for (int64_t y = top; y <= bottom; ++y) {
    for (int64_t x = left; x <= right; ++x) {
      int covered = 0;
      for (int sy = 0; sy < 4; ++sy) {
        for (int sx = 0; sx < 4; ++sx) covered += inside(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4);
      }
      if (covered == 0) continue;
      uint8_t& p = g.at(static_cast<uint32_t>(x), static_cast<uint32_t>(y));
      p = static_cast<uint8_t>(std::lround(p + (colour - p) * (covered / 16.0)));
    }
  }
}

double SegmentDistance(double px, double py, double ax, double ay, double bx, double by) {
  const double dx = bx - ax, dy = by - ay;
  const double t = std::clamp(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(px - (ax + t * dx), py - (ay + t * dy));
}

// A straight stroke of the given width from (ax, ay) to (bx, by), with round ends.
void Stroke(Gray& g, double ax, double ay, double bx, double by, double width, uint8_t colour) {
  const double r = width / 2;
  Paint(g, std::min(ax, bx) - r, std::min(ay, by) - r, std::max(ax, bx) + r, std::max(ay, by) + r,
        colour, [&](double x, double y) { return SegmentDistance(x, y, ax, ay, bx, by) <= r; });
}

void Ring(Gray& g, double cx, double cy, double radius, double width, uint8_t colour) {
  const double outer = radius + width / 2;
  Paint(g, cx - outer, cy - outer, cx + outer, cy + outer, colour, [&](double x, double y) {
    return std::abs(std::hypot(x - cx, y - cy) - radius) <= width / 2;
  });
}

void Box(Gray& g, double x0, double y0, double x1, double y1, uint8_t colour) {
  Paint(g, x0, y0, x1, y1, colour,
        [&](double x, double y) { return x >= x0 && x < x1 && y >= y0 && y < y1; });
}

// Lines of glyph-like marks (stems, bowls, bars, diagonals, dots) at random sub-pixel
// positions, about 10 pt at fine resolution, in rows [top, bottom).
void DrawText(Gray& g, uint32_t top, uint32_t bottom, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  for (double line = top + 4; line + 26 < bottom; line += 30) {
    for (double x = 60 + jitter(rng); x + 16 < g.width - 60; x += 9.5 + 3 * jitter(rng)) {
      const double w = 1.6 + 0.8 * jitter(rng);  // stroke width, px
      switch (rng() % 7) {
        case 0:
          Stroke(g, x, line + 4, x, line + 20, w, 0);
          break;
        case 1:
          Ring(g, x + 4, line + 15, 4.2, w, 0);
          break;
        case 2:
          Stroke(g, x, line + 12, x + 8, line + 12, w * 0.8, 0);
          break;
        case 3:
          Stroke(g, x, line + 20, x + 7, line + 6, w, 0);
          break;
        case 4:
          Stroke(g, x, line + 6, x, line + 20, w, 0);
          Stroke(g, x, line + 6, x + 7, line + 6, w * 0.7, 0);
          break;
        case 5:
          Ring(g, x + 1.5, line + 19, 0.7, 1.4, 0);
          break;  // a full stop
        default:
          x += 4;
          break;  // a space
      }
    }
  }
}

// A continuous-tone "photo" in [x0, x1) x [y0, y1): overlapping soft blobs and waves over
// mid greys, with a few soft-edged objects.
void DrawPhoto(Gray& g, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  struct Blob {
    double x, y, r, amplitude;
  };
  std::vector<Blob> blobs;
  for (int i = 0; i < 24; ++i) {
    blobs.push_back({x0 + u(rng) * (x1 - x0), y0 + u(rng) * (y1 - y0), 40 + 160 * u(rng),
                     (u(rng) - 0.5) * 160});
  }
  for (uint32_t y = y0; y < y1; ++y) {
    for (uint32_t x = x0; x < x1; ++x) {
      double v = 135 + 35 * std::sin(x / 53.0) * std::cos(y / 71.0);
      for (const Blob& b : blobs) {
        const double d2 = ((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y)) / (b.r * b.r);
        if (d2 < 9) v += b.amplitude * std::exp(-d2);
      }
      g.at(x, y) = static_cast<uint8_t>(std::clamp(std::lround(v), 8L, 247L));
    }
  }
}

// Sensor-like noise on every pixel, clipped to 0..255.
void AddNoise(Gray& g, double sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, sigma);
  for (uint8_t& p : g.pixels)
    p = static_cast<uint8_t>(std::clamp(std::lround(p + n(rng)), 0L, 255L));
}

// ---------------------------------------------------------------------------------------
// Bilevel pages

bool Black(const BilevelPage& page, int64_t x, int64_t y) {
  if (x < 0 || y < 0 || x >= page.width || y >= page.height) return false;
  return (page.bits[static_cast<size_t>(y) * page.stride() + static_cast<size_t>(x) / 8] >>
          (7 - x % 8)) &
         1;
}

// Black pixels with no black among their 8 neighbours.
int IsolatedBlackPixels(const BilevelPage& page, uint32_t y0, uint32_t y1) {
  int isolated = 0;
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = 0; x < page.width; ++x) {
      if (!Black(page, x, y)) continue;
      bool alone = true;
      for (int dy = -1; dy <= 1 && alone; ++dy) {
        for (int dx = -1; dx <= 1 && alone; ++dx)
          alone = (dx == 0 && dy == 0) || !Black(page, x + dx, y + dy);
      }
      isolated += alone;
    }
  }
  return isolated;
}

// Share of black pixels in a rectangle.
double Darkness(const BilevelPage& page, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  size_t black = 0;
  for (uint32_t y = y0; y < y1; ++y) {
    for (uint32_t x = x0; x < x1; ++x) black += Black(page, x, y);
  }
  return static_cast<double>(black) / (static_cast<double>(x1 - x0) * (y1 - y0));
}

double MeanInk(const Gray& g, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  double sum = 0;
  for (uint32_t y = y0; y < y1; ++y) {
    for (uint32_t x = x0; x < x1; ++x) sum += 255 - g.at(x, y);
  }
  return sum / (255.0 * (x1 - x0) * (y1 - y0));
}

bool SameRect(const BilevelPage& a, const BilevelPage& b, uint32_t x0, uint32_t y0, uint32_t x1,
              uint32_t y1) {
  for (uint32_t y = y0; y < y1; ++y) {
    for (uint32_t x = x0; x < x1; ++x) {
      if (Black(a, x, y) != Black(b, x, y)) return false;
    }
  }
  return true;
}

BilevelPage Convert(const Gray& g, ConversionMode mode = ConversionMode::kAuto,
                    double y_dpi = kFine) {
  ConversionOptions options;
  options.mode = mode;
  options.y_dpi = y_dpi;
  return ConvertToBilevel(g.pixels.data(), g.width, g.height, g.width, options);
}

// Floyd-Steinberg error diffusion: the fine-grained dither that T.6 cannot compress.
BilevelPage ErrorDiffused(const Gray& g) {
  BilevelPage page = WhitePage(g.width, g.height, 204.0, kFine);
  std::vector<double> value(g.pixels.begin(), g.pixels.end());
  auto at = [&](uint32_t x, uint32_t y) -> double& { return value[size_t{y} * g.width + x]; };
  for (uint32_t y = 0; y < g.height; ++y) {
    for (uint32_t x = 0; x < g.width; ++x) {
      const double v = at(x, y);
      const double out = v < 128 ? 0 : 255;
      if (out == 0) SetPixel(page, x, y);
      const double error = v - out;
      if (x + 1 < g.width) at(x + 1, y) += error * 7 / 16;
      if (y + 1 < g.height) {
        if (x > 0) at(x - 1, y + 1) += error * 3 / 16;
        at(x, y + 1) += error * 5 / 16;
        if (x + 1 < g.width) at(x + 1, y + 1) += error / 16;
      }
    }
  }
  return page;
}

long T6Bytes(const BilevelPage& page, const std::string& name) {
  const std::string path = TempPath(name);
  WriteTiffF(path, {page}, TiffCompression::kT6);
  return FileSize(path);
}

// ---------------------------------------------------------------------------------------
// Text

void TextIsCrispWithoutSpeckle() {
  Gray g(kFaxWidth, 1200);
  DrawText(g, 0, 1200, 7);
  AddNoise(g, 3.0, 8);
  // Specks of dirt on the paper, each a single pixel well clear of any mark.
  std::mt19937 rng(9);
  std::vector<std::pair<uint32_t, uint32_t>> specks;
  while (specks.size() < 300) {
    const uint32_t x = 3 + rng() % (g.width - 6), y = 3 + rng() % (g.height - 6);
    bool clear = true;
    for (uint32_t yy = y - 3; yy <= y + 3 && clear; ++yy) {
      for (uint32_t xx = x - 3; xx <= x + 3 && clear; ++xx) clear = g.at(xx, yy) >= 235;
    }
    if (!clear) continue;
    g.at(x, y) = static_cast<uint8_t>(20 + rng() % 180);
    specks.emplace_back(x, y);
  }

  const BilevelPage page = Convert(g);
  Expect(page.width == g.width && page.height == g.height, "the page keeps its size");
  Expect(page.x_dpi == 204.0 && page.y_dpi == kFine, "the page carries the resolution asked for");
  int specks_left = 0;
  for (auto [x, y] : specks) specks_left += Black(page, x, y);
  Expect(specks_left == 0, std::to_string(specks_left) + " of 300 specks of dirt came out black");
  const int isolated = IsolatedBlackPixels(page, 0, page.height);
  Expect(isolated == 0, std::to_string(isolated) + " isolated black pixels on a text page");
  Expect(SameRect(page, Convert(g, ConversionMode::kText), 0, 0, page.width, page.height),
         "auto mode thresholds a text-only page exactly as text mode does");

  std::cout << "     T.6 of a synthetic text page (1728 x 1200): " << T6Bytes(page, "text.tif")
            << " bytes\n";
  // Ink stays where the strokes are: darkness close to the ink the gray page holds.
  const double ink = MeanInk(g, 0, 0, g.width, g.height);
  const double dark = Darkness(page, 0, 0, page.width, page.height);
  Expect(std::abs(dark - ink) < 0.25 * ink,
         "darkness " + Fixed(dark) + " tracks the page's ink " + Fixed(ink));
}

void SerifTipsAreTrimmedDotsAndLinesStay() {
  // Drawn aliased, as a PDF renderer draws text for fax: pixels 0 or 255.
  Gray g(120, 40);
  auto fill = [&](uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
    for (uint32_t y = y0; y <= y1; ++y) {
      for (uint32_t x = x0; x <= x1; ++x) g.at(x, y) = 0;
    }
  };
  fill(20, 10, 22, 29);  // a stem 3 px wide...
  fill(17, 29, 25, 29);  // ...on a serif 1 px high, 3 px out on each side
  fill(60, 10, 61, 10);  // dots of 2 px, across and along
  fill(70, 10, 70, 11);
  fill(80, 10, 80, 30);  // a 1 px line
  const BilevelPage page = Convert(g, ConversionMode::kText);
  Expect(!Black(page, 25, 29), "the serif's right tip is trimmed");
  Expect(Black(page, 24, 29) && Black(page, 17, 29) && Black(page, 18, 29),
         "the rest of the serif stays, its left tip too");
  bool stem = true;
  for (uint32_t y = 10; y <= 29; ++y) stem &= Black(page, 20, y) && Black(page, 22, y);
  Expect(stem, "the stem stays whole");
  Expect(Black(page, 60, 10) && Black(page, 61, 10) && Black(page, 70, 10) && Black(page, 70, 11),
         "dots of 2 px stay");
  bool line = true;
  for (uint32_t y = 11; y <= 29; ++y) line &= Black(page, 80, y);
  Expect(line, "a 1 px line stays continuous");
  Expect(!Black(page, 80, 10) && !Black(page, 80, 30), "a 1 px line loses the tip at each end");
}

void StemsComeOutAsSolidRunsOfTheirWidth() {
  // Vertical stems 1.5 to 4 px wide at every quarter-pixel offset: each row across a stem
  // must be one black run (no anti-alias fringe, no hole) within 1 px of the stem's width.
  Gray g(400, 60);
  std::vector<std::pair<double, double>> stems;  // (left edge, width)
  double x = 10;
  for (double width : {1.5, 2.0, 2.5, 3.0, 4.0}) {
    for (double offset : {0.0, 0.25, 0.5, 0.75}) {
      stems.emplace_back(x + offset, width);
      Box(g, x + offset, 10, x + offset + width, 50, 0);
      x += 14;
    }
  }
  const BilevelPage page = Convert(g, ConversionMode::kText);
  for (auto [left, width] : stems) {
    for (uint32_t y = 14; y < 46; y += 8) {
      int runs = 0, black = 0;
      bool previous = false;
      for (int64_t px = static_cast<int64_t>(left) - 3; px < left + width + 3; ++px) {
        const bool b = Black(page, px, y);
        runs += b && !previous;
        black += b;
        previous = b;
      }
      Expect(runs == 1 && std::abs(black - width) <= 1.0,
             "stem " + Fixed(width, 2) + " px at " + Fixed(left, 2) + ": " + std::to_string(runs) +
                 " runs, " + std::to_string(black) + " px");
    }
  }
}

// Whether a line from (ax, ay) to (bx, by) came out as a connected chain of black pixels:
// every step along its major axis has black within 1.5 px of the line, 8-adjacent to the
// black of the step before.
bool Continuous(const BilevelPage& page, double ax, double ay, double bx, double by,
                std::string& where) {
  const bool steep = std::abs(by - ay) > std::abs(bx - ax);
  const double a0 = steep ? ay : ax, a1 = steep ? by : bx;
  std::vector<int64_t> previous;
  for (int64_t major = static_cast<int64_t>(std::ceil(a0)) + 2; major + 2 < a1; ++major) {
    const double t = (major + 0.5 - a0) / (a1 - a0);
    const double minor = (steep ? ax + t * (bx - ax) : ay + t * (by - ay)) - 0.5;
    std::vector<int64_t> here;
    for (int64_t m = static_cast<int64_t>(std::floor(minor - 1.5)); m <= minor + 1.5; ++m) {
      if (steep ? Black(page, m, major) : Black(page, major, m)) here.push_back(m);
    }
    bool linked = previous.empty() && !here.empty();
    for (int64_t p : previous) {
      for (int64_t h : here) linked |= std::abs(p - h) <= 1;
    }
    if (!linked) {
      where = "a gap at " + std::to_string(major);
      return false;
    }
    previous = here;
  }
  return true;
}

void ThinLinesStayContinuous() {
  // 1 px lines in black and in mid grey, and 0.6 px black hairlines, at angles from
  // horizontal to vertical: each must come out as one unbroken chain, not dots.
  struct Kind {
    const char* name;
    double width;
    uint8_t colour;
  };
  for (const Kind kind : {Kind{"1 px black", 1.0, 0}, Kind{"1 px grey", 1.0, 128},
                          Kind{"0.6 px black hairline", 0.6, 0}}) {
    Gray g(900, 900);
    std::vector<std::array<double, 4>> lines;
    int i = 0;
    for (double degrees : {0.0, 2.0, 7.0, 15.0, 30.0, 45.0, 60.0, 75.0, 88.0, 90.0}) {
      const double a = degrees * M_PI / 180;
      const double cx = 130 + (i % 4) * 210 + 0.37 * i, cy = 130 + (i / 4) * 300 + 0.21 * i;
      const double ax = cx - 90 * std::cos(a), ay = cy - 90 * std::sin(a);
      const double bx = cx + 90 * std::cos(a), by = cy + 90 * std::sin(a);
      Stroke(g, ax, ay, bx, by, kind.width, kind.colour);
      lines.push_back({ax, ay, bx, by});
      ++i;
    }
    AddNoise(g, 2.0, 11);
    const BilevelPage page = Convert(g);
    i = 0;
    for (const auto& l : lines) {
      std::string where;
      const bool continuous = Continuous(page, l[0], l[1], l[2], l[3], where);
      Expect(continuous, std::string(kind.name) + " line " + std::to_string(i) + ": " + where);
      ++i;
    }
    Expect(IsolatedBlackPixels(page, 0, page.height) == 0,
           std::string(kind.name) + ": no isolated pixels");
  }
}

// ---------------------------------------------------------------------------------------
// Edge placement

// A gray page thresholded at 50%, one byte per pixel (1 = black): what PlaceEdges works on.
std::vector<uint8_t> Thresholded(const Gray& g) {
  std::vector<uint8_t> pixels(g.pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = g.pixels[i] < 128;
  return pixels;
}

BilevelPage Packed(const std::vector<uint8_t>& pixels, uint32_t width, uint32_t height) {
  BilevelPage page = WhitePage(width, height, 204.0, kFine);
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      if (pixels[size_t{y} * width + x]) SetPixel(page, x, y);
    }
  }
  return page;
}

// The squared difference between a page and its gray, both blurred by a Gaussian of 0.3 mm
// (the benchmark's quality figure blurs by as much), summed over the page.
double BlurredDifference(const std::vector<uint8_t>& pixels, const Gray& g) {
  const int w = static_cast<int>(g.width), h = static_cast<int>(g.height);
  auto kernel = [](double sigma) {
    const int r = static_cast<int>(std::ceil(3 * sigma));
    std::vector<double> k(2 * r + 1);
    double sum = 0;
    for (int i = -r; i <= r; ++i) sum += k[i + r] = std::exp(-i * i / (2 * sigma * sigma));
    for (double& v : k) v /= sum;
    return k;
  };
  const std::vector<double> kx = kernel(0.3 * 204 / 25.4), ky = kernel(0.3 * kFine / 25.4);
  const int rx = static_cast<int>(kx.size() / 2), ry = static_cast<int>(ky.size() / 2);
  std::vector<double> d(pixels.size()), across(pixels.size(), 0.0);
  for (size_t i = 0; i < d.size(); ++i) d[i] = pixels[i] - (255 - g.pixels[i]) / 255.0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int i = -rx; i <= rx; ++i) {
        if (x + i >= 0 && x + i < w)
          across[size_t(y) * w + x] += kx[i + rx] * d[size_t(y) * w + x + i];
      }
    }
  }
  double total = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double v = 0;
      for (int j = -ry; j <= ry; ++j) {
        if (y + j >= 0 && y + j < h) v += ky[j + ry] * across[size_t(y + j) * w + x];
      }
      total += v * v;
    }
  }
  return total;
}

// Black shapes (8-connected) and pieces of paper (4-connected) on a page.
std::pair<int, int> Components(const std::vector<uint8_t>& pixels, uint32_t width,
                               uint32_t height) {
  std::vector<uint8_t> seen(pixels.size(), 0);
  std::pair<int, int> counts{0, 0};
  std::vector<size_t> stack;
  for (size_t start = 0; start < pixels.size(); ++start) {
    if (seen[start]) continue;
    const uint8_t colour = pixels[start];
    ++(colour ? counts.first : counts.second);
    seen[start] = 1;
    stack.push_back(start);
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      const int64_t x = static_cast<int64_t>(i % width), y = static_cast<int64_t>(i / width);
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          if ((dx == 0 && dy == 0) || (!colour && dx != 0 && dy != 0)) continue;
          const int64_t nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const size_t j = static_cast<size_t>(ny) * width + static_cast<size_t>(nx);
          if (seen[j] || pixels[j] != colour) continue;
          seen[j] = 1;
          stack.push_back(j);
        }
      }
    }
  }
  return counts;
}

struct PlacedText {
  Gray gray{kFaxWidth, 600};
  std::vector<uint8_t> thresholded, placed;
};

// A page of text-like marks, thresholded, then with its edges placed (every tile editable
// unless `editable_columns` limits them to the tiles left of that column).
PlacedText PlaceTextEdges(uint32_t seed, uint32_t editable_columns = kFaxWidth) {
  PlacedText t;
  DrawText(t.gray, 0, t.gray.height, seed);
  AddNoise(t.gray, 2.0, seed + 1);
  t.thresholded = Thresholded(t.gray);
  t.placed = t.thresholded;
  const uint32_t tiles_x = (kFaxWidth + 31) / 32, tiles_y = (t.gray.height + 31) / 32;
  std::vector<uint8_t> tiles(size_t{tiles_x} * tiles_y);
  for (size_t i = 0; i < tiles.size(); ++i) tiles[i] = (i % tiles_x) * 32 < editable_columns;
  PlaceEdges(t.placed.data(), t.gray.pixels.data(), t.gray.width, t.gray.width, t.gray.height,
             EdgeRegion{tiles.data(), tiles_x, 5}, 204.0, kFine);
  return t;
}

void EdgePlacementCutsLineTimeAndKeepsResemblance() {
  const PlacedText t = PlaceTextEdges(31);
  const uint32_t w = t.gray.width, h = t.gray.height;
  const long before = T6Bytes(Packed(t.thresholded, w, h), "thresholded.tif");
  const long after = T6Bytes(Packed(t.placed, w, h), "placed.tif");
  const double error_before = BlurredDifference(t.thresholded, t.gray);
  const double error_after = BlurredDifference(t.placed, t.gray);
  std::cout << "     T.6 " << before << " -> " << after << " bytes; blurred difference "
            << Fixed(error_before) << " -> " << Fixed(error_after) << "\n";
  Expect(after * 100 <= before * 96, "edge placement saves at least 4% of T.6 (" +
                                         std::to_string(before) + " -> " + std::to_string(after) +
                                         " bytes)");
  Expect(error_after < error_before, "and the page resembles its gray more closely, blurred (" +
                                         Fixed(error_before) + " -> " + Fixed(error_after) + ")");
}

void EdgePlacementKeepsShapesWhole() {
  const PlacedText t = PlaceTextEdges(41);
  const uint32_t w = t.gray.width, h = t.gray.height;
  const auto before = Components(t.thresholded, w, h);
  const auto after = Components(t.placed, w, h);
  Expect(before == after, "as many shapes (" + std::to_string(before.first) + " -> " +
                              std::to_string(after.first) + ") and pieces of paper (" +
                              std::to_string(before.second) + " -> " +
                              std::to_string(after.second) + ") as thresholding gave");
  int changed = 0, astray = 0;
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t* row = t.thresholded.data() + size_t{y} * w;
    for (uint32_t x = 0; x < w; ++x) {
      if (t.placed[size_t{y} * w + x] == row[x]) continue;
      ++changed;
      const bool beside_edge =
          (x > 0 && row[x - 1] != row[x]) || (x + 1 < w && row[x + 1] != row[x]);
      astray += !beside_edge;
    }
  }
  Expect(changed > 0, "some edges moved");
  Expect(astray == 0, std::to_string(astray) + " of " + std::to_string(changed) +
                          " changed pixels are not beside an edge of the thresholded row");
}

void EdgePlacementLeavesOtherTilesAlone() {
  const PlacedText t = PlaceTextEdges(51, 864);
  const uint32_t w = t.gray.width, h = t.gray.height;
  int left = 0, right = 0;
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      const size_t i = size_t{y} * w + x;
      (x < 864 ? left : right) += t.placed[i] != t.thresholded[i];
    }
  }
  Expect(left > 0, "edges moved in the editable tiles");
  Expect(right == 0, std::to_string(right) + " pixels changed outside the editable tiles");
}

// ---------------------------------------------------------------------------------------
// Tone

// Bands of flat greys 0, 16, ... 240, 255 (64 rows each), then a left-to-right ramp.
Gray GreyBandsAndRamp(uint32_t band_rows, uint32_t ramp_rows) {
  const uint32_t bands = 17;
  Gray g(kFaxWidth, bands * band_rows + ramp_rows);
  for (uint32_t b = 0; b < bands; ++b) {
    const uint8_t grey = static_cast<uint8_t>(std::min(255u, b * 16));
    std::fill_n(g.pixels.begin() + size_t{b} * band_rows * g.width, size_t{band_rows} * g.width,
                grey);
  }
  for (uint32_t y = bands * band_rows; y < g.height; ++y) {
    for (uint32_t x = 0; x < g.width; ++x) {
      g.at(x, y) = static_cast<uint8_t>(std::lround(255.0 * x / (g.width - 1)));
    }
  }
  return g;
}

void ScreenTracksTheGreyLevel(double y_dpi, const std::string& label) {
  const uint32_t band_rows = static_cast<uint32_t>(std::lround(64 * y_dpi / kFine));
  const Gray g = GreyBandsAndRamp(band_rows, band_rows * 6);
  const BilevelPage page = Convert(g, ConversionMode::kAuto, y_dpi);
  Expect(page.y_dpi == y_dpi, label + ": the page carries its resolution");
  const uint32_t margin = band_rows / 8;
  for (uint32_t b = 0; b < 17; ++b) {
    const uint32_t y0 = b * band_rows + margin, y1 = (b + 1) * band_rows - margin;
    const double want = MeanInk(g, 0, y0, g.width, y1);
    const double got = Darkness(page, 0, y0, page.width, y1);
    Expect(std::abs(got - want) <= 0.08, label + ": grey " + std::to_string(g.at(0, y0)) +
                                             " comes out " + Fixed(got) + " dark, not " +
                                             Fixed(want));
  }
  const uint32_t ramp0 = 17 * band_rows + margin, ramp1 = g.height - margin;
  for (uint32_t x0 = 0; x0 < g.width; x0 += 96) {
    const double want = MeanInk(g, x0, ramp0, x0 + 96, ramp1);
    const double got = Darkness(page, x0, ramp0, x0 + 96, ramp1);
    Expect(std::abs(got - want) <= 0.08, label + ": the ramp at x = " + std::to_string(x0) +
                                             " comes out " + Fixed(got) + " dark, not " +
                                             Fixed(want));
  }
}

// The shadows of a photograph (a dark suit, hair, the night) keep their tone: flat dark greys
// come out with a few holes in the black, in proportion, not crushed to solid black (within
// 0.025: half a level of the coarsest screen, 20 levels at standard resolution).
void ShadowsKeepTheirTone() {
  for (double y_dpi : {98.0, kFine, 391.0}) {
    for (int grey : {10, 14, 20, 28}) {
      const Gray g(kFaxWidth, 192, static_cast<uint8_t>(grey));
      const BilevelPage page = Convert(g, ConversionMode::kPhoto, y_dpi);
      const double want = 1.0 - grey / 255.0;
      const double got = Darkness(page, 0, 0, page.width, page.height);
      Expect(std::abs(got - want) <= 0.025,
             "at " + std::to_string(static_cast<int>(y_dpi)) + " dpi, grey " +
                 std::to_string(grey) + " comes out " + Fixed(got) + " dark, not " + Fixed(want));
    }
  }
}

void GradientsAreScreenedAtEveryResolution() {
  ScreenTracksTheGreyLevel(kFine, "fine");
  ScreenTracksTheGreyLevel(98.0, "standard");
  ScreenTracksTheGreyLevel(391.0, "superfine");
}

// A light-to-dark ramp in a black frame with tick marks and labels below it, as a chart draws
// a grey scale. At either end, the bottom row of tiles (ramp, frame line and ticks) holds no
// flat mid-tones and too many steep pixels to be smooth, so it stays text; its greys are
// screened like the same greys in the row of tiles above, with no step at the boundary.
void RampEndsAtAFrameWithoutAStep() {
  Gray g(kFaxWidth, 192);
  const double left = 200.3, right = 1528.3, top = 40.4, bottom = 118.6;
  for (uint32_t y = static_cast<uint32_t>(top); y < static_cast<uint32_t>(bottom) + 1; ++y) {
    for (uint32_t x = static_cast<uint32_t>(left); x < static_cast<uint32_t>(right) + 1; ++x) {
      g.at(x, y) = static_cast<uint8_t>(std::lround(255.0 * (1.0 - (x - left) / (right - left))));
    }
  }
  Stroke(g, left, top, right, top, 2.0, 0);
  Stroke(g, left, bottom, right, bottom, 2.0, 0);
  Stroke(g, left, top, left, bottom, 2.0, 0);
  Stroke(g, right, top, right, bottom, 2.0, 0);
  for (int i = 0; i <= 4; ++i) {
    const double x = left + (right - left) * i / 4;
    Stroke(g, x, bottom, x, bottom + 10, 1.5, 0);
  }
  DrawText(g, 126, 160, 11);  // labels under the ticks
  const BilevelPage page = Convert(g);
  // Rows 66-94 are the tile row above the boundary at y = 96; rows 98-114 the one below,
  // clear of the frame line. Both ends of the ramp: its light greys (which thresholding
  // would make paper) and its dark ones (which it would make solid black).
  int light = 0, dark = 0;
  for (uint32_t x0 = static_cast<uint32_t>(left) + 4; x0 + 16 < right; x0 += 16) {
    const double want = MeanInk(g, x0, 98, x0 + 16, 115);
    const bool is_light = want >= 0.06 && want <= 0.14, is_dark = want >= 0.86 && want <= 0.94;
    if (!is_light && !is_dark) continue;
    ++(is_light ? light : dark);
    const double above = Darkness(page, x0, 66, x0 + 16, 95);
    const double below = Darkness(page, x0, 98, x0 + 16, 115);
    const std::string where =
        "the ramp at x = " + std::to_string(x0) + " (" + Fixed(want) + " grey)";
    Expect(above > 0.02 && above < 0.98,
           where + " is screened above the tile boundary, " + Fixed(above));
    Expect(std::abs(below - above) <= 0.04, where + " comes out " + Fixed(below) +
                                                " dark below the tile boundary, " + Fixed(above) +
                                                " above");
  }
  Expect(light >= 5 && dark >= 5, "the ramp has light and dark greys to compare, " +
                                      std::to_string(light) + " and " + std::to_string(dark));
}

void ScreenCodesSmallUnderT6() {
  Gray g = GreyBandsAndRamp(64, 1000);
  DrawPhoto(g, 0, 1088, g.width, g.height, 3);
  const BilevelPage screened = Convert(g, ConversionMode::kPhoto);
  const long ours = T6Bytes(screened, "screened.tif");
  const long diffused = T6Bytes(ErrorDiffused(g), "diffused.tif");
  std::cout << "     T.6: screened " << ours << " bytes, error-diffused " << diffused << " bytes\n";
  Expect(ours > 0 && diffused > 0, "both files were written");
  Expect(ours * 3 < diffused, "the screen codes in under a third of error diffusion's bytes (" +
                                  std::to_string(ours) + " vs " + std::to_string(diffused) + ")");

  // Inside a band of dots the rows repeat: a flat grey has few distinct rows per screen
  // period, so T.6 codes most rows as "same edges as the row above".
  Gray flat(kFaxWidth, 240, 128);
  const BilevelPage mid = Convert(flat, ConversionMode::kPhoto);
  int repeats = 0;
  for (uint32_t y = 1; y < mid.height; ++y) {
    repeats +=
        std::equal(mid.bits.begin() + y * mid.stride(), mid.bits.begin() + (y + 1) * mid.stride(),
                   mid.bits.begin() + (y - 1) * mid.stride());
  }
  Expect(repeats * 2 > static_cast<int>(mid.height),
         "at 50% grey most rows repeat the row above (" + std::to_string(repeats) + " of " +
             std::to_string(mid.height) + ")");
}

// ---------------------------------------------------------------------------------------
// Regions

void MixedPageThresholdsTextAndScreensThePhoto() {
  // Text in the top half, a photo in the bottom half, the border between them on no tile
  // boundary; both areas checked away from the border.
  Gray g(kFaxWidth, 2200);
  DrawText(g, 0, 1000, 21);
  DrawPhoto(g, 100, 1010, g.width - 100, 2150, 22);
  AddNoise(g, 2.0, 23);
  const BilevelPage page = Convert(g);
  const BilevelPage text = Convert(g, ConversionMode::kText);
  const BilevelPage photo = Convert(g, ConversionMode::kPhoto);
  Expect(SameRect(page, text, 0, 0, page.width, 940), "the text area is thresholded");
  Expect(SameRect(page, photo, 200, 1100, page.width - 200, 2060), "the photo area is screened");
  Expect(!SameRect(text, photo, 200, 1100, page.width - 200, 2060),
         "thresholding and screening the photo differ (else the check above proves nothing)");
  // Screened, the photo keeps its tones block by block.
  int off = 0, blocks = 0;
  for (uint32_t y = 1100; y + 64 <= 2060; y += 64) {
    for (uint32_t x = 200; x + 64 <= page.width - 200; x += 64, ++blocks) {
      off +=
          std::abs(Darkness(page, x, y, x + 64, y + 64) - MeanInk(g, x, y, x + 64, y + 64)) > 0.08;
    }
  }
  Expect(off == 0, std::to_string(off) + " of " + std::to_string(blocks) +
                       " photo blocks are more than 8% off their grey");
  std::cout << "     T.6 of a synthetic mixed page: " << T6Bytes(page, "mixed.tif") << " bytes\n";
}

// A bar chart: grey bars (continuous tone) standing on a black axis, with labels under the
// axis in the same row of tiles as the bars' feet. In those tone tiles the axis and the
// labels are thresholded, crisp, while the bars are still screened.
void MarksInsideToneTilesStayCrisp() {
  Gray g(kFaxWidth, 256);
  std::vector<std::pair<uint32_t, uint32_t>> bars;
  for (uint32_t x = 100; x + 100 <= 1600; x += 160) {
    Box(g, x, 40, x + 100, 200, 150);
    bars.emplace_back(x, x + 100);
  }
  Box(g, 80, 200, 1650, 202, 0);  // the axis, 2 px
  DrawText(g, 200, 240, 31);      // labels: glyphs in rows 208-224
  const BilevelPage page = Convert(g);
  int axis_gaps = 0, lost_ink = 0, stray_ink = 0, glyph_pixels = 0;
  for (const auto& [x0, x1] : bars) {
    for (uint32_t x = x0; x < x1; ++x) {
      axis_gaps += !Black(page, x, 200) + !Black(page, x, 201);
      // Rows 204-223: the labels' part of the tile row 192-223 that holds the bars' feet.
      for (uint32_t y = 204; y < 224; ++y) {
        const uint8_t v = g.at(x, y);
        if (v <= 32) ++glyph_pixels, lost_ink += !Black(page, x, y);
        if (v == 255) stray_ink += Black(page, x, y);
      }
    }
  }
  Expect(glyph_pixels > 500, "the labels reach into the bars' row of tiles (" +
                                 std::to_string(glyph_pixels) + " glyph pixels)");
  Expect(axis_gaps == 0, "the axis under the bars is solid; " + std::to_string(axis_gaps) +
                             " of its pixels are white");
  Expect(lost_ink == 0,
         std::to_string(lost_ink) + " black pixels of the labels' strokes came out white");
  Expect(stray_ink == 0, std::to_string(stray_ink) + " paper pixels by the labels came out black");
  for (const auto& [x0, x1] : bars) {
    const double dark = Darkness(page, x0 + 8, 60, x1 - 8, 180);
    const double want = MeanInk(g, x0 + 8, 60, x1 - 8, 180);
    Expect(std::abs(dark - want) < 0.05 && dark > 0.1 && dark < 0.9,
           "a bar is screened to its grey: " + Fixed(dark) + " for " + Fixed(want));
  }
  // Photo mode screens everything, marks included.
  const BilevelPage photo = Convert(g, ConversionMode::kPhoto);
  Expect(!SameRect(page, photo, 100, 192, 1600, 224),
         "photo mode screens the axis and labels (else the checks above prove nothing)");
}

void ModesForceOneTreatment() {
  Gray g(256, 128);
  DrawPhoto(g, 0, 0, 256, 128, 5);
  const BilevelPage text = Convert(g, ConversionMode::kText);
  const BilevelPage photo = Convert(g, ConversionMode::kPhoto);
  // Thresholded: a pixel darker than 50% is black, unless it is on the edge of a dark area
  // (a lighter pixel beside it in its row), which edge placement may move by a pixel.
  auto dark = [&](int64_t x, uint32_t y) {
    return x >= 0 && x < static_cast<int64_t>(g.width) && g.at(static_cast<uint32_t>(x), y) < 128;
  };
  for (uint32_t y = 0; y < g.height; ++y) {
    for (uint32_t x = 0; x < g.width; ++x) {
      if (dark(x, y) && dark(x - int64_t{1}, y) && dark(x + int64_t{1}, y) && !Black(text, x, y)) {
        Expect(false, "text mode: a pixel darker than 50% inside a dark area is black");
        return;
      }
    }
  }
  const double ink = MeanInk(g, 0, 0, g.width, g.height);
  Expect(std::abs(Darkness(photo, 0, 0, g.width, g.height) - ink) < 0.05,
         "photo mode screens the whole page to its mean grey");
}

// ---------------------------------------------------------------------------------------
// Edges of the API

void SmallOddPagesAndStrides() {
  const uint8_t black = 0, white = 255;
  ConversionOptions photo;
  photo.mode = ConversionMode::kPhoto;
  Expect(ConvertToBilevel(&black, 1, 1, 1, photo).bits == std::vector<uint8_t>{0x80},
         "a 1 x 1 black page screens to one black pixel");
  Expect(ConvertToBilevel(&black, 1, 1, 1, {}).bits == std::vector<uint8_t>{0x00},
         "a lone black pixel counts as a speck in auto mode");
  Expect(ConvertToBilevel(&white, 1, 1, 1, {}).bits == std::vector<uint8_t>{0x00},
         "a 1 x 1 white page is one white pixel");
  for (ConversionMode mode :
       {ConversionMode::kAuto, ConversionMode::kText, ConversionMode::kPhoto}) {
    Gray solid(13, 5, 0);
    ConversionOptions options;
    options.mode = mode;
    const BilevelPage page = ConvertToBilevel(solid.pixels.data(), 13, 5, 13, options);
    Expect(page.stride() == 2 && page.bits.size() == 10, "13 px rows take 2 bytes");
    bool ok = true;
    for (uint32_t y = 0; y < 5; ++y) ok &= page.bits[y * 2] == 0xFF && page.bits[y * 2 + 1] == 0xF8;
    Expect(ok, "a black 13 px row is 13 black bits and zero padding");
  }

  // Rows further apart than their width: the bytes between are never read.
  Gray g(301, 97);
  DrawText(g, 0, 97, 3);
  DrawPhoto(g, 150, 0, 301, 97, 4);
  const size_t stride = 320;
  std::vector<uint8_t> padded(stride * g.height, 0);  // black between rows
  for (uint32_t y = 0; y < g.height; ++y) {
    std::copy_n(g.pixels.begin() + size_t{y} * g.width, g.width, padded.begin() + y * stride);
  }
  const BilevelPage tight = ConvertToBilevel(g.pixels.data(), g.width, g.height, g.width, {});
  const BilevelPage loose = ConvertToBilevel(padded.data(), g.width, g.height, stride, {});
  Expect(tight.bits == loose.bits, "a wider stride gives the same page");
}

void BadArgumentsThrow() {
  const std::vector<uint8_t> pixels(64, 128);
  auto throws = [&](const char* what, const uint8_t* data, uint32_t w, uint32_t h, size_t stride,
                    double x_dpi, double y_dpi) {
    ConversionOptions options;
    options.x_dpi = x_dpi;
    options.y_dpi = y_dpi;
    try {
      ConvertToBilevel(data, w, h, stride, options);
    } catch (const std::invalid_argument&) {
      return;
    }
    Expect(false, std::string(what) + " throws std::invalid_argument");
  };
  throws("no pixels", nullptr, 8, 8, 8, 204, 196);
  throws("zero width", pixels.data(), 0, 8, 8, 204, 196);
  throws("zero height", pixels.data(), 8, 0, 8, 204, 196);
  throws("a width over the limit", pixels.data(), 20001, 1, 20001, 204, 196);
  throws("a stride below the width", pixels.data(), 8, 8, 7, 204, 196);
  throws("a zero resolution", pixels.data(), 8, 8, 8, 0, 196);
  throws("a negative resolution", pixels.data(), 8, 8, 8, 204, -1);
  throws("a NaN resolution", pixels.data(), 8, 8, 8, std::nan(""), 196);
  throws("a resolution below 1 dpi", pixels.data(), 8, 8, 8, 204, 0.5);
  throws("a resolution over 10000 dpi", pixels.data(), 8, 8, 8, 10000.5, 196);
}

// The converter refuses what the page rule (page_rule.h) refuses, with its message, and takes
// a page at each of the rule's limits.
void PageRuleIsTheConvertersRule() {
  auto message = [](uint32_t w, uint32_t h, double x_dpi, double y_dpi) {
    const std::vector<uint8_t> pixels(static_cast<size_t>(w) * h, 128);
    ConversionOptions options;
    options.x_dpi = x_dpi;
    options.y_dpi = y_dpi;
    try {
      ConvertToBilevel(pixels.data(), w, h, w, options);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const struct {
    uint32_t w, h;
    double x_dpi, y_dpi;
    const char* expected;
  } refused[] = {
      {20001, 1, 204, 196, "Expected an integer from 1 to 20000 for the page.width but got 20001"},
      {1, 20001, 204, 196, "Expected an integer from 1 to 20000 for the page.height but got 20001"},
      {8, 8, 0.5, 196, "Expected a number from 1 to 10000 for the page.xDpi but got 0.5"},
      {8, 8, 204, 10000.5, "Expected a number from 1 to 10000 for the page.yDpi but got 10000.5"},
      {8, 8, 204, -std::numeric_limits<double>::infinity(),
       "Expected a number from 1 to 10000 for the page.yDpi but got -Infinity"},
  };
  for (const auto& r : refused) {
    const std::string got = message(r.w, r.h, r.x_dpi, r.y_dpi);
    Expect(got == r.expected, std::string("expected \"") + r.expected + "\", got \"" + got + "\"");
    Expect(got == faxline::image::PageGeometryProblem(r.w, r.h, r.x_dpi, r.y_dpi, "the page"),
           "the converter's message is the page rule's: " + got);
  }
  Expect(message(20000, 1, 1, 10000).empty(), "20000 x 1 at 1 x 10000 dpi is converted");
  Expect(message(1, 20000, 10000, 1).empty(), "1 x 20000 at 10000 x 1 dpi is converted");
}

void ReportSpeed() {
  Gray g(kFaxWidth, 2200);
  DrawText(g, 0, 1000, 31);
  DrawPhoto(g, 100, 1010, g.width - 100, 2150, 32);
  const int runs = 5;
  volatile size_t bytes = 0;  // keeps the conversions from being optimised away
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) bytes = bytes + Convert(g).bits.size();
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
#ifdef NDEBUG
  const char* build = "optimised";
#else
  const char* build = "unoptimised";
#endif
  std::cout << "     1728 x 2200 mixed page: " << Fixed(ms / runs, 2) << " ms per page (" << build
            << " build)\n";
}

// Thresholding skips the paper at both ends of a row (ThresholdSpan's shortcut): it must decide
// exactly as deciding every pixel does, on rows of mostly paper with ink, faint greys and 1 px
// lines scattered in, at random spans (touching the row's ends, where pixels are clamped).
void PaperSkipDecidesAsEveryPixel() {
  std::mt19937 random(196);
  int differences = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const uint32_t width = 1 + random() % 120;
    const int odds = 2 + static_cast<int>(random() % 60);  // one pixel in `odds` not paper
    std::vector<uint8_t> rows[5];
    const uint8_t* pointers[5];
    for (int r = 0; r < 5; ++r) {
      rows[r].assign(width, 255);
      for (uint8_t& g : rows[r]) {
        if (static_cast<int>(random() % odds) != 0) continue;
        const int kind = static_cast<int>(random() % 3);
        g = kind == 0 ? 0 : kind == 1 ? static_cast<uint8_t>(random() % 256) : 200;
      }
      pointers[r] = rows[r].data();
    }
    const uint32_t x0 = random() % width;
    const uint32_t x1 = x0 + random() % (width - x0 + 1);
    std::vector<uint8_t> skipped(width, 7), every(width, 7);
    faxline::image::bilevel_internal::ThresholdRow(pointers, width, x0, x1, skipped.data(), true);
    faxline::image::bilevel_internal::ThresholdRow(pointers, width, x0, x1, every.data(), false);
    if (skipped != every && ++differences <= 3) {
      Expect(false, "trial " + std::to_string(trial) + ": width " + std::to_string(width) +
                        ", span " + std::to_string(x0) + ".." + std::to_string(x1));
    }
  }
  Expect(differences == 0, std::to_string(differences) + " rows decided differently");
}

}  // namespace

int main() {
  if (!faxline::test::MakeTempDir("faxline-bilevel-test")) return 2;

  Run("text is thresholded crisply, without specks of dirt", TextIsCrispWithoutSpeckle);
  Run("serif tips are trimmed; small dots and lines stay", SerifTipsAreTrimmedDotsAndLinesStay);
  Run("stems come out as solid runs of their width", StemsComeOutAsSolidRunsOfTheirWidth);
  Run("thin and faint lines stay continuous", ThinLinesStayContinuous);
  Run("edge placement cuts line time and keeps resemblance",
      EdgePlacementCutsLineTimeAndKeepsResemblance);
  Run("edge placement keeps every shape whole", EdgePlacementKeepsShapesWhole);
  Run("edge placement leaves other tiles alone", EdgePlacementLeavesOtherTilesAlone);
  Run("gradients are screened to their grey at every resolution",
      GradientsAreScreenedAtEveryResolution);
  Run("a ramp ending at a frame line is screened without a step", RampEndsAtAFrameWithoutAStep);
  Run("photo shadows keep their tone", ShadowsKeepTheirTone);
  Run("the screen codes small under T.6", ScreenCodesSmallUnderT6);
  Run("a mixed page thresholds its text and screens its photo",
      MixedPageThresholdsTextAndScreensThePhoto);
  Run("hard marks inside tone tiles (a chart's axis and labels) stay crisp",
      MarksInsideToneTilesStayCrisp);
  Run("text and photo modes force one treatment", ModesForceOneTreatment);
  Run("small, odd-sized and strided pages", SmallOddPagesAndStrides);
  Run("bad arguments throw", BadArgumentsThrow);
  Run("the page rule is the converter's rule", PageRuleIsTheConvertersRule);
  Run("skipping paper decides as deciding every pixel", PaperSkipDecidesAsEveryPixel);
  Run("speed (printed, not checked)", ReportSpeed);

  return faxline::test::Finish("bilevel");
}
