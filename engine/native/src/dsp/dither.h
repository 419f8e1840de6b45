// STUB (to be replaced): TPDF dither (optionally noise-shaped) and quantisation to 16/24 bit.
#pragma once
#include <cstdint>
#include "common.h"

namespace rig {

class Dither {
 public:
  void prepare(int bits, int channels, bool noiseShaping, uint32_t seed) {}
  // Interleaved float in -> interleaved integer sample values (already scaled to `bits`).
  void process(const float* input, int32_t* output, int samples) {}
  void reset() {}
};

}  // namespace rig
