// Incremental encoder pins -> detents. Quarter steps are counted from the Gray-code transitions;
// a detent is reported only when the encoder comes to rest in a detent position, so contact
// bounce around one transition cancels out and the count realigns itself after any glitch.
#pragma once

#include <stdint.h>

namespace knobbox {

class QuadratureDecoder {
 public:
  // Quarter steps between detents: 4 for most detented encoders (rest with both contacts open),
  // 2 for encoders that also rest with both closed, 1 for encoders without detents.
  explicit QuadratureDecoder(uint8_t stepsPerDetent = 4);
  void reset(bool a, bool b);
  // Pin levels now (true = high). Returns +1 (clockwise), -1, or 0.
  int8_t update(bool a, bool b);
  // Transitions where both pins changed at once: a missed sample; they move nothing.
  uint16_t invalidTransitions() const { return invalid_; }

 private:
  bool atRest(uint8_t state) const;

  uint8_t stepsPerDetent_;
  uint8_t state_ = 3;
  int8_t steps_ = 0;
  uint16_t invalid_ = 0;
};

}  // namespace knobbox
