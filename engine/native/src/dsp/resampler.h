// STUB (to be replaced): rational polyphase resampler (e.g. 48 kHz -> 44.1 kHz for CD masters).
#pragma once
#include "common.h"

namespace rig {

class Resampler {
 public:
  // Returns false when the ratio is not supported.
  bool prepare(int inputRate, int outputRate, int channels) { return false; }
  // Consumes `frames` interleaved input frames, writes at most maxOut interleaved output frames,
  // returns the number written. flush() drains the filter tail at the end of a file.
  int process(const float* input, int frames, float* output, int maxOut) { return 0; }
  int flush(float* output, int maxOut) { return 0; }
  int latencyInputFrames() const { return 0; }
  void reset() {}
};

}  // namespace rig
