// Everything measured on one tap (a stereo signal): BS.1770-4 / EBU R 128 loudness
// (momentary 400 ms, short-term 3 s, gated integrated, LRA per EBU Tech 3342), true peak,
// sample peak, RMS, PLR, correlation and a band spectrum, written into the meter frame.
#pragma once

#include <array>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "k-weighting.h"
#include "loudness.h"
#include "spectrum.h"
#include "true-peak.h"

namespace rig {

// Where each quantity goes in the frame: field name (as in engine/src/meter-layout.ts, without
// the tap prefix) -> offset. Built once from the layout the TypeScript side passes in.
using MeterOffsets = std::unordered_map<std::string, int>;

// Loudness is summed in 100 ms sub-blocks: the 400 ms gating blocks overlap by 75 % (BS.1770-4)
// and short-term values are wanted at >= 10 Hz (Tech 3341/3342), so every window is a whole
// number of sub-blocks.
class LoudnessWindows {
 public:
  static constexpr int kMomentarySubBlocks = 4;
  static constexpr int kShortTermSubBlocks = 30;

  void prepare(double sampleRate) {
    subBlockLength_ = static_cast<int>(std::lround(sampleRate / 10.0));
    weighting_.prepare(sampleRate);
    reset();
  }
  void reset() {
    weighting_.reset();
    subBlocks_.fill(0.0);
    filled_ = 0;
    position_ = 0;
    accumulator_ = 0;
    inSubBlock_ = 0;
  }

  // Feeds samples; calls onSubBlock() each time a 100 ms sub-block completes.
  template <typename Callback>
  void process(const float* left, const float* right, int n, Callback&& onSubBlock) {
    for (int i = 0; i < n; ++i) {
      const StereoKWeighting::Pair z = weighting_.process(left[i], right[i]);
      accumulator_ += z[0] * z[0] + z[1] * z[1];  // channel weights G = 1.0 for left and right
      if (++inSubBlock_ == subBlockLength_) {
        subBlocks_[static_cast<size_t>(position_)] = accumulator_;
        position_ = (position_ + 1) % kShortTermSubBlocks;
        filled_ = std::min(filled_ + 1, kShortTermSubBlocks);
        accumulator_ = 0;
        inSubBlock_ = 0;
        onSubBlock();
      }
    }
  }

  bool momentaryReady() const { return filled_ >= kMomentarySubBlocks; }
  bool shortTermReady() const { return filled_ >= kShortTermSubBlocks; }
  double momentaryMeanSquare() const { return windowMeanSquare(kMomentarySubBlocks); }
  double shortTermMeanSquare() const { return windowMeanSquare(kShortTermSubBlocks); }

 private:
  double windowMeanSquare(int count) const {
    double sum = 0;
    for (int k = 1; k <= count; ++k) sum += subBlocks_[static_cast<size_t>((position_ - k + kShortTermSubBlocks) % kShortTermSubBlocks)];
    return sum / (static_cast<double>(count) * subBlockLength_);
  }

  StereoKWeighting weighting_;
  std::array<double, kShortTermSubBlocks> subBlocks_{};
  int subBlockLength_ = 4800, filled_ = 0, position_ = 0, inSubBlock_ = 0;
  double accumulator_ = 0;
};

class TapMeter {
 public:
  // Returns an empty string, or an error naming the missing field.
  std::string configure(const MeterOffsets& offsets, const std::string& tapPrefix, const std::vector<double>& bandCentersHz) {
    bandCentersHz_ = bandCentersHz;
    struct Field {
      const char* name;
      int* offset;
    };
    const Field fields[] = {{"momentaryLufs", &off_.momentary},     {"shortTermLufs", &off_.shortTerm},     {"integratedLufs", &off_.integrated},
                            {"lra", &off_.lra},                     {"momentaryMaxLufs", &off_.momentaryMax}, {"shortTermMaxLufs", &off_.shortTermMax},
                            {"truePeakDbtp", &off_.truePeak},       {"truePeakMaxDbtp", &off_.truePeakMax}, {"samplePeakDbfs", &off_.samplePeak},
                            {"samplePeakMaxDbfs", &off_.samplePeakMax}, {"rmsDbfs", &off_.rms},               {"plr", &off_.plr},
                            {"correlation", &off_.correlation},     {"spectrumDb", &off_.spectrum}};
    for (const Field& field : fields) {
      auto found = offsets.find(tapPrefix + field.name);
      if (found == offsets.end()) return "the meter layout lacks \"" + tapPrefix + field.name + "\"";
      *field.offset = found->second;
    }
    return "";
  }

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    windows_.prepare(sampleRate);
    truePeak_[0].prepare(sampleRate);
    truePeak_[1].prepare(sampleRate);
    spectrum_.prepare(sampleRate, bandCentersHz_);
    // 300 ms integration for RMS and correlation, as one-pole averages of the squares/products.
    averaging_ = 1.0 - std::exp(-1.0 / (0.3 * sampleRate));
    reset();
  }

  void reset() {
    windows_.reset();
    truePeak_[0].reset();
    truePeak_[1].reset();
    recentMax_[0] = recentMax_[1] = 0;
    spectrum_.reset();
    meanLL_ = meanRR_ = meanLR_ = 0;
    blockTruePeak_ = {0, 0};
    blockSamplePeak_ = {0, 0};
    momentaryLufs_ = shortTermLufs_ = -INFINITY;
    resetIntegrated();
  }

  // A new song: integrated, LRA and the maxima start again; momentary and short-term keep flowing.
  void resetIntegrated() {
    blocks_.reset();
    shortTerms_.reset();
    momentaryMax_ = shortTermMax_ = -INFINITY;
    truePeakMax_ = samplePeakMax_ = 0;
    integrated_ = lra_ = NAN;
  }

  void setIntegrationPaused(bool paused) { paused_ = paused; }

  void process(const float* left, const float* right, int n) {
    float spL = 0, spR = 0;
    for (int i = 0; i < n; ++i) {
      spL = std::max(spL, std::fabs(left[i]));
      spR = std::max(spR, std::fabs(right[i]));
    }
    const float tpL = blockTruePeak(truePeak_[0], recentMax_[0], left, n, spL);
    const float tpR = blockTruePeak(truePeak_[1], recentMax_[1], right, n, spR);
    // RMS and correlation: the block's mean squares and product feed the 300 ms averages once
    // per block (at <= 10 ms blocks, indistinguishable from per-sample smoothing on a display).
    using Lanes = float __attribute__((vector_size(32)));
    Lanes sumLL = {}, sumRR = {}, sumLR = {};
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      Lanes l, r;
      std::memcpy(&l, left + i, sizeof l);
      std::memcpy(&r, right + i, sizeof r);
      sumLL += l * l;
      sumRR += r * r;
      sumLR += l * r;
    }
    double ll = 0, rr = 0, lr = 0;
    for (int k = 0; k < 8; ++k) {
      ll += sumLL[k];
      rr += sumRR[k];
      lr += sumLR[k];
    }
    for (; i < n; ++i) {
      ll += static_cast<double>(left[i]) * left[i];
      rr += static_cast<double>(right[i]) * right[i];
      lr += static_cast<double>(left[i]) * right[i];
    }
    if (n > 0) {
      const double keep = std::pow(1.0 - averaging_, n);
      meanLL_ = keep * meanLL_ + (1.0 - keep) * (ll / n);
      meanRR_ = keep * meanRR_ + (1.0 - keep) * (rr / n);
      meanLR_ = keep * meanLR_ + (1.0 - keep) * (lr / n);
    }
    blockTruePeak_ = {tpL, tpR};
    blockSamplePeak_ = {spL, spR};
    truePeakMax_ = std::max({truePeakMax_, static_cast<double>(tpL), static_cast<double>(tpR)});
    samplePeakMax_ = std::max({samplePeakMax_, static_cast<double>(spL), static_cast<double>(spR)});
    windows_.process(left, right, n, [this] { onSubBlock(); });
    spectrum_.process(left, right, n);
  }

  void writeFrame(float* frame) const {
    auto put = [frame](int offset, double value) { frame[offset] = static_cast<float>(value); };
    auto db = [](double amplitude) { return amplitude > 0 ? 20.0 * std::log10(amplitude) : -INFINITY; };
    put(off_.momentary, momentaryLufs_);
    put(off_.shortTerm, shortTermLufs_);
    put(off_.integrated, integrated_);
    put(off_.lra, lra_);
    put(off_.momentaryMax, momentaryMax_);
    put(off_.shortTermMax, shortTermMax_);
    put(off_.truePeak, db(blockTruePeak_[0]));
    put(off_.truePeak + 1, db(blockTruePeak_[1]));
    put(off_.truePeakMax, db(truePeakMax_));
    put(off_.samplePeak, db(blockSamplePeak_[0]));
    put(off_.samplePeak + 1, db(blockSamplePeak_[1]));
    put(off_.samplePeakMax, db(samplePeakMax_));
    put(off_.rms, meanLL_ > 0 ? 10.0 * std::log10(meanLL_) : -INFINITY);
    put(off_.rms + 1, meanRR_ > 0 ? 10.0 * std::log10(meanRR_) : -INFINITY);
    put(off_.plr, std::isfinite(integrated_) && truePeakMax_ > 0 ? db(truePeakMax_) - integrated_ : NAN);
    const double norm = std::sqrt(meanLL_ * meanRR_);
    // Below -100 dBFS there is nothing to correlate; report the neutral 0 rather than noise.
    put(off_.correlation, norm > 1e-10 ? std::clamp(meanLR_ / norm, -1.0, 1.0) : 0.0);
    const auto& bands = spectrum_.levelsDb();
    for (size_t b = 0; b < bands.size(); ++b) frame[off_.spectrum + static_cast<int>(b)] = bands[b];
  }

  double shortTermLufs() const { return shortTermLufs_; }
  double integratedLufs() const { return integrated_; }

 private:
  // Only the neighbourhood of loud samples can hold the block's true peak: interpolating where
  // every sample in the kernel's reach is more than 6 dB below the block's sample peak would
  // change nothing (intersample peaks of program material stay within ~3 dB of the samples
  // around them), so those samples just enter the history. A tenth of the work on music.
  // Decided per chunk of 16 samples: a chunk is interpolated when it, or the chunk before it
  // (within the 12-tap kernel's reach), has a sample above the threshold.
  static float blockTruePeak(TruePeakDetector<12>& detector, float& previousChunkMax, const float* x, int n, float samplePeak) {
    constexpr int kChunk = 16;
    const float threshold = 0.5f * samplePeak;
    float peak = 0.0f;
    for (int start = 0; start < n; start += kChunk) {
      const int count = std::min(kChunk, n - start);
      float chunkMax = 0.0f;
      for (int i = 0; i < count; ++i) chunkMax = std::max(chunkMax, std::fabs(x[start + i]));
      // The kernel reaches 6 samples either side: the next chunk's first samples matter too.
      const int ahead = std::min(n, start + count + 6);
      for (int i = start + count; i < ahead; ++i) chunkMax = std::max(chunkMax, std::fabs(x[i]));
      if (std::max(chunkMax, previousChunkMax) >= threshold) {
        for (int i = 0; i < count; ++i) peak = std::max(peak, detector.process(x[start + i]));
      } else {
        detector.pushBlock(x + start, count);
      }
      previousChunkMax = chunkMax;
    }
    return std::max(peak, samplePeak);
  }

  void onSubBlock() {
    if (windows_.momentaryReady()) {
      const double energy = windows_.momentaryMeanSquare();
      momentaryLufs_ = energyToLufs(energy);
      if (!paused_) {
        blocks_.add(energy);
        momentaryMax_ = std::max(momentaryMax_, momentaryLufs_);
      }
    }
    if (windows_.shortTermReady()) {
      const double energy = windows_.shortTermMeanSquare();
      shortTermLufs_ = energyToLufs(energy);
      if (!paused_) {
        shortTerms_.add(energy);
        shortTermMax_ = std::max(shortTermMax_, shortTermLufs_);
      }
    }
    if (!paused_) {
      integrated_ = blocks_.gatedLoudness(-10.0);  // BS.1770-4: relative gate 10 LU below
      lra_ = shortTerms_.range(-20.0);              // Tech 3342: relative gate 20 LU below
    }
  }

  struct Offsets {
    int momentary = 0, shortTerm = 0, integrated = 0, lra = 0, momentaryMax = 0, shortTermMax = 0, truePeak = 0, truePeakMax = 0,
        samplePeak = 0, samplePeakMax = 0, rms = 0, plr = 0, correlation = 0, spectrum = 0;
  } off_;

  std::vector<double> bandCentersHz_;
  double sampleRate_ = 48000;
  LoudnessWindows windows_;
  TruePeakDetector<12> truePeak_[2];
  float recentMax_[2] = {0, 0};
  BandSpectrum spectrum_;
  LoudnessHistogram blocks_, shortTerms_;
  double averaging_ = 0, meanLL_ = 0, meanRR_ = 0, meanLR_ = 0;
  std::array<float, 2> blockTruePeak_{}, blockSamplePeak_{};
  double truePeakMax_ = 0, samplePeakMax_ = 0;
  double momentaryLufs_ = -INFINITY, shortTermLufs_ = -INFINITY, momentaryMax_ = -INFINITY, shortTermMax_ = -INFINITY;
  double integrated_ = NAN, lra_ = NAN;
  bool paused_ = false;
};

}  // namespace rig
