// Button contact -> clean press/release. A change counts once the contact has held its new level
// for stableMs: bounce (typically under 2 ms on tactile switches) never gets that far, and an
// EMI spike shorter than stableMs never becomes a press.
#pragma once

#include <stdint.h>

namespace knobbox {

class Debouncer {
 public:
  explicit Debouncer(uint8_t stableMs = 5);
  void reset(bool down);
  // Contact level now; true when the debounced state changed with this sample.
  bool update(bool down, uint32_t nowMs);
  bool down() const { return stable_; }

 private:
  uint8_t stableMs_;
  bool stable_ = false;
  bool candidate_ = false;
  uint32_t candidateSinceMs_ = 0;
};

}  // namespace knobbox
