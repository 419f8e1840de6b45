// The mastering chain: input trim -> DC blocker -> EQ -> glue compressor -> stereo image ->
// character -> soft clipper -> true-peak limiter -> output trim, with meters on the input and output taps and a
// level-matched bypass of the whole chain.
#pragma once

#include <string>
#include <vector>

#include "dsp/character.h"
#include "dsp/clipper.h"
#include "dsp/common.h"
#include "dsp/compressor.h"
#include "dsp/dc-blocker.h"
#include "dsp/eq.h"
#include "dsp/limiter.h"
#include "dsp/meters.h"
#include "dsp/stereo-image.h"

namespace rig {

class Chain {
 public:
  // Binds the schema's parameter ids (index = position) and the meter layout. Returns an empty
  // string, or an error naming the id or field the native code does not know or misses.
  std::string configure(const std::vector<std::string>& parameterIds, const MeterOffsets& meterOffsets,
                        const std::vector<double>& bandCentersHz);
  void prepare(double sampleRate, int maxBlock);
  void setParam(int index, double value);
  // In place. `frame` receives the meter frame (may be null when nobody reads meters).
  void process(float* left, float* right, int n, float* frame);
  void reset();
  int latency() const { return latency_; }
  int maxBlock() const { return maxBlock_; }
  void resetIntegrated();
  void setIntegrationPaused(bool paused);
  // How many blocks carried NaN or Inf that the chain replaced with silence.
  double nonFiniteBlocks() const { return nonFiniteBlocks_; }

 private:
  enum class Stage { kChain, kEq, kCompressor, kImage, kCharacter, kClipper, kLimiter };
  struct Route {
    Stage stage;
    int local;
  };
  enum ChainParam { kInputTrim, kPolarity, kDcBlock, kOutputTrim, kChainBypass, kChainParamCount };

  void setChainParam(int local, double value);
  void applyGain(float* left, float* right, int n, LinearSmoother& gain);
  void processBypassPath(float* left, float* right, int n);
  void writeDynamics(float* frame);

  std::vector<Route> routes_;
  int offCompGr_ = -1, offCompGrMax_ = -1, offLimGr_ = -1, offLimGrMax_ = -1, offLimFastGr_ = -1,
      offLimSlowGr_ = -1, offClipGr_ = -1;

  // The processors' member initialisers (their "defaults") are placeholders only: the chain
  // wrapper (engine/src/chain.ts) sets every parameter from the schema, then resets, before the
  // first block, so the schema's defaults always win and nothing here needs to agree with them.
  Eq eq_;
  Compressor compressor_;
  StereoImage image_;
  Character character_;
  DcBlocker dcBlocker_;
  Clipper clipper_;
  Limiter limiter_;
  Limiter bypassSafety_;  // keeps the level-matched dry signal under the ceiling too
  TapMeter inputMeter_, outputMeter_;

  LinearSmoother inputGain_, outputGain_, bypassMix_, matchGain_;
  DelayLine dryDelayL_, dryDelayR_;
  std::vector<float> dryL_, dryR_;

  double sampleRate_ = 48000;
  int maxBlock_ = 0;
  int latency_ = 0;
  double inputTrimDb_ = 0, outputTrimDb_ = 0;
  bool inverted_ = false, chainBypassed_ = false;
  float compGrMax_ = 0, limGrMax_ = 0;
  double nonFiniteBlocks_ = 0;
  // Samples left of the fade-in after a reset (see process()).
  int startFadeLeft_ = 0, startFadeLength_ = 1;
};

}  // namespace rig
