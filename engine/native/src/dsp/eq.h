// STUB (to be replaced): corrective EQ. High-pass, low shelf, three bells, high shelf, low-pass,
// each band on stereo, mid or side.
#pragma once
#include <array>
#include "common.h"

namespace rig {

class Eq {
 public:
  static constexpr std::array<const char*, 27> kParamIds = {
      "eq.bypass",
      "eq.hp.slope", "eq.hp.freq", "eq.hp.mode",
      "eq.lowShelf.freq", "eq.lowShelf.gain", "eq.lowShelf.q", "eq.lowShelf.mode",
      "eq.bell1.freq", "eq.bell1.gain", "eq.bell1.q", "eq.bell1.mode",
      "eq.bell2.freq", "eq.bell2.gain", "eq.bell2.q", "eq.bell2.mode",
      "eq.bell3.freq", "eq.bell3.gain", "eq.bell3.q", "eq.bell3.mode",
      "eq.highShelf.freq", "eq.highShelf.gain", "eq.highShelf.q", "eq.highShelf.mode",
      "eq.lp.slope", "eq.lp.freq", "eq.lp.mode"};

  void prepare(double sampleRate, int maxBlock) {}
  void setParam(int local, double value) {}
  void process(float* left, float* right, int n) {}
  void reset() {}
  int latency() const { return 0; }
};

}  // namespace rig
