// TIFF-F writing, reading and the send check, measured against SpanDSP 0.0.6 itself.
//
// Build by hand (one line):
//   g++ -std=c++17 -Inative test/cpp/image_test.cpp native/image/tiff_io.cpp -pthread
//       $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include <fcntl.h>
#include <signal.h>
#include <spandsp.h>
#include <sys/resource.h>
#include <tiffio.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness.h"
#include "image/tiff_io.h"

using faxline::image::BilevelPage;
using faxline::image::CheckTiffForSending;
using faxline::image::ReadTiff;
using faxline::image::SilenceLibtiffGlobally;
using faxline::image::TiffCheck;
using faxline::image::TiffCompression;
using faxline::image::TiffError;
using faxline::image::TiffFWriter;
using faxline::image::WriteTiffF;
using faxline::test::Expect;
using faxline::test::FileExists;
using faxline::test::FillRect;
using faxline::test::Run;
using faxline::test::SetPixel;
using faxline::test::TempPath;
using faxline::test::ThrownMessage;
using faxline::test::WhitePage;

namespace {

// ---------------------------------------------------------------------------------------
// Messages and files

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<char> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteBytes(const std::string& path, const char* data, size_t size) {
  std::ofstream(path, std::ios::binary).write(data, static_cast<std::streamsize>(size));
}

// Captures everything written to stderr (fd 2) while it lives.
class StderrCapture {
 public:
  StderrCapture() : path_(TempPath("stderr.txt")) {
    fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { Restore(); }
  std::string Text() {
    Restore();
    const auto bytes = ReadBytes(path_);
    return {bytes.begin(), bytes.end()};
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

// ---------------------------------------------------------------------------------------
// Pages

constexpr double kStandard = 98.0, kFine = 196.0, kSuperfine = 391.0;

// A page that exercises the codecs: text-like strokes, a block of noise, all-white and
// all-black rows, a partially filled last row, and garbage in the padding bits (which the
// writer must ignore).
BilevelPage MakeDocumentPage(uint32_t width, uint32_t height, double x_dpi, double y_dpi,
                             uint32_t seed) {
  BilevelPage page = WhitePage(width, height, x_dpi, y_dpi);
  std::mt19937 rng(seed);

  FillRect(page, 0, 2, width, 3);  // full black rows
  for (uint32_t line_top = 12; line_top + 14 < height * 2 / 3; line_top += 22) {
    for (uint32_t x = 8; x + 10 < width; x += 12) {
      switch (rng() % 5) {
        case 0:
          FillRect(page, x, line_top, 2, 14);
          break;  // stem
        case 1:
          FillRect(page, x, line_top + 6, 9, 2);
          break;  // bar
        case 2:
          for (uint32_t d = 0; d < 12; ++d) SetPixel(page, x + d * 3 / 4, line_top + d);
          break;
        case 3:  // a "C"
          FillRect(page, x, line_top, 8, 2);
          FillRect(page, x, line_top + 12, 8, 2);
          FillRect(page, x, line_top, 2, 14);
          break;
        default:
          break;  // a space
      }
    }
  }
  const uint32_t noise_top = height * 2 / 3;
  for (uint32_t y = noise_top; y < noise_top + height / 6 && y < height; ++y) {
    for (uint32_t x = width / 4; x < width * 3 / 4; ++x) {
      if (rng() & 1) SetPixel(page, x, y);
    }
  }
  for (uint32_t x = 0; x < width; x += 3) SetPixel(page, x, height - 1);  // last row, dotted
  SetPixel(page, width - 1, height - 1);                                  // up to the last pixel
  if (width % 8 != 0) {
    for (uint32_t y = 0; y < height; ++y)
      page.bits[y * page.stride() + page.stride() - 1] |= 0xFF >> (width % 8);
  }
  return page;
}

// Any valid page, when the content does not matter.
BilevelPage SamplePage(uint32_t width, uint32_t height, double x_dpi, double y_dpi) {
  return MakeDocumentPage(width, height, x_dpi, y_dpi, 1);
}

// The page as the reader must return it: padding bits cleared.
std::vector<uint8_t> WithoutPadding(const BilevelPage& page) {
  std::vector<uint8_t> bits = page.bits;
  if (page.width % 8 == 0) return bits;
  const auto mask = static_cast<uint8_t>(0xFF << (8 - page.width % 8));
  for (uint32_t y = 0; y < page.height; ++y) bits[y * page.stride() + page.stride() - 1] &= mask;
  return bits;
}

std::string Geometry(const BilevelPage& page) {
  std::ostringstream out;
  out << page.width << "x" << page.height << " @ " << page.x_dpi << "x" << page.y_dpi;
  return out.str();
}

void ExpectSamePage(const BilevelPage& expected, const BilevelPage& actual,
                    const std::string& label) {
  Expect(actual.width == expected.width && actual.height == expected.height,
         label + ": size " + Geometry(actual) + ", expected " + Geometry(expected));
  Expect(std::fabs(actual.x_dpi - expected.x_dpi) < 0.01 &&
             std::fabs(actual.y_dpi - expected.y_dpi) < 0.01,
         label + ": resolution " + Geometry(actual) + ", expected " + Geometry(expected));
  Expect(actual.bits == WithoutPadding(expected), label + ": bits differ");
}

const char* Name(TiffCompression c) {
  switch (c) {
    case TiffCompression::kT4_1D:
      return "T.4 1D";
    case TiffCompression::kT4_2D:
      return "T.4 2D";
    case TiffCompression::kT6:
      return "T.6";
  }
  return "?";
}

constexpr TiffCompression kAllCompressions[] = {TiffCompression::kT4_1D, TiffCompression::kT4_2D,
                                                TiffCompression::kT6};

// ---------------------------------------------------------------------------------------
// Odd files, written with libtiff directly

struct RawTiff {
  uint32_t width = 1728, height = 64;
  uint16_t bits_per_sample = 1, samples_per_pixel = 1;
  uint16_t photometric = PHOTOMETRIC_MINISWHITE;
  uint16_t compression = COMPRESSION_CCITTFAX4;
  bool tiled = false;
  bool has_resolution = true;
  uint16_t resolution_unit = RESUNIT_INCH;
  float x_resolution = 204.0f, y_resolution = 196.0f;
  bool palette_zero_is_black = true;
};

// Writes `spec` with a diagonal of short dashes; returns that image as 1 = black.
BilevelPage WriteRaw(const std::string& path, const RawTiff& spec) {
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, spec.width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, spec.height);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, spec.bits_per_sample);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spec.samples_per_pixel);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, spec.photometric);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, spec.compression);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  if (spec.has_resolution) {
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, spec.x_resolution);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, spec.y_resolution);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, spec.resolution_unit);
  }
  uint16_t dark = 0, light = 65535;
  uint16_t palette[2] = {spec.palette_zero_is_black ? dark : light,
                         spec.palette_zero_is_black ? light : dark};
  if (spec.photometric == PHOTOMETRIC_PALETTE)
    TIFFSetField(tif, TIFFTAG_COLORMAP, palette, palette, palette);

  BilevelPage black_is_one =
      WhitePage(spec.width, spec.height, spec.x_resolution, spec.y_resolution);
  for (uint32_t y = 0; y < spec.height; ++y) FillRect(black_is_one, (y * 7) % spec.width, y, 40, 1);

  const size_t row_bytes =
      (static_cast<size_t>(spec.width) * spec.bits_per_sample * spec.samples_per_pixel + 7) / 8;
  std::vector<uint8_t> image(row_bytes * spec.height, 0);
  if (spec.bits_per_sample == 1 && spec.samples_per_pixel == 1) {
    const bool stored_one_is_black =
        spec.photometric == PHOTOMETRIC_MINISWHITE ||
        (spec.photometric == PHOTOMETRIC_PALETTE && !spec.palette_zero_is_black);
    image = black_is_one.bits;
    if (!stored_one_is_black)
      for (auto& byte : image) byte = static_cast<uint8_t>(~byte);
  }
  if (spec.tiled) {
    const uint32_t tile_w = 256, tile_h = 32;
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, tile_w);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, tile_h);
    std::vector<uint8_t> tile(tile_w / 8 * tile_h);
    for (uint32_t ty = 0; ty < spec.height; ty += tile_h) {
      for (uint32_t tx = 0; tx < spec.width; tx += tile_w) {
        std::fill(tile.begin(), tile.end(), 0);
        for (uint32_t y = ty; y < std::min(spec.height, ty + tile_h); ++y) {
          for (uint32_t i = 0; i < tile_w / 8 && tx / 8 + i < row_bytes; ++i) {
            tile[(y - ty) * (tile_w / 8) + i] = image[y * row_bytes + tx / 8 + i];
          }
        }
        TIFFWriteTile(tif, tile.data(), tx, ty, 0, 0);
      }
    }
  } else {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
    for (uint32_t y = 0; y < spec.height; ++y) TIFFWriteScanline(tif, &image[y * row_bytes], y, 0);
  }
  TIFFClose(tif);
  return black_is_one;
}

// A classic little-endian TIFF with the directory before the data, cut short so the strip
// ends early: libtiff opens it, and only reading the pixels fails.
void WriteTruncatedStripTiff(const std::string& path, uint32_t height = 100) {
  const uint32_t width = 1728, strip_bytes = width / 8 * height;
  struct Entry {
    uint16_t tag, type;
    uint32_t count, value;
  };
  const uint16_t kShort = 3, kLong = 4, kRational = 5;
  const uint16_t count = 12;
  const uint32_t x_resolution_offset = 8 + 2 + count * 12 + 4;
  const uint32_t y_resolution_offset = x_resolution_offset + 8;
  const uint32_t data_offset = y_resolution_offset + 8;
  const Entry entries[count] = {
      // in ascending tag order, as TIFF requires
      {TIFFTAG_IMAGEWIDTH, kLong, 1, width},
      {TIFFTAG_IMAGELENGTH, kLong, 1, height},
      {TIFFTAG_BITSPERSAMPLE, kShort, 1, 1},
      {TIFFTAG_COMPRESSION, kShort, 1, COMPRESSION_NONE},
      {TIFFTAG_PHOTOMETRIC, kShort, 1, PHOTOMETRIC_MINISWHITE},
      {TIFFTAG_STRIPOFFSETS, kLong, 1, data_offset},
      {TIFFTAG_SAMPLESPERPIXEL, kShort, 1, 1},
      {TIFFTAG_ROWSPERSTRIP, kLong, 1, height},
      {TIFFTAG_STRIPBYTECOUNTS, kLong, 1, strip_bytes},
      {TIFFTAG_XRESOLUTION, kRational, 1, x_resolution_offset},
      {TIFFTAG_YRESOLUTION, kRational, 1, y_resolution_offset},
      {TIFFTAG_RESOLUTIONUNIT, kShort, 1, RESUNIT_INCH},
  };
  std::vector<char> file;
  auto put16 = [&](uint16_t v) {
    file.push_back(char(v & 0xFF));
    file.push_back(char(v >> 8));
  };
  auto put32 = [&](uint32_t v) {
    put16(uint16_t(v & 0xFFFF));
    put16(uint16_t(v >> 16));
  };
  file.push_back('I');
  file.push_back('I');
  put16(42);
  put32(8);
  put16(count);
  for (const Entry& e : entries) {
    put16(e.tag);
    put16(e.type);
    put32(e.count);
    if (e.type == kShort) {
      put16(uint16_t(e.value));
      put16(0);
    } else {
      put32(e.value);
    }
  }
  put32(0);  // no next directory
  put32(204);
  put32(1);  // XResolution
  put32(196);
  put32(1);                                                                        // YResolution
  file.resize(data_offset + std::min<uint32_t>(strip_bytes / 3, 100000), '\x0F');  // cut short
  WriteBytes(path, file.data(), file.size());
}

// ---------------------------------------------------------------------------------------
// SpanDSP as the judge: one whole T.30 call between two SpanDSP terminals over audio

struct SpanDspVerdict {
  int sender_code = -1;
  int receiver_code = -1;
  std::vector<BilevelPage> received;
  bool SentFaithfully(const std::vector<BilevelPage>& source) const {
    if (sender_code != T30_ERR_OK || receiver_code != T30_ERR_OK ||
        received.size() != source.size())
      return false;
    for (size_t i = 0; i < source.size(); ++i) {
      const BilevelPage& a = source[i];
      const BilevelPage& b = received[i];
      if (a.width != b.width || a.bits != b.bits) return false;
      if (std::fabs(a.x_dpi / b.x_dpi - 1) > 0.05 || std::fabs(a.y_dpi / b.y_dpi - 1) > 0.05)
        return false;
    }
    return true;
  }
};

struct PhaseE {
  int code = -1;
  bool done = false;
};

void OnPhaseE(t30_state_t*, void* user_data, int completion_code) {
  auto* phase_e = static_cast<PhaseE*>(user_data);
  phase_e->code = completion_code;
  phase_e->done = true;
}

// Every size and resolution enabled at both ends, so only the file can make the call fail.
SpanDspVerdict SendWithSpanDsp(const std::string& path, int start_page = -1, int stop_page = -1) {
  const std::string received_path = TempPath("received.tif");
  std::remove(received_path.c_str());
  fax_state_t* sender = fax_init(nullptr, 1);
  fax_state_t* receiver = fax_init(nullptr, 0);
  PhaseE sender_end, receiver_end;
  for (fax_state_t* fax : {sender, receiver}) {
    t30_state_t* t30 = fax_get_t30_state(fax);
    t30_set_supported_image_sizes(
        t30, T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH |
                 T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH |
                 T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH);
    t30_set_supported_resolutions(
        t30, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |
                 T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION |
                 T30_SUPPORT_R16_RESOLUTION | T30_SUPPORT_300_300_RESOLUTION |
                 T30_SUPPORT_400_400_RESOLUTION | T30_SUPPORT_600_600_RESOLUTION |
                 T30_SUPPORT_1200_1200_RESOLUTION | T30_SUPPORT_300_600_RESOLUTION |
                 T30_SUPPORT_400_800_RESOLUTION | T30_SUPPORT_600_1200_RESOLUTION);
    fax_set_transmit_on_idle(fax, 1);
  }
  t30_set_tx_file(fax_get_t30_state(sender), path.c_str(), start_page, stop_page);
  t30_set_rx_file(fax_get_t30_state(receiver), received_path.c_str(), -1);
  t30_set_phase_e_handler(fax_get_t30_state(sender), OnPhaseE, &sender_end);
  t30_set_phase_e_handler(fax_get_t30_state(receiver), OnPhaseE, &receiver_end);

  int16_t frame[160];
  auto pass = [&frame](fax_state_t* from, fax_state_t* to) {
    const int n = fax_tx(from, frame, 160);
    std::fill(frame + std::max(n, 0), frame + 160, 0);
    fax_rx(to, frame, 160);
  };
  for (int i = 0; i < 50 * 600 && !(sender_end.done && receiver_end.done);
       ++i) {  // 10 minutes of audio at most
    pass(sender, receiver);
    pass(receiver, sender);
  }
  fax_free(sender);
  fax_free(receiver);

  SpanDspVerdict verdict;
  verdict.sender_code = sender_end.code;
  verdict.receiver_code = receiver_end.code;
  if (FileExists(received_path)) {
    try {
      verdict.received = ReadTiff(received_path);
    } catch (const TiffError&) {
    }
  }
  return verdict;
}

std::vector<BilevelPage> ReadOrEmpty(const std::string& path) {
  try {
    return ReadTiff(path);
  } catch (const TiffError&) {
    return {};
  }
}

std::string CodeName(int code) {
  switch (code) {
    case T30_ERR_OK:
      return "T30_ERR_OK";
    case T30_ERR_FILEERROR:
      return "T30_ERR_FILEERROR";
    case T30_ERR_NOPAGE:
      return "T30_ERR_NOPAGE";
    case T30_ERR_BADTIFF:
      return "T30_ERR_BADTIFF";
    case T30_ERR_BADTAG:
      return "T30_ERR_BADTAG";
    case T30_ERR_BADTIFFHDR:
      return "T30_ERR_BADTIFFHDR";
    default:
      return std::to_string(code) + " (" + t30_completion_code_to_str(code) + ")";
  }
}

void ExpectCheck(const TiffCheck& check, int code, const std::string& detail_part,
                 const std::string& label) {
  Expect(check.code == code, label + ": code " + CodeName(check.code) + ", expected " +
                                 CodeName(code) + " (detail: " + check.detail + ")");
  Expect(Contains(check.detail, detail_part),
         label + ": detail \"" + check.detail + "\" does not mention \"" + detail_part + "\"");
}

// ---------------------------------------------------------------------------------------
// Tests

void RoundTripEachCompressionAndResolution() {
  uint32_t seed = 1;
  for (TiffCompression c : kAllCompressions) {
    for (double y_dpi : {kStandard, kFine, kSuperfine}) {
      for (uint32_t width : {1728u, 1001u}) {  // 1001: the last byte of each row is partial
        const std::string label = std::string(Name(c)) + " " + std::to_string(width) + " wide at " +
                                  std::to_string(static_cast<int>(y_dpi)) + " dpi";
        const BilevelPage page = MakeDocumentPage(width, 300, 204.0, y_dpi, seed++);
        const std::string path = TempPath("roundtrip.tif");
        WriteTiffF(path, {page}, c);
        const auto pages = ReadTiff(path);
        Expect(pages.size() == 1, label + ": expected one page");
        if (!pages.empty()) ExpectSamePage(page, pages[0], label);
      }
    }
  }
}

void RoundTripBlankAndBlackPages() {
  BilevelPage white;
  white.width = 1728;
  white.height = 50;
  white.bits.assign(white.stride() * white.height, 0x00);
  BilevelPage black = white;
  black.bits.assign(black.stride() * black.height, 0xFF);
  for (TiffCompression c : kAllCompressions) {
    const std::string path = TempPath("plain.tif");
    WriteTiffF(path, {white, black}, c);
    const auto pages = ReadTiff(path);
    Expect(pages.size() == 2, std::string(Name(c)) + ": expected two pages");
    if (pages.size() == 2) {
      ExpectSamePage(white, pages[0], std::string(Name(c)) + " all white");
      ExpectSamePage(black, pages[1], std::string(Name(c)) + " all black");
    }
  }
}

void MultiPageKeepsOrderAndGeometry() {
  const std::vector<BilevelPage> pages = {
      MakeDocumentPage(1728, 200, 204, kStandard, 11),
      MakeDocumentPage(2048, 120, 204, kFine, 12),
      MakeDocumentPage(3456, 90, 408, kSuperfine, 13),
  };
  const std::string path = TempPath("multi.tif");
  WriteTiffF(path, pages, TiffCompression::kT4_2D);
  const auto read = ReadTiff(path);
  Expect(read.size() == pages.size(), "expected 3 pages, got " + std::to_string(read.size()));
  for (size_t i = 0; i < std::min(read.size(), pages.size()); ++i) {
    ExpectSamePage(pages[i], read[i], "page " + std::to_string(i + 1));
  }
}

struct PageTags {
  uint16_t page_index = 0xFFFF, page_total = 0xFFFF;
  uint32_t subfile = 0xFFFF, rows_per_strip = 0, group3_options = 0xFFFF;
  uint16_t compression = 0, photometric = 0, fill_order = 0, unit = 0, planar = 0;
  std::string software;
};

std::vector<PageTags> ReadTags(const std::string& path) {
  std::vector<PageTags> all;
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  if (tif == nullptr) return all;
  do {
    PageTags t;
    TIFFGetField(tif, TIFFTAG_PAGENUMBER, &t.page_index, &t.page_total);
    TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &t.subfile);
    TIFFGetField(tif, TIFFTAG_ROWSPERSTRIP, &t.rows_per_strip);
    TIFFGetField(tif, TIFFTAG_COMPRESSION, &t.compression);
    if (t.compression == COMPRESSION_CCITTFAX3)
      TIFFGetField(tif, TIFFTAG_GROUP3OPTIONS, &t.group3_options);
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &t.photometric);
    TIFFGetField(tif, TIFFTAG_FILLORDER, &t.fill_order);
    TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &t.unit);
    TIFFGetField(tif, TIFFTAG_PLANARCONFIG, &t.planar);
    char* software = nullptr;
    if (TIFFGetField(tif, TIFFTAG_SOFTWARE, &software)) t.software = software;
    all.push_back(t);
  } while (TIFFReadDirectory(tif));
  TIFFClose(tif);
  return all;
}

void WritesTheTiffFTags() {
  const BilevelPage page = SamplePage(1728, 40, 204, kFine);
  const struct {
    TiffCompression c;
    uint16_t codec;
    uint32_t options;
  } cases[] = {
      {TiffCompression::kT4_1D, COMPRESSION_CCITTFAX3, GROUP3OPT_FILLBITS},
      {TiffCompression::kT4_2D, COMPRESSION_CCITTFAX3, GROUP3OPT_FILLBITS | GROUP3OPT_2DENCODING},
      {TiffCompression::kT6, COMPRESSION_CCITTFAX4, 0xFFFF},
  };
  for (const auto& expected : cases) {
    const std::string label = Name(expected.c);
    const std::string path = TempPath("tags.tif");
    WriteTiffF(path, {page, page, page}, expected.c);
    const auto tags = ReadTags(path);
    Expect(tags.size() == 3, label + ": expected 3 directories");
    for (size_t i = 0; i < tags.size(); ++i) {
      const PageTags& t = tags[i];
      const std::string at = label + " page " + std::to_string(i + 1);
      Expect(t.page_index == i && t.page_total == 3,
             at + ": PageNumber " + std::to_string(t.page_index) + "/" +
                 std::to_string(t.page_total) + ", expected " + std::to_string(i) + "/3");
      Expect(t.subfile == FILETYPE_PAGE, at + ": SubfileType is not FILETYPE_PAGE");
      Expect(t.compression == expected.codec, at + ": wrong Compression");
      Expect(t.group3_options == expected.options,
             at + ": T4Options " + std::to_string(t.group3_options));
      Expect(t.photometric == PHOTOMETRIC_MINISWHITE, at + ": Photometric is not MINISWHITE");
      Expect(t.fill_order == FILLORDER_LSB2MSB, at + ": FillOrder is not LSB2MSB");
      Expect(t.unit == RESUNIT_INCH, at + ": ResolutionUnit is not INCH");
      Expect(t.rows_per_strip == page.height, at + ": RowsPerStrip is not the page height");
      Expect(t.planar == PLANARCONFIG_CONTIG, at + ": PlanarConfig is not contig");
      Expect(t.software == "faxline", at + ": Software is \"" + t.software + "\"");
    }
  }
}

void StreamingWriterNumbersPagesWithUnknownTotal() {
  const std::string path = TempPath("stream.tif");
  {
    TiffFWriter writer(path, TiffCompression::kT6);
    for (int i = 0; i < 4; ++i) writer.AddPage(MakeDocumentPage(1728, 100, 204, kFine, 40 + i));
    Expect(writer.pages_written() == 4, "pages_written() should be 4");
    writer.Close();
    writer.Close();  // idempotent
  }
  const auto tags = ReadTags(path);
  Expect(tags.size() == 4, "expected 4 directories");
  for (size_t i = 0; i < tags.size(); ++i) {
    Expect(tags[i].page_index == i && tags[i].page_total == 0,
           "page " + std::to_string(i + 1) + ": PageNumber " + std::to_string(tags[i].page_index) +
               "/" + std::to_string(tags[i].page_total) + ", expected " + std::to_string(i) + "/0");
  }
  const auto pages = ReadTiff(path);
  for (size_t i = 0; i < pages.size(); ++i) {
    ExpectSamePage(MakeDocumentPage(1728, 100, 204, kFine, 40 + static_cast<uint32_t>(i)), pages[i],
                   "streamed page " + std::to_string(i + 1));
  }
}

void WriterRefusesBadInputAndCleansUp() {
  const std::string path = TempPath("bad_write.tif");
  BilevelPage short_bits = SamplePage(1728, 10, 204, kFine);
  short_bits.bits.pop_back();
  Expect(Contains(ThrownMessage<TiffError>(
                      [&] { WriteTiffF(path, {short_bits}, TiffCompression::kT6); }),
                  "bytes"),
         "a page with too few bytes must throw");
  Expect(!FileExists(path), "a failed WriteTiffF must not leave a file behind");

  BilevelPage no_width = SamplePage(8, 10, 204, kFine);
  no_width.width = 0;
  no_width.bits.clear();
  Expect(!ThrownMessage<TiffError>([&] {
            WriteTiffF(path, {no_width}, TiffCompression::kT6);
          }).empty(),
         "a page of width 0 must throw");

  BilevelPage bad_dpi = SamplePage(1728, 10, 204, kFine);
  bad_dpi.y_dpi = std::nan("");
  Expect(
      !ThrownMessage<TiffError>([&] { WriteTiffF(path, {bad_dpi}, TiffCompression::kT6); }).empty(),
      "a NaN resolution must throw");

  Expect(!ThrownMessage<TiffError>([&] { WriteTiffF(path, {}, TiffCompression::kT6); }).empty(),
         "no pages must throw");

  const std::string message = ThrownMessage<TiffError>([&] {
    WriteTiffF(TempPath("no/such/dir/x.tif"), {SamplePage(1728, 10, 204, kFine)},
               TiffCompression::kT6);
  });
  Expect(Contains(message, "no/such/dir/x.tif"),
         "an uncreatable path must throw naming it, got: " + message);

  {
    TiffFWriter abandoned(path, TiffCompression::kT4_1D);
    abandoned.AddPage(SamplePage(1728, 10, 204, kFine));
  }
  Expect(!FileExists(path), "a writer destroyed without Close() must remove its file");

  {
    TiffFWriter empty(path, TiffCompression::kT4_1D);
    Expect(!ThrownMessage<TiffError>([&] { empty.Close(); }).empty(),
           "Close() with no pages must throw");
  }
  Expect(!FileExists(path), "an empty writer must not leave a file behind");

  {
    TiffFWriter counted(path, TiffCompression::kT4_1D, 1);
    counted.AddPage(SamplePage(1728, 10, 204, kFine));
    Expect(!ThrownMessage<TiffError>([&] {
              counted.AddPage(SamplePage(1728, 10, 204, kFine));
            }).empty(),
           "a page beyond the announced total must throw");
    counted.Close();
  }
  Expect(ReadTiff(path).size() == 1, "the announced page survives");
}

// Every page the writer refuses breaks the page rule (page_rule.h), and its message says
// which property and how; a page at the rule's limits is written.
void WriterKeepsThePageRule() {
  const std::string path = TempPath("page_rule.tif");
  auto refusal = [&](BilevelPage page) {
    return ThrownMessage<TiffError>([&] { WriteTiffF(path, {page}, TiffCompression::kT6); });
  };
  const BilevelPage good = SamplePage(1728, 10, 204, kFine);
  BilevelPage wide = good;
  wide.width = 20001;
  wide.bits.assign(wide.stride() * wide.height, 0);
  BilevelPage low_dpi = good;
  low_dpi.x_dpi = 0.5;
  BilevelPage high_dpi = good;
  high_dpi.y_dpi = 10000.5;
  BilevelPage long_bits = good;
  long_bits.bits.push_back(0);
  const std::pair<BilevelPage, std::string> refused[] = {
      {wide, "Expected an integer from 1 to 20000 for page.width but got 20001"},
      {low_dpi, "Expected a number from 1 to 10000 for page.xDpi but got 0.5"},
      {high_dpi, "Expected a number from 1 to 10000 for page.yDpi but got 10000.5"},
      {long_bits, "Expected 2160 bytes (10 rows of 216) for page.data but got 2161"},
  };
  for (const auto& [page, expected] : refused) {
    const std::string message = refusal(page);
    Expect(message == path + ", page 1: " + expected,
           "expected \"" + expected + "\", got \"" + message + "\"");
    Expect(!FileExists(path), "a refused page leaves no file: " + expected);
  }

  BilevelPage widest = WhitePage(20000, 2, 1, 10000);
  SetPixel(widest, 19999, 1);
  BilevelPage tallest = WhitePage(1, 20000, 10000, 1);
  SetPixel(tallest, 0, 19999);
  WriteTiffF(path, {widest, tallest}, TiffCompression::kT6);
  const std::vector<BilevelPage> pages = ReadTiff(path);
  Expect(pages.size() == 2, "both pages at the limits are written");
  if (pages.size() == 2) {
    ExpectSamePage(widest, pages[0], "the widest page");
    ExpectSamePage(tallest, pages[1], "the tallest page");
  }
}

// WriteTiffF's page source is asked for each page once, in order, and may reuse one page.
void WriterAsksForEachPageOnceInOrder() {
  const std::string path = TempPath("page_source.tif");
  std::vector<size_t> asked;
  BilevelPage scratch;
  WriteTiffF(
      path, 3,
      [&](size_t i) -> const BilevelPage& {
        asked.push_back(i);
        scratch = MakeDocumentPage(1728, 50, 204, kFine, 60 + static_cast<uint32_t>(i));
        return scratch;
      },
      TiffCompression::kT4_2D);
  Expect(asked == std::vector<size_t>{0, 1, 2}, "pages asked for as 0, 1, 2");
  const std::vector<BilevelPage> pages = ReadTiff(path);
  Expect(pages.size() == 3, "three pages written");
  for (size_t i = 0; i < pages.size(); ++i) {
    ExpectSamePage(MakeDocumentPage(1728, 50, 204, kFine, 60 + static_cast<uint32_t>(i)), pages[i],
                   "page " + std::to_string(i + 1));
  }
}

// The file system refuses more bytes part-way through a document (RLIMIT_FSIZE, with
// SIGXFSZ ignored so the write merely fails).
void FailedWriteThrowsAndLeavesNoFile() {
  const std::string path = TempPath("too_big.tif");
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  auto* previous_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved;
  small.rlim_cur = 20000;
  setrlimit(RLIMIT_FSIZE, &small);
  std::string first_error, second_error;
  {
    TiffFWriter writer(path, TiffCompression::kT4_1D);
    for (int i = 0; i < 20 && first_error.empty(); ++i) {
      first_error = ThrownMessage<TiffError>(
          [&] { writer.AddPage(MakeDocumentPage(1728, 400, 204, kFine, 90 + i)); });
    }
    second_error =
        ThrownMessage<TiffError>([&] { writer.AddPage(SamplePage(1728, 10, 204, kFine)); });
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, previous_handler);
  Expect(Contains(first_error, path),
         "a write past the size limit must throw naming the file, got: " + first_error);
  Expect(Contains(second_error, "earlier page"),
         "the writer must refuse pages after a failure, got: " + second_error);
  Expect(!FileExists(path), "a writer that failed must not leave a file behind");
}

void ReaderThrowsForBrokenFiles() {
  const std::string missing = TempPath("missing.tif");
  std::string message = ThrownMessage<TiffError>([&] { ReadTiff(missing); });
  Expect(Contains(message, missing), "a missing file must throw naming the path, got: " + message);

  const std::string text = TempPath("text.tif");
  const char kText[] = "this is not a TIFF file, just some words\n";
  WriteBytes(text, kText, sizeof kText - 1);
  message = ThrownMessage<TiffError>([&] { ReadTiff(text); });
  Expect(Contains(message, text) && Contains(message, "Not a TIFF"),
         "a non-TIFF file must throw with libtiff's reason, got: " + message);

  const std::string empty = TempPath("empty.tif");
  WriteBytes(empty, "", 0);
  Expect(!ThrownMessage<TiffError>([&] { ReadTiff(empty); }).empty(), "an empty file must throw");

  const std::string whole = TempPath("whole.tif");
  WriteTiffF(whole, {MakeDocumentPage(1728, 400, 204, kFine, 7)}, TiffCompression::kT4_1D);
  const auto bytes = ReadBytes(whole);
  for (size_t keep : {size_t{5}, size_t{100}, bytes.size() / 2}) {
    const std::string cut = TempPath("cut.tif");
    WriteBytes(cut, bytes.data(), keep);
    Expect(!ThrownMessage<TiffError>([&] { ReadTiff(cut); }).empty(),
           "a file cut to " + std::to_string(keep) + " bytes must throw");
  }

  const std::string short_strip = TempPath("short_strip.tif");
  WriteTruncatedStripTiff(short_strip);
  message = ThrownMessage<TiffError>([&] { ReadTiff(short_strip); });
  Expect(Contains(message, "page 1") && Contains(message, "row"),
         "a strip cut short must throw naming page and row, got: " + message);

  const std::string huge = TempPath("huge.tif");
  WriteTruncatedStripTiff(huge, 2000000);  // claims 432 MB of pixels
  message = ThrownMessage<TiffError>([&] { ReadTiff(huge); });
  Expect(Contains(message, "too large"), "a page claiming 432 MB must be refused, got: " + message);

  const std::string gray = TempPath("gray.tif");
  RawTiff gray_spec;
  gray_spec.bits_per_sample = 8;
  gray_spec.photometric = PHOTOMETRIC_MINISBLACK;
  gray_spec.compression = COMPRESSION_NONE;
  WriteRaw(gray, gray_spec);
  message = ThrownMessage<TiffError>([&] { ReadTiff(gray); });
  Expect(Contains(message, "not a bilevel"), "an 8-bit gray file must throw, got: " + message);
}

void ReaderConvertsOtherBilevelLayouts() {
  const struct {
    const char* label;
    RawTiff spec;
  } cases[] = {
      {"MINISBLACK PackBits",
       [] {
         RawTiff s;
         s.photometric = PHOTOMETRIC_MINISBLACK;
         s.compression = COMPRESSION_PACKBITS;
         return s;
       }()},
      {"uncompressed",
       [] {
         RawTiff s;
         s.compression = COMPRESSION_NONE;
         return s;
       }()},
      {"LZW",
       [] {
         RawTiff s;
         s.compression = COMPRESSION_LZW;
         return s;
       }()},
      {"tiled T.6",
       [] {
         RawTiff s;
         s.tiled = true;
         s.width = 1000;
         s.height = 70;
         return s;
       }()},
      {"palette, 0 = black",
       [] {
         RawTiff s;
         s.photometric = PHOTOMETRIC_PALETTE;
         s.compression = COMPRESSION_NONE;
         return s;
       }()},
      {"palette, 0 = white",
       [] {
         RawTiff s;
         s.photometric = PHOTOMETRIC_PALETTE;
         s.palette_zero_is_black = false;
         s.compression = COMPRESSION_NONE;
         return s;
       }()},
      {"resolution in cm",
       [] {
         RawTiff s;
         s.resolution_unit = RESUNIT_CENTIMETER;
         s.x_resolution = 80.0f;
         s.y_resolution = 40.0f;
         return s;
       }()},
  };
  for (const auto& c : cases) {
    const std::string path = TempPath("layout.tif");
    BilevelPage expected = WriteRaw(path, c.spec);
    if (c.spec.resolution_unit == RESUNIT_CENTIMETER) {
      expected.x_dpi = 80.0 * 2.54;
      expected.y_dpi = 40.0 * 2.54;
    }
    const auto pages = ReadTiff(path);
    Expect(pages.size() == 1, std::string(c.label) + ": expected one page");
    if (!pages.empty()) ExpectSamePage(expected, pages[0], c.label);
  }
  const std::string path = TempPath("nores.tif");
  RawTiff no_resolution;
  no_resolution.has_resolution = false;
  WriteRaw(path, no_resolution);
  const auto pages = ReadTiff(path);
  Expect(!pages.empty() && pages[0].x_dpi == 204.0 && pages[0].y_dpi == 98.0,
         "a page without resolution reads as 204 x 98 dpi, as SpanDSP sends it");
}

void NothingIsPrintedOnErrors() {
  StderrCapture capture;
  ThrownMessage<TiffError>([&] { ReadTiff(TempPath("missing.tif")); });
  ThrownMessage<TiffError>([&] { ReadTiff(TempPath("text.tif")); });
  ThrownMessage<TiffError>([&] { ReadTiff(TempPath("short_strip.tif")); });
  CheckTiffForSending(TempPath("text.tif"), 1, 0);
  CheckTiffForSending(TempPath("short_strip.tif"), 1, 0);
  const std::string corrupt = TempPath("corrupt.tif");
  auto bytes = ReadBytes(TempPath("whole.tif"));
  for (size_t i = 2000; i < 6000 && i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(i * 2654435761u >> 24);
  WriteBytes(corrupt, bytes.data(), bytes.size());
  ThrownMessage<TiffError>([&] { ReadTiff(corrupt); });
  CheckTiffForSending(corrupt, 1, 0);
  // SpanDSP opens files with plain TIFFOpen; the process-wide handlers keep it quiet too.
  SilenceLibtiffGlobally();
  const std::string tiled = TempPath("tiled.tif");
  RawTiff tiled_spec;
  tiled_spec.tiled = true;
  WriteRaw(tiled, tiled_spec);
  if (t4_tx_state_t* t4 = t4_tx_init(nullptr, tiled.c_str(), -1, -1)) {
    t4_tx_start_page(t4);  // "Can not read scanlines from a tiled image"
    t4_tx_free(t4);
  }
  const std::string printed = capture.Text();
  Expect(printed.empty(), "libtiff printed to stderr: " + printed.substr(0, 200));
}

// SpanDSP's own transmit side accepts every file we write, at the resolution we wrote.
void SpanDspT4TxAcceptsOurFiles() {
  const struct {
    double y_dpi;
    int spandsp_y;
  } resolutions[] = {{kStandard, T4_Y_RESOLUTION_STANDARD},
                     {kFine, T4_Y_RESOLUTION_FINE},
                     {kSuperfine, T4_Y_RESOLUTION_SUPERFINE}};
  for (TiffCompression c : kAllCompressions) {
    for (const auto& r : resolutions) {
      const std::string label =
          std::string(Name(c)) + " at " + std::to_string(static_cast<int>(r.y_dpi)) + " dpi";
      const std::string path = TempPath("t4tx.tif");
      WriteTiffF(path,
                 {MakeDocumentPage(1728, 200, 204, r.y_dpi, 3),
                  MakeDocumentPage(1728, 100, 204, r.y_dpi, 4)},
                 c);
      t4_tx_state_t* t4 = t4_tx_init(nullptr, path.c_str(), -1, -1);
      Expect(t4 != nullptr, label + ": t4_tx_init refused the file");
      if (t4 == nullptr) continue;
      Expect(t4_tx_start_page(t4) == 0, label + ": t4_tx_start_page failed");
      Expect(t4_tx_get_image_width(t4) == 1728,
             label + ": width " + std::to_string(t4_tx_get_image_width(t4)));
      Expect(t4_tx_get_x_resolution(t4) == T4_X_RESOLUTION_R8,
             label + ": x resolution " + std::to_string(t4_tx_get_x_resolution(t4)));
      Expect(t4_tx_get_y_resolution(t4) == r.spandsp_y,
             label + ": y resolution " + std::to_string(t4_tx_get_y_resolution(t4)));
      Expect(t4_tx_get_pages_in_file(t4) == 2,
             label + ": pages " + std::to_string(t4_tx_get_pages_in_file(t4)));
      t4_tx_free(t4);
      ExpectCheck(CheckTiffForSending(path, 1, 0), T30_ERR_OK, "pages 1 to 2", label);
    }
  }
}

// For each kind of file: what CheckTiffForSending says, and what a real SpanDSP-to-SpanDSP
// call does with it. They must agree, except where SpanDSP guesses (noted per case).
void CheckAgreesWithARealCall() {
  struct Case {
    std::string label;
    std::function<void(const std::string&)> make;
    int expected_code;
    std::string detail_part;
    bool spandsp_sends_it_faithfully;
  };
  auto ours = [](uint32_t width, double x, double y) {
    return [=](const std::string& path) {
      WriteTiffF(path, {MakeDocumentPage(width, 64, x, y, width)}, TiffCompression::kT4_1D);
    };
  };
  auto raw = [](std::function<void(RawTiff&)> adjust) {
    return [=](const std::string& path) {
      RawTiff spec;
      adjust(spec);
      WriteRaw(path, spec);
    };
  };
  const std::vector<Case> cases = {
      // Every resolution pair and paper width T.30 in SpanDSP 0.0.6 can send.
      {"A4 204 x 98", ours(1728, 204, 98), T30_ERR_OK, "can be sent", true},
      {"B4 204 x 196", ours(2048, 204, 196), T30_ERR_OK, "can be sent", true},
      {"A3 204 x 391", ours(2432, 204, 391), T30_ERR_OK, "can be sent", true},
      {"A4 408 x 391", ours(3456, 408, 391), T30_ERR_OK, "can be sent", true},
      {"B4 408 x 800", ours(4096, 408, 800), T30_ERR_OK, "can be sent", true},
      {"A4 300 x 300", ours(2592, 300, 300), T30_ERR_OK, "can be sent", true},
      {"A3 300 x 600", ours(3648, 300, 600), T30_ERR_OK, "can be sent", true},
      {"A4 600 x 600", ours(5184, 600, 600), T30_ERR_OK, "can be sent", true},
      {"B4 600 x 1200", ours(6144, 600, 1200), T30_ERR_OK, "can be sent", true},
      {"A4 1200 x 1200", ours(10368, 1200, 1200), T30_ERR_OK, "can be sent", true},
      {"200 x 100 dpi is within SpanDSP's 5%", ours(1728, 200, 100), T30_ERR_OK, "can be sent",
       true},
      {"MINISBLACK PackBits", raw([](RawTiff& s) {
         s.photometric = PHOTOMETRIC_MINISBLACK;
         s.compression = COMPRESSION_PACKBITS;
       }),
       T30_ERR_OK, "can be sent", true},
      {"resolution in cm", raw([](RawTiff& s) {
         s.resolution_unit = RESUNIT_CENTIMETER;
         s.x_resolution = 80.31f;
         s.y_resolution = 77.0f;
       }),
       T30_ERR_OK, "can be sent", true},
      {"palette, 0 = black", raw([](RawTiff& s) {
         s.photometric = PHOTOMETRIC_PALETTE;
         s.compression = COMPRESSION_NONE;
       }),
       T30_ERR_OK, "can be sent", true},
      // Refused by SpanDSP itself.
      {"1000 wide", ours(1000, 204, 196), T30_ERR_BADTAG, "1000 pixels wide", false},
      {"1729 wide", ours(1729, 204, 196), T30_ERR_BADTAG, "1729 pixels wide", false},
      {"R4 width 864 at 102 dpi", ours(864, 102, 98), T30_ERR_BADTAG, "102 x 98", false},
      {"408 x 196", ours(3456, 408, 196), T30_ERR_BADTAG, "408 x 196", false},
      {"204 x 300", ours(1728, 204, 300), T30_ERR_BADTAG, "204 x 300", false},
      {"A4 at 204 dpi but 3456 wide", ours(3456, 204, 196), T30_ERR_BADTAG, "3456 pixels wide",
       false},
      {"1728 wide at 408 dpi", ours(1728, 408, 391), T30_ERR_BADTAG, "1728 pixels wide", false},
      {"8-bit gray", raw([](RawTiff& s) {
         s.bits_per_sample = 8;
         s.photometric = PHOTOMETRIC_MINISBLACK;
         s.compression = COMPRESSION_NONE;
       }),
       T30_ERR_BADTIFF, "8 bits per sample", false},
      {"RGB", raw([](RawTiff& s) {
         s.bits_per_sample = 8;
         s.samples_per_pixel = 3;
         s.photometric = PHOTOMETRIC_RGB;
         s.compression = COMPRESSION_NONE;
       }),
       T30_ERR_BADTIFF, "3 samples per pixel", false},
      {"tiled", raw([](RawTiff& s) { s.tiled = true; }), T30_ERR_BADTIFF, "tiles", false},
      {"palette, 0 = white", raw([](RawTiff& s) {
         s.photometric = PHOTOMETRIC_PALETTE;
         s.palette_zero_is_black = false;
         s.compression = COMPRESSION_NONE;
       }),
       T30_ERR_BADTIFF, "inverted", false},
      {"not a TIFF", [](const std::string& path) { WriteBytes(path, "hello", 5); },
       T30_ERR_FILEERROR, "cannot be opened", false},
      {"strip cut short", [](const std::string& path) { WriteTruncatedStripTiff(path); },
       T30_ERR_FILEERROR, "cannot be decoded", false},
      // SpanDSP guesses 204 x 98 for these and sends a distorted page; we refuse instead.
      {"150 dpi", ours(1728, 150, 196), T30_ERR_BADTAG, "150 dpi", false},
      {"y 150 dpi", ours(1728, 204, 150), T30_ERR_BADTAG, "150 dpi", false},
      {"no resolution", raw([](RawTiff& s) { s.has_resolution = false; }), T30_ERR_BADTIFFHDR,
       "XResolution", true},
      {"resolution without unit", raw([](RawTiff& s) { s.resolution_unit = RESUNIT_NONE; }),
       T30_ERR_BADTAG, "without a unit", true},
  };
  for (const Case& c : cases) {
    const std::string path = TempPath("judge.tif");
    c.make(path);
    ExpectCheck(CheckTiffForSending(path, 1, 0), c.expected_code, c.detail_part, c.label);
    const SpanDspVerdict verdict = SendWithSpanDsp(path);
    const bool faithful = verdict.SentFaithfully(ReadOrEmpty(path));
    Expect(faithful == c.spandsp_sends_it_faithfully,
           c.label + ": SpanDSP " +
               (faithful ? "sent it faithfully" : "did not send it faithfully") + " (sender " +
               CodeName(verdict.sender_code) + ", receiver " + CodeName(verdict.receiver_code) +
               ", " + std::to_string(verdict.received.size()) + " pages received)");
  }
}

void CheckPageRanges() {
  const std::string path = TempPath("three.tif");
  WriteTiffF(path,
             {SamplePage(1728, 30, 204, kFine), SamplePage(1728, 30, 204, kFine),
              SamplePage(1728, 30, 204, kFine)},
             TiffCompression::kT6);
  ExpectCheck(CheckTiffForSending(path, 1, 0), T30_ERR_OK, "pages 1 to 3", "whole file");
  ExpectCheck(CheckTiffForSending(path, 2, 3), T30_ERR_OK, "pages 2 to 3", "pages 2-3");
  ExpectCheck(CheckTiffForSending(path, 3, 3), T30_ERR_OK, "page 3 can be sent", "page 3");
  ExpectCheck(CheckTiffForSending(path, 4, 0), T30_ERR_NOPAGE, "has 3 pages",
              "first page past the end");
  ExpectCheck(CheckTiffForSending(path, 2, 5), T30_ERR_NOPAGE, "has 3 pages",
              "last page past the end");
  ExpectCheck(CheckTiffForSending(path, 0, 2), T30_ERR_NOPAGE, "has 3 pages", "page 0");
  ExpectCheck(CheckTiffForSending(path, 3, 2), T30_ERR_NOPAGE, "has 3 pages", "reversed range");
  Expect(CheckTiffForSending(path, 1, 0).pages == 3, "pages should be 3");
  // Not asked of SpanDSP here: t4_tx_init refuses a start page past the end, but leaks the
  // open TIFF when it does, which would fail sanitizer runs.

  const TiffCheck missing = CheckTiffForSending(TempPath("missing.tif"), 1, 0);
  ExpectCheck(missing, T30_ERR_FILEERROR, "missing.tif", "missing file");
  Expect(missing.pages == 0, "a missing file has 0 pages");

  // The check names the first bad page in the range, and ignores pages outside it.
  const std::string mixed = TempPath("mixed.tif");
  WriteTiffF(mixed,
             {SamplePage(1728, 30, 204, kFine), SamplePage(1000, 30, 204, kFine),
              SamplePage(1728, 30, 204, kFine)},
             TiffCompression::kT4_2D);
  ExpectCheck(CheckTiffForSending(mixed, 1, 0), T30_ERR_BADTAG, "page 2", "bad page 2");
  ExpectCheck(CheckTiffForSending(mixed, 3, 3), T30_ERR_OK, "page 3", "good page 3 alone");
}

// Without decoding, only the tags are judged: a page whose data is cut short passes, and a
// bad tag is still refused.
void CheckWithoutDecodingReadsOnlyTags() {
  const std::string cut = TempPath("cut-strip.tif");
  WriteTruncatedStripTiff(cut);
  ExpectCheck(CheckTiffForSending(cut, 1, 0), T30_ERR_FILEERROR, "cannot be decoded", "decoded");
  ExpectCheck(CheckTiffForSending(cut, 1, 0, false), T30_ERR_OK, "page 1 can be sent", "tags only");

  const std::string narrow = TempPath("narrow.tif");
  WriteTiffF(narrow, {SamplePage(1728, 30, 204, kFine), SamplePage(1000, 30, 204, kFine)},
             TiffCompression::kT6);
  ExpectCheck(CheckTiffForSending(narrow, 1, 0, false), T30_ERR_BADTAG, "page 2",
              "tags only, bad width");
}

// Different threads reading and writing different files at once: every result is right and
// every error message is attributed to its own file.
void ThreadsDoNotShareState() {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 15; ++i) {
        const std::string path = TempPath("thread" + std::to_string(t) + ".tif");
        const BilevelPage page = MakeDocumentPage(1728, 120, 204, kFine, t * 100 + i);
        WriteTiffF(path, {page}, kAllCompressions[(t + i) % 3]);
        const auto pages = ReadTiff(path);
        if (pages.size() != 1 || pages[0].bits != page.bits) ++wrong;
        if (CheckTiffForSending(path, 1, 0).code != T30_ERR_OK) ++wrong;
        const std::string missing = TempPath("absent" + std::to_string(t) + ".tif");
        const std::string message = ThrownMessage<TiffError>([&] { ReadTiff(missing); });
        if (!Contains(message, missing)) ++wrong;
        for (int other = 0; other < 8; ++other) {
          if (other != t && Contains(message, "absent" + std::to_string(other) + ".tif")) ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Expect(wrong == 0, std::to_string(wrong.load()) + " wrong results across threads");
}

}  // namespace

int main() {
  if (!faxline::test::MakeTempDir("faxline-image-test")) return 2;

  Run("round trip is bit-exact for each compression and resolution",
      RoundTripEachCompressionAndResolution);
  Run("all-white and all-black pages round trip", RoundTripBlankAndBlackPages);
  Run("multi-page files keep page order and geometry", MultiPageKeepsOrderAndGeometry);
  Run("pages carry the TIFF-F tags fax software expects", WritesTheTiffFTags);
  Run("the streaming writer numbers pages with an unknown total",
      StreamingWriterNumbersPagesWithUnknownTotal);
  Run("the writer refuses bad input and leaves no partial file", WriterRefusesBadInputAndCleansUp);
  Run("the writer keeps the page rule", WriterKeepsThePageRule);
  Run("WriteTiffF asks its page source for each page once, in order",
      WriterAsksForEachPageOnceInOrder);
  Run("a write that fails part-way throws and leaves no file", FailedWriteThrowsAndLeavesNoFile);
  Run("the reader throws TiffError for missing, foreign and truncated files",
      ReaderThrowsForBrokenFiles);
  Run("the reader converts other bilevel layouts to 1 = black", ReaderConvertsOtherBilevelLayouts);
  Run("libtiff prints nothing to stderr", NothingIsPrintedOnErrors);
  Run("SpanDSP t4_tx accepts every compression and resolution we write",
      SpanDspT4TxAcceptsOurFiles);
  Run("CheckTiffForSending agrees with a real SpanDSP call", CheckAgreesWithARealCall);
  Run("CheckTiffForSending checks the page range", CheckPageRanges);
  Run("CheckTiffForSending without decoding judges only the tags",
      CheckWithoutDecodingReadsOnlyTags);
  Run("threads reading and writing different files do not interfere", ThreadsDoNotShareState);

  return faxline::test::Finish("image");
}
