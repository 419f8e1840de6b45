// STUB (to be replaced): M/S width, phase-coherent bass mono, mid/side balance.
#pragma once
#include <array>
#include "common.h"

namespace rig {

class StereoImage {
 public:
  static constexpr std::array<const char*, 5> kParamIds = {
      "image.bypass", "image.width", "image.bassMono.on", "image.bassMono.freq", "image.balance"};

  void prepare(double sampleRate, int maxBlock) {}
  void setParam(int local, double value) {}
  void process(float* left, float* right, int n) {}
  void reset() {}
  int latency() const { return 0; }
};

}  // namespace rig
