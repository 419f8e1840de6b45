// Harmonic saturation curves. Both are built on the [3/2] Pade approximant of tanh,
// u (27 + u^2) / (27 + 9 u^2): analytic with poles at +-i sqrt(3) (farther from the real axis
// than tanh's +-i pi/2), so its harmonics fall off faster than tanh's at the same drive, and
// it costs one division instead of an exponential. Its slope, (9 - u^2)^2 / (9 (3 + u^2)^2),
// never goes negative: it flattens to zero at |u| = 3 (the curve's value there is exactly 1)
// and then rises gently towards u / 9, so an over-driven input is squashed, never folded back.
// The stage's full drive puts a 0 dBFS sine just past that knee.
#pragma once

#include "common.h"

namespace rig {

inline float padeTanh(float u) {
  const float u2 = u * u;
  return u * (27.0f + u2) / (27.0f + 9.0f * u2);
}

// Tube: symmetric, so odd harmonics only. With inverseDrive = 1 / drive the small-signal gain
// is one at any drive: that is the stage's gain compensation.
inline float tubeCurve(float x, float drive, float inverseDrive) {
  return padeTanh(drive * x) * inverseDrive;
}

// Tape: the same curve biased off centre, so the 2nd harmonic leads. The static offset is
// removed and the slope at rest normalised to one (the DC that the asymmetry makes on a signal
// is blocked downstream).
struct TapeShape {
  static constexpr float kBias = 0.3f;
  float offset, inverseSlope;
  TapeShape() {
    offset = padeTanh(kBias);
    const float b2 = kBias * kBias;
    inverseSlope = 9.0f * (3.0f + b2) * (3.0f + b2) / ((9.0f - b2) * (9.0f - b2));
  }
  float operator()(float x, float drive, float inverseDrive) const {
    return (padeTanh(drive * x + kBias) - offset) * (inverseDrive * inverseSlope);
  }
};

}  // namespace rig
