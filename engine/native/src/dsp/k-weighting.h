// K-weighting (ITU-R BS.1770-4): a high-shelf "pre-filter" modelling the head, then the RLB
// high-pass. Both are designed here from their analog prototypes for the running sample rate
// by the bilinear transform with pre-warping; at 48 kHz this reproduces the coefficient table
// printed in the recommendation to within 1e-8, and at other rates it stays on the same curve.
#pragma once

#include <cmath>

#include "common.h"

namespace rig {

struct Biquad64 {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  double z1 = 0, z2 = 0;
  double process(double x) {  // transposed direct form II: low noise for low-frequency poles
    const double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
  void reset() { z1 = z2 = 0; }
};

// The analog parameters behind the 48 kHz table (shelf: 1681.97 Hz, +4.0 dB, Q 0.7072;
// RLB: 38.14 Hz, Q 0.5003), as re-derived from that table by the broadcast-metering community.
inline void designKWeighting(double sampleRate, Biquad64& shelf, Biquad64& highPass) {
  {
    const double f0 = 1681.974450955533, gainDb = 3.999843853973347, q = 0.7071752369554196;
    const double k = std::tan(kPi * f0 / sampleRate);
    const double vh = std::pow(10.0, gainDb / 20.0);
    const double vb = std::pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + k / q + k * k;
    shelf.b0 = (vh + vb * k / q + k * k) / a0;
    shelf.b1 = 2.0 * (k * k - vh) / a0;
    shelf.b2 = (vh - vb * k / q + k * k) / a0;
    shelf.a1 = 2.0 * (k * k - 1.0) / a0;
    shelf.a2 = (1.0 - k / q + k * k) / a0;
  }
  {
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const double k = std::tan(kPi * f0 / sampleRate);
    const double a0 = 1.0 + k / q + k * k;
    highPass.b0 = 1.0;
    highPass.b1 = -2.0;
    highPass.b2 = 1.0;
    highPass.a1 = 2.0 * (k * k - 1.0) / a0;
    highPass.a2 = (1.0 - k / q + k * k) / a0;
  }
}

// Both channels of a stereo pair through the same two sections at once, as two lanes of one
// vector: one recurrence instead of two, for the meters that run on every sample.
class StereoKWeighting {
 public:
  using Pair = double __attribute__((vector_size(16)));
  void prepare(double sampleRate) {
    designKWeighting(sampleRate, shelf_, highPass_);
    reset();
  }
  void reset() { s1_ = s2_ = h1_ = h2_ = Pair{0.0, 0.0}; }
  // Returns the weighted left and right samples as a pair.
  Pair process(double left, double right) {
    const Pair x = {left, right};
    const Pair y = shelf_.b0 * x + s1_;
    s1_ = shelf_.b1 * x - shelf_.a1 * y + s2_;
    s2_ = shelf_.b2 * x - shelf_.a2 * y;
    const Pair z = highPass_.b0 * y + h1_;
    h1_ = highPass_.b1 * y - highPass_.a1 * z + h2_;
    h2_ = highPass_.b2 * y - highPass_.a2 * z;
    return z;
  }

 private:
  Biquad64 shelf_, highPass_;
  Pair s1_{}, s2_{}, h1_{}, h2_{};
};

}  // namespace rig
