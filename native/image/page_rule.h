// The one rule for a bilevel page's size, resolution and data, wherever a page comes in: the
// bindings check a JS page against it property by property (naming the property), and
// ConvertToBilevel and TiffFWriter check again, so every way in accepts the same pages.
//
// The bounds hold every fax page with room to spare (A3 at 1200 dpi is 14592 x 19843 pixels;
// a document's longest piece, 891 mm at superfine, is 13721 rows) while keeping one page's
// buffers far below the memory a process has: ConvertToBilevel works on width x height bytes.
//
// Header only and pure: no I/O, safe on any thread.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace faxline::image {

// Width and height in pixels: whole numbers from 1 to this.
constexpr uint32_t kMaxPageDimension = 20000;
// Resolution in dots per inch, each direction. Fax uses 98 to 1200; outside this range a
// value is a mistake (dots per millimetre, say), not a page.
constexpr double kMinPageDpi = 1.0;
constexpr double kMaxPageDpi = 10000.0;

inline bool IsPageDimension(double pixels) {
  return std::isfinite(pixels) && std::floor(pixels) == pixels && pixels >= 1 &&
         pixels <= kMaxPageDimension;
}

inline bool IsPageDpi(double dpi) {
  return std::isfinite(dpi) && dpi >= kMinPageDpi && dpi <= kMaxPageDpi;
}

// Bytes in one packed row (8 pixels a byte) and in a whole page.
inline size_t PageStride(uint32_t width) { return (static_cast<size_t>(width) + 7) / 8; }
inline size_t PageBytes(uint32_t width, uint32_t height) { return PageStride(width) * height; }

// A number as JavaScript prints it (shortest form; NaN, Infinity), for messages.
inline std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // The fewest significant digits that read back as the same number (std::to_chars for double
  // would do this, but the g++ 10 of the prebuild's Debian 11 root lacks it).
  char text[32];
  // Whole numbers in full, as JavaScript prints them below 1e21 (%g would write 1e+04).
  if (std::floor(value) == value && std::fabs(value) < 1e21) {
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

// The rule's bounds as messages state them: "Expected <this> for page.width but got 0".
inline std::string PageDimensionRule() {
  return "an integer from 1 to " + std::to_string(kMaxPageDimension);
}
inline std::string PageDpiRule() {
  return "a number from " + FormatNumber(kMinPageDpi) + " to " + FormatNumber(kMaxPageDpi);
}

// "Expected <rule> for <what> but got <value>".
inline std::string ExpectedMessage(const std::string& rule, const std::string& what,
                                   const std::string& got) {
  return "Expected " + rule + " for " + what + " but got " + got;
}

// The data-length part of the rule: "Expected 2160 bytes (10 rows of 216) for page.data but
// got 2000", or empty when `bytes` is right for the size.
inline std::string PageDataProblem(uint32_t width, uint32_t height, size_t bytes,
                                   const std::string& what) {
  const size_t expected = PageBytes(width, height);
  if (bytes == expected) return {};
  return ExpectedMessage(std::to_string(expected) + " bytes (" + std::to_string(height) +
                             " rows of " + std::to_string(PageStride(width)) + ")",
                         what + ".data", std::to_string(bytes));
}

// Empty when a page of this size and resolution keeps the rule; otherwise the message for the
// first property that does not, named `what`.width, `what`.xDpi and so on.
inline std::string PageGeometryProblem(uint32_t width, uint32_t height, double x_dpi, double y_dpi,
                                       const std::string& what) {
  if (!IsPageDimension(width)) {
    return ExpectedMessage(PageDimensionRule(), what + ".width", std::to_string(width));
  }
  if (!IsPageDimension(height)) {
    return ExpectedMessage(PageDimensionRule(), what + ".height", std::to_string(height));
  }
  if (!IsPageDpi(x_dpi)) return ExpectedMessage(PageDpiRule(), what + ".xDpi", FormatNumber(x_dpi));
  if (!IsPageDpi(y_dpi)) return ExpectedMessage(PageDpiRule(), what + ".yDpi", FormatNumber(y_dpi));
  return {};
}

// The whole rule: PageGeometryProblem, then PageDataProblem.
inline std::string PageProblem(uint32_t width, uint32_t height, double x_dpi, double y_dpi,
                               size_t bytes, const std::string& what) {
  std::string problem = PageGeometryProblem(width, height, x_dpi, y_dpi, what);
  return problem.empty() ? PageDataProblem(width, height, bytes, what) : problem;
}

}  // namespace faxline::image
