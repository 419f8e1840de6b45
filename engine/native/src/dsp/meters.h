// STUB (to be replaced): BS.1770-4 / EBU R128 loudness, true peak, sample peak, RMS,
// correlation and spectrum of one tap (a stereo signal), written into a meter frame.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>
#include "common.h"

namespace rig {

// Where each quantity goes in the frame: field name (as in engine/src/meter-layout.ts, without
// the tap prefix) -> offset. Built once from the layout the TypeScript side passes in.
using MeterOffsets = std::unordered_map<std::string, int>;

class TapMeter {
 public:
  // Returns an empty string, or an error naming the missing field.
  std::string configure(const MeterOffsets& offsets, const std::string& tapPrefix, const std::vector<double>& bandCentersHz) { return ""; }
  void prepare(double sampleRate, int maxBlock) {}
  void process(const float* left, const float* right, int n) {}
  void writeFrame(float* frame) const {}
  void reset() {}                 // everything, including maxima
  void resetIntegrated() {}        // integrated, LRA, maxima (a new song)
  void setIntegrationPaused(bool paused) {}
  double shortTermLufs() const { return -INFINITY; }
  double integratedLufs() const { return NAN; }
};

// Short-term (3 s) K-weighted loudness of a stereo signal, nothing else: cheap enough for the
// chain to follow both sides of its level-matched bypass.
class LoudnessFollower {
 public:
  void prepare(double sampleRate, int maxBlock) {}
  void process(const float* left, const float* right, int n) {}
  void reset() {}
  double shortTermLufs() const { return -INFINITY; }
};

}  // namespace rig
