// The tiny harness the C++ tests share: Expect and Run, a temporary directory per test
// program, and helpers for messages, files and bilevel pages. Header-only; each test/cpp/*_test.cpp
// is a program of its own.
//
//   int main() {
//     if (!MakeTempDir("faxline-example-test")) return 2;
//     Run("something works", SomethingWorks);
//     return Finish("example");
//   }
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/t30_session.h"
#include "image/tiff_io.h"

namespace faxline::test {

// ---------------------------------------------------------------------------------------
// Expectations and tests

// Atomic: Expect may be called from several threads at once.
inline std::atomic<int> g_failures{0};
inline std::string g_test;          // the test now running, named in every failure
inline bool g_print_times = false;  // Run also prints how long each test took

// Counts and reports a failure unless `ok`; the test goes on either way.
inline void Expect(bool ok, const std::string& what) {
  if (ok) return;
  ++g_failures;
  std::cerr << "FAIL [" << g_test << "] " << what << "\n";
}

// Runs one test: an exception that escapes it is a failure. Prints "ok" or "FAIL" and
// the name (and with g_print_times, the milliseconds it took).
inline void Run(const std::string& name, const std::function<void()>& body) {
  g_test = name;
  const int before = g_failures;
  const auto start = std::chrono::steady_clock::now();
  try {
    body();
  } catch (const std::exception& e) {
    Expect(false, std::string("unexpected exception: ") + e.what());
  }
  std::cout << (g_failures == before ? "ok   " : "FAIL ") << name;
  if (g_print_times) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::cout << " (" << ms << " ms)";
  }
  std::cout << "\n";
}

// Runs `body` and returns the message of the Error it throws ("" if it does not throw).
template <typename Error>
std::string ThrownMessage(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// An integer in words, for messages. Integers only: a double would print six decimals.
template <typename T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
std::string Str(T v) {
  return std::to_string(v);
}

// "48 (Call dropped ...)": a T.30 completion code and SpanDSP's text for it.
inline std::string CodeName(int code) { return Str(code) + " (" + CompletionCodeText(code) + ")"; }

// "1.235": `v` with a fixed number of decimals.
inline std::string Fixed(double v, int decimals = 3) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

// ---------------------------------------------------------------------------------------
// The temporary directory

inline std::string g_dir;

// Makes /tmp/<prefix>-XXXXXX, which TempPath names files in. False (with the reason on
// stderr) if it cannot.
inline bool MakeTempDir(const std::string& prefix) {
  std::string path = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    std::perror("mkdtemp");
    return false;
  }
  g_dir = path;
  return true;
}

inline std::string TempPath(const std::string& name) { return g_dir + "/" + name; }

// Removes the temporary directory and reports the outcome: main's return value.
inline int Finish(const std::string& suite) {
  std::string cleanup = "rm -rf '" + g_dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::cerr << "could not remove " << g_dir << "\n";
  if (g_failures > 0) {
    std::cerr << g_failures << " expectation(s) failed\n";
    return 1;
  }
  std::cout << "all " << suite << " tests passed\n";
  return 0;
}

// ---------------------------------------------------------------------------------------
// Files

inline bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// The size of a file in bytes, or -1 if it does not exist.
inline long FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

// ---------------------------------------------------------------------------------------
// Bilevel pages (1 = black)

// An all-white page.
inline image::BilevelPage WhitePage(uint32_t width, uint32_t height, double x_dpi = 204.0,
                                    double y_dpi = 196.0) {
  image::BilevelPage page;
  page.width = width;
  page.height = height;
  page.x_dpi = x_dpi;
  page.y_dpi = y_dpi;
  page.bits.assign(page.stride() * height, 0);
  return page;
}

// Blackens one pixel; one off the page is ignored.
inline void SetPixel(image::BilevelPage& page, uint32_t x, uint32_t y) {
  if (x < page.width && y < page.height) {
    page.bits[y * page.stride() + x / 8] |= static_cast<uint8_t>(0x80 >> (x % 8));
  }
}

// Blackens a w x h rectangle, clipped to the page.
inline void FillRect(image::BilevelPage& page, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h) {
  for (uint32_t y = y0; y < y0 + h && y < page.height; ++y) {
    for (uint32_t x = x0; x < x0 + w && x < page.width; ++x) SetPixel(page, x, y);
  }
}

// Expects `got` (pages read back from a received file) to be `sent`: the same count, and per
// page the same size, the same vertical resolution (within 2%) and the same bits.
inline void ExpectSamePages(const std::vector<image::BilevelPage>& sent,
                            const std::vector<image::BilevelPage>& got) {
  Expect(got.size() == sent.size(),
         "received " + Str(got.size()) + " pages, sent " + Str(sent.size()));
  for (size_t i = 0; i < std::min(sent.size(), got.size()); ++i) {
    const std::string label = "page " + Str(i + 1);
    Expect(got[i].width == sent[i].width && got[i].height == sent[i].height,
           label + ": " + Str(got[i].width) + "x" + Str(got[i].height) + ", sent " +
               Str(sent[i].width) + "x" + Str(sent[i].height));
    Expect(std::fabs(got[i].y_dpi / sent[i].y_dpi - 1) < 0.02,
           label + ": " + std::to_string(got[i].y_dpi) + " dpi vertically, sent " +
               std::to_string(sent[i].y_dpi));
    Expect(got[i].bits == sent[i].bits, label + ": the bits differ");
  }
}

}  // namespace faxline::test
