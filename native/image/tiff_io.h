// TIFF-F pages in and out of memory, and a pre-flight check that a file can be sent.
//
// Ownership: every libtiff handle lives inside one function or one TiffFWriter and is
// closed by RAII, also when an exception leaves early. Nothing here prints: libtiff's
// messages are captured per handle and become part of the thrown TiffError.
// Different threads may read and write different files at the same time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/page_rule.h"

namespace faxline::image {

// One bilevel page: rows packed MSB-first, stride = (width + 7) / 8 bytes, bit 1 = black
// (fax convention). Bits past `width` in a row's last byte are ignored on write and zero
// on read. What a page may be is the page rule (page_rule.h).
struct BilevelPage {
  uint32_t width = 0;
  uint32_t height = 0;
  double x_dpi = 204.0;  // horizontal resolution, dots per inch (8 pels/mm ≈ 204)
  double y_dpi = 196.0;  // vertical: 98 standard, 196 fine, 391 superfine
  std::vector<uint8_t> bits;

  size_t stride() const { return PageStride(width); }
};

enum class TiffCompression { kT4_1D, kT4_2D, kT6 };

// Any failure to read or write a TIFF. The message names the path, the page (1-based)
// when there is one, and libtiff's own last error.
class TiffError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Writes a TIFF-F file one page at a time, so memory stays bounded by one page.
// Pass `total_pages` when known; it goes into each PageNumber tag (0 = unknown) and Close()
// then insists on exactly that many pages. A page that fails validation can be retried;
// once libtiff fails mid-page the writer refuses further pages. A writer destroyed without
// a successful Close() removes its file (if it is a regular file): a half-written fax must
// not look like a finished one. AddPage refuses, with a TiffError, a page that breaks the
// page rule (page_rule.h).
class TiffFWriter {
 public:
  TiffFWriter(const std::string& path, TiffCompression compression, uint16_t total_pages = 0);
  ~TiffFWriter();
  TiffFWriter(const TiffFWriter&) = delete;
  TiffFWriter& operator=(const TiffFWriter&) = delete;

  void AddPage(const BilevelPage& page);
  void Close();
  uint16_t pages_written() const { return pages_written_; }

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::string path_;
  TiffCompression compression_;
  uint16_t total_pages_;
  uint16_t pages_written_ = 0;
  bool broken_ = false;  // libtiff failed part-way through a page
};

// Writes a whole TIFF-F file of `count` pages (1 to 65535), page i being what `page_at(i)`
// returns, asked for in order once each: a caller that holds its pages in another form can
// convert them one at a time into one reused page, so the document is never held twice. On
// any failure the file is removed and a TiffError thrown.
void WriteTiffF(const std::string& path, size_t count,
                const std::function<const BilevelPage&(size_t)>& page_at,
                TiffCompression compression);

// The same, for pages already in memory.
void WriteTiffF(const std::string& path, const std::vector<BilevelPage>& pages,
                TiffCompression compression);

// Reads every page of any bilevel TIFF libtiff can decode (strips or tiles, any codec,
// MINISWHITE, MINISBLACK or a two-colour palette), converted to 1 = black. A page without a
// resolution, or with one outside the page rule, gets 204 x 98 dpi, which is how SpanDSP
// would send it. Refuses a page
// that decodes to over 256 MiB, or a document to over 1 GiB.
std::vector<BilevelPage> ReadTiff(const std::string& path);

// code is 0 when SpanDSP 0.0.6 can send pages first_page..last_page of the file, otherwise
// a T30_ERR_* file code; detail is a sentence naming the cause and the page.
struct TiffCheck {
  int code = 0;
  std::string detail;
  int pages = 0;  // pages in the file (0 if it could not be read)
};

// Pages are 1-based and inclusive; last_page 0 means to the end of the file. With
// decode_pages (the default) every page is also decoded, since SpanDSP would send whatever
// libtiff salvages from damaged data; without it only the tags are read, which costs
// microseconds instead of a millisecond or more a page: for a file whose pages were decoded
// before, or that faxline wrote itself.
TiffCheck CheckTiffForSending(const std::string& path, int first_page, int last_page,
                              bool decode_pages = true);

// Points libtiff's process-wide error and warning handlers away from stderr. Every function
// above does this itself; call it early (the addon does, at load) so that SpanDSP's own
// libtiff use, which has no per-handle handlers, prints nothing either. Idempotent.
void SilenceLibtiffGlobally();

}  // namespace faxline::image
