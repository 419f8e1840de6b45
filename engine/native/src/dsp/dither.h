// Quantisation to 16 or 24 bit with TPDF dither (two uniform variables of 1 LSB each: the
// error's mean and variance become independent of the signal, Wannamaker/Lipshitz/Vanderkooy),
// optionally with error-feedback noise shaping. The shaper is Wannamaker's 3-tap F-weighted
// filter (R. A. Wannamaker, "Psychoacoustically Optimal Noise Shaping", JAES 40(7/8), 1992):
// noise transfer 1 - 1.623 z^-1 + 0.982 z^-2 - 0.109 z^-3, about 12 dB down below 2 kHz and
// 19 dB down around 4 kHz, where hearing is most acute, and up to 11 dB up in the top octave.
// Its zeros lie inside the unit circle (minimum phase), so the feedback loop stays bounded.
// Designed for 44.1 kHz; at 48 kHz the notch sits 9 % higher, still in the sensitive region.
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
    for (auto& e : error_) e[0] = e[1] = e[2] = 0.0;
  }

  void process(const float* input, int32_t* output, int samples) {
    const double maxValue = scale_ - 1.0, minValue = -scale_;
    for (int i = 0; i < samples; ++i) {
      const int c = i % channels_;
      // A non-finite sample would poison the shaper's state for good; it becomes silence.
      double x = std::isfinite(input[i]) ? input[i] * scale_ : 0.0;
      double* e = error_[c];
      if (shaping_) x -= kShaper[0] * e[0] + kShaper[1] * e[1] + kShaper[2] * e[2];
      const double tpdf = uniform() + uniform();  // -1..+1 LSB, triangular
      double q = std::floor(x + tpdf + 0.5);
      q = std::clamp(q, minValue, maxValue);
      if (shaping_) {
        // Clipped samples would feed back huge errors; the shaper only ever sees the dither-sized part.
        e[2] = e[1];
        e[1] = e[0];
        e[0] = std::clamp(q - x, -2.0, 2.0);
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
  static constexpr double kShaper[3] = {1.623, -0.982, 0.109};
  double error_[2][3] = {{0, 0, 0}, {0, 0, 0}};
};

}  // namespace rig
