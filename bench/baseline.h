/*
 * What the benchmark's C baselines share: the T.30 capabilities the addon offers
 * (native/engine/t30_session.cpp), so raw SpanDSP negotiates as faxline does.
 */
#ifndef FAXLINE_BENCH_BASELINE_H
#define FAXLINE_BENCH_BASELINE_H

#include <spandsp.h>

#define ALL_MODEMS (T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER)
#define ALL_COMPRESSIONS \
  (T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION)
#define ALL_RESOLUTIONS                                                                        \
  (T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |                             \
   T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION | T30_SUPPORT_R16_RESOLUTION | \
   T30_SUPPORT_300_300_RESOLUTION | T30_SUPPORT_400_400_RESOLUTION |                           \
   T30_SUPPORT_600_600_RESOLUTION | T30_SUPPORT_1200_1200_RESOLUTION |                         \
   T30_SUPPORT_300_600_RESOLUTION | T30_SUPPORT_400_800_RESOLUTION |                           \
   T30_SUPPORT_600_1200_RESOLUTION)
#define ALL_IMAGE_SIZES                                                                        \
  (T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH | T30_SUPPORT_UNLIMITED_LENGTH | \
   T30_SUPPORT_215MM_WIDTH | T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH |               \
   T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH)

#endif
