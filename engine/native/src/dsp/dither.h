// Quantisation to 16 or 24 bit with TPDF dither (two uniform variables of 1 LSB each: the
// error's mean and variance become independent of the signal, Wannamaker/Lipshitz/Vanderkooy),
// optionally with second-order error-feedback noise shaping, (1 - z^-1)^2: noise leaves the
// bass and mids, where the ear is most sensitive, for the top octave.
#pragma once

#include <cstdint>

#include "common.h"

namespace rig {

class Dither {
 public:
  void prepare(int bits, int channels, bool noiseShaping, uint32_t seed) {
    bits_ = bits;
    channels_ = channels;
    shaping_ = noiseShaping;
    scale_ = static_cast<double>(1u << (bits - 1));
    state_ = seed ? seed : 0x9e3779b9u;
    reset();
  }
  void reset() {
    for (auto& e : error_) e[0] = e[1] = 0.0;
  }

  void process(const float* input, int32_t* output, int samples) {
    const double maxValue = scale_ - 1.0, minValue = -scale_;
    for (int i = 0; i < samples; ++i) {
      const int c = i % channels_;
      double x = input[i] * scale_;
      if (shaping_) x -= 2.0 * error_[c][0] - error_[c][1];
      const double tpdf = uniform() + uniform();  // -1..+1 LSB, triangular
      double q = std::floor(x + tpdf + 0.5);
      q = std::clamp(q, minValue, maxValue);
      if (shaping_) {
        // Clipped samples would feed back huge errors; the shaper only ever sees the dither-sized part.
        error_[c][1] = error_[c][0];
        error_[c][0] = std::clamp(q - x, -2.0, 2.0);
      }
      output[i] = static_cast<int32_t>(q);
    }
  }

 private:
  double uniform() {  // xorshift32 -> [-0.5, 0.5)
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_ * (1.0 / 4294967296.0) - 0.5;
  }

  int bits_ = 16, channels_ = 2;
  bool shaping_ = false;
  double scale_ = 32768.0;
  uint32_t state_ = 1;
  double error_[2][2] = {{0, 0}, {0, 0}};
};

}  // namespace rig
