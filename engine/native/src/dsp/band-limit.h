// Linear-phase low-pass that keeps a signal clear of the band just below Nyquist. Content at
// 22-24 kHz (clipped noise, square waves at 48 kHz) has intersample peaks that only very long
// interpolators see; removing it before the limiter lets a short 4x detector read true peaks
// reliably, so the ceiling holds for an independent long-kernel meter too. Passband to 20 kHz
// (or 0.42 fs at low rates), stopband from Nyquist, Kaiser-windowed sinc.
#pragma once

#include <vector>

#include "common.h"
#include "true-peak.h"

namespace rig {

class BandLimiter {
 public:
  void prepare(double sampleRate, int maxBlock) {
    const double nyquist = sampleRate / 2;
    const double passband = std::min(20000.0, 0.42 * sampleRate);
    active_ = nyquist - passband > 0;
    // Kaiser estimate for 60 dB: N = (A - 8) / (2.285 * transition in rad/sample).
    // Stopband from 60 % of the way to Nyquist: what is left between there and Nyquist is what
    // short interpolators misread, so it must go, not just be tapered.
    const double stopband = passband + 0.6 * (nyquist - passband);
    const double transition = 2.0 * kPi * (stopband - passband) / sampleRate;
    int taps = static_cast<int>(std::ceil(52.0 / (2.285 * transition))) | 1;
    taps = std::clamp(taps, 15, 511);
    half_ = taps / 2;
    const double cutoff = (passband + stopband) / 2 / sampleRate;  // cycles per sample
    coeffs_.assign(static_cast<size_t>(half_ + 1), 0.0f);
    double sum = 0;
    for (int k = -half_; k <= half_; ++k) {
      const double sinc = k == 0 ? 2 * cutoff : std::sin(2 * kPi * cutoff * k) / (kPi * k);
      const double h = sinc * kaiserWindow(static_cast<double>(k) / (half_ + 1), 5.65);  // beta for ~60 dB
      if (k >= 0) coeffs_[static_cast<size_t>(k)] = static_cast<float>(h);
      sum += h;
    }
    for (float& c : coeffs_) c = static_cast<float>(c / sum);
    history_.assign(static_cast<size_t>(4 * (2 * half_ + 1)), 0.0f);
    // Block form: the kernel over a buffer of [previous taps-1 | block].
    const int length = 2 * half_ + 1;
    block_.assign(static_cast<size_t>(length - 1 + maxBlock + kGroup), 0.0f);
    reset();
  }

  // Filters n <= maxBlock samples. Register-blocked over 32 outputs: the accumulators stay in
  // registers across all taps (accumulating into memory made every tap a load and a store per
  // output, which bound the loop on stores), and each coefficient serves its symmetric pair.
  void processBlock(const float* in, float* out, int n) {
    const int length = 2 * half_ + 1;
    float* buffer = block_.data();
    std::copy(in, in + n, buffer + length - 1);
    // A last partial group reads past n into stale samples; its extra outputs are dropped.
    const float* c = coeffs_.data();
    int i0 = 0;
    for (; i0 + kGroup <= n; i0 += kGroup) filterGroup(buffer + i0, c, out + i0);
    if (i0 < n) {
      float tail[kGroup];
      filterGroup(buffer + i0, c, tail);
      std::copy(tail, tail + (n - i0), out + i0);
    }
    std::copy(buffer + n, buffer + n + length - 1, buffer);
  }
  void reset() {
    std::fill(history_.begin(), history_.end(), 0.0f);
    std::fill(block_.begin(), block_.end(), 0.0f);
    pos_ = 0;
  }
  int latency() const { return half_; }

  float process(float x) {
    const int length = 2 * half_ + 1;
    history_[static_cast<size_t>(pos_)] = x;
    history_[static_cast<size_t>(pos_ + length)] = x;
    pos_ = pos_ + 1 == length ? 0 : pos_ + 1;
    const float* w = &history_[static_cast<size_t>(pos_)];  // oldest .. newest, contiguous
    // Four partial sums break the add-latency chain (see true-peak.h).
    float acc[4] = {coeffs_[0] * w[half_], 0.0f, 0.0f, 0.0f};
    int k = 1;
    for (; k + 3 <= half_; k += 4)
      for (int u = 0; u < 4; ++u)
        acc[u] += coeffs_[static_cast<size_t>(k + u)] * (w[half_ - k - u] + w[half_ + k + u]);
    for (; k <= half_; ++k) acc[0] += coeffs_[static_cast<size_t>(k)] * (w[half_ - k] + w[half_ + k]);
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }

 private:
  static constexpr int kGroup = 32;
  // out[0..32) = h0 x[half + i] + sum_k h_k (x[half - k + i] + x[half + k + i]).
  void filterGroup(const float* x, const float* c, float* out) const {
    const float* centre = x + half_;
    Float8 acc[4];
    for (int v = 0; v < 4; ++v) acc[v] = c[0] * loadFloat8(centre + 8 * v);
    for (int k = 1; k <= half_; ++k) {
      const float h = c[k];
      const float* a = centre - k;
      const float* b = centre + k;
      for (int v = 0; v < 4; ++v) acc[v] += h * (loadFloat8(a + 8 * v) + loadFloat8(b + 8 * v));
    }
    std::memcpy(out, acc, sizeof acc);
  }

  std::vector<float> coeffs_, history_, block_;
  int half_ = 0, pos_ = 0;
  bool active_ = true;
};

}  // namespace rig
