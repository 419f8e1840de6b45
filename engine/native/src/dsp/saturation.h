// Harmonic saturation curves. Both are built on the [3/2] Pade approximant of tanh,
// u (27 + u^2) / (27 + 9 u^2): analytic with poles at +-i sqrt(3) (farther from the real axis
// than tanh's +-i pi/2), so its harmonics fall off faster than tanh's at the same drive, and
// it costs one division instead of an exponential.
#pragma once

#include "common.h"

namespace rig {

inline float padeTanh(float u) {
  const float u2 = u * u;
  return u * (27.0f + u2) / (27.0f + 9.0f * u2);
}

// Tube: symmetric, so odd harmonics. Normalised to unity small-signal gain.
inline float tubeCurve(float x, float drive) { return padeTanh(drive * x) / drive; }

// Tape: the same curve biased off centre, so even harmonics lead; the static offset is removed
// and the slope at rest normalised to one (the DC the asymmetry creates is blocked downstream).
struct TapeCurve {
  float drive = 1, bias = 0, offset = 0, norm = 1;
  void set(float newDrive) {
    drive = newDrive;
    bias = 0.3f;
    offset = padeTanh(bias);
    const float h = 1e-3f;
    norm = (padeTanh(bias + h) - padeTanh(bias - h)) / (2 * h) * drive;
  }
  float operator()(float x) const { return (padeTanh(drive * x + bias) - offset) / norm; }
};

}  // namespace rig
