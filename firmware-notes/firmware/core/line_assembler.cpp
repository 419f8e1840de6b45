#include "line_assembler.h"

namespace knobbox {

LineAssembler::Result LineAssembler::push(uint8_t byte) {
  if (byte == '\n') {
    if (discarding_) {
      reset();
      return Result::Overlong;
    }
    size_t end = length_;
    if (end > 0 && buffer_[end - 1] == '\r') end--;
    length_ = 0;
    if (end == 0) return Result::Pending;  // blank line: a sender flushing a stale half-line
    if (end > kMaxLineBytes) return Result::Overlong;
    lineLength_ = end;
    return Result::Line;
  }
  if (discarding_) return Result::Pending;
  if (length_ == sizeof(buffer_)) {
    discarding_ = true;
    length_ = 0;
    return Result::Pending;
  }
  buffer_[length_++] = static_cast<char>(byte);
  return Result::Pending;
}

void LineAssembler::reset() {
  length_ = 0;
  lineLength_ = 0;
  discarding_ = false;
}

}  // namespace knobbox
