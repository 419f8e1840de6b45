// Host-side checks of the firmware core (no Arduino). Prints one "ok - <name>" or "FAIL - <name>"
// per check, "wire: <line>" for device lines the TypeScript side re-parses, and a final
// "checks: P passed, F failed"; exits non-zero on any failure.
//
//   core_test              run the checks
//   core_test --classify   read host bytes on stdin, print how the core classifies each line
//                          ("ok R 3 512" / "fault checksum"), for the cross-check with protocol.ts

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "../core/debounce.h"
#include "../core/knob_box.h"
#include "../core/knob_filter.h"
#include "../core/line_assembler.h"
#include "../core/protocol.h"
#include "../core/quadrature.h"

using namespace knobbox;

namespace {

int passed = 0;
int failed = 0;

void check(const std::string& name, bool ok, int line) {
  printf("%s - %s\n", ok ? "ok" : "FAIL", name.c_str());
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("  (core_test.cpp:%d)\n", line);
  }
}

#define CHECK(name, condition) check(name, (condition), __LINE__)

// A line with a correct checksum around whatever payload, so content faults can be tested.
std::string framed(const std::string& payload) {
  char suffix[4];
  snprintf(suffix, sizeof suffix, "*%02X", crc8(payload.data(), payload.size()));
  return payload + suffix;
}

Fault parse(const std::string& line, HostCommand& command) {
  return parseHostLine(line.data(), line.size(), command);
}

Fault parse(const std::string& line) {
  HostCommand command{};
  return parse(line, command);
}

// Deterministic noise so a failure reproduces: xorshift32.
struct Noise {
  uint32_t state = 0x9E3779B9u;
  int next(int amplitude) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return static_cast<int>(state % static_cast<uint32_t>(2 * amplitude + 1)) - amplitude;
  }
};

class CaptureOutput : public Output {
 public:
  size_t room() override { return room_; }
  void write(const char* data, size_t length) override {
    text_.append(data, length);
    if (limited_) room_ -= length;
  }
  void limitRoom(size_t room) {
    limited_ = true;
    room_ = room;
  }
  void unlimitRoom() {
    limited_ = false;
    room_ = 1u << 20;
  }
  // Lines written since the last call, without their "\n".
  std::vector<std::string> take() {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t i = 0; i < text_.size(); i++) {
      if (text_[i] == '\n') {
        lines.push_back(text_.substr(start, i - start));
        start = i + 1;
      }
    }
    text_.clear();
    return lines;
  }

 private:
  std::string text_;
  size_t room_ = 1u << 20;
  bool limited_ = false;
};

// Strips the "*XX" so expectations read as the payloads PROTOCOL.md shows.
std::vector<std::string> payloads(const std::vector<std::string>& lines) {
  std::vector<std::string> result;
  for (const std::string& line : lines)
    result.push_back(line.size() > 3 ? line.substr(0, line.size() - 3) : line);
  return result;
}

void printWire(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) printf("wire: %s\n", line.c_str());
}

void feed(KnobBox& box, const std::string& bytes, uint32_t nowMs) {
  for (char c : bytes) box.receive(static_cast<uint8_t>(c), nowMs);
}

BoxConfig referenceConfig() {
  BoxConfig config{};
  config.knobs = 8;
  config.buttons = 4;
  config.encoders = 2;
  config.motors = 0;
  config.firmwareVersion = "1.0.0";
  config.serialNumber = "RKB-3F9A21C4";
  config.encoderStepsPerDetent = 4;
  config.debounceMs = 5;
  return config;
}

// A box powered up with every knob at mid travel, encoders at rest, no buttons down.
struct Rig {
  CaptureOutput output;
  KnobBox box;
  explicit Rig(const BoxConfig& config = referenceConfig()) : box(config, output) {
    uint16_t adc[kMaxKnobs];
    bool high[kMaxEncoders];
    bool up[kMaxButtons];
    for (uint16_t& value : adc) value = 512;
    for (bool& value : high) value = true;
    for (bool& value : up) value = false;
    box.begin(adc, high, high, up);
  }
  void hello(uint32_t nowMs) {
    feed(box, framed("HELLO? 1") + "\n", nowMs);
    box.service(nowMs);
    output.take();
  }
};

// One detent of a 4-step encoder, clockwise (A,B): 11 -> 10 -> 00 -> 01 -> 11.
void turnClockwise(QuadratureDecoder& decoder, int& total) {
  const bool a[] = {true, false, false, true};
  const bool b[] = {false, false, true, true};
  for (int i = 0; i < 4; i++) total += decoder.update(a[i], b[i]);
}

void turnCounterClockwise(QuadratureDecoder& decoder, int& total) {
  const bool a[] = {false, false, true, true};
  const bool b[] = {true, false, false, true};
  for (int i = 0; i < 4; i++) total += decoder.update(a[i], b[i]);
}

void protocolChecks() {
  CHECK("crc8 of \"123456789\" is the catalogue check value 0xF4", crc8("123456789", 9) == 0xF4);
  CHECK("crc8 of \"K 3 512\" is 0x9F (PROTOCOL.md worked example)", crc8("K 3 512", 7) == 0x9F);

  LineWriter writer;
  writer.text("K ").number(3).space().number(512);
  CHECK("LineWriter frames K 3 512 as \"K 3 512*9F\\n\"",
        writer.finish() && std::string(writer.data(), writer.size()) == "K 3 512*9F\n");
  writer.clear();
  writer.text("E ").number(1).space().number(-2);
  CHECK("LineWriter writes negative deltas: \"E 1 -2*BA\\n\"",
        writer.finish() && std::string(writer.data(), writer.size()) == "E 1 -2*BA\n");
  writer.clear();
  writer.text(std::string(77, 'x').c_str());
  CHECK("LineWriter takes a 77-byte payload (80 with its checksum)", writer.finish() && writer.size() == 81);
  writer.clear();
  writer.text(std::string(78, 'x').c_str());
  CHECK("LineWriter refuses a 78-byte payload instead of cutting it", !writer.finish());

  HostCommand command{};
  CHECK("parses R 3 512*79 as ring 3 = 512", parse("R 3 512*79", command) == Fault::None &&
                                                 command.type == HostCommandType::Ring &&
                                                 command.index == 3 && command.value == 512);
  CHECK("parses HELLO? 1*BE as an offer of major 1", parse("HELLO? 1*BE", command) == Fault::None &&
                                                         command.type == HostCommandType::Hello &&
                                                         command.offeredMajors == 2u);
  CHECK("parses HELLO? 1 2 as an offer of majors 1 and 2",
        parse(framed("HELLO? 1 2"), command) == Fault::None && command.offeredMajors == 6u);
  CHECK("parses L 2 1*9E as LED 2 on", parse("L 2 1*9E", command) == Fault::None &&
                                           command.type == HostCommandType::Led && command.index == 2 &&
                                           command.value == 1);
  CHECK("parses PING? 7*68 with token 7", parse("PING? 7*68", command) == Fault::None &&
                                              command.type == HostCommandType::Ping && command.value == 7);
  CHECK("parses M 0 1023 as motor 0 = 1023", parse(framed("M 0 1023"), command) == Fault::None &&
                                                 command.type == HostCommandType::Motor &&
                                                 command.value == 1023);
  CHECK("ignores fields a later minor version appends",
        parse(framed("R 3 512 future"), command) == Fault::None && command.value == 512);

  CHECK("a wrong checksum is a checksum fault", parse("R 3 512*7A") == Fault::Checksum);
  CHECK("a changed digit is caught by the checksum", parse("R 3 513*79") == Fault::Checksum);
  CHECK("lower-case checksum digits are a frame fault", parse("HELLO? 1*be") == Fault::Frame);
  CHECK("a line without *XX is a frame fault", parse("R 3 512") == Fault::Frame);
  CHECK("a control byte in the line is a frame fault", parse(framed("R 3\x01 512")) == Fault::Frame);
  CHECK("a byte above 0x7E is a frame fault", parse(framed("R 3 5\xC3\xA9")) == Fault::Frame);
  CHECK("a star inside the payload is a frame fault", parse("R 3*5 *00") == Fault::Frame);
  CHECK("a doubled space is a syntax fault", parse(framed("R  3 512")) == Fault::Syntax);
  CHECK("a trailing space is a syntax fault", parse(framed("R 3 512 ")) == Fault::Syntax);
  CHECK("a missing value is a syntax fault", parse(framed("R 3")) == Fault::Syntax);
  CHECK("a non-numeric index is a syntax fault", parse(framed("R a 512")) == Fault::Syntax);
  CHECK("a six-digit number is a syntax fault", parse(framed("R 3 000512")) == Fault::Syntax);
  CHECK("HELLO? without a major is a syntax fault", parse(framed("HELLO?")) == Fault::Syntax);
  CHECK("an unknown verb is an unknown fault", parse(framed("X 1 2")) == Fault::Unknown);
  CHECK("a device verb sent to the device is an unknown fault", parse(framed("K 1 2")) == Fault::Unknown);
  CHECK("ring value 1024 is a range fault", parse(framed("R 3 1024")) == Fault::Range);
  CHECK("a negative ring value is a range fault", parse(framed("R 3 -1")) == Fault::Range);
  CHECK("index 64 is a range fault", parse(framed("R 64 0")) == Fault::Range);
  CHECK("LED state 2 is a range fault", parse(framed("L 0 2")) == Fault::Range);
  CHECK("ping token 65536 is a range fault", parse(framed("PING? 65536")) == Fault::Range);
  CHECK("an 81-byte line is an overlong fault", parse(framed(std::string(78, 'R'))) == Fault::Overlong);
}

void assemblerChecks() {
  LineAssembler assembler;
  auto pushAll = [&assembler](const std::string& bytes, std::vector<std::string>& lines, int& overlong) {
    for (char c : bytes) {
      const LineAssembler::Result result = assembler.push(static_cast<uint8_t>(c));
      if (result == LineAssembler::Result::Line)
        lines.push_back(std::string(assembler.line(), assembler.lineLength()));
      if (result == LineAssembler::Result::Overlong) overlong++;
    }
  };
  std::vector<std::string> lines;
  int overlong = 0;
  pushAll("R 3 5", lines, overlong);
  pushAll("12*79\n", lines, overlong);
  CHECK("a line split across reads comes out whole", lines.size() == 1 && lines[0] == "R 3 512*79");
  lines.clear();
  pushAll("L 2 1*9E\r\n", lines, overlong);
  CHECK("a CRLF terminator is accepted and the CR stripped", lines.size() == 1 && lines[0] == "L 2 1*9E");
  lines.clear();
  pushAll("\n\r\n\n", lines, overlong);
  CHECK("blank lines are skipped without a fault", lines.empty() && overlong == 0);

  size_t mostBuffered = 0;
  Noise noise;
  for (int i = 0; i < 100000; i++) {
    uint8_t byte = static_cast<uint8_t>(noise.next(127) + 128);
    if (byte == '\n') byte = 0;
    assembler.push(byte);
    if (assembler.bufferedBytes() > mostBuffered) mostBuffered = assembler.bufferedBytes();
  }
  CHECK("100000 bytes without a newline never buffer more than one line", mostBuffered <= kMaxLineBytes + 1);
  pushAll("\nR 3 512*79\n", lines, overlong);
  CHECK("the newline after the flood reports one overlong line, then lines flow again",
        overlong == 1 && lines.size() == 1 && lines[0] == "R 3 512*79");
  lines.clear();
  overlong = 0;
  pushAll(std::string(80, 'x') + "\n", lines, overlong);
  CHECK("an 80-byte line is still a line", lines.size() == 1 && overlong == 0);
  lines.clear();
  pushAll(std::string(81, 'x') + "\r\n", lines, overlong);
  CHECK("an 81-byte line is overlong even when it fits the buffer with its CR",
        lines.empty() && overlong == 1);
}

void knobFilterChecks() {
  KnobCalibration calibration;
  KnobFilter filter(calibration);
  filter.reset(600);
  Noise noise;
  int reports = 0;
  for (int i = 0; i < 10000; i++)
    reports += filter.update(static_cast<uint16_t>(600 + noise.next(2))) ? 1 : 0;
  CHECK("a still knob with +-2 counts of ADC noise reports nothing in 10000 samples", reports == 0);

  filter.reset(0);
  uint16_t previous = filter.position();
  bool rising = true;
  for (int adc = 0; adc <= 1023; adc++) {
    for (int repeat = 0; repeat < 4; repeat++) {
      if (filter.update(static_cast<uint16_t>(adc))) {
        rising = rising && filter.position() > previous;
        previous = filter.position();
      }
    }
  }
  for (int i = 0; i < 200; i++) filter.update(1023);
  CHECK("a slow turn up reports only rising positions", rising);
  CHECK("a knob turned fully up reports exactly 1023", filter.position() == 1023);
  for (int adc = 1023; adc >= 0; adc--) filter.update(static_cast<uint16_t>(adc));
  for (int i = 0; i < 200; i++) filter.update(0);
  CHECK("a knob turned fully down reports exactly 0", filter.position() == 0);

  filter.reset(200);
  for (int i = 0; i < 200; i++) filter.update(800);
  // Calibrated position of 800 over the default 4..1019 travel: (800-4)*1023/1015 = 802.3.
  const int settled = filter.position();
  CHECK("a jump settles within the deadband of the calibrated position",
        settled > 802 - 3 && settled < 802 + 3);

  filter.reset(500);
  bool smallMoveReported = false;
  for (int i = 0; i < 200; i++) smallMoveReported = filter.update(502) || smallMoveReported;
  CHECK("a move smaller than the deadband is not reported", !smallMoveReported);
  bool largeMoveReported = false;
  for (int i = 0; i < 200; i++) largeMoveReported = filter.update(506) || largeMoveReported;
  CHECK("a move beyond the deadband is reported", largeMoveReported);

  KnobFilter nearEnd(calibration);
  nearEnd.reset(2);
  int endReports = 0;
  for (int i = 0; i < 5000; i++)
    endReports += nearEnd.update(static_cast<uint16_t>(3 + noise.next(2))) ? 1 : 0;
  CHECK("noise around the bottom end does not chatter between 0 and 1",
        endReports == 0 && nearEnd.position() == 0);
}

void quadratureChecks() {
  QuadratureDecoder decoder(4);
  decoder.reset(true, true);
  int total = 0;
  for (int i = 0; i < 4; i++) turnClockwise(decoder, total);
  CHECK("four clockwise detents count +4", total == 4);
  total = 0;
  for (int i = 0; i < 3; i++) turnCounterClockwise(decoder, total);
  CHECK("three counter-clockwise detents count -3", total == -3);

  total = 0;
  for (int i = 0; i < 10; i++) {
    total += decoder.update(true, false);
    total += decoder.update(true, true);
  }
  CHECK("contact bounce on one transition at a detent counts nothing", total == 0);

  total = 0;
  total += decoder.update(true, false);
  total += decoder.update(false, false);
  total += decoder.update(true, false);
  total += decoder.update(true, true);
  CHECK("half a turn that goes back counts nothing", total == 0);

  const uint16_t invalidBefore = decoder.invalidTransitions();
  total = decoder.update(false, false);
  total += decoder.update(true, true);
  CHECK("a missed sample (both pins changed) is counted and moves nothing",
        total == 0 && decoder.invalidTransitions() == invalidBefore + 2);
  total = 0;
  turnClockwise(decoder, total);
  CHECK("after a missed sample the next detent counts again", total == 1);

  QuadratureDecoder halfStep(2);
  halfStep.reset(true, true);
  total = 0;
  total += halfStep.update(true, false);
  total += halfStep.update(false, false);
  total += halfStep.update(false, true);
  total += halfStep.update(true, true);
  CHECK("a 2-step encoder counts two detents per Gray cycle", total == 2);
}

void debounceChecks() {
  Debouncer debouncer(5);
  debouncer.reset(false);
  int changes = 0;
  uint32_t now = 0;
  for (int i = 0; i < 4; i++) changes += debouncer.update(i % 2 == 0, now++) ? 1 : 0;
  for (int i = 0; i < 10; i++) changes += debouncer.update(true, now++) ? 1 : 0;
  CHECK("a bouncing press becomes exactly one press", changes == 1 && debouncer.down());
  changes = 0;
  for (int i = 0; i < 3; i++) changes += debouncer.update(false, now++) ? 1 : 0;
  for (int i = 0; i < 10; i++) changes += debouncer.update(true, now++) ? 1 : 0;
  CHECK("a 3 ms glitch is not a release", changes == 0 && debouncer.down());
  for (int i = 0; i < 10; i++) changes += debouncer.update(false, now++) ? 1 : 0;
  CHECK("a held release is one release", changes == 1 && !debouncer.down());
  Debouncer wrap(5);
  wrap.reset(false);
  uint32_t late = 0xFFFFFFFEu;
  bool pressed = false;
  for (int i = 0; i < 10; i++) pressed = wrap.update(true, late++) || pressed;
  CHECK("debounce keeps working across the millis() wrap", pressed && wrap.down());
}

void knobBoxChecks() {
  {
    Rig rig;
    for (int i = 0; i < 100; i++) rig.box.sampleKnob(0, 900);
    for (uint32_t t = 0; t < 20; t++) rig.box.sampleButton(1, true, t);
    rig.box.service(20);
    CHECK("a box says nothing before HELLO?", rig.output.take().empty() && !rig.box.inSession());
  }
  {
    Rig rig;
    feed(rig.box, framed("HELLO? 1") + "\n", 0);
    rig.box.service(0);
    const std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    const std::vector<std::string> sent = payloads(lines);
    CHECK("HELLO? 1 is answered with the box's identity and counts",
          !sent.empty() && sent[0] == "HELLO 1.0 rig-knob-box 1.0.0 RKB-3F9A21C4 8 4 2 0");
    bool everyKnob = sent.size() == 9;
    for (size_t i = 1; i < sent.size(); i++) everyKnob = everyKnob && sent[i].compare(0, 2, "K ") == 0;
    CHECK("the HELLO is followed by every knob's position",
          everyKnob && sent.size() > 8 && sent[8] == "K 7 " + std::to_string(rig.box.knobPosition(7)));
    CHECK("the box is in session after HELLO", rig.box.inSession());
  }
  {
    Rig rig;
    feed(rig.box, framed("HELLO? 2 3") + "\n", 0);
    rig.box.service(0);
    const std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("a host offering only majors 2 and 3 gets ERR version 1",
          payloads(lines) == std::vector<std::string>{"ERR version 1"} && !rig.box.inSession());
  }
  {
    Rig rig;
    feed(rig.box, framed("R 3 700") + "\n", 0);
    rig.box.service(0);
    const std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("feedback before HELLO? is refused with ERR hello and not shown",
          payloads(lines) == std::vector<std::string>{"ERR hello"} && rig.box.ring(3) == 0);
  }
  {
    Rig rig;
    rig.hello(0);
    rig.box.takeFeedbackChange();
    feed(rig.box, framed("R 3 700") + "\n" + framed("R 9 1023") + "\n" + framed("L 2 1") + "\n", 1);
    rig.box.service(1);
    CHECK("ring and LED lines set what the LED driver shows",
          rig.box.ring(3) == 700 && rig.box.ring(9) == 1023 && rig.box.led(2) && rig.output.take().empty());
    CHECK("a feedback change is flagged once", rig.box.takeFeedbackChange() && !rig.box.takeFeedbackChange());

    feed(rig.box, "R 3 100*79\n", 200);
    rig.box.service(200);
    std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("a line with a bad checksum gets ERR checksum and changes nothing",
          payloads(lines) == std::vector<std::string>{"ERR checksum"} && rig.box.ring(3) == 700);
    feed(rig.box, framed("R 10 5") + "\n", 400);
    rig.box.service(400);
    lines = rig.output.take();
    CHECK("ring 10 of a box with 10 rings gets ERR range",
          payloads(lines) == std::vector<std::string>{"ERR range"});
    feed(rig.box, framed("M 0 5") + "\n", 600);
    rig.box.service(600);
    CHECK("a motor line to a box without motors gets ERR range",
          payloads(rig.output.take()) == std::vector<std::string>{"ERR range"});
    feed(rig.box, std::string(300, 'R') + "\n" + framed("L 2 0") + "\n", 800);
    rig.box.service(800);
    CHECK("an overlong line gets ERR overlong and the next line still works",
          payloads(rig.output.take()) == std::vector<std::string>{"ERR overlong"} && !rig.box.led(2));
    feed(rig.box, framed("PING? 4242") + "\n", 900);
    rig.box.service(900);
    lines = rig.output.take();
    printWire(lines);
    CHECK("PING? is answered with PONG and its token",
          payloads(lines) == std::vector<std::string>{"PONG 4242"});

    for (int i = 0; i < 50; i++) feed(rig.box, "garbage\n", 1000);
    rig.box.service(1000);
    rig.box.service(1050);
    const size_t early = rig.output.take().size();
    rig.box.service(1100);
    const size_t later = rig.output.take().size();
    CHECK("50 bad lines in 10 ms get one ERR per 100 ms, the rest only counted",
          early == 1 && later == 0 && rig.box.counters().faults[static_cast<uint8_t>(Fault::Frame)] == 50);
  }
  {
    Rig rig;
    rig.hello(0);
    // The knob moves over 4 ms: one line with the latest position once 5 ms have passed.
    for (uint32_t t = 1; t < 5; t++) {
      for (int i = 0; i < 50; i++) rig.box.sampleKnob(2, static_cast<uint16_t>(512 + 100 * t));
      rig.box.service(t);
    }
    const size_t duringInterval = rig.output.take().size();
    rig.box.service(5);
    std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("knob movement within 5 ms is coalesced into one line",
          duringInterval == 0 && lines.size() == 1 && lines[0].compare(0, 4, "K 2 ") == 0);
    CHECK("the coalesced line carries the latest position",
          rig.box.knobPosition(2) > 900 &&
              payloads(lines)[0] == "K 2 " + std::to_string(rig.box.knobPosition(2)));
    for (int i = 0; i < 50; i++) rig.box.sampleKnob(2, 512);
    rig.box.service(10);
    CHECK("and the next move after another 5 ms is sent", rig.output.take().size() == 1);

    rig.output.limitRoom(0);
    for (int i = 0; i < 50; i++) rig.box.sampleKnob(4, 100);
    for (uint32_t t = 20; t < 40; t++) rig.box.sampleButton(0, true, t);
    rig.box.service(40);
    CHECK("with no room in the output nothing is written", rig.output.take().empty());
    rig.output.unlimitRoom();
    rig.box.service(41);
    lines = payloads(rig.output.take());
    CHECK("when room returns the press and the knob go out, press first",
          lines.size() == 2 && lines[0] == "B 0 1" && lines[1].compare(0, 4, "K 4 ") == 0);
  }
  {
    Rig rig;
    rig.hello(0);
    // 300 detents clockwise on encoder 0: 4 pin states each.
    const bool a[] = {true, false, false, true};
    const bool b[] = {false, false, true, true};
    for (int detent = 0; detent < 300; detent++) {
      for (int step = 0; step < 4; step++) rig.box.sampleEncoder(0, a[step], b[step]);
    }
    rig.box.service(10);
    rig.box.service(12);
    rig.box.service(15);
    rig.box.service(20);
    const std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("300 detents go out as 127 + 127 + 46, one line per 5 ms",
          payloads(lines) == (std::vector<std::string>{"E 0 127", "E 0 127", "E 0 46"}));
    const bool ccwA[] = {false, false, true, true};
    const bool ccwB[] = {true, false, false, true};
    for (int detent = 0; detent < 2; detent++) {
      for (int step = 0; step < 4; step++) rig.box.sampleEncoder(1, ccwA[step], ccwB[step]);
    }
    rig.box.service(30);
    const std::vector<std::string> back = rig.output.take();
    printWire(back);
    CHECK("two detents back on encoder 1 are E 1 -2", payloads(back) == std::vector<std::string>{"E 1 -2"});
  }
  {
    Rig rig;
    rig.hello(0);
    uint32_t t = 1;
    auto hold = [&rig, &t](bool down) {
      for (int i = 0; i < 10; i++) rig.box.sampleButton(3, down, t++);
    };
    hold(true);
    hold(false);
    rig.box.service(t);
    std::vector<std::string> lines = rig.output.take();
    printWire(lines);
    CHECK("a press and release go out as B 3 1, B 3 0",
          payloads(lines) == (std::vector<std::string>{"B 3 1", "B 3 0"}));
    rig.output.limitRoom(0);
    for (int i = 0; i < 5; i++) {
      hold(true);
      hold(false);
    }
    hold(true);
    rig.output.unlimitRoom();
    rig.box.service(t);
    lines = payloads(rig.output.take());
    CHECK("11 edges against a stalled output keep 4 queued and end in the real state",
          lines.size() == 3 && lines[0] == "B 3 1" && lines[1] == "B 3 0" && lines[2] == "B 3 1" &&
              rig.box.counters().buttonEdgesDropped == 8);
  }
  {
    Rig rig;
    rig.hello(0);
    rig.box.endSession();
    for (int i = 0; i < 50; i++) rig.box.sampleKnob(0, 1000);
    rig.box.service(100);
    CHECK("after endSession the box is silent again", rig.output.take().empty());
    rig.hello(200);
    CHECK("a new HELLO? starts a new session", rig.box.inSession());
  }
}

// Reads host bytes and prints each line's classification: the cross-check against protocol.ts.
int classify() {
  LineAssembler assembler;
  int byte = 0;
  while ((byte = getchar()) != EOF) {
    const LineAssembler::Result result = assembler.push(static_cast<uint8_t>(byte));
    if (result == LineAssembler::Result::Overlong) {
      printf("fault overlong\n");
    } else if (result == LineAssembler::Result::Line) {
      HostCommand command{};
      const Fault fault = parseHostLine(assembler.line(), assembler.lineLength(), command);
      if (fault != Fault::None) {
        printf("fault %s\n", faultCode(fault));
        continue;
      }
      switch (command.type) {
        case HostCommandType::Hello:
          printf("ok HELLO? %lu\n", static_cast<unsigned long>(command.offeredMajors));
          break;
        case HostCommandType::Ring: printf("ok R %u %u\n", command.index, command.value); break;
        case HostCommandType::Led: printf("ok L %u %u\n", command.index, command.value); break;
        case HostCommandType::Motor: printf("ok M %u %u\n", command.index, command.value); break;
        case HostCommandType::Ping: printf("ok PING? %u\n", command.value); break;
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--classify") == 0) return classify();
  protocolChecks();
  assemblerChecks();
  knobFilterChecks();
  quadratureChecks();
  debounceChecks();
  knobBoxChecks();
  printf("checks: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
