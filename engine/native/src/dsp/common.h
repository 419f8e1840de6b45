// Small building blocks every processor shares: level conversions, denormal control,
// parameter smoothing, delay lines and click-free bypass.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace rig {

constexpr double kPi = 3.14159265358979323846;

inline double dbToGain(double db) { return std::pow(10.0, db / 20.0); }
inline double gainToDb(double gain) { return 20.0 * std::log10(gain); }
inline float dbToGainF(float db) { return std::exp(db * 0.11512925464970229f); }  // ln(10)/20

// Sets FTZ/DAZ for the lifetime of one process call and restores the caller's mode:
// denormals in decaying IIR tails cost 100x per operation on x86.
class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() {
#if defined(__SSE__) || defined(__x86_64__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
#endif
  }
  ~ScopedFlushDenormals() {
#if defined(__SSE__) || defined(__x86_64__)
    _mm_setcsr(saved_);
#endif
  }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned int saved_ = 0;
};

// Linear ramp towards a target over a fixed time: the value is exact when the ramp ends,
// so a recalled setting lands where it was stored (a one-pole only approaches it).
class LinearSmoother {
 public:
  void prepare(double sampleRate, double rampMs) {
    rampSamples_ = std::max(1, static_cast<int>(sampleRate * rampMs / 1000.0));
  }
  void setTarget(double target) {
    if (target == target_) return;
    target_ = target;
    remaining_ = rampSamples_;
    step_ = (target_ - current_) / remaining_;
  }
  // Jumps without a ramp: for prepare/reset and the first value after construction.
  void snap(double value) {
    target_ = current_ = value;
    remaining_ = 0;
    step_ = 0;
  }
  bool ramping() const { return remaining_ > 0; }
  double current() const { return current_; }
  double target() const { return target_; }
  double next() {
    if (remaining_ > 0) {
      current_ += step_;
      if (--remaining_ == 0) current_ = target_;
    }
    return current_;
  }
  // Advances n samples at once; for coefficients recomputed once per sub-block.
  double advance(int n) {
    if (remaining_ <= 0) return current_;
    if (n >= remaining_) {
      remaining_ = 0;
      current_ = target_;
    } else {
      remaining_ -= n;
      current_ += step_ * n;
    }
    return current_;
  }

 private:
  double current_ = 0, target_ = 0, step_ = 0;
  int rampSamples_ = 1, remaining_ = 0;
};

// Fixed-length delay sized in prepare(); used to keep dry paths aligned with processed ones.
class DelayLine {
 public:
  void prepare(int delaySamples) {
    delay_ = std::max(0, delaySamples);
    buffer_.assign(static_cast<size_t>(delay_) + 1, 0.0f);
    pos_ = 0;
  }
  void reset() { std::fill(buffer_.begin(), buffer_.end(), 0.0f); }
  int delay() const { return delay_; }
  float process(float x) {
    if (delay_ == 0) return x;
    buffer_[pos_] = x;
    pos_ = pos_ + 1 == static_cast<int>(buffer_.size()) ? 0 : pos_ + 1;
    return buffer_[pos_];
  }

 private:
  std::vector<float> buffer_;
  int delay_ = 0, pos_ = 0;
};

// Click-free bypass for one processor: crossfades between the processed signal and the
// input delayed by the processor's latency, so switching never shifts the signal in time.
class BypassCrossfade {
 public:
  void prepare(double sampleRate, int latencySamples) {
    fade_.prepare(sampleRate, 20.0);  // 20 ms: long enough to be inaudible as a click, short enough to feel instant
    dryL_.prepare(latencySamples);
    dryR_.prepare(latencySamples);
    fade_.snap(bypassed_ ? 1.0 : 0.0);
  }
  void reset() {
    dryL_.reset();
    dryR_.reset();
    fade_.snap(bypassed_ ? 1.0 : 0.0);
  }
  void setBypassed(bool bypassed) {
    bypassed_ = bypassed;
    fade_.setTarget(bypassed ? 1.0 : 0.0);
  }
  // True when the processor may skip its work for this block entirely.
  bool fullyBypassed() const { return bypassed_ && !fade_.ramping(); }
  bool fullyActive() const { return !bypassed_ && !fade_.ramping(); }

  // Call before processing with the unprocessed block: remembers the delayed dry signal in
  // dryOutL/R (caller-provided scratch of at least n samples).
  void captureDry(const float* left, const float* right, int n, float* dryOutL, float* dryOutR) {
    for (int i = 0; i < n; ++i) {
      dryOutL[i] = dryL_.process(left[i]);
      dryOutR[i] = dryR_.process(right[i]);
    }
  }
  // Mixes the processed block (in place) with the captured dry block.
  void mix(float* left, float* right, const float* dryL, const float* dryR, int n) {
    for (int i = 0; i < n; ++i) {
      const float b = static_cast<float>(fade_.next());
      left[i] += b * (dryL[i] - left[i]);
      right[i] += b * (dryR[i] - right[i]);
    }
  }

 private:
  LinearSmoother fade_;
  DelayLine dryL_, dryR_;
  bool bypassed_ = false;
};

}  // namespace rig
