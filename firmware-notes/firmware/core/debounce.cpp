#include "debounce.h"

namespace knobbox {

Debouncer::Debouncer(uint8_t stableMs) : stableMs_(stableMs) {}

void Debouncer::reset(bool down) {
  stable_ = down;
  candidate_ = down;
  candidateSinceMs_ = 0;
}

bool Debouncer::update(bool down, uint32_t nowMs) {
  if (down != candidate_) {
    candidate_ = down;
    candidateSinceMs_ = nowMs;
    return false;
  }
  // Unsigned subtraction stays right across the 49-day millis() wrap.
  if (candidate_ != stable_ && static_cast<uint32_t>(nowMs - candidateSinceMs_) >= stableMs_) {
    stable_ = candidate_;
    return true;
  }
  return false;
}

}  // namespace knobbox
