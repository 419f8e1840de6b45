// Glue compressor: stereo-linked, feed-forward, gain computed in dB with a quadratic soft knee
// (Giannoulis, Massberg, Reiss, "Digital Dynamic Range Compressor Design", JAES 2012) and
// smooth-branching attack/release on the gain reduction itself, so the time constants are
// exactly the parameters. Auto release works like a bus compressor's: short overloads
// release quickly, sustained compression slowly.
#pragma once

#include <array>
#include <vector>

#include "biquad.h"
#include "common.h"

namespace rig {

class Compressor {
 public:
  // The chain routes by id; setParam switches on these, which the assert ties to the ids.
  enum Param : int {
    kBypass,
    kThreshold,
    kRatio,
    kAttack,
    kRelease,
    kAutoRelease,
    kKnee,
    kMakeup,
    kMix,
    kSidechainOn,
    kSidechainFreq,
    kCount
  };
  static constexpr std::array<const char*, kCount> kParamIds = {
      "comp.bypass", "comp.threshold", "comp.ratio", "comp.attack",   "comp.release",   "comp.autoRelease",
      "comp.knee",   "comp.makeup",    "comp.mix",   "comp.scHpf.on", "comp.scHpf.freq"};
  static_assert(sameId(kParamIds[kBypass], "comp.bypass") &&
                    sameId(kParamIds[kThreshold], "comp.threshold") &&
                    sameId(kParamIds[kRatio], "comp.ratio") && sameId(kParamIds[kAttack], "comp.attack") &&
                    sameId(kParamIds[kRelease], "comp.release") &&
                    sameId(kParamIds[kAutoRelease], "comp.autoRelease") &&
                    sameId(kParamIds[kKnee], "comp.knee") && sameId(kParamIds[kMakeup], "comp.makeup") &&
                    sameId(kParamIds[kMix], "comp.mix") && sameId(kParamIds[kSidechainOn], "comp.scHpf.on") &&
                    sameId(kParamIds[kSidechainFreq], "comp.scHpf.freq"),
                "each Param enumerator names its id");

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    for (LinearSmoother* s : {&threshold_, &slope_, &knee_, &makeup_, &mix_}) s->prepare(sampleRate, 20.0);
    threshold_.snap(thresholdDb_);
    slope_.snap(1.0 - 1.0 / ratio_);
    knee_.snap(kneeDb_);
    makeup_.snap(makeupDb_);
    mix_.snap(mixFraction_);
    designSidechain();
    levelDb_.assign(static_cast<size_t>(maxBlock), 0.0f);
    reduction_.assign(static_cast<size_t>(maxBlock), 0.0);
    bypass_.prepare(sampleRate, 0, maxBlock);
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case kBypass: bypass_.setBypassed(value >= 0.5); break;
      case kThreshold:
        thresholdDb_ = value;
        threshold_.setTarget(value);
        break;
      // The ratio knob is stepped; its slope glides over 20 ms so a detent never clicks.
      case kRatio:
        ratio_ = std::max(1.0, value);
        slope_.setTarget(1.0 - 1.0 / ratio_);
        break;
      case kAttack: attackMs_ = value; break;
      case kRelease: releaseMs_ = value; break;
      case kAutoRelease: autoRelease_ = value >= 0.5; break;
      case kKnee:
        kneeDb_ = value;
        knee_.setTarget(value);
        break;
      case kMakeup:
        makeupDb_ = value;
        makeup_.setTarget(value);
        break;
      case kMix:
        mixFraction_ = std::clamp(value / 100.0, 0.0, 1.0);
        mix_.setTarget(mixFraction_);
        break;
      case kSidechainOn: sidechainOn_ = value >= 0.5; break;
      case kSidechainFreq:
        sidechainHz_ = value;
        designSidechain();
        break;
    }
  }

  void reset() {
    for (LinearSmoother* s : {&threshold_, &slope_, &knee_, &makeup_, &mix_}) s->snap(s->target());
    sidechain_.reset();
    reductionDb_ = 0;
    sustainedDb_ = 0;
    blockMaxGr_ = 0;
    bypass_.reset();
  }

  int latency() const { return 0; }
  float gainReductionDb() const { return blockMaxGr_; }

  void process(float* left, float* right, int n) {
    if (bypass_.fullyBypassed()) {
      blockMaxGr_ = 0;
      return;
    }
    const bool mixing = !bypass_.fullyActive();
    if (mixing) bypass_.capture(left, right, n);
    const double attack = coefficient(attackMs_);
    const double release = coefficient(releaseMs_);
    // Auto release: between a third of the set release (transients) and three times it
    // (sustained), steered by how much reduction has persisted over the last ~2 s.
    const double fastRelease = coefficient(releaseMs_ / 3.0), slowRelease = coefficient(releaseMs_ * 3.0);
    const double sustainCoeff = coefficient(2000.0);
    float maxGr = 0;
    // Settled parameters are read once per block; only a glide pays for per-sample smoothing.
    const bool gliding =
        threshold_.ramping() || slope_.ramping() || knee_.ramping() || makeup_.ramping() || mix_.ramping();
    if (gliding) {
      maxGr = processGliding(left, right, n, attack, release, fastRelease, slowRelease, sustainCoeff);
    } else {
      // Settled: the detector, the static curve and the gain run over the whole block
      // (vectorised); only the ballistics stay a per-sample recursion.
      float* levelDb = levelDb_.data();
      double* reduction = reduction_.data();
      if (sidechainOn_) {
        for (int i = 0; i < n; ++i) {
          const StereoSample y = sidechain_.process(StereoSample{left[i], right[i]});
          levelDb[i] = static_cast<float>(std::max(std::fabs(y[0]), std::fabs(y[1])));
        }
      } else {
        for (int i = 0; i < n; ++i) levelDb[i] = std::max(std::fabs(left[i]), std::fabs(right[i]));
      }
      // Linked detection: the louder channel drives both, so the image never shifts.
      for (int i = 0; i < n; ++i) levelDb[i] = levelDb[i] > 1e-6f ? gainToDbF(levelDb[i]) : -120.0f;
      const double threshold = threshold_.current(), slope = slope_.current(), knee = knee_.current();
      // staticReduction() with its branches as selects, so the loop vectorises.
      for (int i = 0; i < n; ++i) {
        const double over = levelDb[i] - threshold;
        const double x = over + knee / 2.0;
        const double curve = 2.0 * std::fabs(over) < knee ? slope * x * x / (2.0 * knee) : slope * over;
        reduction[i] = 2.0 * over <= -knee ? 0.0 : curve;
      }
      double reductionDb = reductionDb_, sustainedDb = sustainedDb_;
      for (int i = 0; i < n; ++i) {
        const double target = reduction[i];
        sustainedDb = sustainCoeff * sustainedDb + (1.0 - sustainCoeff) * reductionDb;
        double coeff;
        if (target > reductionDb) {
          coeff = attack;
        } else if (autoRelease_) {
          const double persistence = std::clamp(sustainedDb / std::max(reductionDb, 0.5), 0.0, 1.0);
          coeff = fastRelease + (slowRelease - fastRelease) * persistence;
        } else {
          coeff = release;
        }
        reductionDb = target + coeff * (reductionDb - target);
        reduction[i] = reductionDb;
        maxGr = std::max(maxGr, static_cast<float>(reductionDb));
      }
      reductionDb_ = reductionDb;
      sustainedDb_ = sustainedDb;
      const double makeup = makeup_.current();
      const float wet = static_cast<float>(mix_.current());
      for (int i = 0; i < n; ++i) {
        // dbToGainF(0) is exactly 1, so no sample needs the shortcut the per-sample path takes.
        const float gain = dbToGainF(static_cast<float>(makeup - reduction[i]));
        // Parallel mix: the dry share is the unprocessed signal, as on an analog parallel bus.
        const float g = 1.0f - wet + wet * gain;
        left[i] *= g;
        right[i] *= g;
      }
    }
    blockMaxGr_ = maxGr;
    if (mixing) bypass_.mix(left, right, n);
  }

  // Gain reduction in dB (>= 0) of the static curve with a quadratic knee of width kneeDb.
  static double staticReduction(double levelDb, double thresholdDb, double slope, double kneeDb) {
    const double over = levelDb - thresholdDb;
    if (2.0 * over <= -kneeDb) return 0.0;
    if (2.0 * std::fabs(over) < kneeDb) {
      const double x = over + kneeDb / 2.0;
      return slope * x * x / (2.0 * kneeDb);
    }
    return slope * over;
  }

 private:
  // While a parameter glides: every sample reads its smoothed parameters.
  float processGliding(float* left, float* right, int n, double attack, double release, double fastRelease,
                       double slowRelease, double sustainCoeff) {
    float maxGr = 0;
    for (int i = 0; i < n; ++i) {
      float l = left[i], r = right[i];
      float sl = l, sr = r;
      if (sidechainOn_) {
        const StereoSample y = sidechain_.process(StereoSample{l, r});
        sl = static_cast<float>(y[0]);
        sr = static_cast<float>(y[1]);
      }
      // Linked detection: the louder channel drives both, so the image never shifts.
      const float level = std::max(std::fabs(sl), std::fabs(sr));
      const double levelDb = level > 1e-6f ? gainToDbF(level) : -120.0;
      const double threshold = threshold_.next();
      const double slope = slope_.next();
      const double knee = knee_.next();
      const double target = staticReduction(levelDb, threshold, slope, knee);
      double coeff;
      sustainedDb_ = sustainCoeff * sustainedDb_ + (1.0 - sustainCoeff) * reductionDb_;
      if (target > reductionDb_) {
        coeff = attack;
      } else if (autoRelease_) {
        const double persistence = std::clamp(sustainedDb_ / std::max(reductionDb_, 0.5), 0.0, 1.0);
        coeff = fastRelease + (slowRelease - fastRelease) * persistence;
      } else {
        coeff = release;
      }
      reductionDb_ = target + coeff * (reductionDb_ - target);
      maxGr = std::max(maxGr, static_cast<float>(reductionDb_));
      const double makeup = makeup_.next();
      const float gain =
          reductionDb_ == 0.0 && makeup == 0.0 ? 1.0f : dbToGainF(static_cast<float>(makeup - reductionDb_));
      const float wet = static_cast<float>(mix_.next());
      // Parallel mix: the dry share is the unprocessed signal, as on an analog parallel bus.
      left[i] = l * (1.0f - wet + wet * gain);
      right[i] = r * (1.0f - wet + wet * gain);
    }
    return maxGr;
  }

  double coefficient(double ms) const { return std::exp(-1.0 / (std::max(0.01, ms) * 1e-3 * sampleRate_)); }

  void designSidechain() {
    const BiquadCoeffs c = designHighPass(sampleRate_, std::min(sidechainHz_, 0.45 * sampleRate_), 0.7071068);
    sidechain_.c = c;
  }

  double sampleRate_ = 48000;
  double thresholdDb_ = -12, ratio_ = 2, attackMs_ = 10, releaseMs_ = 300, kneeDb_ = 6, makeupDb_ = 0,
         mixFraction_ = 1, sidechainHz_ = 80;
  bool autoRelease_ = false, sidechainOn_ = true;
  LinearSmoother threshold_, slope_, knee_, makeup_, mix_;
  StereoBiquad sidechain_;  // both channels in one vector
  double reductionDb_ = 0, sustainedDb_ = 0;
  float blockMaxGr_ = 0;
  std::vector<float> levelDb_;     // this block's detector level, dB
  std::vector<double> reduction_;  // this block's static, then smoothed, gain reduction
  BypassCrossfade bypass_;
};

}  // namespace rig
