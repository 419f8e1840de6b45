// What a meter must not read raw: NaN, infinities and floats far past full scale. The guard
// hands a meter what the live chain plays (chain.cpp's input stage): non-finite samples as
// silence, finite ones clamped at +-kClamp. It counts both, so a report can say what it repaired.
// The caller's samples are never written; a block that needs repair is copied first.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace rig {

class InputGuard {
 public:
  // +30 dBFS, chain.cpp's kInputClamp: beyond it a signal is a broken upstream, not audio.
  static constexpr float kClamp = 31.6f;

  void prepare(int maxBlock) {
    for (Channel& c : channels_) c.repaired.assign(static_cast<size_t>(std::max(1, maxBlock)), 0.0f);
    reset();
  }

  void reset() {
    for (Channel& c : channels_) c.nonFinite = c.clamped = 0;
  }

  // Points `left` and `right` at samples safe to measure: the caller's own when the block is
  // in range (the usual case, one vectorised scan per channel), else the repaired copies.
  // n must not exceed prepare's maxBlock.
  void guard(const float*& left, const float*& right, int n) {
    left = channels_[0].guard(left, n);
    right = channels_[1].guard(right, n);
  }

  // Per channel (0 left, 1 right), since prepare or reset.
  double nonFinite(int channel) const { return static_cast<double>(channels_[channel].nonFinite); }
  double clamped(int channel) const { return static_cast<double>(channels_[channel].clamped); }

 private:
  static constexpr float kMaxFinite = std::numeric_limits<float>::max();

  struct Channel {
    std::vector<float> repaired;
    long long nonFinite = 0;  // NaN or +-Infinity, measured as 0
    long long clamped = 0;    // finite beyond +-kClamp, measured at +-kClamp

    const float* guard(const float* x, int n) {
      // Branch-free so it vectorises: NaN fails every comparison, as do the infinities and
      // anything past the clamp.
      int outside = 0;
      for (int i = 0; i < n; ++i) outside |= static_cast<int>(!(std::fabs(x[i]) <= kClamp));
      if (!outside) return x;
      long long bad = 0, over = 0;
      for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        const bool finite = a <= kMaxFinite;
        bad += static_cast<int>(!finite);
        over += static_cast<int>(finite && a > kClamp);
        repaired[static_cast<size_t>(i)] = finite ? std::clamp(x[i], -kClamp, kClamp) : 0.0f;
      }
      nonFinite += bad;
      clamped += over;
      return repaired.data();
    }
  };

  Channel channels_[2];
};

}  // namespace rig
