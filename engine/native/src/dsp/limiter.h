// STUB (to be replaced): true-peak brickwall limiter with lookahead.
#pragma once
#include <array>
#include "common.h"

namespace rig {

class Limiter {
 public:
  static constexpr std::array<const char*, 7> kParamIds = {
      "limiter.bypass", "limiter.ceiling", "limiter.gain", "limiter.lookahead", "limiter.release",
      "limiter.autoRelease", "limiter.link"};

  void prepare(double sampleRate, int maxBlock) {}
  void setParam(int local, double value) {}
  void process(float* left, float* right, int n) {}
  void reset() {}
  int latency() const { return 0; }
  float gainReductionDb() const { return 0.0f; }
  double ceilingDbtp() const { return -1.0; }
};

}  // namespace rig
