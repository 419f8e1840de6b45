// STUB (to be replaced): air shelf and oversampled harmonic saturation.
#pragma once
#include <array>
#include "common.h"

namespace rig {

class Character {
 public:
  static constexpr std::array<const char*, 6> kParamIds = {
      "character.bypass", "character.air", "character.airFreq", "character.mode", "character.drive", "character.mix"};

  void prepare(double sampleRate, int maxBlock) {}
  void setParam(int local, double value) {}
  void process(float* left, float* right, int n) {}
  void reset() {}
  int latency() const { return 0; }
};

}  // namespace rig
