// An independent true-peak judge for benchmarks: 8x oversampling with a long (24 taps per
// phase) Kaiser-windowed sinc, designed separately from the limiter's and the meters' detectors
// so it can count what they let through. Offline only: it favours accuracy over speed.
#pragma once

#include <vector>

#include "common.h"
#include "true-peak.h"  // kaiserWindow

namespace rig {

struct OverCount {
  double overs = 0;  // interpolated points above the ceiling
  double maxDbtp = -INFINITY;
};

inline OverCount countOvers(const float* x, long long n, double ceilingDb) {
  constexpr int kFactor = 8, kTaps = 24;
  std::vector<float> phases(static_cast<size_t>(kFactor * kTaps));
  const int length = kFactor * kTaps;
  const double centre = (length - 1) / 2.0;
  for (int i = 0; i < length; ++i) {
    const double t = (i - centre) / kFactor;
    const double sinc = t == 0 ? 1.0 : std::sin(kPi * t) / (kPi * t);
    phases[static_cast<size_t>((i % kFactor) * kTaps + (kTaps - 1 - i / kFactor))] =
        static_cast<float>(sinc * kaiserWindow((i - centre) / (centre + 1), 9.0));
  }
  const float ceiling = static_cast<float>(dbToGain(ceilingDb));
  OverCount result;
  float peak = 0;
  for (long long i = kTaps; i < n; ++i) {
    const float* w = x + i - kTaps;
    // Only where a sample comes within 6 dB of the ceiling can a point exceed it.
    float local = 0;
    for (int k = 0; k < kTaps; ++k) local = std::max(local, std::fabs(w[k]));
    peak = std::max(peak, std::fabs(x[i]));
    if (local < 0.5f * ceiling) continue;
    for (int p = 0; p < kFactor; ++p) {
      const float* c = &phases[static_cast<size_t>(p * kTaps)];
      float acc = 0;
      for (int k = 0; k < kTaps; ++k) acc += c[k] * w[k];
      const float a = std::fabs(acc);
      peak = std::max(peak, a);
      if (a > ceiling) result.overs += 1;
    }
  }
  result.maxDbtp = peak > 0 ? 20.0 * std::log10(peak) : -INFINITY;
  return result;
}

}  // namespace rig
