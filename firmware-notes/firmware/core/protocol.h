// The knob-box line protocol (firmware-notes/PROTOCOL.md) for the device side: CRC-8, line
// formatting, and parsing of host lines. No Arduino, no heap, no printf: it must fit a 2.5 KB AVR
// and compile unchanged on the host for tests.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace knobbox {

constexpr uint8_t kProtocolMajor = 1;
constexpr uint8_t kProtocolMinor = 0;
constexpr const char* kDeviceKind = "rig-knob-box";
// Longest line either side may send: payload plus "*XX", without "\r\n".
constexpr size_t kMaxLineBytes = 80;
constexpr uint16_t kPositionMax = 1023;
constexpr int16_t kEncoderDeltaMax = 127;
constexpr uint8_t kIndexMax = 63;
constexpr uint32_t kTokenMax = 65535;

// CRC-8, polynomial 0x07, init 0, no reflection, no final XOR ("CRC-8/SMBUS"; "123456789" -> 0xF4).
uint8_t crc8(const char* data, size_t length);

// Why a line was refused; the lower-case names are the ERR codes on the wire.
enum class Fault : uint8_t { None, Overlong, Frame, Checksum, Syntax, Unknown, Range, Hello, Version };
constexpr uint8_t kFaultKinds = 9;
const char* faultCode(Fault fault);

enum class HostCommandType : uint8_t { Hello, Ring, Led, Motor, Ping };

struct HostCommand {
  HostCommandType type;
  uint8_t index;
  // Ring/motor position, LED state (0/1) or ping token.
  uint16_t value;
  // HELLO?: bit n set when the host offers protocol major n (majors above 31 cannot be ours).
  uint32_t offeredMajors;
};

// Parses one host line (terminator already stripped). Checks framing, CRC, fields and the
// protocol-wide ranges; the caller checks indexes against its own control counts.
Fault parseHostLine(const char* line, size_t length, HostCommand& out);

// Builds one outgoing line in place; finish() appends "*XX\n". Overflow is remembered and makes
// finish() fail, so a too-long line is never sent cut short.
class LineWriter {
 public:
  LineWriter& text(const char* text);
  LineWriter& number(int32_t value);
  LineWriter& space();
  bool finish();
  const char* data() const { return buffer_; }
  size_t size() const { return length_; }
  void clear();

 private:
  void put(char c);
  char buffer_[kMaxLineBytes + 2] = {};
  size_t length_ = 0;
  bool overflow_ = false;
};

}  // namespace knobbox
