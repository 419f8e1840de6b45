// Oversampling by cascaded 2x half-band FIR stages (linear phase, Kaiser-windowed sinc). Each
// stage passes 0..P and stops from its input Nyquist minus P; the first stage, the only one
// that decides what folds into the audio band, stops from 0.51 fs (a 24.5 kHz edge at 48 kHz)
// at 100 dB, so even content the shaper puts just above Nyquist cannot come back audibly.
#pragma once

#include <vector>

#include "common.h"
#include "true-peak.h"  // besselI0, kaiserWindow

namespace rig {

// Taps of a half-band low-pass (cutoff at a quarter of the rate it runs at): odd length, every
// other tap zero except the centre (0.5).
inline std::vector<double> designHalfBand(double passbandFraction, double stopbandFraction,
                                          double attenuationDb) {
  // Fractions of the stage's rate; Kaiser's estimates for length and beta.
  const double transition = 2.0 * kPi * (stopbandFraction - passbandFraction);
  int length = static_cast<int>(std::ceil((attenuationDb - 8.0) / (2.285 * transition))) + 1;
  while (length % 4 != 3) ++length;  // centre tap at an odd index: the zero taps fall on the even offsets
  const double beta = attenuationDb > 50
                          ? 0.1102 * (attenuationDb - 8.7)
                          : 0.5842 * std::pow(attenuationDb - 21, 0.4) + 0.07886 * (attenuationDb - 21);
  std::vector<double> h(static_cast<size_t>(length));
  const int centre = length / 2;
  for (int i = 0; i < length; ++i) {
    const int k = i - centre;
    const double sinc = k == 0 ? 0.5 : std::sin(kPi * k / 2.0) / (kPi * k);
    h[static_cast<size_t>(i)] = sinc * kaiserWindow(static_cast<double>(k) / (centre + 1), beta);
  }
  return h;
}

// One 2x stage, both directions, a block at a time. Only the non-zero taps (odd offsets from the
// centre) multiply, each serving a symmetric pair of samples. The loops run over eight outputs
// at once with the taps outside, so they vectorise across outputs (contiguous loads, no
// reversed reads); the decimator reads its input split into even and odd phases for the same
// reason.
class HalfBandStage {
 public:
  static constexpr int kLanes = 8;

  // maxInput: the most low-rate (up) or high-rate/2 (down) samples one call handles.
  void prepare(const std::vector<double>& taps, int maxInput) {
    const int length = static_cast<int>(taps.size());
    centre_ = length / 2;
    coeffs_.clear();
    for (int k = 1; k <= centre_; k += 2)
      coeffs_.push_back(static_cast<float>(taps[static_cast<size_t>(centre_ + k)]));
    pairs_ = static_cast<int>(coeffs_.size());
    history_ = 2 * pairs_ + 1;
    // Rounded up to whole vectors; the extra outputs are computed from stale data and dropped.
    const size_t size = static_cast<size_t>(history_ + maxInput + kLanes);
    upBuffer_.assign(size, 0.0f);
    evenBuffer_.assign(size, 0.0f);
    oddBuffer_.assign(size, 0.0f);
    acc_.assign(static_cast<size_t>(maxInput + kLanes), 0.0f);
    reset();
  }
  void reset() {
    std::fill(upBuffer_.begin(), upBuffer_.end(), 0.0f);
    std::fill(evenBuffer_.begin(), evenBuffer_.end(), 0.0f);
    std::fill(oddBuffer_.begin(), oddBuffer_.end(), 0.0f);
  }

  // n samples at the low rate -> 2n at the high rate. Output pair i: the interpolated point
  // (zero-stuffing halves the level, so the taps count twice) and the input itself, delayed to
  // the middle of the taps' reach (the even phase is the centre tap alone, 0.5 x 2).
  void up(const float* in, int n, float* out) {
    float* b = upBuffer_.data() + history_;
    std::copy(in, in + n, b);
    const int p = pairs_;
    // out0[i] = 2 sum_j c_j (x[i-p-j] + x[i-p+1+j]); out1[i] = x[i-p+1].
    convolve(b - p, b - p + 1, n, 2.0f);
    for (int i = 0; i < n; ++i) {
      out[2 * i] = acc_[static_cast<size_t>(i)];
      out[2 * i + 1] = b[i - p + 1];
    }
    std::copy(b + n - history_, b + n, upBuffer_.data());
  }

  // 2n samples at the high rate -> n at the low rate.
  void down(const float* in, int n, float* out) {
    float* e = evenBuffer_.data() + history_;
    float* o = oddBuffer_.data() + history_;
    for (int i = 0; i < n; ++i) {
      e[i] = in[2 * i];
      o[i] = in[2 * i + 1];
    }
    // With q = p - 1 (centre = 2q + 1): out[i] = 0.5 E[i-q] + sum_j c_j (O[i-q-1-j] + O[i-q+j]).
    const int q = pairs_ - 1;
    convolve(o - q - 1, o - q, n, 1.0f);
    for (int i = 0; i < n; ++i) out[i] = acc_[static_cast<size_t>(i)] + 0.5f * e[i - q];
    std::copy(e + n - history_, e + n, evenBuffer_.data());
    std::copy(o + n - history_, o + n, oddBuffer_.data());
  }

  // Delay in samples at the stage's lower rate, for each direction.
  double latencyLowRate() const { return centre_ / 2.0; }

 private:
  // acc[i] = gain * sum_j c_j (falling[i - j] + rising[i + j]) for i < n, eight outputs per pass.
  void convolve(const float* falling, const float* rising, int n, float gain) {
    const float* c = coeffs_.data();
    for (int i0 = 0; i0 < n; i0 += kLanes) {
      float acc[kLanes] = {};
      for (int j = 0; j < pairs_; ++j) {
        const float cj = c[j];
        const float* a = falling + i0 - j;
        const float* b = rising + i0 + j;
        for (int l = 0; l < kLanes; ++l) acc[l] += cj * (a[l] + b[l]);
      }
      for (int l = 0; l < kLanes; ++l) acc_[static_cast<size_t>(i0 + l)] = gain * acc[l];
    }
  }

  std::vector<float> coeffs_, upBuffer_, evenBuffer_, oddBuffer_, acc_;
  int centre_ = 0, pairs_ = 0, history_ = 0;
};

class Oversampler {
 public:
  static constexpr int kMaxStages = 3;

  void prepare(double sampleRate, int stages, int maxBlock) {
    stages_ = std::clamp(stages, 1, kMaxStages);
    const int probe = 512;
    maxBlock_ = std::max(maxBlock, probe);
    const double passband = std::min(20000.0, 0.4167 * sampleRate);
    double rate = 2.0 * sampleRate;
    for (int s = 0; s < stages_; ++s) {
      // First stage: stopband from 0.51 fs of the base rate; later ones only need to stop
      // what would fold onto the previous stage's transition band.
      const double stop = s == 0 ? 0.51 * sampleRate : rate / 2.0 - passband;
      stage_[s].prepare(designHalfBand(passband / rate, stop / rate, s == 0 ? 100.0 : 90.0), maxBlock_ << s);
      rate *= 2.0;
    }
    buffers_[0].assign(static_cast<size_t>(maxBlock_) << stages_, 0.0f);
    buffers_[1].assign(static_cast<size_t>(maxBlock_) << stages_, 0.0f);
    // The cascade's delay is a fraction of a base sample in general. Measure it with an impulse
    // and pad the oversampled path up to the next whole sample, so dry paths elsewhere (bypass,
    // the chain's latency compensation) line up exactly.
    pad_.assign(1, 0.0f);
    padLength_ = 0;
    std::vector<float> impulse(probe, 0.0f), response(probe, 0.0f);
    impulse[0] = 1.0f;
    reset();
    down(up(impulse.data(), probe), probe, response.data());
    int peak = 0;
    for (int i = 1; i < probe; ++i)
      if (response[static_cast<size_t>(i)] > response[static_cast<size_t>(peak)]) peak = i;
    const double a = response[static_cast<size_t>(std::max(0, peak - 1))],
                 b = response[static_cast<size_t>(peak)], c = response[static_cast<size_t>(peak + 1)];
    const double fractional = peak + (a - 2 * b + c < 0 ? 0.5 * (a - c) / (a - 2 * b + c) : 0.0);
    latency_ = static_cast<int>(std::ceil(fractional - 1e-3));
    padLength_ = static_cast<int>(std::lround((latency_ - fractional) * factor()));
    pad_.assign(static_cast<size_t>(padLength_) + 1, 0.0f);
    // Base-rate samples after which the cascade has forgotten its past: the impulse response's
    // length, for warming it up from a history (see Character).
    memory_ = 2 * latency_ + 2;
    reset();
  }
  void reset() {
    for (int s = 0; s < stages_; ++s) stage_[s].reset();
    std::fill(pad_.begin(), pad_.end(), 0.0f);
    padPos_ = 0;
  }
  int factor() const { return 1 << stages_; }
  int latency() const { return latency_; }
  int memory() const { return memory_; }
  int maxBlock() const { return maxBlock_; }

  // Upsamples n (<= maxBlock()) samples into the returned buffer of n * factor() samples.
  float* up(const float* in, int n) {
    const float* src = in;
    int count = n;
    for (int s = 0; s < stages_; ++s) {
      float* dst = buffers_[s % 2].data();
      stage_[s].up(src, count, dst);
      src = dst;
      count *= 2;
    }
    return const_cast<float*>(src);
  }
  // Downsamples n * factor() samples (at `data`, which it may overwrite) into out[0..n).
  void down(float* data, int n, float* out) {
    int count = n << stages_;
    if (padLength_ > 0) {
      for (int i = 0; i < count; ++i) {
        const float x = data[i];
        data[i] = pad_[static_cast<size_t>(padPos_)];
        pad_[static_cast<size_t>(padPos_)] = x;
        padPos_ = padPos_ + 1 == padLength_ ? 0 : padPos_ + 1;
      }
    }
    float* src = data;
    for (int s = stages_ - 1; s >= 0; --s) {
      float* dst = s == 0 ? out : (src == buffers_[0].data() ? buffers_[1].data() : buffers_[0].data());
      stage_[s].down(src, count / 2, dst);
      src = dst;
      count /= 2;
    }
  }

 private:
  HalfBandStage stage_[kMaxStages];
  std::vector<float> buffers_[2];
  std::vector<float> pad_;
  int stages_ = 3, latency_ = 0, padLength_ = 0, padPos_ = 0, memory_ = 0, maxBlock_ = 0;
};

// While a stage is idle its oversampler does nothing, so its filters hold a stale past; leaving
// idle with that past (or silence) would glitch for the cascade's length. Instead the last
// memory() input samples are kept and replayed through it, so it resumes as if it had run.
class OversamplerHistory {
 public:
  void prepare(const Oversampler& oversampler) {
    length_ = std::max(1, oversampler.memory());
    ring_.assign(static_cast<size_t>(length_), 0.0f);
    scratch_.assign(static_cast<size_t>(oversampler.maxBlock()), 0.0f);
    pos_ = 0;
  }
  void reset() {
    std::fill(ring_.begin(), ring_.end(), 0.0f);
    pos_ = 0;
  }
  void remember(const float* x, int n) {
    for (int i = std::max(0, n - length_); i < n; ++i) {
      ring_[static_cast<size_t>(pos_)] = x[i];
      pos_ = pos_ + 1 == length_ ? 0 : pos_ + 1;
    }
  }
  // Resets the oversampler and runs the remembered samples through it, oldest first (the ring
  // rotated into order in the scratch, chunk by chunk). Returns the last sample it put out.
  float warm(Oversampler& oversampler) {
    oversampler.reset();
    const int chunkMax = static_cast<int>(scratch_.size());
    int count = 0;
    for (int done = 0; done < length_; done += count) {
      count = std::min(chunkMax, length_ - done);
      for (int i = 0; i < count; ++i)
        scratch_[static_cast<size_t>(i)] = ring_[static_cast<size_t>((pos_ + done + i) % length_)];
      oversampler.down(oversampler.up(scratch_.data(), count), count, scratch_.data());
    }
    return scratch_[static_cast<size_t>(count - 1)];
  }

 private:
  std::vector<float> ring_, scratch_;
  int length_ = 1, pos_ = 0;
};

}  // namespace rig
