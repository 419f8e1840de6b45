// Everything measured on one tap (a stereo signal): BS.1770-4 / EBU R 128 loudness
// (momentary 400 ms, short-term 3 s, gated integrated, LRA per EBU Tech 3342), true peak,
// sample peak, RMS, PLR, correlation and a band spectrum, written into the meter frame.
#pragma once

#include <array>
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

// The signal is summed in 10 ms sub-blocks, and every window is a whole number of them:
// momentary 40, short-term 300, RMS/correlation 30. The 400 ms gating blocks step by 10
// (100 ms, the 75 % overlap of BS.1770-4) and so do the short-term values for LRA (10 Hz, the
// minimum of Tech 3342). Momentary and short-term readings and their maxima move every 10 ms:
// at the 10 Hz minimum a 400 ms tone burst can fall 50 ms off the window and read 0.6 LU low,
// which the EBU's burst files (Tech 3341 cases 13 and 14) reject; 10 ms keeps it under 0.06 LU.
class SubBlockWindows {
 public:
  static constexpr int kPerSecond = 100;
  static constexpr int kMomentary = 40;
  static constexpr int kShortTerm = 300;
  static constexpr int kRms = 30;
  static constexpr int kPerGatingStep = 10;

  void prepare(double sampleRate) {
    length_ = std::max(1, static_cast<int>(std::lround(sampleRate / kPerSecond)));
    weighting_.prepare(sampleRate);
    reset();
  }
  void reset() {
    weighting_.reset();
    loudness_.fill(0.0);
    squares_.fill(StereoSample{});
    products_.fill(0.0);
    position_ = 0;
    completed_ = 0;
    inSubBlock_ = 0;
    loudnessSum_ = squaresSum_ = StereoSample{};
    productSum_ = 0;
  }

  // Feeds samples; calls onSubBlock() each time a 10 ms sub-block completes.
  template <typename Callback>
  void process(const float* left, const float* right, int n, Callback&& onSubBlock) {
    for (int i = 0; i < n;) {
      const int take = std::min(n - i, length_ - inSubBlock_);
      StereoSample k2 = loudnessSum_, x2 = squaresSum_;
      double lr = productSum_;
      for (int end = i + take; i < end; ++i) {
        const StereoSample x = {left[i], right[i]};
        const StereoSample k = weighting_.process(x);
        k2 += k * k;
        x2 += x * x;
        lr += x[0] * x[1];
      }
      inSubBlock_ += take;
      if (inSubBlock_ < length_) {
        loudnessSum_ = k2;
        squaresSum_ = x2;
        productSum_ = lr;
        break;
      }
      // Stored twice, N apart, so every window is one contiguous run ending at position_ + N.
      const double loudness = k2[0] + k2[1];  // channel weights G = 1.0 for left and right
      loudness_[static_cast<size_t>(position_)] = loudness_[static_cast<size_t>(position_ + kShortTerm)] =
          loudness;
      const int rmsSlot = static_cast<int>(completed_ % kRms);
      squares_[static_cast<size_t>(rmsSlot)] = x2;
      products_[static_cast<size_t>(rmsSlot)] = lr;
      position_ = position_ + 1 == kShortTerm ? 0 : position_ + 1;
      ++completed_;
      inSubBlock_ = 0;
      loudnessSum_ = squaresSum_ = StereoSample{};
      productSum_ = 0;
      onSubBlock();
    }
  }

  long long completed() const { return completed_; }
  bool momentaryReady() const { return completed_ >= kMomentary; }
  bool shortTermReady() const { return completed_ >= kShortTerm; }
  double momentaryMeanSquare() const {
    return windowSum(kMomentary) / (static_cast<double>(kMomentary) * length_);
  }
  double shortTermMeanSquare() const {
    return windowSum(kShortTerm) / (static_cast<double>(kShortTerm) * length_);
  }

  // Mean squares of left and right, and mean product, over the last 300 ms (zeros before the
  // start, as for a meter that was listening to silence).
  void rmsWindow(double& leftSquare, double& rightSquare, double& product) const {
    StereoSample squares{};
    double products = 0;
    for (int k = 0; k < kRms; ++k) {
      squares += squares_[static_cast<size_t>(k)];
      products += products_[static_cast<size_t>(k)];
    }
    const double scale = 1.0 / (static_cast<double>(kRms) * length_);
    leftSquare = squares[0] * scale;
    rightSquare = squares[1] * scale;
    product = products * scale;
  }

 private:
  // Four partial sums: one accumulator would wait on the adder's latency for each of 300 terms.
  double windowSum(int count) const {
    const double* run = &loudness_[static_cast<size_t>(position_ + kShortTerm - count)];
    double partial[4] = {0, 0, 0, 0};
    int k = 0;
    for (; k + 4 <= count; k += 4) {
      partial[0] += run[k];
      partial[1] += run[k + 1];
      partial[2] += run[k + 2];
      partial[3] += run[k + 3];
    }
    for (; k < count; ++k) partial[0] += run[k];
    return (partial[0] + partial[1]) + (partial[2] + partial[3]);
  }

  StereoKWeighting weighting_;
  std::array<double, 2 * kShortTerm> loudness_{};  // K-weighted energy per sub-block, mirrored
  std::array<StereoSample, kRms> squares_{};       // unweighted, for RMS and correlation
  std::array<double, kRms> products_{};
  StereoSample loudnessSum_{}, squaresSum_{};
  double productSum_ = 0;
  int length_ = 480, position_ = 0, inSubBlock_ = 0;
  long long completed_ = 0;
};

class TapMeter {
 public:
  static constexpr int kTruePeakTaps = 12;  // per phase: as BS.1770-4 Annex 2's 48-tap 4x filter

  // Returns an empty string, or an error naming the missing field.
  std::string configure(const MeterOffsets& offsets, const std::string& tapPrefix,
                        const std::vector<double>& bandCentersHz) {
    bandCentersHz_ = bandCentersHz;
    struct Field {
      const char* name;
      int* offset;
    };
    const Field fields[] = {{"momentaryLufs", &off_.momentary},
                            {"shortTermLufs", &off_.shortTerm},
                            {"integratedLufs", &off_.integrated},
                            {"lra", &off_.lra},
                            {"momentaryMaxLufs", &off_.momentaryMax},
                            {"shortTermMaxLufs", &off_.shortTermMax},
                            {"truePeakDbtp", &off_.truePeak},
                            {"truePeakMaxDbtp", &off_.truePeakMax},
                            {"samplePeakDbfs", &off_.samplePeak},
                            {"samplePeakMaxDbfs", &off_.samplePeakMax},
                            {"rmsDbfs", &off_.rms},
                            {"plr", &off_.plr},
                            {"correlation", &off_.correlation},
                            {"spectrumDb", &off_.spectrum}};
    for (const Field& field : fields) {
      auto found = offsets.find(tapPrefix + field.name);
      if (found == offsets.end()) return "the meter layout lacks \"" + tapPrefix + field.name + "\"";
      *field.offset = found->second;
    }
    return "";
  }

  void prepare(double sampleRate, int maxBlock) {
    windows_.prepare(sampleRate);
    for (auto& detector : truePeak_) {
      detector.prepare(sampleRate);
      detector.prepareBlock(maxBlock);
    }
    spectrum_.prepare(sampleRate, bandCentersHz_);
    reset();
  }

  void reset() {
    windows_.reset();
    truePeak_[0].reset();
    truePeak_[1].reset();
    spectrum_.reset();
    meanLL_ = meanRR_ = meanLR_ = 0;
    blockTruePeak_ = {0, 0};
    blockSamplePeak_ = {0, 0};
    momentaryLufs_ = shortTermLufs_ = -INFINITY;
    resetIntegrated();
    truePeakSettle_ = 0;  // the detector's history is silence now: nothing old to hold back
  }

  // A new song: integrated, LRA and the maxima start again; momentary and short-term keep flowing.
  void resetIntegrated() {
    blocks_.reset();
    shortTerms_.reset();
    momentaryMax_ = shortTermMax_ = -INFINITY;
    truePeakMax_ = samplePeakMax_ = 0;
    integrated_ = lra_ = NAN;
    measuredRun_ = 0;
    truePeakSettle_ = kTruePeakTaps;
  }

  // Between songs: integrated, LRA and the maxima hold; the live readings keep moving.
  void setIntegrationPaused(bool paused) {
    if (paused && !paused_) measuredRun_ = 0;
    if (!paused && paused_) truePeakSettle_ = kTruePeakTaps;
    paused_ = paused;
  }

  void process(const float* left, const float* right, int n) {
    if (n <= 0) return;  // an empty block (a frame refresh) has no peaks to report
    const float spL = peakMagnitude(left, n), spR = peakMagnitude(right, n);
    const int settle = std::min(n, truePeakSettle_);
    truePeakSettle_ -= settle;
    // The first `settle` samples only enter the history: their interpolated points still carry
    // the audio before a reset or a pause (the kernel reaches 12 samples back), which must not
    // become the new song's maximum; their sample peaks still count.
    const float tpL = std::max(truePeak_[0].blockPeak(left, n, settle), spL);
    const float tpR = std::max(truePeak_[1].blockPeak(right, n, settle), spR);
    blockTruePeak_ = {tpL, tpR};
    blockSamplePeak_ = {spL, spR};
    if (!paused_) {
      truePeakMax_ = std::max({truePeakMax_, static_cast<double>(tpL), static_cast<double>(tpR)});
      samplePeakMax_ = std::max({samplePeakMax_, static_cast<double>(spL), static_cast<double>(spR)});
    }
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
    // A full-scale sine reads -3.01 dBFS RMS (AES17 would read 0; this is the plain mean square).
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
  // Integrated, LRA and the maxima take only windows that lie wholly in measured audio (after
  // resetIntegrated() and outside pauses), so a new song starts clean rather than with 400 ms
  // (or 3 s) of the previous one; gating blocks step from the reset or the pause's end.
  void onSubBlock() {
    if (!paused_) ++measuredRun_;
    const bool gatingStep = !paused_ && measuredRun_ % SubBlockWindows::kPerGatingStep == 0;
    if (windows_.momentaryReady()) {
      const double energy = windows_.momentaryMeanSquare();
      momentaryLufs_ = energyToLufs(energy);
      if (!paused_ && measuredRun_ >= SubBlockWindows::kMomentary) {
        momentaryMax_ = std::max(momentaryMax_, momentaryLufs_);
        if (gatingStep) blocks_.add(energy);
      }
    }
    if (windows_.shortTermReady()) {
      const double energy = windows_.shortTermMeanSquare();
      shortTermLufs_ = energyToLufs(energy);
      if (!paused_ && measuredRun_ >= SubBlockWindows::kShortTerm) {
        shortTermMax_ = std::max(shortTermMax_, shortTermLufs_);
        if (gatingStep) shortTerms_.add(energy);
      }
    }
    if (gatingStep) {
      integrated_ = blocks_.gatedLoudness(-10.0);  // BS.1770-4: relative gate 10 LU below
      lra_ = shortTerms_.range(-20.0);             // Tech 3342: relative gate 20 LU below
    }
    windows_.rmsWindow(meanLL_, meanRR_, meanLR_);
  }

  struct Offsets {
    int momentary = 0, shortTerm = 0, integrated = 0, lra = 0, momentaryMax = 0, shortTermMax = 0,
        truePeak = 0, truePeakMax = 0, samplePeak = 0, samplePeakMax = 0, rms = 0, plr = 0, correlation = 0,
        spectrum = 0;
  } off_;

  std::vector<double> bandCentersHz_;
  SubBlockWindows windows_;
  TruePeakDetector<kTruePeakTaps> truePeak_[2];
  int truePeakSettle_ = 0;
  BandSpectrum spectrum_;
  LoudnessHistogram blocks_, shortTerms_;
  double meanLL_ = 0, meanRR_ = 0, meanLR_ = 0;
  std::array<float, 2> blockTruePeak_{}, blockSamplePeak_{};
  double truePeakMax_ = 0, samplePeakMax_ = 0;
  double momentaryLufs_ = -INFINITY, shortTermLufs_ = -INFINITY, momentaryMax_ = -INFINITY,
         shortTermMax_ = -INFINITY;
  double integrated_ = NAN, lra_ = NAN;
  long long measuredRun_ = 0;  // sub-blocks measured since resetIntegrated() or the end of a pause
  bool paused_ = false;
};

}  // namespace rig
