// T.38 in the engine without Node: two T38Terminals through in-memory UDPTL paths (clean and
// with loss), a T38Gateway between an AudioTerminal and a T38Terminal, the UdptlPort's framing
// of SpanDSP's packets, and the T.38 option checks, against SpanDSP 0.0.6 itself.
//
// Build by hand (one line):
//   g++ -std=c++17 -Inative test/cpp/t38_test.cpp native/engine/*.cpp
//       native/image/tiff_io.cpp -pthread $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/audio_terminal.h"
#include "engine/t38_gateway.h"
#include "engine/t38_terminal.h"
#include "engine/udptl_port.h"
#include "harness.h"
#include "image/tiff_io.h"

using faxline::AudioTerminal;
using faxline::Direction;
using faxline::Event;
using faxline::EventType;
using faxline::OptionError;
using faxline::T38Config;
using faxline::T38Gateway;
using faxline::T38GatewayOptions;
using faxline::T38Terminal;
using faxline::TerminalOptions;
using faxline::UdptlErrorCorrection;
using faxline::UdptlPort;
using faxline::image::BilevelPage;
using faxline::image::ReadTiff;
using faxline::image::TiffCompression;
using faxline::image::WriteTiffF;
using faxline::test::CodeName;
using faxline::test::Expect;
using faxline::test::ExpectSamePages;
using faxline::test::FillRect;
using faxline::test::Run;
using faxline::test::Str;
using faxline::test::TempPath;
using faxline::test::ThrownMessage;
using faxline::test::WhitePage;

namespace {

constexpr int kFrame = faxline::kSamplesPerFrame;
// Ten minutes of line time: far more than any call here needs.
constexpr int64_t kMaxCallSamples = int64_t{faxline::kSampleRate} * 600;

std::string Hex(const uint8_t* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += digits[bytes[i] >> 4];
    s += digits[bytes[i] & 15];
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// The document: three short fine-resolution pages of bars, different on every page.

BilevelPage MakePage(uint32_t height, uint32_t seed) {
  BilevelPage page = WhitePage(1728, height, 204.0, 196.0);
  std::mt19937 rng(seed);
  FillRect(page, 100, 8, 1528, 2);
  for (uint32_t top = 24; top + 16 < height; top += 24) {
    for (uint32_t x = 100; x + 12 < 1628; x += 11 + rng() % 20) {
      FillRect(page, x, top + rng() % 6, 2 + rng() % 6, 10);
    }
  }
  return page;
}

const std::vector<BilevelPage>& Document() {
  static const std::vector<BilevelPage> pages = {MakePage(240, 11), MakePage(200, 12),
                                                 MakePage(220, 13)};
  return pages;
}

std::string g_document;

TerminalOptions Sender(bool ecm) {
  TerminalOptions o;
  o.direction = Direction::kSend;
  o.calling_party = true;
  o.identity = "+1 555 0100";
  o.ecm = ecm;
  o.tx_file = g_document;
  return o;
}

TerminalOptions Receiver(bool ecm, const std::string& name) {
  TerminalOptions o;
  o.direction = Direction::kReceive;
  o.calling_party = false;
  o.identity = "+1 555 0199";
  o.ecm = ecm;
  o.rx_file = TempPath(name);
  std::remove(o.rx_file.c_str());
  return o;
}

// A one-way datagram path: delivers what the port sent, dropping those `drop` picks.
using DropRule = std::function<bool()>;
void Carry(UdptlPort& from, const DropRule& drop,
           const std::function<void(const uint8_t*, size_t)>& to, int64_t& carried,
           int64_t& dropped) {
  const size_t n = from.Take();
  for (size_t i = 0; i < n; ++i) {
    if (drop && drop()) {
      ++dropped;
      continue;
    }
    ++carried;
    to(from.Datagram(i), from.DatagramLength(i));
  }
}

// A deterministic loss of `percent` of the datagrams, each drawn on its own.
DropRule RandomLoss(uint32_t seed, int percent) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng, percent] { return static_cast<int>((*rng)() % 100) < percent; };
}

struct CallOutcome {
  int sender_code = -1;
  int receiver_code = -1;
  int sender_pages = 0;
  int receiver_pages = 0;
  int64_t samples = 0;
  int64_t dropped = 0;
  int64_t carried = 0;
  faxline::UdptlStats sender_rx;
  faxline::UdptlStats receiver_rx;
};

// Two T38Terminals, each ticked every 20 ms, their datagrams carried both ways.
CallOutcome T38Call(bool ecm, const T38Config& config, const DropRule& loss,
                    const std::string& rx_name) {
  T38Terminal sender(Sender(ecm), config);
  T38Terminal receiver(Receiver(ecm, rx_name), config);
  CallOutcome out;
  while (out.samples < kMaxCallSamples &&
         !(sender.session().finished() && receiver.session().finished())) {
    sender.Tick(kFrame);
    Carry(
        sender.port(), loss, [&](const uint8_t* d, size_t n) { receiver.ReceiveDatagram(d, n); },
        out.carried, out.dropped);
    receiver.Tick(kFrame);
    Carry(
        receiver.port(), loss, [&](const uint8_t* d, size_t n) { sender.ReceiveDatagram(d, n); },
        out.carried, out.dropped);
    out.samples += kFrame;
  }
  out.sender_code = sender.session().result().code;
  out.receiver_code = receiver.session().result().code;
  out.sender_pages = sender.session().result().pages;
  out.receiver_pages = receiver.session().result().pages;
  out.sender_rx = sender.port().udptl().stats();
  out.receiver_rx = receiver.port().udptl().stats();
  if (!sender.session().finished() || !receiver.session().finished())
    Expect(false, "the call did not end in " + Str(kMaxCallSamples / 8000) + " s of line time");
  return out;
}

void ExpectGoodCall(const CallOutcome& out, const std::string& rx_name) {
  const int n = static_cast<int>(Document().size());
  Expect(out.sender_code == T30_ERR_OK, "sender: " + CodeName(out.sender_code));
  Expect(out.receiver_code == T30_ERR_OK, "receiver: " + CodeName(out.receiver_code));
  Expect(out.sender_pages == n, "sender: " + Str(out.sender_pages) + " pages");
  Expect(out.receiver_pages == n, "receiver: " + Str(out.receiver_pages) + " pages");
  ExpectSamePages(Document(), ReadTiff(TempPath(rx_name)));
}

// ---------------------------------------------------------------------------------------
// Tests

void CleanT38Call(bool ecm) {
  const std::string name = ecm ? "t38-ecm.tif" : "t38-no-ecm.tif";
  const CallOutcome out = T38Call(ecm, T38Config{}, nullptr, name);
  ExpectGoodCall(out, name);
  Expect(out.dropped == 0 && out.carried > 0, "datagrams carried: " + Str(out.carried));
  Expect(out.receiver_rx.malformed == 0 && out.sender_rx.malformed == 0,
         "a terminal's datagram was malformed");
  Expect(out.receiver_rx.lost == 0 && out.sender_rx.lost == 0, "IFPs lost on a clean path");
  // A 20 ms tick makes little: the call's datagrams number about one per tick or fewer.
  Expect(out.carried < out.samples / kFrame * 4,
         Str(out.carried) + " datagrams in " + Str(out.samples / kFrame) + " ticks");
}

void LossyT38CallWithRedundancy() {
  T38Config config;
  config.udptl.error_correction = UdptlErrorCorrection::kRedundancy;
  config.udptl.redundancy = 3;
  const CallOutcome out = T38Call(true, config, RandomLoss(20240611, 10), "t38-loss.tif");
  ExpectGoodCall(out, "t38-loss.tif");
  Expect(out.dropped * 100 >= out.carried * 5,
         "only " + Str(out.dropped) + " of " + Str(out.carried + out.dropped) + " dropped");
  Expect(out.receiver_rx.recovered_by_redundancy + out.sender_rx.recovered_by_redundancy > 0,
         "nothing was recovered by redundancy");
}

// The gateway relays between an audio sender (modem audio both ways, as a G.711 leg would
// carry it) and a T.38 receiver.
void GatewayBetweenAudioAndT38() {
  AudioTerminal sender(Sender(true));
  T38Terminal receiver(Receiver(true, "gateway.tif"), T38Config{});
  T38Gateway gateway(T38GatewayOptions{});
  std::vector<int16_t> to_gateway(kFrame), to_sender(kFrame);
  int64_t samples = 0, carried = 0, dropped = 0;
  std::vector<Event> frames;
  std::vector<Event> batch;
  while (samples < kMaxCallSamples &&
         !(sender.session().finished() && receiver.session().finished())) {
    sender.Transmit(to_gateway.data(), kFrame);
    gateway.Receive(to_gateway.data(), kFrame);
    gateway.Transmit(to_sender.data(), kFrame);
    sender.Receive(to_sender.data(), kFrame);
    Carry(
        gateway.port(), nullptr,
        [&](const uint8_t* d, size_t n) { receiver.ReceiveDatagram(d, n); }, carried, dropped);
    receiver.Tick(kFrame);
    Carry(
        receiver.port(), nullptr,
        [&](const uint8_t* d, size_t n) { gateway.ReceiveDatagram(d, n); }, carried, dropped);
    gateway.TakeEvents(batch);
    frames.insert(frames.end(), batch.begin(), batch.end());
    samples += kFrame;
  }
  const int n = static_cast<int>(Document().size());
  Expect(sender.session().result().code == T30_ERR_OK,
         "sender: " + CodeName(sender.session().result().code));
  Expect(receiver.session().result().code == T30_ERR_OK,
         "receiver: " + CodeName(receiver.session().result().code));
  Expect(receiver.session().result().pages == n,
         "receiver: " + Str(receiver.session().result().pages) + " pages");
  ExpectSamePages(Document(), ReadTiff(TempPath("gateway.tif")));
  Expect(gateway.elapsed_samples() == samples, "the gateway's clock is not the audio fed");

  const faxline::T38GatewayStats stats = gateway.stats();
  Expect(stats.ecm, "the gateway's statistics say no ECM");
  Expect(stats.bit_rate == 14400, "the gateway saw " + Str(stats.bit_rate) + " bit/s");
  Expect(stats.pages_transferred == n,
         "the gateway counted " + Str(stats.pages_transferred) + " pages");
  // The receiver (on the T.38 leg) sends DIS and MCF; the sender (on the audio leg) DCS.
  bool dis_from_t38 = false, dcs_from_audio = false, mcf_from_t38 = false;
  for (const Event& e : frames) {
    const uint8_t fcf = e.frame_type & 0xFE;
    if ((fcf == T30_DIS && !e.frame_incoming) || (fcf == T30_DCS && e.frame_incoming))
      Expect(false, std::string(t30_frametype(e.frame_type)) + " traced from the wrong leg");
    if (fcf == T30_DIS && e.frame_incoming) dis_from_t38 = true;
    if (fcf == T30_DCS && !e.frame_incoming) dcs_from_audio = true;
    if (fcf == T30_MCF && e.frame_incoming) mcf_from_t38 = true;
    Expect(e.type == EventType::kFrame, "a gateway event is not a frame");
  }
  Expect(dis_from_t38, "no DIS traced as from the T.38 leg");
  Expect(mcf_from_t38, "no MCF traced as from the T.38 leg");
  Expect(dcs_from_audio, "no DCS traced as from the audio leg");
}

// SpanDSP asks for an indicator to be sent 3 times: the port queues three copies of one
// datagram. Worked by hand from T.38 Annex A (ASN.1 aligned PER):
//   IFPPacket for the CED indicator: data-field absent (0), type-of-msg choice t30-indicator
//   (0), the enumeration's extension bit (0), ced = 2 in 4 bits (0010), pad (0) -> 0x04.
//   UDPTLPacket: seq-number 0 in 16 bits (00 00); primary-ifp-packet, an open type: length 1
//   (01) and the IFP (04); error-recovery choice secondary-ifp-packets (a 0 bit, padded: 00);
//   its SEQUENCE OF count 0 (00).
void PortRepeatsADatagramAsCopies() {
  UdptlPort port(faxline::UdptlConfig{});
  t38_core_state_t* core = t38_core_init(
      nullptr, [](t38_core_state_t*, void*, int) { return 0; },
      [](t38_core_state_t*, void*, int, int, const uint8_t*, int) { return 0; },
      [](t38_core_state_t*, void*, int, int) { return 0; }, nullptr, &UdptlPort::TxPacketHandler,
      &port);
  Expect(core != nullptr, "t38_core_init failed");
  if (core == nullptr) return;
  t38_set_redundancy_control(core, T38_PACKET_CATEGORY_INDICATOR, 3);
  t38_core_send_indicator(core, T38_IND_CED);
  const size_t n = port.Take();
  Expect(n == 3, Str(n) + " datagrams queued, expected 3");
  const uint8_t expected[] = {0x00, 0x00, 0x01, 0x04, 0x00, 0x00};
  for (size_t i = 0; i < n; ++i) {
    const std::string got = Hex(port.Datagram(i), port.DatagramLength(i));
    Expect(got == Hex(expected, sizeof expected), "datagram " + Str(i) + " is " + got);
  }
  Expect(port.Take() == 0, "a second Take found datagrams");
  // The next indicator (no-signal = 0: 0x00) is datagram 1, which repeats the CED IFP as its
  // one secondary: 00 01 | 01 00 | 00 01 | 01 04.
  t38_set_redundancy_control(core, T38_PACKET_CATEGORY_INDICATOR, 1);
  t38_core_send_indicator(core, T38_IND_NO_SIGNAL);
  Expect(port.Take() == 1, "the no-signal indicator was not queued once");
  const uint8_t second[] = {0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x01, 0x04};
  const std::string got = Hex(port.Datagram(0), port.DatagramLength(0));
  Expect(got == Hex(second, sizeof second), "the second datagram is " + got);
  t38_core_free(core);
}

void PortCountsOverflowInsteadOfGrowing() {
  UdptlPort port(faxline::UdptlConfig{});
  const uint8_t ifp[] = {0x00};
  for (size_t i = 0; i < faxline::kOutboxDatagrams + 5; ++i) port.Send(ifp, 1, 1);
  Expect(port.Take() == faxline::kOutboxDatagrams, "the outbox did not fill to its size");
  Expect(port.outbox_overflows() == 5, Str(port.outbox_overflows()) + " overflows counted");
  // Sequence numbers went on through the overflow: the next datagram is number 69.
  port.Send(ifp, 1, 1);
  Expect(port.Take() == 1 && port.Datagram(0)[0] == 0 && port.Datagram(0)[1] == 69,
         "the datagram after the overflow has sequence number " +
             Str(port.Datagram(0)[0] * 256 + port.Datagram(0)[1]));
}

void MalformedDatagramsAreCountedNotThrown() {
  T38Terminal receiver(Receiver(true, "malformed.tif"), T38Config{});
  const uint8_t garbage[][4] = {{0xff, 0xff, 0xff, 0xff}, {0x00, 0x00, 0x05, 0x01}};
  receiver.ReceiveDatagram(garbage[0], 4);
  receiver.ReceiveDatagram(garbage[1], 4);
  receiver.ReceiveDatagram(garbage[0], 0);
  receiver.ReceiveDatagram(garbage[0], 1);
  Expect(receiver.port().udptl().stats().malformed == 4,
         Str(receiver.port().udptl().stats().malformed) + " malformed counted, expected 4");
  receiver.Tick(kFrame);
  Expect(!receiver.session().finished(), "garbage ended the call");
}

void ExpectRejected(const T38Config& c, const std::string& what, const std::string& fragment) {
  const std::string message = ThrownMessage<OptionError>([&] { faxline::ValidateT38Config(c); });
  Expect(message.find(fragment) != std::string::npos,
         what + ": message '" + message + "' lacks '" + fragment + "'");
}

void T38ConfigChecks() {
  T38Config c;
  c.version = 4;
  ExpectRejected(c, "version 4", "version must be from 0 to 3");
  c = T38Config{};
  c.max_bit_rate = 9601;
  ExpectRejected(c, "9601 bit/s", "maximum bit rate");
  c = T38Config{};
  c.rate_management = 3;
  ExpectRejected(c, "rate management 3", "rate management must be 1");
  c = T38Config{};
  c.max_buffer = 10;
  ExpectRejected(c, "a 10-octet buffer", "maximum buffer");
  c = T38Config{};
  c.udptl.redundancy = faxline::kMaxRedundancy + 1;
  const std::string m = ThrownMessage<OptionError>([&] { faxline::ValidateT38Config(c); });
  Expect(!m.empty(), "redundancy beyond the bound was accepted");
  Expect(ThrownMessage<OptionError>([] { faxline::ValidateT38Config(T38Config{}); }).empty(),
         "the defaults were rejected");
  // V.17 alone cannot run at 9600 bit/s or less over T.38.
  TerminalOptions o = Sender(true);
  o.modems = T30_SUPPORT_V17;
  c = T38Config{};
  c.max_bit_rate = 9600;
  const std::string v17 = ThrownMessage<OptionError>([&] { T38Terminal t(o, c); });
  Expect(v17.find("none of the allowed modems") != std::string::npos, "V.17 at 9600: " + v17);
}

// A slower T.38 maximum rate gives a slower call: 9600 bit/s is V.29, never V.17 14400.
void MaxBitRateLimitsTheModem() {
  T38Config config;
  config.max_bit_rate = 9600;
  T38Terminal sender(Sender(true), config);
  T38Terminal receiver(Receiver(true, "t38-9600.tif"), config);
  int64_t samples = 0, carried = 0, dropped = 0;
  while (samples < kMaxCallSamples &&
         !(sender.session().finished() && receiver.session().finished())) {
    sender.Tick(kFrame);
    Carry(
        sender.port(), nullptr, [&](const uint8_t* d, size_t n) { receiver.ReceiveDatagram(d, n); },
        carried, dropped);
    receiver.Tick(kFrame);
    Carry(
        receiver.port(), nullptr, [&](const uint8_t* d, size_t n) { sender.ReceiveDatagram(d, n); },
        carried, dropped);
    samples += kFrame;
  }
  Expect(sender.session().result().code == T30_ERR_OK,
         "sender: " + CodeName(sender.session().result().code));
  Expect(sender.session().result().stats.bit_rate == 9600,
         "the call ran at " + Str(sender.session().result().stats.bit_rate) + " bit/s");
}

}  // namespace

int main() {
  if (!faxline::test::MakeTempDir("faxline-t38-test")) return 2;
  faxline::test::g_print_times = true;
  faxline::image::SilenceLibtiffGlobally();
  g_document = TempPath("document.tif");
  WriteTiffF(g_document, Document(), TiffCompression::kT4_2D);

  Run("a T.38 call with ECM delivers every page bit for bit", [] { CleanT38Call(true); });
  Run("a T.38 call without ECM delivers every page bit for bit", [] { CleanT38Call(false); });
  Run("a T.38 call with 10% datagram loss and redundancy 3 delivers every page",
      LossyT38CallWithRedundancy);
  Run("a gateway relays an audio sender to a T.38 receiver", GatewayBetweenAudioAndT38);
  Run("the port repeats a packet as copies of one hand-worked datagram",
      PortRepeatsADatagramAsCopies);
  Run("the port counts outbox overflow and keeps numbering", PortCountsOverflowInsteadOfGrowing);
  Run("malformed datagrams are counted, never thrown", MalformedDatagramsAreCountedNotThrown);
  Run("ValidateT38Config rejects bad settings with OptionError", T38ConfigChecks);
  Run("the T.38 maximum bit rate limits the modem", MaxBitRateLimitsTheModem);
  return faxline::test::Finish("t38");
}
