// The engine without Node: whole loopback calls, hang-ups, timeouts, cancellation, option
// checks and terminal lifecycles, G.711 coding and line noise, against SpanDSP 0.0.6 itself.
//
// Build by hand (one line):
//   g++ -std=c++17 -Inative test/cpp/engine_test.cpp native/engine/*.cpp
//       native/image/tiff_io.cpp -pthread $(pkg-config --cflags --libs spandsp libtiff-4)
// Exits non-zero and names every failed expectation.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/audio_terminal.h"
#include "engine/line_codec.h"
#include "engine/t30_session.h"
#include "harness.h"
#include "image/tiff_io.h"
#include "loopback_call.h"

using faxline::AudioTerminal;
using faxline::Direction;
using faxline::Event;
using faxline::EventType;
using faxline::FaxResult;
using faxline::G711Decode;
using faxline::G711Encode;
using faxline::G711Law;
using faxline::LineNoise;
using faxline::OptionError;
using faxline::TerminalOptions;
using faxline::ValidateOptions;
using faxline::image::BilevelPage;
using faxline::image::ReadTiff;
using faxline::image::SilenceLibtiffGlobally;
using faxline::image::TiffCompression;
using faxline::image::WriteTiffF;
using faxline::test::CodeName;
using faxline::test::Expect;
using faxline::test::ExpectSamePages;
using faxline::test::FileExists;
using faxline::test::FillRect;
using faxline::test::LoopbackOptions;
using faxline::test::LoopbackOutcome;
using faxline::test::Run;
using faxline::test::RunLoopback;
using faxline::test::Str;
using faxline::test::TempPath;
using faxline::test::ThrownMessage;
using faxline::test::WhitePage;

namespace {

// ---------------------------------------------------------------------------------------
// Pages

// A short fine-resolution page of text-like lines: words of stems, bars and bowls with
// spaces between, different on every seed. Short pages keep the calls fast.
BilevelPage MakeTextPage(uint32_t height, uint32_t seed) {
  BilevelPage page = WhitePage(1728, height, 204.0, 196.0);
  std::mt19937 rng(seed);
  FillRect(page, 100, 8, 1528, 2);  // a rule under the letterhead
  for (uint32_t top = 24; top + 16 < height; top += 24) {
    uint32_t x = 100;
    while (x + 12 < 1628) {
      const uint32_t word = 2 + rng() % 7;
      for (uint32_t c = 0; c < word && x + 12 < 1628; ++c, x += 11) {
        switch (rng() % 4) {
          case 0:
            FillRect(page, x, top, 2, 16);
            break;
          case 1:
            FillRect(page, x, top + 6, 2, 10);
            FillRect(page, x, top + 6, 8, 2);
            FillRect(page, x + 6, top + 6, 2, 10);
            break;
          case 2:
            FillRect(page, x, top + 6, 8, 2);
            FillRect(page, x, top + 14, 8, 2);
            FillRect(page, x, top + 6, 2, 10);
            break;
          default:
            FillRect(page, x, top + 6, 8, 2);
            FillRect(page, x, top + 14, 8, 2);
            FillRect(page, x, top + 6, 2, 10);
            FillRect(page, x + 6, top + 6, 2, 10);
            break;
        }
      }
      x += 14;  // the space between words
    }
  }
  return page;
}

const std::vector<BilevelPage>& Document() {
  static const std::vector<BilevelPage> pages = {MakeTextPage(260, 1), MakeTextPage(300, 2),
                                                 MakeTextPage(220, 3)};
  return pages;
}

std::string g_document;  // the document above as a TIFF-F, written once by main

// ---------------------------------------------------------------------------------------
// Calls

LoopbackOptions CallOptions(bool ecm, const std::string& rx_name) {
  LoopbackOptions o;
  o.sender.direction = Direction::kSend;
  o.sender.calling_party = true;
  o.sender.identity = "+1 555 0100";
  o.sender.ecm = ecm;
  o.sender.tx_file = g_document;
  o.receiver.direction = Direction::kReceive;
  o.receiver.calling_party = false;
  o.receiver.identity = "+1 555 0199";
  o.receiver.ecm = ecm;
  o.receiver.rx_file = TempPath(rx_name);
  std::remove(o.receiver.rx_file.c_str());
  // Ten minutes of line time: far more than any call here needs.
  o.max_samples = int64_t{faxline::kSampleRate} * 600;
  return o;
}

int CountOf(const std::vector<Event>& events, EventType type) {
  int n = 0;
  for (const Event& e : events) n += e.type == type ? 1 : 0;
  return n;
}

// The names of the traced frames, as SpanDSP spells them.
std::set<std::string> FrameNames(const std::vector<Event>& events, bool incoming) {
  std::set<std::string> names;
  for (const Event& e : events) {
    if (e.type != EventType::kFrame || e.frame_incoming != incoming) continue;
    const char* name = t30_frametype(e.frame_type);
    names.insert(name ? name : "?");
  }
  return names;
}

std::string Join(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
  return s;
}

// Exactly one kFinished, last, with the result's code and pages; times never go back.
void ExpectWellFormedEvents(const std::vector<Event>& events, const FaxResult& result,
                            const std::string& side) {
  Expect(CountOf(events, EventType::kFinished) == 1,
         side + ": " + Str(CountOf(events, EventType::kFinished)) + " kFinished events");
  Expect(!events.empty() && events.back().type == EventType::kFinished,
         side + ": the last event is not kFinished");
  if (!events.empty() && events.back().type == EventType::kFinished) {
    Expect(events.back().code == result.code, side + ": kFinished code " +
                                                  CodeName(events.back().code) + ", result " +
                                                  CodeName(result.code));
    Expect(events.back().page == result.pages,
           side + ": kFinished pages " + Str(events.back().page) + ", result " + Str(result.pages));
  }
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i].sample_time < events[i - 1].sample_time) {
      Expect(false, side + ": event " + Str(i) + " is earlier than the one before it");
      break;
    }
  }
}

// kPage events numbered 1..n in order.
void ExpectPagesNumbered(const std::vector<Event>& events, int n, const std::string& side) {
  std::vector<int> numbers;
  for (const Event& e : events)
    if (e.type == EventType::kPage) numbers.push_back(e.page);
  std::vector<int> expected;
  for (int i = 1; i <= n; ++i) expected.push_back(i);
  std::string got;
  for (int p : numbers) got += " " + Str(p);
  Expect(numbers == expected, side + ": kPage events numbered" + got + ", expected 1.." + Str(n));
}

void ExpectFrames(const std::vector<Event>& events, bool incoming,
                  const std::vector<std::string>& wanted, const std::string& what) {
  const std::set<std::string> names = FrameNames(events, incoming);
  for (const auto& name : wanted)
    Expect(names.count(name) == 1, what + " has no " + name + " (has: " + Join(names) + ")");
}

// ---------------------------------------------------------------------------------------
// Whole calls

void FullCall(bool ecm) {
  const LoopbackOptions options = CallOptions(ecm, ecm ? "rx-ecm.tif" : "rx-no-ecm.tif");
  const LoopbackOutcome out = RunLoopback(options, nullptr);
  const int n = static_cast<int>(Document().size());

  Expect(!out.cancelled && !out.hit_sample_limit, "the call was cut short");
  Expect(out.sender.code == T30_ERR_OK, "sender: " + CodeName(out.sender.code));
  Expect(out.receiver.code == T30_ERR_OK, "receiver: " + CodeName(out.receiver.code));
  Expect(out.sender.pages == n, "sender: " + Str(out.sender.pages) + " pages");
  Expect(out.receiver.pages == n, "receiver: " + Str(out.receiver.pages) + " pages");
  Expect(out.sender.stats.ecm == ecm && out.receiver.stats.ecm == ecm,
         "ECM in the stats does not match the options");
  Expect(out.sender.stats.remote_identity == "+1 555 0199",
         "sender saw the identity '" + out.sender.stats.remote_identity + "'");
  Expect(out.receiver.stats.remote_identity == "+1 555 0100",
         "receiver saw the identity '" + out.receiver.stats.remote_identity + "'");

  ExpectWellFormedEvents(out.sender_events, out.sender, "sender");
  ExpectWellFormedEvents(out.receiver_events, out.receiver, "receiver");
  ExpectPagesNumbered(out.sender_events, n, "sender");
  ExpectPagesNumbered(out.receiver_events, n, "receiver");
  Expect(CountOf(out.sender_events, EventType::kNegotiated) >= 1, "sender: no kNegotiated");
  Expect(CountOf(out.receiver_events, EventType::kNegotiated) >= 1, "receiver: no kNegotiated");

  ExpectFrames(out.sender_events, true, {"DIS", "MCF"}, "what the sender received");
  ExpectFrames(out.sender_events, false, {"DCS", "DCN"}, "what the sender sent");
  ExpectFrames(out.receiver_events, false, {"DIS", "MCF"}, "what the receiver sent");
  ExpectFrames(out.receiver_events, true, {"DCS", "DCN"}, "what the receiver received");
  for (const auto* events : {&out.sender_events, &out.receiver_events}) {
    for (const Event& e : *events) {
      if (e.type != EventType::kFrame) continue;
      if (e.frame_length < 3 || e.frame_length > faxline::kMaxTracedFrameBytes ||
          e.frame[2] != e.frame_type) {
        Expect(false, "a traced frame is malformed (length " + Str(e.frame_length) + ")");
        break;
      }
    }
  }

  ExpectSamePages(Document(), ReadTiff(options.receiver.rx_file));
}

// Returns the sample times of the sender's kPage events in a complete call.
std::vector<int64_t> SenderPageTimes() {
  const LoopbackOutcome out = RunLoopback(CallOptions(true, "rx-times.tif"), nullptr);
  std::vector<int64_t> times;
  for (const Event& e : out.sender_events)
    if (e.type == EventType::kPage) times.push_back(e.sample_time);
  return times;
}

void HangUpDuringPageTwo() {
  const std::vector<int64_t> times = SenderPageTimes();
  Expect(times.size() == Document().size(),
         "the reference call confirmed " + Str(times.size()) + " pages");
  if (times.size() < 2) return;

  LoopbackOptions options = CallOptions(true, "rx-hangup.tif");
  options.hang_up_at_sample = (times[0] + times[1]) / 2;
  const LoopbackOutcome out = RunLoopback(options, nullptr);

  Expect(out.samples >= options.hang_up_at_sample &&
             out.samples < options.hang_up_at_sample + faxline::kSamplesPerFrame,
         "the call stopped at sample " + Str(out.samples) + ", asked for " +
             Str(options.hang_up_at_sample));
  Expect(out.sender.code == T30_ERR_CALLDROPPED, "sender: " + CodeName(out.sender.code));
  Expect(out.receiver.code == T30_ERR_CALLDROPPED, "receiver: " + CodeName(out.receiver.code));
  Expect(out.sender.pages == 1, "sender: " + Str(out.sender.pages) + " pages");
  Expect(out.receiver.pages == 1, "receiver: " + Str(out.receiver.pages) + " pages");
  ExpectWellFormedEvents(out.sender_events, out.sender, "sender");
  ExpectWellFormedEvents(out.receiver_events, out.receiver, "receiver");
  ExpectPagesNumbered(out.sender_events, 1, "sender");
  ExpectPagesNumbered(out.receiver_events, 1, "receiver");

  // What was received before the line dropped is kept: page 1 whole, nothing of page 2.
  if (FileExists(options.receiver.rx_file)) {
    const std::vector<BilevelPage> got = ReadTiff(options.receiver.rx_file);
    ExpectSamePages({Document()[0]}, got);
  } else {
    Expect(false, "the receiver left no file for the page it confirmed");
  }
}

void NobodyAnswers() {
  LoopbackOptions options = CallOptions(true, "rx-unused.tif");
  options.receiver_answers = false;
  options.max_samples = int64_t{faxline::kSampleRate} * 120;
  const LoopbackOutcome out = RunLoopback(options, nullptr);

  Expect(!out.hit_sample_limit, "still running after " + Str(out.samples) + " samples");
  const std::set<int> timeouts = {T30_ERR_T0_EXPIRED, T30_ERR_T1_EXPIRED};
  Expect(timeouts.count(out.sender.code) == 1, "sender: " + CodeName(out.sender.code));
  Expect(out.sender.pages == 0, "sender: " + Str(out.sender.pages) + " pages");
  ExpectWellFormedEvents(out.sender_events, out.sender, "sender");
  Expect(out.receiver_events.empty(), "events from a receiver that never answered");
  Expect(!FileExists(options.receiver.rx_file), "a receiver that never answered wrote a file");
  std::cout << "     (gave up after " << out.samples / faxline::kSampleRate
            << " s of line time: " << faxline::CompletionCodeText(out.sender.code) << ")\n";
}

// A document the pre-flight check refuses is never sent, whatever SpanDSP would have made of
// it: the sender's result and what the receiver got must agree.
void RefusedDocumentIsNotSent() {
  const std::string cut = TempPath("cut-short.tif");
  {
    // The document with its last half missing: page 1 whole, the chain broken after it.
    FILE* in = std::fopen(g_document.c_str(), "rb");
    FILE* out = std::fopen(cut.c_str(), "wb");
    std::vector<char> bytes(1 << 20);
    const size_t size = std::fread(bytes.data(), 1, bytes.size(), in);
    std::fwrite(bytes.data(), 1, size / 2, out);
    std::fclose(in);
    std::fclose(out);
  }
  struct Case {
    const char* what;
    std::string file;
    int first_page, last_page, code;
  };
  const Case cases[] = {
      {"first page past the end", g_document, 4, 0, T30_ERR_NOPAGE},
      {"last page past the end", g_document, 3, 7, T30_ERR_NOPAGE},
      {"a file cut short", cut, 1, 0, T30_ERR_FILEERROR},
  };
  for (const Case& c : cases) {
    LoopbackOptions options = CallOptions(true, "rx-refused.tif");
    options.sender.tx_file = c.file;
    options.sender.first_page = c.first_page;
    options.sender.last_page = c.last_page;
    const LoopbackOutcome out = RunLoopback(options, nullptr);
    const std::string what = c.what;
    Expect(out.sender.code == c.code, what + ": sender " + CodeName(out.sender.code));
    Expect(!out.sender.detail.empty(), what + ": no detail");
    Expect(
        out.sender.pages == 0 && out.receiver.pages == 0,
        what + ": pages sent " + Str(out.sender.pages) + ", received " + Str(out.receiver.pages));
    Expect(!FileExists(options.receiver.rx_file), what + ": the receiver wrote a file");
    ExpectWellFormedEvents(out.sender_events, out.sender, "sender, " + what);
    ExpectWellFormedEvents(out.receiver_events, out.receiver, "receiver, " + what);
    Expect(CountOf(out.sender_events, EventType::kFrame) == 0,
           what + ": the sender traced " + Str(CountOf(out.sender_events, EventType::kFrame)) +
               " frames of a call it had already given up");
  }
}

void CancelledFromTheStart() {
  const std::atomic<bool> cancel{true};
  const LoopbackOptions options = CallOptions(true, "rx-cancel.tif");
  const LoopbackOutcome out = RunLoopback(options, &cancel);

  Expect(out.cancelled, "not marked cancelled");
  Expect(out.samples == 0, "ran for " + Str(out.samples) + " samples");
  Expect(out.sender.code == T30_ERR_CALLDROPPED, "sender: " + CodeName(out.sender.code));
  Expect(out.receiver.code == T30_ERR_CALLDROPPED, "receiver: " + CodeName(out.receiver.code));
  Expect(out.sender.pages == 0 && out.receiver.pages == 0, "pages were counted");
  ExpectWellFormedEvents(out.sender_events, out.sender, "sender");
  ExpectWellFormedEvents(out.receiver_events, out.receiver, "receiver");
  Expect(out.sender_events.size() == 1 && out.receiver_events.size() == 1,
         "events besides kFinished");
}

// ---------------------------------------------------------------------------------------
// Options

TerminalOptions ValidSender() {
  TerminalOptions o;
  o.direction = Direction::kSend;
  o.tx_file = g_document;
  return o;
}

void ExpectRejected(const TerminalOptions& o, const std::string& what,
                    const std::string& must_mention) {
  const std::string message = ThrownMessage<OptionError>([&] { ValidateOptions(o); });
  Expect(!message.empty(), what + " was accepted");
  if (!message.empty())
    Expect(message.find(must_mention) != std::string::npos,
           what + ": the message '" + message + "' does not mention " + must_mention);
  // The terminal refuses the same options before touching SpanDSP.
  Expect(!ThrownMessage<OptionError>([&] { AudioTerminal terminal(o); }).empty(),
         what + ": AudioTerminal accepted it");
}

void ValidateOptionsRejectsBadOptions() {
  Expect(ThrownMessage<OptionError>([] { ValidateOptions(ValidSender()); }).empty(),
         "a valid sender refused");
  TerminalOptions o = ValidSender();
  o.identity = std::string(20, '5');
  Expect(ThrownMessage<OptionError>([&] { ValidateOptions(o); }).empty(),
         "a 20-digit identity refused");
  o.header_info = std::string(50, 'h');
  Expect(ThrownMessage<OptionError>([&] { ValidateOptions(o); }).empty(),
         "a 50-char header refused");

  o = ValidSender();
  o.identity = std::string(21, '5');
  ExpectRejected(o, "a 21-char identity", "identity");
  o = ValidSender();
  o.identity = "+1 555 CALL";
  ExpectRejected(o, "letters in the identity", "identity");
  o = ValidSender();
  o.header_info = std::string(51, 'h');
  ExpectRejected(o, "a 51-char header", "header");
  o = ValidSender();
  o.modems = 0;
  ExpectRejected(o, "modems 0", "modems");
  o = ValidSender();
  o.ecm = false;
  o.compressions = T30_SUPPORT_T6_COMPRESSION;
  ExpectRejected(o, "T.6 only without ECM", "ECM");
  o.ecm = true;
  Expect(ThrownMessage<OptionError>([&] { ValidateOptions(o); }).empty(),
         "T.6 only with ECM refused");
}

// ---------------------------------------------------------------------------------------
// Terminals

void MissingTiffFinishesAtOnce() {
  TerminalOptions o = ValidSender();
  o.tx_file = TempPath("no-such-file.tif");
  AudioTerminal terminal(o);
  Expect(terminal.session().finished(), "not finished");
  const FaxResult& r = terminal.session().result();
  Expect(r.code == T30_ERR_FILEERROR, "code " + CodeName(r.code));
  Expect(!r.detail.empty(), "no detail");
  Expect(!r.text.empty(), "no text");
  std::vector<Event> events;
  terminal.session().TakeEvents(events);
  Expect(events.size() == 1 && events[0].type == EventType::kFinished &&
             events[0].code == T30_ERR_FILEERROR,
         Str(events.size()) + " events, expected just kFinished");
  std::cout << "     (detail: " << r.detail << ")\n";

  // Driving a finished terminal is harmless, changes nothing and puts nothing on the line.
  std::vector<int16_t> frame(faxline::kSamplesPerFrame, 0);
  bool silent = true;
  for (int i = 0; i < 50; ++i) {
    terminal.Receive(frame.data(), faxline::kSamplesPerFrame);
    terminal.Transmit(frame.data(), faxline::kSamplesPerFrame);
    for (int16_t sample : frame) silent = silent && sample == 0;
  }
  Expect(silent, "a terminal that never started still transmits");
  terminal.HangUp();
  Expect(terminal.session().result().code == T30_ERR_FILEERROR, "the code changed afterwards");
  terminal.session().TakeEvents(events);
  Expect(events.empty(), Str(events.size()) + " events after the finish");
}

void HangUpTwiceIsHarmless() {
  for (const Direction direction : {Direction::kSend, Direction::kReceive}) {
    TerminalOptions o = ValidSender();
    if (direction == Direction::kReceive) {
      o.direction = Direction::kReceive;
      o.calling_party = false;
      o.rx_file = TempPath("rx-hangup-twice.tif");
    }
    AudioTerminal terminal(o);
    std::vector<int16_t> frame(faxline::kSamplesPerFrame, 0);
    for (int i = 0; i < 25; ++i) terminal.Transmit(frame.data(), faxline::kSamplesPerFrame);
    terminal.HangUp();
    terminal.HangUp();
    const std::string side = direction == Direction::kSend ? "sender" : "receiver";
    Expect(terminal.session().finished(), side + ": not finished");
    Expect(terminal.session().result().code == T30_ERR_CALLDROPPED,
           side + ": " + CodeName(terminal.session().result().code));
    std::vector<Event> events;
    terminal.session().TakeEvents(events);
    ExpectWellFormedEvents(events, terminal.session().result(), side);
    for (int i = 0; i < 25; ++i) {
      terminal.Receive(frame.data(), faxline::kSamplesPerFrame);
      terminal.ReceiveMissing(faxline::kSamplesPerFrame);
      terminal.Transmit(frame.data(), faxline::kSamplesPerFrame);
    }
    terminal.HangUp();
    terminal.session().TakeEvents(events);
    Expect(events.empty(), side + ": " + Str(events.size()) + " events after the hang-up");
  }
}

void ManyTerminalsComeAndGo() {
  std::vector<int16_t> frame(faxline::kSamplesPerFrame);
  int wrong = 0;
  for (int i = 0; i < 200; ++i) {
    TerminalOptions o = ValidSender();
    if (i % 2 == 1) {
      o.direction = Direction::kReceive;
      o.calling_party = false;
      o.rx_file = TempPath("rx-many.tif");
    }
    auto terminal = std::make_unique<AudioTerminal>(o);
    terminal->Transmit(frame.data(), faxline::kSamplesPerFrame);
    terminal->Receive(frame.data(), faxline::kSamplesPerFrame);
    if (terminal->session().finished()) ++wrong;
    if (i % 3 == 0) terminal->HangUp();  // the rest are destroyed mid-call
  }
  Expect(wrong == 0, Str(wrong) + " terminals finished without a reason");
  Expect(!FileExists(TempPath("rx-many.tif")), "a receiver that never got a page wrote a file");

  // And 200 alive at once.
  std::vector<std::unique_ptr<AudioTerminal>> alive;
  for (int i = 0; i < 200; ++i) alive.push_back(std::make_unique<AudioTerminal>(ValidSender()));
  for (auto& t : alive) t->Transmit(frame.data(), faxline::kSamplesPerFrame);
  alive.clear();
}

// ---------------------------------------------------------------------------------------
// G.711 (ITU-T G.711, tables 1 and 2)
//
// A code word is a sign bit, a 3-bit segment s and a 4-bit step q. µ-law sends it with every
// bit inverted (so a positive word has its top bit set after all: 0x80 to 0xFF); A-law sends
// it with the even bits inverted (XOR 0x55), sign bit 1 for positive. The decoder gives the
// middle of the step's interval, in G.711's units:
//   µ-law: (2q + 33) * 2^s - 33           (overload point 8159)
//   A-law: 2q + 1 for s = 0, else (2q + 33) * 2^(s - 1)   (overload point 4096)
// SpanDSP works in 16-bit linear: µ-law units times 4, A-law units times 8.

struct CodeWord {
  uint8_t code;
  int16_t linear;
  const char* why;
};

const CodeWord kUlawWords[] = {
    {0xFF, 0, "~0xFF = 0x00: +, s0 q0: 33 - 33 = 0"},
    {0x7F, 0, "~0x7F = 0x80: -, s0 q0: the negative zero, 0"},
    {0xFE, 8, "~0xFE = 0x01: +, s0 q1: 35 - 33 = 2, x4 = 8"},
    {0xCE, 988, "~0xCE = 0x31: +, s3 q1: 35 * 8 - 33 = 247, x4 = 988"},
    {0x80, 32124, "~0x80 = 0x7F: +, s7 q15: 63 * 128 - 33 = 8031, x4 = 32124"},
    {0x00, -32124, "~0x00 = 0xFF: -, s7 q15: -32124"},
    // The digital milliwatt of G.711 table 5 (0x1E 0x0B 0x0B 0x1E 0x9E 0x8B 0x8B 0x9E).
    {0x1E, -8828, "~0x1E = 0xE1: -, s6 q1: 35 * 64 - 33 = 2207, x4 = 8828"},
    {0x0B, -20860, "~0x0B = 0xF4: -, s7 q4: 41 * 128 - 33 = 5215, x4 = 20860"},
    {0x9E, 8828, "~0x9E = 0x61: +, s6 q1"},
    {0x8B, 20860, "~0x8B = 0x74: +, s7 q4"},
};

const CodeWord kAlawWords[] = {
    {0xD5, 8, "0xD5 ^ 0x55 = 0x80: +, s0 q0: 1, x8 = 8"},
    {0x55, -8, "0x55 ^ 0x55 = 0x00: -, s0 q0: -8"},
    {0xD4, 24, "0xD4 ^ 0x55 = 0x81: +, s0 q1: 3, x8 = 24"},
    {0xFA, 1008, "0xFA ^ 0x55 = 0xAF: +, s2 q15: 63 * 2 = 126, x8 = 1008"},
    {0xAA, 32256, "0xAA ^ 0x55 = 0xFF: +, s7 q15: 63 * 64 = 4032, x8 = 32256"},
    {0x2A, -32256, "0x2A ^ 0x55 = 0x7F: -, s7 q15: -32256"},
    // The A-law digital milliwatt of G.711 table 6 (0x34 0x21 0x21 0x34 0xB4 0xA1 0xA1 0xB4).
    {0x34, -8960, "0x34 ^ 0x55 = 0x61: -, s6 q1: 35 * 32 = 1120, x8 = 8960"},
    {0x21, -20992, "0x21 ^ 0x55 = 0x74: -, s7 q4: 41 * 64 = 2624, x8 = 20992"},
    {0xB4, 8960, "0xB4 ^ 0x55 = 0xE1: +, s6 q1"},
    {0xA1, 20992, "0xA1 ^ 0x55 = 0xF4: +, s7 q4"},
};

std::string Hex(unsigned v) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", v);
  return text;
}

void G711DecodesHandWorkedWords() {
  for (const CodeWord& w : kUlawWords) {
    int16_t linear = 12345;
    G711Decode(G711Law::kUlaw, &w.code, &linear, 1);
    Expect(linear == w.linear, "µ-law " + Hex(w.code) + " decodes to " + Str(linear) + ", not " +
                                   Str(w.linear) + " (" + w.why + ")");
  }
  for (const CodeWord& w : kAlawWords) {
    int16_t linear = 12345;
    G711Decode(G711Law::kAlaw, &w.code, &linear, 1);
    Expect(linear == w.linear, "A-law " + Hex(w.code) + " decodes to " + Str(linear) + ", not " +
                                   Str(w.linear) + " (" + w.why + ")");
  }
}

// Samples away from the decision values, so the interval they fall in is not in doubt.
//   µ-law: segment s spans 2^(s+5) - 33 to 2^(s+6) - 33 in steps of 2^(s+1) (step 0 of
//   segment 0 is 0 to 1); the word is 0xFF ^ (s << 4 | q) for positive, 0x7F ^ ... negative.
//   A-law: segment 0 spans 0 to 32 in steps of 2, segment s > 0 spans 2^(s+4) to 2^(s+5) in
//   steps of 2^s; the word is (0x80 | s << 4 | q) ^ 0x55 for positive, (s << 4 | q) ^ 0x55
//   for negative.
const CodeWord kUlawEncodings[] = {
    {0xFF, 0, "0 units: s0 q0 (0 to 1), 0xFF ^ 0x00"},
    {0xF2, 104, "26 units: s0 q13 (25 to 27), 0xFF ^ 0x0D"},
    {0xCE, 1000, "250 units: s3 (223 to 479, steps of 16) q1 (239 to 255), 0xFF ^ 0x31"},
    {0x4E, -1000, "-250 units: the same step, 0x7F ^ 0x31"},
    {0x80, 32767, "8191.75 units, past the overload point 8159: s7 q15, 0xFF ^ 0x7F"},
    {0x00, -32768, "-8192 units, past the overload point: s7 q15, 0x7F ^ 0x7F"},
};

const CodeWord kAlawEncodings[] = {
    {0xD5, 0, "0 units: s0 q0 (0 to 2), 0x80 ^ 0x55"},
    {0xD3, 100, "12.5 units: s0 q6 (12 to 14), 0x86 ^ 0x55"},
    {0xFA, 1000, "125 units: s2 (64 to 128, steps of 4) q15 (124 to 128), 0xAF ^ 0x55"},
    {0x7A, -1000, "-125 units: the same step, 0x2F ^ 0x55"},
    {0xAA, 32767, "4095.9 units: s7 (2048 to 4096, steps of 64) q15, 0xFF ^ 0x55"},
    {0x2A, -32768, "-4096 units, the overload point: s7 q15, 0x7F ^ 0x55"},
};

void G711EncodesHandWorkedSamples() {
  for (const CodeWord& w : kUlawEncodings) {
    uint8_t code = 0x5A;
    G711Encode(G711Law::kUlaw, &w.linear, &code, 1);
    Expect(code == w.code, "µ-law encodes " + Str(w.linear) + " as " + Hex(code) + ", not " +
                               Hex(w.code) + " (" + w.why + ")");
  }
  for (const CodeWord& w : kAlawEncodings) {
    uint8_t code = 0x5A;
    G711Encode(G711Law::kAlaw, &w.linear, &code, 1);
    Expect(code == w.code, "A-law encodes " + Str(w.linear) + " as " + Hex(code) + ", not " +
                               Hex(w.code) + " (" + w.why + ")");
  }
}

// Decoding gives the middle of a step, which encodes back to the same step: every word comes
// back, but µ-law's negative zero 0x7F, which decodes to 0 and so encodes as +0 (0xFF).
void G711DecodeThenEncodeGivesEveryWordBack() {
  std::vector<uint8_t> words(256);
  for (int i = 0; i < 256; ++i) words[i] = static_cast<uint8_t>(i);
  std::vector<int16_t> linear(256);
  std::vector<uint8_t> back(256);
  for (const G711Law law : {G711Law::kUlaw, G711Law::kAlaw}) {
    const std::string name = law == G711Law::kUlaw ? "µ-law" : "A-law";
    std::fill(back.begin(), back.end(), 0);
    G711Decode(law, words.data(), linear.data(), words.size());
    G711Encode(law, linear.data(), back.data(), linear.size());
    int wrong = 0;
    for (int i = 0; i < 256; ++i) {
      const uint8_t want = law == G711Law::kUlaw && i == 0x7F ? 0xFF : static_cast<uint8_t>(i);
      if (back[i] != want) {
        if (++wrong <= 5) Expect(false, name + " " + Hex(i) + " came back as " + Hex(back[i]));
      }
    }
    Expect(wrong == 0, name + ": " + Str(wrong) + " of 256 words did not come back");
  }
}

// ---------------------------------------------------------------------------------------
// LineNoise

// n samples of noise alone (added to silence, which cannot saturate).
std::vector<int16_t> NoiseAlone(uint32_t seed, double level_dbm0, size_t n) {
  std::vector<int16_t> samples(n, 0);
  LineNoise noise(seed, level_dbm0);
  noise.Add(samples.data(), samples.size());
  return samples;
}

void LineNoiseIsDeterministicPerSeed() {
  const size_t n = 8000;
  const std::vector<int16_t> a = NoiseAlone(7, -10, n);
  Expect(NoiseAlone(7, -10, n) == a, "the same seed and level gave other samples");
  const size_t zeros = static_cast<size_t>(std::count(a.begin(), a.end(), int16_t{0}));
  Expect(zeros < n / 10, Str(zeros) + " of " + Str(n) + " noise samples at -10 dBm0 are 0");

  const std::vector<int16_t> b = NoiseAlone(8, -10, n);
  size_t same = 0;
  for (size_t i = 0; i < n; ++i) same += a[i] == b[i];
  Expect(same < n / 10, "seeds 7 and 8 agree on " + Str(same) + " of " + Str(n) + " samples");

  // The seed is reduced modulo 2^30, so the whole uint32_t range is usable.
  Expect(NoiseAlone(7 + (1u << 30), -10, n) == a, "seeds 7 and 7 + 2^30 differ");
  Expect(NoiseAlone(4294967295u, -10, n) == NoiseAlone((1u << 30) - 1, -10, n),
         "seeds 2^32 - 1 and 2^30 - 1 differ");

  // The stream continues across calls: 160 + 7840 samples are the 8000 of one call.
  std::vector<int16_t> pieces(n, 0);
  LineNoise noise(7, -10);
  noise.Add(pieces.data(), 160);
  noise.Add(pieces.data() + 160, n - 160);
  Expect(pieces == a, "noise added in two calls differs from the same noise added in one");
  noise.Add(nullptr, 0);  // nothing to add is harmless
}

void LineNoiseSaturatesInsteadOfWrapping() {
  const size_t n = 8000;
  // +10 dBm0 is an RMS near 16000 * 3.2: many samples push a full-scale sample past the limit.
  const std::vector<int16_t> noise = NoiseAlone(11, 10, n);
  for (const int16_t base : {int16_t{32767}, int16_t{-32768}, int16_t{1000}}) {
    std::vector<int16_t> frame(n, base);
    LineNoise again(11, 10);
    again.Add(frame.data(), frame.size());
    int wrong = 0;
    size_t clipped = 0;
    for (size_t i = 0; i < n; ++i) {
      const int32_t exact = int32_t{base} + noise[i];
      const int32_t want = std::min<int32_t>(32767, std::max<int32_t>(-32768, exact));
      clipped += want != exact;
      if (frame[i] != want && ++wrong <= 5) {
        Expect(false,
               Str(base) + " + " + Str(noise[i]) + " gave " + Str(frame[i]) + ", not " + Str(want));
      }
    }
    Expect(wrong == 0, Str(base) + ": " + Str(wrong) + " samples wrong");
    if (base != 1000) {
      // About half the noise points past the limit: check the test saw both cases.
      Expect(clipped > n / 4 && clipped < 3 * n / 4,
             Str(base) + ": " + Str(clipped) + " of " + Str(n) + " samples saturated");
    }
  }
}

void LineNoiseHasTheRequestedLevel() {
  // 0 dBm0 is the RMS of the µ-law digital milliwatt, decoded through G711Decode.
  const uint8_t milliwatt[8] = {0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E};
  int16_t sine[8];
  G711Decode(G711Law::kUlaw, milliwatt, sine, 8);
  auto rms = [](const int16_t* s, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<double>(s[i]) * s[i];
    return std::sqrt(sum / static_cast<double>(n));
  };
  const double reference = rms(sine, 8);
  for (const double level : {-30.0, -10.0, 0.0}) {
    const std::vector<int16_t> noise = NoiseAlone(3, level, 80000);
    const double measured = 20 * std::log10(rms(noise.data(), noise.size()) / reference);
    Expect(std::fabs(measured - level) < 1.0, "noise at " + faxline::test::Fixed(level, 0) +
                                                  " dBm0 measures " +
                                                  faxline::test::Fixed(measured, 2) + " dBm0");
  }
}

void LineNoiseRejectsLevelsOutOfRange() {
  for (const double level : {-100.5, 10.5, std::nan("")}) {
    bool threw = false;
    try {
      LineNoise noise(1, level);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    Expect(threw, "level " + faxline::test::Fixed(level, 1) + " was not rejected");
  }
  for (const double level : {-100.0, 10.0}) {
    std::vector<int16_t> frame(160, 0);
    LineNoise noise(1, level);
    noise.Add(frame.data(), frame.size());
  }
}

}  // namespace

int main() {
  if (!faxline::test::MakeTempDir("faxline-engine-test")) return 2;
  faxline::test::g_print_times = true;
  SilenceLibtiffGlobally();
  g_document = TempPath("document.tif");
  WriteTiffF(g_document, Document(), TiffCompression::kT4_2D);

  Run("a call with ECM delivers every page bit for bit", [] { FullCall(true); });
  Run("a call without ECM delivers every page bit for bit", [] { FullCall(false); });
  Run("hanging up during page 2 drops the call with 1 page", HangUpDuringPageTwo);
  Run("when nobody answers the sender times out", NobodyAnswers);
  Run("a document the check refuses is never sent", RefusedDocumentIsNotSent);
  Run("a call cancelled from the start ends at once", CancelledFromTheStart);
  Run("ValidateOptions rejects bad options with OptionError", ValidateOptionsRejectsBadOptions);
  Run("a missing TIFF finishes the terminal at once with a file error", MissingTiffFinishesAtOnce);
  Run("hanging up twice is harmless", HangUpTwiceIsHarmless);
  Run("200 terminals can be created and destroyed", ManyTerminalsComeAndGo);
  Run("G.711 decodes hand-worked code words of both laws", G711DecodesHandWorkedWords);
  Run("G.711 encodes hand-worked samples of both laws", G711EncodesHandWorkedSamples);
  Run("G.711 decode then encode gives every code word back",
      G711DecodeThenEncodeGivesEveryWordBack);
  Run("line noise is the same for the same seed and continues across calls",
      LineNoiseIsDeterministicPerSeed);
  Run("line noise saturates at the 16-bit limits instead of wrapping",
      LineNoiseSaturatesInsteadOfWrapping);
  Run("line noise measures within 1 dB of the requested level", LineNoiseHasTheRequestedLevel);
  Run("line noise rejects levels outside -100 to +10 dBm0", LineNoiseRejectsLevelsOutOfRange);

  return faxline::test::Finish("engine");
}
