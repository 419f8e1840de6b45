// K-weighting (ITU-R BS.1770-4, Annex 1): a high-shelf "pre-filter" modelling the head, then
// the RLB high-pass. Both are designed here from their analog prototypes for the running sample
// rate by the bilinear transform with pre-warping; at 48 kHz this reproduces the coefficient
// table printed in the recommendation to within 1e-8, and at other rates it stays on the same
// analog curve (a fixed 48 kHz table run at 44.1 kHz would shift both corners by 8 %).
#pragma once

#include <cmath>

#include "biquad.h"
#include "common.h"

namespace rig {

// The analog parameters behind the 48 kHz table (shelf: 1681.97 Hz, +4.0 dB, Q 0.7072;
// RLB: 38.14 Hz, Q 0.5003), as re-derived from that table by the broadcast-metering community
// (the recommendation prints only the digital coefficients).
inline void designKWeighting(double sampleRate, BiquadCoeffs& shelf, BiquadCoeffs& highPass) {
  {
    const double f0 = 1681.974450955533, gainDb = 3.999843853973347, q = 0.7071752369554196;
    const double k = std::tan(kPi * f0 / sampleRate);
    const double vh = std::pow(10.0, gainDb / 20.0);
    const double vb = std::pow(vh, 0.4996667741545416);  // band gain of the shelf's mid term
    const double a0 = 1.0 + k / q + k * k;
    shelf.b0 = (vh + vb * k / q + k * k) / a0;
    shelf.b1 = 2.0 * (k * k - vh) / a0;
    shelf.b2 = (vh - vb * k / q + k * k) / a0;
    shelf.a1 = 2.0 * (k * k - 1.0) / a0;
    shelf.a2 = (1.0 - k / q + k * k) / a0;
  }
  {
    // The table's numerator is exactly 1, -2, 1 (not normalised), which gives the high-pass a
    // passband gain of a0 (+0.043 dB at 48 kHz) that the -0.691 LU offset absorbs. The bilinear
    // a0 changes with the rate (+0.047 dB at 44.1 kHz, +0.022 dB at 96 kHz), so the numerator is
    // scaled to keep the 48 kHz passband gain: exactly 1, -2, 1 at 48 kHz, the same reading of
    // the same tone at every other rate.
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const auto denominator = [&](double rate) {
      const double k = std::tan(kPi * f0 / rate);
      return 1.0 + k / q + k * k;
    };
    const double k = std::tan(kPi * f0 / sampleRate);
    const double a0 = denominator(sampleRate);
    const double gain = denominator(48000.0) / a0;
    highPass.b0 = gain;
    highPass.b1 = -2.0 * gain;
    highPass.b2 = gain;
    highPass.a1 = 2.0 * (k * k - 1.0) / a0;
    highPass.a2 = (1.0 - k / q + k * k) / a0;
  }
}

class StereoKWeighting {
 public:
  void prepare(double sampleRate) {
    designKWeighting(sampleRate, shelf_.c, highPass_.c);
    reset();
  }
  void reset() {
    shelf_.reset();
    highPass_.reset();
  }
  StereoSample process(StereoSample x) { return highPass_.process(shelf_.process(x)); }

 private:
  StereoBiquad shelf_, highPass_;
};

}  // namespace rig
