// Stereo image in mid/side: width (side gain), mid/side balance, and bass mono below a
// crossover. Bass mono removes the side signal's low band with a 4th-order Linkwitz-Riley
// crossover and passes the mid through the same crossover's all-pass (LP + HP), so mid and side
// keep one phase response and L/R stay coherent: the summed magnitude is flat.
#pragma once

#include <array>
#include <vector>

#include "biquad.h"
#include "common.h"

namespace rig {

class StereoImage {
 public:
  // The chain routes by id; setParam switches on these, which the assert ties to the ids.
  enum Param : int { kBypass, kWidth, kBassMonoOn, kBassMonoFreq, kBalance, kCount };
  static constexpr std::array<const char*, kCount> kParamIds = {
      "image.bypass", "image.width", "image.bassMono.on", "image.bassMono.freq", "image.balance"};
  static_assert(sameId(kParamIds[kBypass], "image.bypass") && sameId(kParamIds[kWidth], "image.width") &&
                    sameId(kParamIds[kBassMonoOn], "image.bassMono.on") &&
                    sameId(kParamIds[kBassMonoFreq], "image.bassMono.freq") &&
                    sameId(kParamIds[kBalance], "image.balance"),
                "each Param enumerator names its id");

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    width_.prepare(sampleRate, 20.0);
    balance_.prepare(sampleRate, 20.0);
    monoAmount_.prepare(sampleRate, 30.0);
    crossoverLog_.prepare(sampleRate, 30.0);
    // Neutral until the schema's values arrive.
    width_.snap(1.0);
    balance_.snap(0.0);
    monoAmount_.snap(0.0);
    crossoverLog_.snap(std::log2(120.0));
    bypass_.prepare(sampleRate, 0, maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case kBypass: bypass_.setBypassed(value >= 0.5); break;
      case kWidth: width_.setTarget(value / 100.0); break;
      case kBassMonoOn: monoAmount_.setTarget(value >= 0.5 ? 1.0 : 0.0); break;
      case kBassMonoFreq: crossoverLog_.setTarget(std::log2(value)); break;
      case kBalance: balance_.setTarget(value / 100.0); break;
    }
  }

  void reset() {
    for (LinearSmoother* s : {&width_, &balance_, &monoAmount_, &crossoverLog_}) s->snap(s->target());
    design();
    for (auto& f : filters_) f.reset();
    bypass_.reset();
  }

  int latency() const { return 0; }

  void process(float* left, float* right, int n) {
    if (bypass_.fullyBypassed() || neutral()) return;
    const bool mixing = !bypass_.fullyActive();
    if (mixing) bypass_.capture(left, right, n);
    const bool crossoverActive = monoAmount_.current() > 0 || monoAmount_.ramping();
    for (int start = 0; start < n; start += 16) {
      const int count = std::min(16, n - start);
      if (crossoverLog_.ramping()) {
        crossoverLog_.advance(count);
        design();
      }
      for (int i = start; i < start + count; ++i) {
        float mid = 0.5f * (left[i] + right[i]);
        float side = 0.5f * (left[i] - right[i]);
        const float width = static_cast<float>(width_.next());
        const float balance = static_cast<float>(balance_.next());
        const float mono = static_cast<float>(monoAmount_.next());
        if (crossoverActive) {
          // LR4 = two cascaded Butterworth 2nd-order sections per branch.
          const float midLow = filters_[1].process(filters_[0].process(mid));
          const float midHigh = filters_[3].process(filters_[2].process(mid));
          const float sideLow = filters_[5].process(filters_[4].process(side));
          const float sideHigh = filters_[7].process(filters_[6].process(side));
          // Side keeps only its high band; the mid gets the matching all-pass. Both fade in together
          // while switching.
          (void)sideLow;
          mid = mid + mono * ((midLow + midHigh) - mid);
          side = side + mono * (sideHigh - side);
        }
        // Balance tilts mid against side by up to +-6 dB: a gentle trim, not a second width knob.
        const float balanceGain = dbToGainF(6.0f * balance);
        side *= width * balanceGain;
        mid *= 1.0f / balanceGain;
        left[i] = mid + side;
        right[i] = mid - side;
      }
    }
    if (mixing) bypass_.mix(left, right, n);
  }

 private:
  // Width 100 %, balance centred, bass mono off and nothing gliding: bit-exact pass-through.
  bool neutral() const {
    return !width_.ramping() && !balance_.ramping() && !monoAmount_.ramping() && width_.current() == 1.0 &&
           balance_.current() == 0.0 && monoAmount_.current() == 0.0 && bypass_.fullyActive();
  }

  void design() {
    const double freq = std::exp2(crossoverLog_.current());
    const BiquadCoeffs low = designLowPass(sampleRate_, freq, 0.7071068);
    const BiquadCoeffs high = designHighPass(sampleRate_, freq, 0.7071068);
    for (int branch = 0; branch < 2; ++branch) {
      filters_[4 * branch + 0].c = filters_[4 * branch + 1].c = low;
      filters_[4 * branch + 2].c = filters_[4 * branch + 3].c = high;
    }
  }

  double sampleRate_ = 48000;
  LinearSmoother width_, balance_, monoAmount_, crossoverLog_;
  Biquad filters_[8];
  BypassCrossfade bypass_;
};

}  // namespace rig
