#include "image/tiff_io.h"

#include <spandsp.h>
#include <tiffio.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <utility>

namespace faxline::image {
namespace {

// Decoded sizes refused rather than allocated: a header can claim any size, and a few bytes
// of T.6 can decode to a huge blank page. The largest real fax page (A3 at 1200 dpi) needs
// about 36 MiB; 200 fine A4 pages need about 100 MiB.
constexpr size_t kMaxPageBytes = size_t{256} << 20;
constexpr size_t kMaxDocumentBytes = size_t{1} << 30;

// What SpanDSP 0.0.6 assumes for a missing or unitless resolution (R8 x standard).
constexpr double kDefaultXDpi = 204.0;
constexpr double kDefaultYDpi = 98.0;
constexpr double kCmPerInch = 2.54;

std::string FormatMessage(const char* module, const char* fmt, va_list args) {
  char text[512];
  vsnprintf(text, sizeof text, fmt, args);
  if (module == nullptr || *module == '\0') return text;
  return std::string(module) + ": " + text;
}

// Catches messages libtiff reports without a handle (or from code paths that still use
// the global handlers, as SpanDSP's do), so they are never printed to stderr.
thread_local std::string t_unattributed_error;

void GlobalErrorHandler(const char* module, const char* fmt, va_list args) {
  try {
    t_unattributed_error = FormatMessage(module, fmt, args);
  } catch (...) {  // must not unwind into libtiff
  }
}

void GlobalWarningHandler(const char*, const char*, va_list) {}

// An open TIFF and the last error libtiff reported for it. Heap-allocated because its
// address is registered with libtiff as the handler's user data.
class TiffHandle {
 public:
  static std::unique_ptr<TiffHandle> Open(const std::string& path, const char* mode) {
    SilenceLibtiffGlobally();
    t_unattributed_error.clear();
    std::unique_ptr<TiffHandle> handle(new TiffHandle());
    TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
    if (options == nullptr) return handle;
    TIFFOpenOptionsSetErrorHandlerExtR(options, &TiffHandle::OnError, handle.get());
    TIFFOpenOptionsSetWarningHandlerExtR(options, &TiffHandle::OnWarning, handle.get());
    handle->tif_ = TIFFOpenExt(path.c_str(), mode, options);
    TIFFOpenOptionsFree(options);
    return handle;
  }

  ~TiffHandle() { Close(); }
  TiffHandle(const TiffHandle&) = delete;
  TiffHandle& operator=(const TiffHandle&) = delete;

  TIFF* get() const { return tif_; }

  // Returns false when libtiff failed to flush the file.
  bool Close() {
    if (tif_ == nullptr) return true;
    last_error_.clear();
    TIFFClose(tif_);
    tif_ = nullptr;
    return last_error_.empty();
  }

  std::string last_error() const {
    return last_error_.empty() ? t_unattributed_error : last_error_;
  }

 private:
  TiffHandle() = default;

  static int OnError(TIFF*, void* user_data, const char* module, const char* fmt, va_list args) {
    try {
      static_cast<TiffHandle*>(user_data)->last_error_ = FormatMessage(module, fmt, args);
    } catch (...) {  // must not unwind into libtiff
    }
    return 1;  // handled: skip the global handlers
  }

  static int OnWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

  TIFF* tif_ = nullptr;
  std::string last_error_;
};

std::string Describe(const std::string& path, int page, const std::string& what,
                     const std::string& libtiff_error = {}) {
  std::string message = path;
  if (page > 0) message += ", page " + std::to_string(page);
  message += ": " + what;
  if (!libtiff_error.empty()) message += " (" + libtiff_error + ")";
  return message;
}

[[noreturn]] void Fail(const TiffHandle& handle, const std::string& path, int page,
                       const std::string& what) {
  throw TiffError(Describe(path, page, what, handle.last_error()));
}

std::unique_ptr<TiffHandle> OpenOrThrow(const std::string& path, const char* mode) {
  auto handle = TiffHandle::Open(path, mode);
  if (handle->get() == nullptr) {
    Fail(*handle, path, 0,
         mode[0] == 'r' ? "cannot open as a TIFF file" : "cannot create the TIFF file");
  }
  return handle;
}

// Zeroes the bits past `width` in the last byte of a row.
uint8_t LastByteMask(uint32_t width) {
  const unsigned used = width % 8;
  return used == 0 ? 0xFF : static_cast<uint8_t>(0xFF << (8 - used));
}

// Never a device or a directory: the path may be /dev/stdout or the like.
void RemoveIfRegularFile(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_regular_file(path, ignored)) std::filesystem::remove(path, ignored);
}

}  // namespace

void SilenceLibtiffGlobally() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(GlobalErrorHandler);
    TIFFSetWarningHandler(GlobalWarningHandler);
  });
}

// ---------------------------------------------------------------------------------------
// Writing

struct TiffFWriter::Handle {
  std::unique_ptr<TiffHandle> tiff;
};

TiffFWriter::TiffFWriter(const std::string& path, TiffCompression compression, uint16_t total_pages)
    : handle_(new Handle{OpenOrThrow(path, "w")}),
      path_(path),
      compression_(compression),
      total_pages_(total_pages) {}

TiffFWriter::~TiffFWriter() {
  if (handle_ == nullptr) return;  // closed successfully
  handle_->tiff->Close();
  RemoveIfRegularFile(path_);
}

void TiffFWriter::AddPage(const BilevelPage& page) {
  const int page_number = pages_written_ + 1;
  if (handle_ == nullptr) {
    throw TiffError(Describe(path_, page_number, "the writer is already closed"));
  }
  if (broken_) throw TiffError(Describe(path_, page_number, "an earlier page failed to write"));
  const std::string problem =
      PageProblem(page.width, page.height, page.x_dpi, page.y_dpi, page.bits.size(), "page");
  if (!problem.empty()) throw TiffError(Describe(path_, page_number, problem));
  if (pages_written_ == UINT16_MAX || (total_pages_ != 0 && pages_written_ == total_pages_)) {
    throw TiffError(Describe(path_, page_number, "more pages than the writer was told about"));
  }

  TiffHandle& tiff = *handle_->tiff;
  TIFF* tif = tiff.get();
  broken_ = true;  // until the page is complete
  uint16_t codec = COMPRESSION_CCITTFAX3;
  uint32_t group3_options = GROUP3OPT_FILLBITS;
  switch (compression_) {
    case TiffCompression::kT4_1D:
      break;
    case TiffCompression::kT4_2D:
      group3_options |= GROUP3OPT_2DENCODING;
      break;
    case TiffCompression::kT6:
      codec = COMPRESSION_CCITTFAX4;
      break;
  }
  // Resolution goes in before any data: libtiff picks the 2D K factor from YResolution.
  bool ok =
      TIFFSetField(tif, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE) &&
      TIFFSetField(tif, TIFFTAG_PAGENUMBER, static_cast<uint16_t>(pages_written_), total_pages_) &&
      TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, page.width) &&
      TIFFSetField(tif, TIFFTAG_IMAGELENGTH, page.height) &&
      TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 1) &&
      TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
      TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE) &&
      TIFFSetField(tif, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB) &&
      TIFFSetField(tif, TIFFTAG_COMPRESSION, codec) &&
      (codec != COMPRESSION_CCITTFAX3 ||
       TIFFSetField(tif, TIFFTAG_GROUP3OPTIONS, group3_options)) &&
      TIFFSetField(tif, TIFFTAG_XRESOLUTION, static_cast<float>(page.x_dpi)) &&
      TIFFSetField(tif, TIFFTAG_YRESOLUTION, static_cast<float>(page.y_dpi)) &&
      TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH) &&
      TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, page.height) &&
      TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
      TIFFSetField(tif, TIFFTAG_SOFTWARE, "faxline");
  if (!ok) Fail(tiff, path_, page_number, "cannot set the TIFF-F tags");

  // libtiff wants a writable row; the copy also clears the padding bits past the width.
  const size_t stride = page.stride();
  std::vector<uint8_t> row(stride);
  for (uint32_t y = 0; y < page.height; ++y) {
    std::copy_n(page.bits.begin() + y * stride, stride, row.begin());
    row[stride - 1] &= LastByteMask(page.width);
    if (TIFFWriteScanline(tif, row.data(), y, 0) < 0) {
      Fail(tiff, path_, page_number, "cannot write row " + std::to_string(y));
    }
  }
  if (!TIFFWriteDirectory(tif)) Fail(tiff, path_, page_number, "cannot write the page");
  broken_ = false;
  ++pages_written_;
}

void TiffFWriter::Close() {
  if (handle_ == nullptr) return;
  if (broken_) throw TiffError(Describe(path_, 0, "the file could not be written completely"));
  if (pages_written_ == 0) throw TiffError(Describe(path_, 0, "no pages were added"));
  if (total_pages_ != 0 && pages_written_ != total_pages_) {
    throw TiffError(Describe(path_, 0,
                             "expected " + std::to_string(total_pages_) + " pages but got " +
                                 std::to_string(pages_written_)));
  }
  TiffHandle& tiff = *handle_->tiff;
  broken_ = true;  // until the file is flushed
  if (!tiff.Close()) Fail(tiff, path_, 0, "cannot finish the file");
  broken_ = false;
  handle_.reset();
}

void WriteTiffF(const std::string& path, size_t count,
                const std::function<const BilevelPage&(size_t)>& page_at,
                TiffCompression compression) {
  if (count == 0) throw TiffError(Describe(path, 0, "no pages to write"));
  if (count > UINT16_MAX) throw TiffError(Describe(path, 0, "too many pages"));
  TiffFWriter writer(path, compression, static_cast<uint16_t>(count));
  for (size_t i = 0; i < count; ++i) writer.AddPage(page_at(i));
  writer.Close();
}

void WriteTiffF(const std::string& path, const std::vector<BilevelPage>& pages,
                TiffCompression compression) {
  WriteTiffF(
      path, pages.size(), [&pages](size_t i) -> const BilevelPage& { return pages[i]; },
      compression);
}

// ---------------------------------------------------------------------------------------
// Reading

namespace {

// For a two-colour palette: whether index 0 is the darker colour (nullopt: no colour map).
std::optional<bool> PaletteIndexZeroIsDark(TIFF* tif) {
  uint16_t *red = nullptr, *green = nullptr, *blue = nullptr;
  if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue)) return std::nullopt;
  auto luminance = [&](int i) { return 299.0 * red[i] + 587.0 * green[i] + 114.0 * blue[i]; };
  return luminance(0) < luminance(1);
}

// Whether the stored samples must be inverted to get 1 = black.
bool NeedsInversion(TIFF* tif, const std::string& path, int page) {
  uint16_t photometric = PHOTOMETRIC_MINISWHITE;  // the fax default when the tag is absent
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  switch (photometric) {
    case PHOTOMETRIC_MINISWHITE:
      return false;
    case PHOTOMETRIC_MINISBLACK:
      return true;
    case PHOTOMETRIC_PALETTE:
      if (auto zero_is_dark = PaletteIndexZeroIsDark(tif)) return *zero_is_dark;
      throw TiffError(Describe(path, page, "a palette image without a colour map"));
    default:
      throw TiffError(Describe(
          path, page,
          "photometric interpretation " + std::to_string(photometric) + " is not a bilevel image"));
  }
}

void ReadStrips(TIFF* tif, const TiffHandle& tiff, const std::string& path, int page_number,
                BilevelPage& page) {
  const size_t stride = page.stride();
  if (static_cast<size_t>(TIFFScanlineSize64(tif)) != stride) {
    Fail(tiff, path, page_number, "unexpected scanline size");
  }
  for (uint32_t y = 0; y < page.height; ++y) {
    if (TIFFReadScanline(tif, page.bits.data() + y * stride, y, 0) < 0) {
      Fail(tiff, path, page_number, "cannot decode row " + std::to_string(y));
    }
  }
}

void ReadTiles(TIFF* tif, const TiffHandle& tiff, const std::string& path, int page_number,
               BilevelPage& page) {
  uint32_t tile_width = 0, tile_length = 0;
  TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
  TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_length);
  // TIFF requires tile widths in multiples of 16, so 1-bit tiles start on byte boundaries.
  const size_t tile_stride = tile_width / 8;
  if (tile_width == 0 || tile_width % 8 != 0 || tile_length == 0 ||
      static_cast<size_t>(TIFFTileSize64(tif)) != tile_stride * tile_length) {
    Fail(tiff, path, page_number, "unsupported tile layout");
  }
  const size_t stride = page.stride();
  std::vector<uint8_t> tile(tile_stride * tile_length);
  for (uint32_t ty = 0; ty < page.height; ty += tile_length) {
    for (uint32_t tx = 0; tx < page.width; tx += tile_width) {
      if (TIFFReadTile(tif, tile.data(), tx, ty, 0, 0) < 0) {
        Fail(tiff, path, page_number,
             "cannot decode the tile at " + std::to_string(tx) + "," + std::to_string(ty));
      }
      const size_t dest_offset = tx / 8;
      const size_t bytes = std::min(tile_stride, stride - dest_offset);
      for (uint32_t y = ty; y < std::min(page.height, ty + tile_length); ++y) {
        std::copy_n(tile.begin() + (y - ty) * tile_stride, bytes,
                    page.bits.begin() + y * stride + dest_offset);
      }
    }
  }
}

// Resolution in dots per inch as SpanDSP reads it: unitless or missing means "unknown".
void ReadResolution(TIFF* tif, BilevelPage& page) {
  float x = 0.0f, y = 0.0f;
  uint16_t unit = RESUNIT_INCH;
  const bool has_x = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x);
  const bool has_y = TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y);
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  const double scale = unit == RESUNIT_CENTIMETER ? kCmPerInch : 1.0;
  const bool known_unit = unit == RESUNIT_INCH || unit == RESUNIT_CENTIMETER;
  // A resolution outside the page rule is no more use than none, and would make the page one
  // that TiffFWriter refuses to write back.
  page.x_dpi = known_unit && has_x && IsPageDpi(x * scale) ? x * scale : kDefaultXDpi;
  page.y_dpi = known_unit && has_y && IsPageDpi(y * scale) ? y * scale : kDefaultYDpi;
}

BilevelPage ReadCurrentPage(TIFF* tif, const TiffHandle& tiff, const std::string& path,
                            int page_number) {
  BilevelPage page;
  uint16_t bits_per_sample = 1, samples_per_pixel = 1;
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits_per_sample);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples_per_pixel);
  if (bits_per_sample != 1 || samples_per_pixel != 1) {
    throw TiffError(Describe(path, page_number,
                             "not a bilevel image (" + std::to_string(bits_per_sample) +
                                 " bits per sample, " + std::to_string(samples_per_pixel) +
                                 " samples per pixel)"));
  }
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page.width);
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page.height);
  if (page.width == 0 || page.height == 0) Fail(tiff, path, page_number, "empty image");
  if (page.stride() > kMaxPageBytes / page.height) {
    throw TiffError(Describe(path, page_number,
                             "the page is too large (" + std::to_string(page.width) + " x " +
                                 std::to_string(page.height) + ")"));
  }
  const bool invert = NeedsInversion(tif, path, page_number);
  ReadResolution(tif, page);

  page.bits.assign(page.stride() * page.height, 0);
  if (TIFFIsTiled(tif)) {
    ReadTiles(tif, tiff, path, page_number, page);
  } else {
    ReadStrips(tif, tiff, path, page_number, page);
  }

  const size_t stride = page.stride();
  const uint8_t mask = LastByteMask(page.width);
  for (uint32_t y = 0; y < page.height; ++y) {
    uint8_t* row = page.bits.data() + y * stride;
    if (invert) {
      for (size_t i = 0; i < stride; ++i) row[i] = static_cast<uint8_t>(~row[i]);
    }
    row[stride - 1] &= mask;
  }
  return page;
}

}  // namespace

std::vector<BilevelPage> ReadTiff(const std::string& path) {
  auto handle = OpenOrThrow(path, "r");
  TIFF* tif = handle->get();
  std::vector<BilevelPage> pages;
  size_t total_bytes = 0;
  for (int page_number = 1;; ++page_number) {
    if (page_number > 1 && !TIFFReadDirectory(tif)) {
      Fail(*handle, path, page_number, "cannot read the page directory");
    }
    pages.push_back(ReadCurrentPage(tif, *handle, path, page_number));
    total_bytes += pages.back().bits.size();
    if (total_bytes > kMaxDocumentBytes) {
      throw TiffError(Describe(path, page_number, "the document is too large to decode at once"));
    }
    if (TIFFLastDirectory(tif)) return pages;
  }
}

// ---------------------------------------------------------------------------------------
// Checking what SpanDSP 0.0.6 can send
//
// Measured against SpanDSP 0.0.6 itself (t4_tx plus a full T.30 call to a SpanDSP receiver
// with every size and resolution enabled). SpanDSP matches each resolution to its table
// within +-5% and silently treats anything else as 204 x 98; it then sends only the pairs
// below, and only at the widths that belong to the pair's horizontal resolution: any other
// width is accepted by the sender but the receiver rejects the page. Those silent fallbacks
// and silent failures are exactly what this check exists to catch.

namespace {

// The resolutions SpanDSP 0.0.6 recognises in a TIFF, in dots per inch.
constexpr std::array<double, 7> kFaxXDpi = {102.0, 204.0, 300.0, 408.0, 600.0, 800.0, 1200.0};
constexpr std::array<double, 7> kFaxYDpi = {
    38.5 * kCmPerInch, 77.0 * kCmPerInch, 300.0, 154.0 * kCmPerInch, 600.0, 800.0, 1200.0};
constexpr double kResolutionTolerance = 0.05;

struct SendableGrid {
  double x_dpi;
  double y_dpi;
  std::array<uint32_t, 3> widths;  // A4, B4, A3
};

// Every x/y pair a SpanDSP 0.0.6 sender can negotiate, with the widths the receiver accepts.
constexpr SendableGrid kSendableGrids[] = {
    {204.0, kFaxYDpi[0], {1728, 2048, 2432}}, {204.0, kFaxYDpi[1], {1728, 2048, 2432}},
    {204.0, kFaxYDpi[3], {1728, 2048, 2432}}, {408.0, kFaxYDpi[3], {3456, 4096, 4864}},
    {408.0, 800.0, {3456, 4096, 4864}},       {300.0, 300.0, {2592, 3072, 3648}},
    {300.0, 600.0, {2592, 3072, 3648}},       {600.0, 600.0, {5184, 6144, 7296}},
    {600.0, 1200.0, {5184, 6144, 7296}},      {1200.0, 1200.0, {10368, 12288, 14592}},
};

// The nominal fax resolution `dpi` stands for, or 0 if it is none of them.
template <size_t N>
double MatchFaxDpi(double dpi, const std::array<double, N>& table) {
  for (double nominal : table) {
    if (dpi >= nominal * (1.0 - kResolutionTolerance) &&
        dpi <= nominal * (1.0 + kResolutionTolerance)) {
      return nominal;
    }
  }
  return 0.0;
}

std::string Dpi(double dpi) { return std::to_string(static_cast<long>(std::lround(dpi))); }

std::string JoinWidths(const std::array<uint32_t, 3>& widths) {
  return std::to_string(widths[0]) + ", " + std::to_string(widths[1]) + " or " +
         std::to_string(widths[2]);
}

TiffCheck Refuse(int code, std::string detail, int pages) {
  TiffCheck check;
  check.code = code;
  check.detail = std::move(detail);
  check.pages = pages;
  return check;
}

std::string PageLabel(int page) { return "page " + std::to_string(page); }

// T30_ERR_OK when the current directory is a page SpanDSP can send, otherwise the code and
// the reason.
std::pair<int, std::string> CheckCurrentPage(TIFF* tif, const TiffHandle& tiff, int page,
                                             bool decode) {
  const std::string label = PageLabel(page);
  if (TIFFIsTiled(tif)) {
    // SpanDSP reads scanlines only: a tiled page is skipped yet the call reports success.
    return {T30_ERR_BADTIFF, label + " is stored in tiles; SpanDSP can only send strips"};
  }
  uint16_t bits_per_sample = 1, samples_per_pixel = 1;
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits_per_sample);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples_per_pixel);
  if (bits_per_sample != 1 || samples_per_pixel != 1) {
    return {T30_ERR_BADTIFF, label + " is not black and white (" + std::to_string(bits_per_sample) +
                                 " bits per sample, " + std::to_string(samples_per_pixel) +
                                 " samples per pixel)"};
  }
  uint16_t photometric = PHOTOMETRIC_MINISWHITE;
  TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
  if (photometric == PHOTOMETRIC_PALETTE) {
    // SpanDSP inverts every photometric but MINISWHITE, which is right for a palette only
    // when index 0 is the dark colour.
    if (!PaletteIndexZeroIsDark(tif).value_or(false)) {
      return {T30_ERR_BADTIFF, label +
                                   " has a palette whose first colour is not the darker "
                                   "one; SpanDSP would send it inverted"};
    }
  } else if (photometric != PHOTOMETRIC_MINISWHITE && photometric != PHOTOMETRIC_MINISBLACK) {
    return {T30_ERR_BADTIFF, label + " has photometric interpretation " +
                                 std::to_string(photometric) + ", not black and white"};
  }
  uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFIsCODECConfigured(compression)) {
    return {T30_ERR_BADTIFF, label + " uses compression " + std::to_string(compression) +
                                 ", which libtiff cannot decode"};
  }

  float x_value = 0.0f, y_value = 0.0f;
  if (!TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_value) ||
      !TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_value)) {
    return {T30_ERR_BADTIFFHDR, label + " has no XResolution/YResolution tags"};
  }
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (unit != RESUNIT_INCH && unit != RESUNIT_CENTIMETER) {
    return {T30_ERR_BADTAG, label + " gives its resolution without a unit"};
  }
  const double scale = unit == RESUNIT_CENTIMETER ? kCmPerInch : 1.0;
  const double x_dpi = x_value * scale;
  const double y_dpi = y_value * scale;
  const double fax_x = MatchFaxDpi(x_dpi, kFaxXDpi);
  const double fax_y = MatchFaxDpi(y_dpi, kFaxYDpi);
  if (fax_x == 0.0) {
    return {T30_ERR_BADTAG, label + " has a horizontal resolution of " + Dpi(x_dpi) +
                                " dpi, which is not a fax resolution"};
  }
  if (fax_y == 0.0) {
    return {T30_ERR_BADTAG, label + " has a vertical resolution of " + Dpi(y_dpi) +
                                " dpi, which is not a fax resolution"};
  }
  const SendableGrid* grid = nullptr;
  for (const SendableGrid& candidate : kSendableGrids) {
    if (candidate.x_dpi == fax_x && candidate.y_dpi == fax_y) grid = &candidate;
  }
  if (grid == nullptr) {
    return {T30_ERR_BADTAG, label + " has a resolution of " + Dpi(fax_x) + " x " + Dpi(fax_y) +
                                " dpi, which T.30 cannot send"};
  }
  uint32_t width = 0;
  TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
  if (std::find(grid->widths.begin(), grid->widths.end(), width) == grid->widths.end()) {
    return {T30_ERR_BADTAG, label + " is " + std::to_string(width) + " pixels wide; at " +
                                Dpi(fax_x) + " dpi a fax page is " + JoinWidths(grid->widths) +
                                " pixels wide"};
  }

  if (!decode) return {T30_ERR_OK, {}};
  // Decode the page: SpanDSP sends whatever libtiff salvages from corrupt data.
  uint32_t height = 0;
  TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
  std::vector<uint8_t> row((width + 7) / 8);
  if (static_cast<size_t>(TIFFScanlineSize64(tif)) != row.size()) {
    return {T30_ERR_BADTIFF, label + " has an unexpected scanline size"};
  }
  for (uint32_t y = 0; y < height; ++y) {
    if (TIFFReadScanline(tif, row.data(), y, 0) < 0) {
      return {T30_ERR_FILEERROR, label + " cannot be decoded at row " + std::to_string(y) + " (" +
                                     tiff.last_error() + ")"};
    }
  }
  return {T30_ERR_OK, {}};
}

}  // namespace

TiffCheck CheckTiffForSending(const std::string& path, int first_page, int last_page,
                              bool decode_pages) {
  auto handle = TiffHandle::Open(path, "r");
  TIFF* tif = handle->get();
  if (tif == nullptr) {
    return Refuse(T30_ERR_FILEERROR,
                  path + " cannot be opened as a TIFF file (" + handle->last_error() + ")", 0);
  }
  const int pages = static_cast<int>(TIFFNumberOfDirectories(tif));
  if (pages == 0) return Refuse(T30_ERR_NOPAGE, path + " has no pages", 0);
  // TIFFNumberOfDirectories stops quietly at a directory it cannot read, so a file cut short
  // would be sent as its first pages and reported a success (ReadTiff refuses it too).
  if (TIFFSetDirectory(tif, static_cast<tdir_t>(pages - 1)) && !TIFFLastDirectory(tif) &&
      !TIFFReadDirectory(tif)) {
    return Refuse(T30_ERR_FILEERROR,
                  path + " is damaged or cut short: " + PageLabel(pages + 1) + " cannot be read (" +
                      handle->last_error() + ")",
                  pages);
  }
  const int last = last_page == 0 ? pages : last_page;
  if (first_page < 1 || last < first_page || last > pages) {
    const std::string asked = last_page == 0
                                  ? std::to_string(first_page) + " to the end"
                                  : std::to_string(first_page) + " to " + std::to_string(last_page);
    return Refuse(T30_ERR_NOPAGE,
                  "pages " + asked + " were asked for but " + path + " has " +
                      std::to_string(pages) + (pages == 1 ? " page" : " pages"),
                  pages);
  }
  for (int page = first_page; page <= last; ++page) {
    const bool positioned = page == first_page
                                ? TIFFSetDirectory(tif, static_cast<tdir_t>(page - 1))
                                : TIFFReadDirectory(tif);
    if (!positioned) {
      return Refuse(T30_ERR_FILEERROR,
                    PageLabel(page) + " cannot be read (" + handle->last_error() + ")", pages);
    }
    auto [code, detail] = CheckCurrentPage(tif, *handle, page, decode_pages);
    if (code != T30_ERR_OK) return Refuse(code, detail, pages);
  }
  TiffCheck ok;
  ok.pages = pages;
  ok.detail = first_page == last ? PageLabel(first_page) + " can be sent"
                                 : "pages " + std::to_string(first_page) + " to " +
                                       std::to_string(last) + " can be sent";
  return ok;
}

}  // namespace faxline::image
