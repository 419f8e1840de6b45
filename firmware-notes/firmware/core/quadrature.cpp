#include "quadrature.h"

namespace knobbox {

namespace {

// Indexed by (previous state << 2) | state, state = (A << 1) | B. Clockwise runs
// 00 -> 01 -> 11 -> 10 -> 00; 2 marks a transition where both pins changed.
const int8_t kTransition[16] = {
    0,  +1, -1, 2,   // from 00
    -1, 0,  2,  +1,  // from 01
    +1, 2,  0,  -1,  // from 10
    2,  -1, +1, 0,   // from 11
};

}  // namespace

QuadratureDecoder::QuadratureDecoder(uint8_t stepsPerDetent)
    : stepsPerDetent_(stepsPerDetent == 0 ? 1 : stepsPerDetent) {}

void QuadratureDecoder::reset(bool a, bool b) {
  state_ = static_cast<uint8_t>((a ? 2 : 0) | (b ? 1 : 0));
  steps_ = 0;
}

bool QuadratureDecoder::atRest(uint8_t state) const {
  if (stepsPerDetent_ >= 4) return state == 3;
  if (stepsPerDetent_ == 2) return state == 0 || state == 3;
  return true;
}

int8_t QuadratureDecoder::update(bool a, bool b) {
  const uint8_t state = static_cast<uint8_t>((a ? 2 : 0) | (b ? 1 : 0));
  const int8_t move = kTransition[(state_ << 2) | state];
  state_ = state;
  if (move == 2) {
    invalid_++;
    return 0;
  }
  steps_ = static_cast<int8_t>(steps_ + move);
  if (!atRest(state)) return 0;
  // Half a detent's worth of steps in one direction means the detent was crossed; anything less
  // was bounce that came back. Either way the count restarts at the detent.
  const int8_t half = static_cast<int8_t>(stepsPerDetent_ > 1 ? stepsPerDetent_ / 2 : 1);
  const int8_t steps = steps_;
  steps_ = 0;
  if (steps >= half) return +1;
  if (steps <= -half) return -1;
  return 0;
}

}  // namespace knobbox
