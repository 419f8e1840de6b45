// Rational polyphase resampler (L/M), for delivery masters such as 48 kHz -> 44.1 kHz (147/160).
// One Kaiser-windowed sinc prototype at L times the input rate, cut off at 20 kHz-ish with the
// stopband from the lower Nyquist at ~110 dB; each output sample is one phase's dot product.
#pragma once

#include <numeric>
#include <vector>

#include "common.h"
#include "true-peak.h"  // kaiserWindow

namespace rig {

class Resampler {
 public:
  // Returns false when the ratio is not supported (the phase table would be unreasonable).
  bool prepare(int inputRate, int outputRate, int channels) {
    if (inputRate <= 0 || outputRate <= 0 || channels < 1 || channels > 2) return false;
    const int g = std::gcd(inputRate, outputRate);
    up_ = outputRate / g;
    down_ = inputRate / g;
    if (up_ > 1024 || down_ > 4096) return false;
    channels_ = channels;
    const double lowerNyquist = 0.5 * std::min(inputRate, outputRate);
    // Passband to 20 kHz (or 0.45 of the lower rate), stopband from the lower Nyquist.
    const double passband = std::min(20000.0, 0.9 * lowerNyquist);
    const double transition = 2.0 * kPi * (lowerNyquist - passband) / inputRate;  // rad per input sample
    constexpr double kAttenuationDb = 110.0;
    taps_ = static_cast<int>(std::ceil((kAttenuationDb - 8.0) / (2.285 * transition)));
    taps_ += taps_ % 2;  // even: the group delay is then exactly taps/2 input samples
    const double beta = 0.1102 * (kAttenuationDb - 8.7);
    const double cutoff = 0.5 * (passband + lowerNyquist);  // Hz
    const int length = up_ * taps_;
    const double centre = length / 2.0;
    phases_.assign(static_cast<size_t>(length), 0.0f);
    const double fc = cutoff / (static_cast<double>(inputRate) * up_);  // cycles per upsampled sample
    for (int n = 0; n < length; ++n) {
      const double t = n - centre;
      const double sinc = t == 0 ? 2.0 * fc : std::sin(2.0 * kPi * fc * t) / (kPi * t);
      const double h = up_ * sinc * kaiserWindow(t / (centre + 1), beta);
      // Phase-major and reversed in time: phase p, slot taps-1-j holds h[p + j*L], the
      // coefficient for x[base - j], so the dot product runs forward over the history.
      phases_[static_cast<size_t>((n % up_) * taps_ + taps_ - 1 - n / up_)] = static_cast<float>(h);
    }
    history_.assign(static_cast<size_t>(channels_ * 2 * taps_), 0.0f);
    reset();
    return true;
  }

  void reset() {
    std::fill(history_.begin(), history_.end(), 0.0f);
    pos_ = 0;
    received_ = 0;
    produced_ = 0;
  }

  int latencyInputFrames() const { return taps_ / 2; }

  int process(const float* input, int frames, float* output, int maxOut) {
    int written = 0;
    for (int f = 0; f < frames; ++f) {
      push(input + f * channels_);
      written += drain(output + written * channels_, maxOut - written);
    }
    return written;
  }

  // Pushes the filter's length of silence so the last input samples come out.
  int flush(float* output, int maxOut) {
    int written = 0;
    const float silence[2] = {0.0f, 0.0f};
    for (int f = 0; f < taps_; ++f) {
      push(silence);
      written += drain(output + written * channels_, maxOut - written);
    }
    return written;
  }

 private:
  void push(const float* frame) {
    for (int c = 0; c < channels_; ++c) {
      float* h = &history_[static_cast<size_t>(c * 2 * taps_)];
      h[pos_] = frame[c];
      h[pos_ + taps_] = frame[c];
    }
    pos_ = pos_ + 1 == taps_ ? 0 : pos_ + 1;
    ++received_;
  }

  // Emits every output whose newest needed input has arrived: output k needs x[floor(k M / L)].
  int drain(float* out, int room) {
    int written = 0;
    while (written < room) {
      const long long numerator = produced_ * down_;
      const long long base = numerator / up_;
      if (base >= received_) break;
      const int phase = static_cast<int>(numerator % up_);
      // history, oldest..newest, ends at x[received_-1]; x[base] sits `back` samples before it
      // (0 unless the caller's output room ran out).
      const int back = static_cast<int>(received_ - 1 - base);
      const float* coeffs = &phases_[static_cast<size_t>(phase * taps_ + back)];
      for (int c = 0; c < channels_; ++c) {
        const float* h = &history_[static_cast<size_t>(c * 2 * taps_ + pos_)];  // h[taps_-1] is newest
        out[written * channels_ + c] = dot(coeffs, h, taps_ - back);
      }
      ++written;
      ++produced_;
    }
    return written;
  }

  // Eight partial sums: lets the compiler vectorise without reassociating (no -ffast-math),
  // and keeps the result independent of how the input was chunked.
  static float dot(const float* a, const float* b, int n) {
    float part[8] = {};
    int i = 0;
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; ++l) part[l] += a[i + l] * b[i + l];
    float acc = 0.0f;
    for (; i < n; ++i) acc += a[i] * b[i];
    for (int l = 0; l < 8; ++l) acc += part[l];
    return acc;
  }

  std::vector<float> phases_, history_;
  int up_ = 1, down_ = 1, taps_ = 2, channels_ = 2, pos_ = 0;
  long long received_ = 0, produced_ = 0;
};

}  // namespace rig
