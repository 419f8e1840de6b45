// Small building blocks every processor shares: level conversions, denormal control,
// parameter smoothing, delay lines and click-free bypass.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace rig {

constexpr double kPi = 3.14159265358979323846;

// Compile-time string equality: a processor's static_assert proves that each enumerator of its
// Param enum sits at its own id in kParamIds (the chain routes by id, setParam switches by enum).
constexpr bool sameId(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || sameId(a + 1, b + 1));
}

inline double dbToGain(double db) {
  return std::pow(10.0, db / 20.0);
}
inline double gainToDb(double gain) {
  return 20.0 * std::log10(gain);
}

// Per-sample log and exp for gain computers: polynomial approximations accurate to ~1e-6
// relative (1e-5 dB), several times cheaper than libm and branch-free, so loops vectorise.
inline float fastLog2(float x) {  // x > 0
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const float exponent = static_cast<float>(static_cast<int32_t>((bits >> 23) & 0xff) - 127);
  bits = (bits & 0x007fffffu) | 0x3f800000u;  // mantissa in [1, 2)
  float m;
  std::memcpy(&m, &bits, sizeof m);
  // log2(m) on [1, 2) via log2((1+t)/(1-t)) with t = (m-1)/(m+1): odd series, t <= 1/3.
  const float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  const float series =
      t *
      (2.885390082f + t2 * (0.961796694f + t2 * (0.577078016f + t2 * (0.412198583f + t2 * 0.320598800f))));
  return exponent + series;
}
inline float fastExp2(float x) {
  x = std::min(std::max(x, -126.0f), 126.0f);
  const float whole = std::floor(x);
  const float f = x - whole;  // [0, 1)
  // 2^f, minimax-style degree-6 polynomial (Horner): relative error below 2e-7 on [0, 1).
  const float p =
      1.0f +
      f * (0.693147182f +
           f * (0.240226507f +
                f * (0.0555041087f + f * (0.00961812911f + f * (0.00133335581f + f * 0.000154035304f)))));
  const uint32_t scale = static_cast<uint32_t>(static_cast<int32_t>(whole) + 127) << 23;
  float s;
  std::memcpy(&s, &scale, sizeof s);
  return p * s;
}
constexpr float kDbPerOctave = 6.020599913f;  // 20 log10(2)
inline float dbToGainF(float db) {
  return fastExp2(db / kDbPerOctave);
}
inline float gainToDbF(float gain) {
  return kDbPerOctave * fastLog2(gain);
}

// Eight floats in one vector (GCC/Clang vector extension: AVX registers on x86 when enabled,
// two NEON registers on ARM64, plain scalar code elsewhere).
using Float8 = float __attribute__((vector_size(32)));
inline Float8 loadFloat8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline Float8 max8(Float8 a, Float8 b) {
  return a < b ? b : a;
}
inline Float8 min8(Float8 a, Float8 b) {
  return b < a ? b : a;
}
inline Float8 abs8(Float8 v) {
  return v < 0.0f ? -v : v;
}

// max(start, |x[0]|, ..., |x[n-1]|) in eight partial maxima: a plain running maximum does not
// vectorise (without -ffast-math the compiler keeps its order, which NaN would make visible).
inline float peakMagnitude(const float* x, int n, float start = 0.0f) {
  Float8 lanes = Float8{} + start;
  int i = 0;
  for (; i + 8 <= n; i += 8) lanes = max8(lanes, abs8(loadFloat8(x + i)));
  float peak = start;
  for (int l = 0; l < 8; ++l) peak = std::max(peak, lanes[l]);
  for (; i < n; ++i) peak = std::max(peak, std::fabs(x[i]));
  return peak;
}
// min(start, x[0], ..., x[n-1]), likewise.
inline float leastValue(const float* x, int n, float start) {
  Float8 lanes = Float8{} + start;
  int i = 0;
  for (; i + 8 <= n; i += 8) lanes = min8(lanes, loadFloat8(x + i));
  float least = start;
  for (int l = 0; l < 8; ++l) least = std::min(least, lanes[l]);
  for (; i < n; ++i) least = std::min(least, x[i]);
  return least;
}

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
  // process() over a block, as copies of contiguous runs of the ring; out must not alias in.
  void process(const float* in, float* out, int n) {
    if (delay_ == 0) {
      std::copy(in, in + n, out);
      return;
    }
    const int size = static_cast<int>(buffer_.size());
    float* buffer = buffer_.data();
    for (int i = 0; i < n;) {
      if (pos_ == size - 1) {
        // The read position wraps to the ring's start: one sample as process(x) does it.
        buffer[pos_] = in[i];
        pos_ = 0;
        out[i++] = buffer[0];
        continue;
      }
      // Each sample reads the slot after the one it writes, so a run reads before it writes.
      const int run = std::min(n - i, size - 1 - pos_);
      std::copy(buffer + pos_ + 1, buffer + pos_ + 1 + run, out + i);
      std::copy(in + i, in + i + run, buffer + pos_);
      pos_ += run;
      i += run;
    }
  }

 private:
  std::vector<float> buffer_;
  int delay_ = 0, pos_ = 0;
};

// Click-free bypass for one processor: crossfades between the processed signal and the input
// delayed by the processor's latency, so switching never shifts the signal in time. It keeps
// the aligned dry block itself; processors with latency must capture every block so the delay
// is current when a crossfade starts.
class BypassCrossfade {
 public:
  void prepare(double sampleRate, int latencySamples, int maxBlock) {
    fade_.prepare(sampleRate,
                  20.0);  // 20 ms: long enough to be inaudible as a click, short enough to feel instant
    delayL_.prepare(latencySamples);
    delayR_.prepare(latencySamples);
    dryL_.assign(static_cast<size_t>(maxBlock), 0.0f);
    dryR_.assign(static_cast<size_t>(maxBlock), 0.0f);
    fade_.snap(bypassed_ ? 1.0 : 0.0);
  }
  void reset() {
    delayL_.reset();
    delayR_.reset();
    fade_.snap(bypassed_ ? 1.0 : 0.0);
  }
  void setBypassed(bool bypassed) {
    bypassed_ = bypassed;
    fade_.setTarget(bypassed ? 1.0 : 0.0);
  }
  // True when the processor may skip its work for this block entirely.
  bool fullyBypassed() const { return bypassed_ && !fade_.ramping(); }
  bool fullyActive() const { return !bypassed_ && !fade_.ramping(); }

  // Remembers the unprocessed block, delayed by the processor's latency.
  void capture(const float* left, const float* right, int n) {
    delayL_.process(left, dryL_.data(), n);
    delayR_.process(right, dryR_.data(), n);
  }
  // Output = the captured dry block (the processor is out of circuit).
  void copyDry(float* left, float* right, int n) const {
    std::copy(dryL_.begin(), dryL_.begin() + n, left);
    std::copy(dryR_.begin(), dryR_.begin() + n, right);
  }
  // Mixes the processed block (in place) with the captured dry block along the fade.
  void mix(float* left, float* right, int n) {
    for (int i = 0; i < n; ++i) {
      const float b = static_cast<float>(fade_.next());
      left[i] += b * (dryL_[static_cast<size_t>(i)] - left[i]);
      right[i] += b * (dryR_[static_cast<size_t>(i)] - right[i]);
    }
  }

 private:
  LinearSmoother fade_;
  DelayLine delayL_, delayR_;
  std::vector<float> dryL_, dryR_;
  bool bypassed_ = false;
};

}  // namespace rig
