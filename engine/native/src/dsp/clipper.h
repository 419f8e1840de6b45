// Soft clipper ahead of the limiter: shaves the fastest peaks (a snare's first millisecond) so
// the limiter has less to do, the way engineers get loudness from "a little clipping". Drive
// raises the signal into a curve that is linear up to `knee` dB under the threshold and then
// bends smoothly (tanh) towards the threshold; 0 dB knee is a hard clip. The threshold is the
// limiter's ceiling, so at full mix the clipper alone never reaches above it (its aliasing
// aside). Run 4x oversampled (at 44.1/48 kHz; 2x and 1x at higher rates reach the same rate):
// the harmonics a clip makes above Nyquist are filtered instead of folding back.
#pragma once

#include <array>
#include <cmath>
#include <vector>

#include "common.h"
#include "oversampler.h"

namespace rig {

class Clipper {
 public:
  // The chain routes by id; setParam switches on these, which the assert ties to the ids.
  enum Param : int { kBypass, kDrive, kKnee, kMix, kCount };
  static constexpr std::array<const char*, kCount> kParamIds = {"clipper.bypass", "clipper.drive",
                                                                "clipper.knee", "clipper.mix"};
  static_assert(sameId(kParamIds[kBypass], "clipper.bypass") && sameId(kParamIds[kDrive], "clipper.drive") &&
                    sameId(kParamIds[kKnee], "clipper.knee") && sameId(kParamIds[kMix], "clipper.mix"),
                "each Param enumerator names its id");

  void prepare(double sampleRate, int maxBlock) {
    const int stages = sampleRate < 80000 ? 2 : 1;
    for (int c = 0; c < 2; ++c) {
      oversampler_[c].prepare(sampleRate, stages, maxBlock);
      history_[c].prepare(oversampler_[c]);
    }
    drive_.prepare(sampleRate, 20.0);
    knee_.prepare(sampleRate, 20.0);
    mix_.prepare(sampleRate, 20.0);
    threshold_.prepare(sampleRate, 20.0);
    bypass_.prepare(sampleRate, latency(), maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case kBypass: bypass_.setBypassed(value >= 0.5); break;
      case kDrive: drive_.setTarget(dbToGain(value)); break;
      case kKnee: knee_.setTarget(dbToGain(-std::max(0.0, value))); break;
      case kMix: mix_.setTarget(std::clamp(value / 100.0, 0.0, 1.0)); break;
    }
  }
  // The limiter's ceiling in dBTP (the chain forwards it).
  void setThresholdDb(double db) { threshold_.setTarget(dbToGain(db)); }

  void reset() {
    for (LinearSmoother* s : {&drive_, &knee_, &mix_, &threshold_}) s->snap(s->target());
    for (auto& o : oversampler_) o.reset();
    for (auto& h : history_) h.reset();
    bypass_.reset();
    grDb_ = 0;
    idle_ = false;
  }

  int latency() const { return oversampler_[0].latency(); }
  // Deepest reduction of this block, in dB (positive = reducing).
  float gainReductionDb() const { return grDb_; }

  void process(float* left, float* right, int n) {
    float* io[2] = {left, right};
    bypass_.capture(left, right, n);
    if (bypass_.fullyBypassed()) {
      history_[0].remember(left, n);
      history_[1].remember(right, n);
      bypass_.copyDry(left, right, n);
      idle_ = true;
      grDb_ = 0;
      return;
    }
    if (idle_) {
      for (int c = 0; c < 2; ++c) history_[c].warm(oversampler_[c]);
      idle_ = false;
    }
    const int factor = oversampler_[0].factor();
    const int total = n * factor;
    // Glides interpolated across the oversampled block from their values at its edges.
    const float start[4] = {static_cast<float>(drive_.current()), static_cast<float>(knee_.current()),
                            static_cast<float>(mix_.current()), static_cast<float>(threshold_.current())};
    for (LinearSmoother* s : {&drive_, &knee_, &mix_, &threshold_}) s->advance(n);
    const float end[4] = {static_cast<float>(drive_.current()), static_cast<float>(knee_.current()),
                          static_cast<float>(mix_.current()), static_cast<float>(threshold_.current())};
    float worstRatio = 1.0f;
    for (int c = 0; c < 2; ++c) {
      float* up = oversampler_[c].up(io[c], n);
      for (int i = 0; i < total; ++i) {
        const float t = static_cast<float>(i + 1) / static_cast<float>(total);
        const float drive = start[0] + t * (end[0] - start[0]);
        const float knee = start[1] + t * (end[1] - start[1]);
        const float mix = start[2] + t * (end[2] - start[2]);
        const float threshold = start[3] + t * (end[3] - start[3]);
        const float x = up[i] * drive;
        const float magnitude = std::fabs(x);
        const float linearUpTo = threshold * knee;
        float y = x;
        if (magnitude > linearUpTo) {
          const float room = threshold - linearUpTo;
          const float bent =
              room > 1e-9f ? linearUpTo + room * std::tanh((magnitude - linearUpTo) / room) : threshold;
          y = std::copysign(bent, x);
          worstRatio = std::min(worstRatio, bent / magnitude);
        }
        up[i] = x + mix * (y - x);
      }
      oversampler_[c].down(up, n, io[c]);
    }
    grDb_ = worstRatio < 1.0f ? static_cast<float>(-20.0 * std::log10(worstRatio)) : 0.0f;
    if (!bypass_.fullyActive()) bypass_.mix(left, right, n);
  }

 private:
  Oversampler oversampler_[2];
  OversamplerHistory history_[2];
  LinearSmoother drive_, knee_, mix_, threshold_;
  BypassCrossfade bypass_;
  float grDb_ = 0;
  bool idle_ = false;
};

}  // namespace rig
