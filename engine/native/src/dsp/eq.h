// Corrective EQ: high-pass (12/24 dB/oct), low shelf, three bells, high shelf, low-pass; each
// band on stereo, mid or side. Continuous parameters glide (frequency in octaves, gain in dB,
// Q in octaves of Q) with coefficients redesigned every 16 samples while gliding; switching a
// band's slope or channels crossfades between the old and the new band over 20 ms.
#pragma once

#include <array>
#include <vector>

#include "biquad.h"
#include "common.h"

namespace rig {

class Eq {
 public:
  // The chain routes by id; setParam decodes these. Between the passes, each shaped band (low
  // shelf, three bells, high shelf) takes kBandFields consecutive ids in BandField order.
  enum BandField : int { kFreq, kGain, kQ, kMode, kBandFields };
  enum PassField : int { kPassSlope, kPassFreq, kPassMode };
  static constexpr int kShapedBands = 5;
  enum Param : int {
    kBypass,
    kHpSlope,
    kHpFreq,
    kHpMode,
    kFirstShapedBand,
    kLpSlope = kFirstShapedBand + kShapedBands * kBandFields,
    kLpFreq,
    kLpMode,
    kCount
  };
  static constexpr std::array<const char*, kCount> kParamIds = {
      "eq.bypass",         "eq.hp.slope",       "eq.hp.freq",       "eq.hp.mode",        "eq.lowShelf.freq",
      "eq.lowShelf.gain",  "eq.lowShelf.q",     "eq.lowShelf.mode", "eq.bell1.freq",     "eq.bell1.gain",
      "eq.bell1.q",        "eq.bell1.mode",     "eq.bell2.freq",    "eq.bell2.gain",     "eq.bell2.q",
      "eq.bell2.mode",     "eq.bell3.freq",     "eq.bell3.gain",    "eq.bell3.q",        "eq.bell3.mode",
      "eq.highShelf.freq", "eq.highShelf.gain", "eq.highShelf.q",   "eq.highShelf.mode", "eq.lp.slope",
      "eq.lp.freq",        "eq.lp.mode"};
  static_assert(sameId(kParamIds[kHpSlope], "eq.hp.slope") && sameId(kParamIds[kHpMode], "eq.hp.mode") &&
                    sameId(kParamIds[kFirstShapedBand + kFreq], "eq.lowShelf.freq") &&
                    sameId(kParamIds[kFirstShapedBand + kMode], "eq.lowShelf.mode") &&
                    sameId(kParamIds[kFirstShapedBand + kBandFields + kGain], "eq.bell1.gain") &&
                    sameId(kParamIds[kLpSlope - kBandFields + kQ], "eq.highShelf.q") &&
                    sameId(kParamIds[kLpSlope], "eq.lp.slope") && sameId(kParamIds[kLpMode], "eq.lp.mode"),
                "the Param layout matches the ids");

  Eq() {
    const Type types[kBands] = {Type::kHighPass, Type::kLowShelf,  Type::kBell,   Type::kBell,
                                Type::kBell,     Type::kHighShelf, Type::kLowPass};
    const double freqs[kBands] = {30, 100, 200, 1000, 5000, 8000, 20000};
    const double qs[kBands] = {0.707, 0.707, 1, 1, 1, 0.707, 0.707};
    for (int b = 0; b < kBands; ++b) {
      bands_[b].type = types[b];
      bands_[b].freqTarget = freqs[b];
      bands_[b].qTarget = qs[b];
    }
  }

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    for (Band& band : bands_) {
      band.logFreq.prepare(sampleRate, kGlideMs);
      band.gainDb.prepare(sampleRate, kGlideMs);
      band.logQ.prepare(sampleRate, kGlideMs);
      band.fade.prepare(sampleRate, kFadeMs);
      band.logFreq.snap(std::log2(band.freqTarget));
      band.gainDb.snap(band.gainTarget);
      band.logQ.snap(std::log2(band.qTarget));
      band.fade.snap(1.0);
      band.current = band.pending;
      design(band, band.current);
    }
    bypass_.prepare(sampleRate, 0, maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    if (local == kBypass) return bypass_.setBypassed(value >= 0.5);
    if (local <= kHpMode) return setFilterParam(bands_[0], local - kHpSlope, value);
    if (local >= kLpSlope) return setFilterParam(bands_[kBands - 1], local - kLpSlope, value);
    const int shaped = local - kFirstShapedBand;
    Band& band = bands_[1 + shaped / kBandFields];
    switch (shaped % kBandFields) {
      case kFreq:
        band.freqTarget = value;
        band.logFreq.setTarget(std::log2(value));
        break;
      case kGain:
        band.gainTarget = value;
        band.gainDb.setTarget(value);
        break;
      case kQ:
        band.qTarget = value;
        band.logQ.setTarget(std::log2(value));
        break;
      case kMode: switchConfig(band, {band.pending.slope, static_cast<int>(value)}); break;
    }
  }

  // Clears the filters and lands every parameter on its target: values set before a reset are
  // a starting point, not a change to glide through.
  void reset() {
    for (Band& band : bands_) {
      band.logFreq.snap(band.logFreq.target());
      band.gainDb.snap(band.gainDb.target());
      band.logQ.snap(band.logQ.target());
      band.fade.snap(1.0);
      band.current = band.pending;
      design(band, band.current);
      for (auto& set : band.sections)
        for (auto& section : set)
          for (Biquad& q : section) q.reset();
    }
    bypass_.reset();
  }

  int latency() const { return 0; }

  void process(float* left, float* right, int n) {
    if (bypass_.fullyBypassed()) return;
    const bool mixing = !bypass_.fullyActive();
    if (mixing) bypass_.capture(left, right, n);
    for (Band& band : bands_) {
      if (!band.audible()) continue;
      for (int start = 0; start < n; start += kSubBlock) {
        const int count = std::min(kSubBlock, n - start);
        if (band.gliding()) {
          band.logFreq.advance(count);
          band.gainDb.advance(count);
          band.logQ.advance(count);
          design(band, band.current);
        }
        processBand(band, left + start, right + start, count);
      }
    }
    if (mixing) bypass_.mix(left, right, n);
  }

 private:
  static constexpr int kBands = kShapedBands + 2;
  static constexpr int kSubBlock = 16;
  static constexpr double kGlideMs = 30.0;  // fast enough to feel direct, slow enough not to zip
  static constexpr double kFadeMs = 20.0;

  enum class Type { kHighPass, kLowShelf, kBell, kHighShelf, kLowPass };
  enum Mode { kStereo = 0, kMid = 1, kSide = 2 };

  struct Config {
    int slope = 1;  // high/low-pass: 0 off, 1 = 12 dB/oct, 2 = 24 dB/oct; bells and shelves: 1
    int mode = kStereo;
  };

  struct Band {
    Type type = Type::kBell;
    double freqTarget = 1000, gainTarget = 0, qTarget = 1;
    LinearSmoother logFreq, gainDb, logQ, fade;
    Config current, pending, previous;
    // [0] the band as configured now, [1] the band before a switch, while fading out;
    // each: up to two sections x two channels (mid/side modes use channel 0).
    Biquad sections[2][2][2];
    int sectionCount[2] = {1, 1};

    bool isPass() const { return type == Type::kHighPass || type == Type::kLowPass; }
    bool gliding() const { return logFreq.ramping() || gainDb.ramping() || logQ.ramping(); }
    bool fading() const { return fade.ramping(); }
    bool audible() const {
      if (fading() || gliding()) return true;
      return isPass() ? current.slope > 0 : gainDb.current() != 0.0;
    }
  };

  void setFilterParam(Band& band, int which, double value) {
    switch (which) {
      case kPassSlope: switchConfig(band, {static_cast<int>(value), band.pending.mode}); break;
      case kPassFreq:
        band.freqTarget = value;
        band.logFreq.setTarget(std::log2(value));
        break;
      case kPassMode: switchConfig(band, {band.pending.slope, static_cast<int>(value)}); break;
    }
  }

  // A discrete change: the band as it was keeps running and fades out while the new one fades in.
  void switchConfig(Band& band, Config config) {
    if (band.isPass())
      config.slope = std::clamp(config.slope, 0, 2);
    else
      config.slope = 1;
    config.mode = std::clamp(config.mode, 0, 2);
    band.pending = config;
    if (config.slope == band.current.slope && config.mode == band.current.mode) return;
    band.previous = band.current;
    for (int s = 0; s < 2; ++s)
      for (int c = 0; c < 2; ++c) band.sections[1][s][c] = band.sections[0][s][c];
    band.sectionCount[1] = band.sectionCount[0];
    band.current = config;
    design(band, band.current);
    for (int s = 0; s < 2; ++s)
      for (int c = 0; c < 2; ++c) band.sections[0][s][c].reset();
    band.fade.snap(0.0);
    band.fade.setTarget(1.0);
  }

  void design(Band& band, const Config& config) {
    const double freq = std::min(std::exp2(band.logFreq.current()), 0.499 * sampleRate_);
    const double q = std::exp2(band.logQ.current());
    BiquadCoeffs coeffs[2];
    int count = 1;
    switch (band.type) {
      case Type::kBell: coeffs[0] = designBell(sampleRate_, freq, band.gainDb.current(), q); break;
      case Type::kLowShelf: coeffs[0] = designLowShelf(sampleRate_, freq, band.gainDb.current(), q); break;
      case Type::kHighShelf: coeffs[0] = designHighShelf(sampleRate_, freq, band.gainDb.current(), q); break;
      case Type::kHighPass:
      case Type::kLowPass: {
        // Butterworth: one section at Q 0.7071 (12 dB/oct), or 0.5412 and 1.3066 (24 dB/oct).
        const bool high = band.type == Type::kHighPass;
        if (config.slope == 2) {
          count = 2;
          coeffs[0] = high ? designHighPass(sampleRate_, freq, 0.5411961)
                           : designLowPass(sampleRate_, freq, 0.5411961);
          coeffs[1] = high ? designHighPass(sampleRate_, freq, 1.3065630)
                           : designLowPass(sampleRate_, freq, 1.3065630);
        } else {
          coeffs[0] = high ? designHighPass(sampleRate_, freq, 0.7071068)
                           : designLowPass(sampleRate_, freq, 0.7071068);
        }
        break;
      }
    }
    band.sectionCount[0] = count;
    for (int s = 0; s < count; ++s)
      for (int c = 0; c < 2; ++c) band.sections[0][s][c].c = coeffs[s];
  }

  // One configuration of a band over a block, in place.
  static void runConfig(Biquad (&sections)[2][2], int count, const Config& config, float* left, float* right,
                        int n) {
    if (config.slope == 0) return;
    for (int i = 0; i < n; ++i) {
      float l = left[i], r = right[i];
      if (config.mode == kStereo) {
        for (int s = 0; s < count; ++s) {
          l = sections[s][0].process(l);
          r = sections[s][1].process(r);
        }
      } else {
        float mid = 0.5f * (l + r), side = 0.5f * (l - r);
        float& target = config.mode == kMid ? mid : side;
        for (int s = 0; s < count; ++s) target = sections[s][0].process(target);
        l = mid + side;
        r = mid - side;
      }
      left[i] = l;
      right[i] = r;
    }
  }

  void processBand(Band& band, float* left, float* right, int n) {
    if (!band.fading()) {
      runConfig(band.sections[0], band.sectionCount[0], band.current, left, right, n);
      return;
    }
    float oldL[kSubBlock], oldR[kSubBlock];
    std::copy(left, left + n, oldL);
    std::copy(right, right + n, oldR);
    runConfig(band.sections[1], band.sectionCount[1], band.previous, oldL, oldR, n);
    runConfig(band.sections[0], band.sectionCount[0], band.current, left, right, n);
    for (int i = 0; i < n; ++i) {
      const float g = static_cast<float>(band.fade.next());
      left[i] = oldL[i] + g * (left[i] - oldL[i]);
      right[i] = oldR[i] + g * (right[i] - oldR[i]);
    }
  }

  double sampleRate_ = 48000;
  Band bands_[kBands];
  BypassCrossfade bypass_;
};

}  // namespace rig
