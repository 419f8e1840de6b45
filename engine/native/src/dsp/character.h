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
  // The chain routes by id; setParam switches on these, which the assert ties to the ids.
  enum Param : int { kBypass, kAir, kAirFreq, kMode, kDrive, kMix, kCount };
  static constexpr std::array<const char*, kCount> kParamIds = {"character.bypass",  "character.air",
                                                                "character.airFreq", "character.mode",
                                                                "character.drive",   "character.mix"};
  static_assert(sameId(kParamIds[kBypass], "character.bypass") && sameId(kParamIds[kAir], "character.air") &&
                    sameId(kParamIds[kAirFreq], "character.airFreq") &&
                    sameId(kParamIds[kMode], "character.mode") &&
                    sameId(kParamIds[kDrive], "character.drive") && sameId(kParamIds[kMix], "character.mix"),
                "each Param enumerator names its id");

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    // 8x at 44.1/48 kHz keeps a full-drive 15 kHz tone's aliases 80 dB down; 4x and 2x at the
    // higher rates reach the same oversampled rate.
    const int stages = sampleRate < 80000 ? 3 : sampleRate < 160000 ? 2 : 1;
    for (int c = 0; c < 2; ++c) {
      oversampler_[c].prepare(sampleRate, stages, maxBlock);
      history_[c].prepare(oversampler_[c]);
    }
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
    // DC blocker for tape's asymmetry: a 2 Hz one-pole high-pass costs 0.04 dB at 20 Hz.
    dcCoeff_ = static_cast<float>(std::exp(-2.0 * kPi * 2.0 / sampleRate));
    bypass_.prepare(sampleRate, latency(), maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case kBypass: bypass_.setBypassed(value >= 0.5); break;
      case kAir: airDb_.setTarget(value); break;
      case kAirFreq: airLogFreq_.setTarget(std::log2(value)); break;
      case kMode:
        mode_ = value >= 0.5 ? 1.0 : 0.0;
        modeFade_.setTarget(mode_);
        break;
      case kDrive: curveGainDb_.setTarget(driveToCurveDb(value)); break;
      case kMix: mix_.setTarget(std::clamp(value / 100.0, 0.0, 1.0)); break;
    }
  }

  void reset() {
    for (LinearSmoother* s : {&airDb_, &airLogFreq_, &curveGainDb_, &mix_, &modeFade_}) s->snap(s->target());
    for (auto& o : oversampler_) o.reset();
    for (auto& a : air_) a.reset();
    designAir();
    dcIn_[0] = dcIn_[1] = dcOut_[0] = dcOut_[1] = 0;
    for (auto& h : history_) h.reset();
    idle_ = false;
    bypass_.reset();
  }

  int latency() const { return oversampler_[0].latency(); }

  void process(float* left, float* right, int n) {
    float* io[2] = {left, right};
    // Always captured: the aligned dry signal is the output when idle and the crossfade's other side.
    bypass_.capture(left, right, n);
    if (bypass_.fullyBypassed() || neutral()) {
      // Nothing to add: the signal only takes the stage's constant delay.
      history_[0].remember(left, n);
      history_[1].remember(right, n);
      bypass_.copyDry(left, right, n);
      idle_ = true;
      return;
    }
    if (idle_) warmUp();
    const bool mixing = !bypass_.fullyActive();
    applyAir(left, right, n);
    const int factor = oversampler_[0].factor();
    // The glides' values at the block's edges; shape() interpolates between them point by point.
    const float start[3] = {static_cast<float>(curveGainDb_.current()), static_cast<float>(mix_.current()),
                            static_cast<float>(modeFade_.current())};
    curveGainDb_.advance(n);
    mix_.advance(n);
    modeFade_.advance(n);
    const float end[3] = {static_cast<float>(curveGainDb_.current()), static_cast<float>(mix_.current()),
                          static_cast<float>(modeFade_.current())};
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
  // Drive 0..24 dB moves the curve's input gain from -24 to about +11 dB: a whisper of
  // harmonics at 0 (tape about 0.4 % THD on a -6 dBFS sine, tube 0.01 %), saturation at 24
  // that still keeps aliases of a full-scale 15 kHz tone 80 dB down at 8x (measured -98 dB).
  static double driveToCurveDb(double driveDb) { return -24.0 + 1.455 * driveDb; }

  void warmUp() {
    idle_ = false;
    // The DC blocker resumes in its steady state for a signal without DC: output = input.
    for (int c = 0; c < 2; ++c) dcIn_[c] = dcOut_[c] = history_[c].warm(oversampler_[c]);
  }

  bool neutral() const {
    return airDb_.current() == 0.0 && !airDb_.ramping() && mix_.current() == 0.0 && !mix_.ramping() &&
           !curveGainDb_.ramping() && bypass_.fullyActive();
  }

  void designAir() {
    const BiquadCoeffs c = designHighShelf(
        sampleRate_, std::min(std::exp2(airLogFreq_.current()), 0.45 * sampleRate_), airDb_.current(), 0.5);
    air_[0].c = air_[1].c = c;
  }

  void applyAir(float* left, float* right, int n) {
    if (airDb_.current() == 0.0 && !airDb_.ramping()) {
      // A flat shelf from rest is exactly the identity; a stale state would not be when air returns.
      air_[0].reset();
      air_[1].reset();
      return;
    }
    for (int startIndex = 0; startIndex < n; startIndex += 16) {
      const int count = std::min(16, n - startIndex);
      if (airDb_.ramping() || airLogFreq_.ramping()) {
        // A new design every 16 samples, the coefficients gliding to it sample by sample: a
        // transposed direct form whose coefficients jump leaves a small step in its state each
        // time, which a sweep would turn into a zipper.
        const BiquadCoeffs from = air_[0].c;
        airDb_.advance(count);
        airLogFreq_.advance(count);
        designAir();
        glideAir(from, air_[0].c, left + startIndex, right + startIndex, count);
        continue;
      }
      for (int i = startIndex; i < startIndex + count; ++i) {
        left[i] = air_[0].process(left[i]);
        right[i] = air_[1].process(right[i]);
      }
    }
  }

  void glideAir(const BiquadCoeffs& from, const BiquadCoeffs& to, float* left, float* right, int n) {
    const float step = 1.0f / static_cast<float>(n);
    const float b0 = static_cast<float>(from.b0), b1 = static_cast<float>(from.b1),
                b2 = static_cast<float>(from.b2), a1 = static_cast<float>(from.a1),
                a2 = static_cast<float>(from.a2);
    const float db0 = (static_cast<float>(to.b0) - b0) * step, db1 = (static_cast<float>(to.b1) - b1) * step,
                db2 = (static_cast<float>(to.b2) - b2) * step;
    const float da1 = (static_cast<float>(to.a1) - a1) * step, da2 = (static_cast<float>(to.a2) - a2) * step;
    float* io[2] = {left, right};
    for (int c = 0; c < 2; ++c) {
      float z1 = air_[c].z1, z2 = air_[c].z2;
      for (int i = 0; i < n; ++i) {
        const float k = static_cast<float>(i + 1);
        const float x = io[c][i];
        const float y = (b0 + k * db0) * x + z1;
        z1 = (b1 + k * db1) * x - (a1 + k * da1) * y + z2;
        z2 = (b2 + k * db2) * x - (a2 + k * da2) * y;
        io[c][i] = y;
      }
      air_[c].z1 = z1;
      air_[c].z2 = z2;
    }
  }

  // The oversampled shaping, in chunks of 64 points. Settled, drive and mix are constants
  // and the loops are branch-free and vectorise. While they glide, every point gets its own
  // drive, mix and mode blend, interpolated linearly between values exact at the chunk edges:
  // stepping them per chunk would put a staircase (a zipper at 6 kHz) on the output.
  struct ShapeParams {
    float drive, inverseDrive, mix, fade;
  };
  static ShapeParams shapeParams(const float* start, const float* end, float t) {
    const float drive = dbToGainF(start[0] + t * (end[0] - start[0]));
    return {drive, 1.0f / drive, start[1] + t * (end[1] - start[1]), start[2] + t * (end[2] - start[2])};
  }
  void shape(float* x, int total, const float* start, const float* end) {
    constexpr int kChunk = 64;
    const TapeShape tape = tape_;
    const bool gliding = start[0] != end[0] || start[1] != end[1] || start[2] != end[2];
    ShapeParams a = shapeParams(start, end, 0.0f);
    for (int begin = 0; begin < total; begin += kChunk) {
      const int count = std::min(kChunk, total - begin);
      float* v = x + begin;
      if (!gliding) {
        const float drive = a.drive, inverseDrive = a.inverseDrive, mix = a.mix;
        if (a.fade >= 1.0f) {
          for (int i = 0; i < count; ++i) v[i] += mix * (tubeCurve(v[i], drive, inverseDrive) - v[i]);
        } else if (a.fade <= 0.0f) {
          for (int i = 0; i < count; ++i) v[i] += mix * (tape(v[i], drive, inverseDrive) - v[i]);
        } else {
          for (int i = 0; i < count; ++i) {
            const float tapeValue = tape(v[i], drive, inverseDrive);
            v[i] += mix * (tapeValue + a.fade * (tubeCurve(v[i], drive, inverseDrive) - tapeValue) - v[i]);
          }
        }
        continue;
      }
      const ShapeParams b =
          shapeParams(start, end, static_cast<float>(begin + count) / static_cast<float>(total));
      const float step = 1.0f / static_cast<float>(count);
      const ShapeParams d = {(b.drive - a.drive) * step, (b.inverseDrive - a.inverseDrive) * step,
                             (b.mix - a.mix) * step, (b.fade - a.fade) * step};
      for (int i = 0; i < count; ++i) {
        const float k = static_cast<float>(i + 1);
        const float drive = a.drive + k * d.drive, inverseDrive = a.inverseDrive + k * d.inverseDrive;
        const float tapeValue = tape(v[i], drive, inverseDrive);
        const float wet =
            tapeValue + (a.fade + k * d.fade) * (tubeCurve(v[i], drive, inverseDrive) - tapeValue);
        v[i] += (a.mix + k * d.mix) * (wet - v[i]);
      }
      a = b;
    }
  }

  double sampleRate_ = 48000;
  Oversampler oversampler_[2];
  Biquad air_[2];
  LinearSmoother airDb_, airLogFreq_, curveGainDb_, mix_, modeFade_;
  TapeShape tape_;
  double mode_ = 0.0;
  float dcCoeff_ = 0.999f, dcIn_[2] = {0, 0}, dcOut_[2] = {0, 0};
  bool idle_ = false;
  OversamplerHistory history_[2];
  BypassCrossfade bypass_;
};

}  // namespace rig
