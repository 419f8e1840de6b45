// Splits the host's byte stream into lines in a fixed buffer. A sender that never sends a newline
// (noise, wrong baud rate, a terminal left open) costs nothing but a counter: once the buffer is
// full, the rest of the line is dropped and reported once, at its newline.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

namespace knobbox {

class LineAssembler {
 public:
  enum class Result : uint8_t { Pending, Line, Overlong };

  Result push(uint8_t byte);
  // Valid right after push() returned Line, until the next push().
  const char* line() const { return buffer_; }
  size_t lineLength() const { return lineLength_; }
  size_t bufferedBytes() const { return length_; }
  void reset();

 private:
  // One spare byte so a full-length line may still end in "\r\n".
  char buffer_[kMaxLineBytes + 1] = {};
  size_t length_ = 0;
  size_t lineLength_ = 0;
  bool discarding_ = false;
};

}  // namespace knobbox
