#include "protocol.h"

namespace knobbox {

uint8_t crc8(const char* data, size_t length) {
  uint8_t crc = 0;
  for (size_t i = 0; i < length; i++) {
    crc ^= static_cast<uint8_t>(data[i]);
    for (uint8_t bit = 0; bit < 8; bit++)
      crc = (crc & 0x80) ? static_cast<uint8_t>((crc << 1) ^ 0x07) : static_cast<uint8_t>(crc << 1);
  }
  return crc;
}

const char* faultCode(Fault fault) {
  switch (fault) {
    case Fault::None: return "none";
    case Fault::Overlong: return "overlong";
    case Fault::Frame: return "frame";
    case Fault::Checksum: return "checksum";
    case Fault::Syntax: return "syntax";
    case Fault::Unknown: return "unknown";
    case Fault::Range: return "range";
    case Fault::Hello: return "hello";
    case Fault::Version: return "version";
  }
  return "unknown";
}

namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is refused on purpose: one spelling per checksum
}

struct Field {
  const char* start;
  size_t length;
};

bool equals(const Field& field, const char* word) {
  size_t i = 0;
  for (; i < field.length; i++) {
    if (word[i] != field.start[i]) return false;
  }
  return word[i] == '\0';
}

// Decimal, optional minus, 1..5 digits: the same shape the TypeScript side accepts.
bool parseInteger(const Field& field, int32_t& out) {
  size_t i = 0;
  bool negative = false;
  if (field.length > 0 && field.start[0] == '-') {
    negative = true;
    i = 1;
  }
  const size_t digits = field.length - i;
  if (digits < 1 || digits > 5) return false;
  int32_t value = 0;
  for (; i < field.length; i++) {
    const char c = field.start[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  out = negative ? -value : value;
  return true;
}

constexpr size_t kMaxFields = 10;

}  // namespace

Fault parseHostLine(const char* line, size_t length, HostCommand& out) {
  if (length > kMaxLineBytes) return Fault::Overlong;
  for (size_t i = 0; i < length; i++) {
    if (line[i] < 0x20 || line[i] > 0x7e) return Fault::Frame;
  }
  if (length < 4 || line[length - 3] != '*') return Fault::Frame;
  const int high = hexDigit(line[length - 2]);
  const int low = hexDigit(line[length - 1]);
  if (high < 0 || low < 0) return Fault::Frame;
  const size_t payloadLength = length - 3;
  for (size_t i = 0; i < payloadLength; i++) {
    if (line[i] == '*') return Fault::Frame;
  }
  if (crc8(line, payloadLength) != static_cast<uint8_t>(high * 16 + low)) return Fault::Checksum;

  Field fields[kMaxFields];
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= payloadLength; i++) {
    if (i == payloadLength || line[i] == ' ') {
      if (i == start) return Fault::Syntax;  // empty field: leading, trailing or doubled space
      // Fields past the tenth are a later minor version's additions: ignored, like the host does.
      if (count < kMaxFields) fields[count++] = Field{line + start, i - start};
      start = i + 1;
    }
  }

  const Field& verb = fields[0];
  if (equals(verb, "HELLO?")) {
    if (count < 2) return Fault::Syntax;
    out.type = HostCommandType::Hello;
    out.offeredMajors = 0;
    for (size_t i = 1; i < count; i++) {
      int32_t major = 0;
      if (!parseInteger(fields[i], major)) return Fault::Syntax;
      if (major < 1 || major > 999) return Fault::Range;
      if (major < 32) out.offeredMajors |= static_cast<uint32_t>(1) << major;
    }
    return Fault::None;
  }

  const bool isRing = equals(verb, "R");
  const bool isLed = equals(verb, "L");
  const bool isMotor = equals(verb, "M");
  if (isRing || isLed || isMotor) {
    int32_t index = 0;
    int32_t value = 0;
    if (count < 3 || !parseInteger(fields[1], index) || !parseInteger(fields[2], value)) return Fault::Syntax;
    const int32_t valueMax = isLed ? 1 : kPositionMax;
    if (index < 0 || index > kIndexMax || value < 0 || value > valueMax) return Fault::Range;
    out.type = isRing ? HostCommandType::Ring : isLed ? HostCommandType::Led : HostCommandType::Motor;
    out.index = static_cast<uint8_t>(index);
    out.value = static_cast<uint16_t>(value);
    return Fault::None;
  }

  if (equals(verb, "PING?")) {
    int32_t token = 0;
    if (count < 2 || !parseInteger(fields[1], token)) return Fault::Syntax;
    if (token < 0 || static_cast<uint32_t>(token) > kTokenMax) return Fault::Range;
    out.type = HostCommandType::Ping;
    out.value = static_cast<uint16_t>(token);
    return Fault::None;
  }

  return Fault::Unknown;
}

void LineWriter::put(char c) {
  // Room for "*XX" must remain, so the payload limit is three short of the line limit.
  if (length_ + 3 >= kMaxLineBytes) {
    overflow_ = true;
    return;
  }
  buffer_[length_++] = c;
}

LineWriter& LineWriter::text(const char* text) {
  while (*text) put(*text++);
  return *this;
}

LineWriter& LineWriter::space() {
  put(' ');
  return *this;
}

LineWriter& LineWriter::number(int32_t value) {
  char digits[11];
  size_t count = 0;
  uint32_t magnitude = value < 0 ? static_cast<uint32_t>(-(value + 1)) + 1 : static_cast<uint32_t>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude > 0);
  if (value < 0) put('-');
  while (count > 0) put(digits[--count]);
  return *this;
}

bool LineWriter::finish() {
  if (overflow_ || length_ == 0) return false;
  static const char kHex[] = "0123456789ABCDEF";
  const uint8_t crc = crc8(buffer_, length_);
  buffer_[length_++] = '*';
  buffer_[length_++] = kHex[crc >> 4];
  buffer_[length_++] = kHex[crc & 0x0f];
  buffer_[length_++] = '\n';
  return true;
}

void LineWriter::clear() {
  length_ = 0;
  overflow_ = false;
}

}  // namespace knobbox
