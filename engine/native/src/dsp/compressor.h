// STUB (to be replaced): stereo-linked glue compressor.
#pragma once
#include <array>
#include "common.h"

namespace rig {

class Compressor {
 public:
  static constexpr std::array<const char*, 11> kParamIds = {
      "comp.bypass", "comp.threshold", "comp.ratio", "comp.attack", "comp.release", "comp.autoRelease",
      "comp.knee", "comp.makeup", "comp.mix", "comp.scHpf.on", "comp.scHpf.freq"};

  void prepare(double sampleRate, int maxBlock) {}
  void setParam(int local, double value) {}
  void process(float* left, float* right, int n) {}
  void reset() {}
  int latency() const { return 0; }
  // Largest gain reduction (dB, positive) during the last processed block.
  float gainReductionDb() const { return 0.0f; }
};

}  // namespace rig
