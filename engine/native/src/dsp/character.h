// Character: an "air" high-shelf lift and harmonic saturation (tape: even-dominant, tube:
// odd-dominant) run 8x oversampled. Dry and saturated signals are mixed in the oversampled
// domain, so mix never comb-filters; the stage's latency is the oversampler's, padded to whole
// samples.
#pragma once

#include <array>
#include <vector>

#include "biquad.h"
#include "common.h"
#include "oversampler.h"
#include "saturation.h"

namespace rig {

class Character {
 public:
  static constexpr std::array<const char*, 6> kParamIds = {
      "character.bypass", "character.air", "character.airFreq", "character.mode", "character.drive", "character.mix"};

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    // 8x at 44.1/48 kHz keeps a full-drive 15 kHz tone's aliases 80 dB down; 4x and 2x at the
    // higher rates reach the same oversampled rate.
    const int stages = sampleRate < 80000 ? 3 : sampleRate < 160000 ? 2 : 1;
    for (auto& o : oversampler_) o.prepare(sampleRate, stages, maxBlock);
    airDb_.prepare(sampleRate, 30.0);
    airLogFreq_.prepare(sampleRate, 30.0);
    curveGainDb_.prepare(sampleRate, 30.0);
    mix_.prepare(sampleRate, 30.0);
    modeFade_.prepare(sampleRate, 20.0);
    airDb_.snap(0.0);
    airLogFreq_.snap(std::log2(12000.0));
    curveGainDb_.snap(driveToCurveDb(0.0));
    mix_.snap(0.0);
    modeFade_.snap(mode_);
    // DC blocker for tape's asymmetry: 5 Hz one-pole high-pass, far below anything musical.
    dcCoeff_ = static_cast<float>(std::exp(-2.0 * kPi * 5.0 / sampleRate));
    bypass_.prepare(sampleRate, latency(), maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case 0: bypass_.setBypassed(value >= 0.5); break;
      case 1: airDb_.setTarget(value); break;
      case 2: airLogFreq_.setTarget(std::log2(value)); break;
      case 3:
        mode_ = value >= 0.5 ? 1.0 : 0.0;
        modeFade_.setTarget(mode_);
        break;
      case 4: curveGainDb_.setTarget(driveToCurveDb(value)); break;
      case 5: mix_.setTarget(std::clamp(value / 100.0, 0.0, 1.0)); break;
    }
  }

  void reset() {
    for (LinearSmoother* s : {&airDb_, &airLogFreq_, &curveGainDb_, &mix_, &modeFade_}) s->snap(s->target());
    for (auto& o : oversampler_) o.reset();
    for (auto& a : air_) a.reset();
    designAir();
    dcIn_[0] = dcIn_[1] = dcOut_[0] = dcOut_[1] = 0;
    bypass_.reset();
  }

  int latency() const { return oversampler_[0].latency(); }

  void process(float* left, float* right, int n) {
    float* io[2] = {left, right};
    // Always captured: the aligned dry signal is the output when idle and the crossfade's other side.
    bypass_.capture(left, right, n);
    if (bypass_.fullyBypassed() || neutral()) {
      // Nothing to add: the signal only takes the stage's constant delay.
      bypass_.copyDry(left, right, n);
      idle_ = true;
      return;
    }
    if (idle_) {
      // Coming back from pass-through: the oversampler starts from silence; the parameter
      // glides that ended the neutral state fade it in.
      idle_ = false;
      for (auto& o : oversampler_) o.reset();
    }
    const bool mixing = !bypass_.fullyActive();
    applyAir(left, right, n);
    const int factor = oversampler_[0].factor();
    // Parameters move once per base-rate block here; their 30 ms glides make that click-free.
    const float start[3] = {static_cast<float>(curveGainDb_.current()), static_cast<float>(mix_.current()), static_cast<float>(modeFade_.current())};
    curveGainDb_.advance(n);
    mix_.advance(n);
    modeFade_.advance(n);
    const float end[3] = {static_cast<float>(curveGainDb_.current()), static_cast<float>(mix_.current()), static_cast<float>(modeFade_.current())};
    const int total = n * factor;
    for (int c = 0; c < 2; ++c) {
      float* up = oversampler_[c].up(io[c], n);
      shape(up, total, start, end);
      oversampler_[c].down(up, n, io[c]);
      // The tape curve's asymmetry leaves DC behind; block it.
      float in = dcIn_[c], out = dcOut_[c];
      for (int i = 0; i < n; ++i) {
        const float x = io[c][i];
        out = x - in + dcCoeff_ * out;
        in = x;
        io[c][i] = out;
      }
      dcIn_[c] = in;
      dcOut_[c] = out;
    }
    if (mixing) bypass_.mix(left, right, n);
  }

 private:
  // Drive 0..24 dB moves the curve's input gain from -12 to about +11 dB: a whisper of
  // harmonics at 0, saturation at 24 that still keeps aliases of a 15 kHz tone 80 dB down at 8x.
  static double driveToCurveDb(double driveDb) { return -12.0 + 0.955 * driveDb; }

  bool neutral() const {
    return airDb_.current() == 0.0 && !airDb_.ramping() && mix_.current() == 0.0 && !mix_.ramping() && !curveGainDb_.ramping() && bypass_.fullyActive();
  }

  void designAir() {
    const BiquadCoeffs c = designHighShelf(sampleRate_, std::min(std::exp2(airLogFreq_.current()), 0.45 * sampleRate_), airDb_.current(), 0.5);
    air_[0].c = air_[1].c = c;
  }

  void applyAir(float* left, float* right, int n) {
    if (airDb_.current() == 0.0 && !airDb_.ramping()) return;
    for (int startIndex = 0; startIndex < n; startIndex += 16) {
      const int count = std::min(16, n - startIndex);
      if (airDb_.ramping() || airLogFreq_.ramping()) {
        airDb_.advance(count);
        airLogFreq_.advance(count);
        designAir();
      }
      for (int i = startIndex; i < startIndex + count; ++i) {
        left[i] = air_[0].process(left[i]);
        right[i] = air_[1].process(right[i]);
      }
    }
  }

  // The oversampled shaping, in chunks of 64 points: drive and mix step per chunk (a glide is
  // 30 ms, so steps of 64 points at 384 kHz are far finer than audible), the inner loops are
  // branch-free and vectorise.
  void shape(float* x, int total, const float* start, const float* end) {
    constexpr int kChunk = 64;
    for (int begin = 0; begin < total; begin += kChunk) {
      const int count = std::min(kChunk, total - begin);
      const float t = (begin + 0.5f * count) / static_cast<float>(total);
      const float drive = dbToGainF(start[0] + t * (end[0] - start[0]));
      const float mix = start[1] + t * (end[1] - start[1]);
      const float fade = start[2] + t * (end[2] - start[2]);
      float* v = x + begin;
      tape_.set(drive);
      const TapeCurve tape = tape_;
      const float inverseDrive = 1.0f / drive;
      if (fade >= 1.0f) {
        for (int i = 0; i < count; ++i) v[i] += mix * (padeTanh(drive * v[i]) * inverseDrive - v[i]);
      } else if (fade <= 0.0f) {
        for (int i = 0; i < count; ++i) v[i] += mix * (tape(v[i]) - v[i]);
      } else {
        for (int i = 0; i < count; ++i) {
          const float tapeValue = tape(v[i]);
          const float wet = tapeValue + fade * (padeTanh(drive * v[i]) * inverseDrive - tapeValue);
          v[i] += mix * (wet - v[i]);
        }
      }
    }
  }

  double sampleRate_ = 48000;
  Oversampler oversampler_[2];
  Biquad air_[2];
  LinearSmoother airDb_, airLogFreq_, curveGainDb_, mix_, modeFade_;
  TapeCurve tape_;
  double mode_ = 0.0;
  float dcCoeff_ = 0.999f, dcIn_[2] = {0, 0}, dcOut_[2] = {0, 0};
  bool idle_ = false;
  BypassCrossfade bypass_;
};

}  // namespace rig
