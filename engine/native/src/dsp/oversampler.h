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
inline std::vector<double> designHalfBand(double passbandFraction, double stopbandFraction, double attenuationDb) {
  // Fractions of the stage's rate; Kaiser's estimates for length and beta.
  const double transition = 2.0 * kPi * (stopbandFraction - passbandFraction);
  int length = static_cast<int>(std::ceil((attenuationDb - 8.0) / (2.285 * transition))) + 1;
  while (length % 4 != 3) ++length;  // centre tap at an odd index: the zero taps fall on the even offsets
  const double beta = attenuationDb > 50 ? 0.1102 * (attenuationDb - 8.7) : 0.5842 * std::pow(attenuationDb - 21, 0.4) + 0.07886 * (attenuationDb - 21);
  std::vector<double> h(static_cast<size_t>(length));
  const int centre = length / 2;
  for (int i = 0; i < length; ++i) {
    const int k = i - centre;
    const double sinc = k == 0 ? 0.5 : std::sin(kPi * k / 2.0) / (kPi * k);
    h[static_cast<size_t>(i)] = sinc * kaiserWindow(static_cast<double>(k) / (centre + 1), beta);
  }
  return h;
}

// One 2x stage, both directions. The non-centre taps sit at odd offsets from the centre; only
// those multiply, and by symmetry each coefficient serves two samples.
class HalfBandStage {
 public:
  void prepare(const std::vector<double>& taps) {
    const int length = static_cast<int>(taps.size());
    centre_ = length / 2;
    coeffs_.clear();
    for (int k = 1; k <= centre_; k += 2) coeffs_.push_back(static_cast<float>(taps[static_cast<size_t>(centre_ + k)]));
    span_ = (static_cast<int>(coeffs_.size()) * 2);  // input samples the odd phase reaches
    upHistory_.assign(static_cast<size_t>(2 * span_), 0.0f);
    downHistory_.assign(static_cast<size_t>(2 * (2 * centre_ + 1)), 0.0f);
    reset();
  }
  void reset() {
    std::fill(upHistory_.begin(), upHistory_.end(), 0.0f);
    std::fill(downHistory_.begin(), downHistory_.end(), 0.0f);
    upPos_ = downPos_ = 0;
  }
  // Delay in samples at the stage's lower rate, for each direction.
  double latencyLowRate() const { return centre_ / 2.0; }

  // One input sample at the low rate -> two output samples at the high rate.
  void up(float x, float* out) {
    upHistory_[static_cast<size_t>(upPos_)] = x;
    upHistory_[static_cast<size_t>(upPos_ + span_)] = x;
    upPos_ = upPos_ + 1 == span_ ? 0 : upPos_ + 1;
    const float* w = &upHistory_[static_cast<size_t>(upPos_)];  // oldest .. newest, span_ samples
    const int half = span_ / 2;
    float acc = 0.0f;
    for (int j = 0; j < half; ++j) acc += coeffs_[static_cast<size_t>(j)] * (w[half - 1 - j] + w[half + j]);
    // Zero-stuffing halves the level; the factor 2 restores it. The even phase is the centre
    // tap alone (0.5 x 2): the input itself, delayed to the middle of the odd phase's reach.
    out[0] = 2.0f * acc;
    out[1] = w[half];
  }

  // Two input samples at the high rate -> one output sample at the low rate.
  float down(const float* in) {
    const int length = 2 * centre_ + 1;
    for (int s = 0; s < 2; ++s) {
      downHistory_[static_cast<size_t>(downPos_)] = in[s];
      downHistory_[static_cast<size_t>(downPos_ + length)] = in[s];
      downPos_ = downPos_ + 1 == length ? 0 : downPos_ + 1;
    }
    const float* w = &downHistory_[static_cast<size_t>(downPos_)];  // oldest .. newest
    float acc = 0.5f * w[centre_];
    for (size_t j = 0; j < coeffs_.size(); ++j) {
      const int k = 1 + 2 * static_cast<int>(j);
      acc += coeffs_[j] * (w[centre_ - k] + w[centre_ + k]);
    }
    return acc;
  }

 private:
  std::vector<float> coeffs_, upHistory_, downHistory_;
  int centre_ = 0, span_ = 0, upPos_ = 0, downPos_ = 0;
};

class Oversampler {
 public:
  static constexpr int kMaxStages = 3;

  void prepare(double sampleRate, int stages, int maxBlock) {
    stages_ = std::clamp(stages, 1, kMaxStages);
    const double passband = std::min(20000.0, 0.4167 * sampleRate);
    double rate = 2.0 * sampleRate;
    for (int s = 0; s < stages_; ++s) {
      // First stage: stopband from 0.51 fs of the base rate; later ones only need to stop
      // what would fold onto the previous stage's transition band.
      const double stop = s == 0 ? 0.51 * sampleRate : rate / 2.0 - passband;
      stage_[s].prepare(designHalfBand(passband / rate, stop / rate, s == 0 ? 100.0 : 90.0));
      rate *= 2.0;
    }
    const int probe = 512;
    buffers_[0].assign(static_cast<size_t>(std::max(maxBlock, probe)) << stages_, 0.0f);
    buffers_[1].assign(static_cast<size_t>(std::max(maxBlock, probe)) << stages_, 0.0f);
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
    const double a = response[static_cast<size_t>(std::max(0, peak - 1))], b = response[static_cast<size_t>(peak)], c = response[static_cast<size_t>(peak + 1)];
    const double fractional = peak + (a - 2 * b + c < 0 ? 0.5 * (a - c) / (a - 2 * b + c) : 0.0);
    latency_ = static_cast<int>(std::ceil(fractional - 1e-3));
    padLength_ = static_cast<int>(std::lround((latency_ - fractional) * factor()));
    pad_.assign(static_cast<size_t>(padLength_) + 1, 0.0f);
    reset();
  }
  void reset() {
    for (int s = 0; s < stages_; ++s) stage_[s].reset();
    std::fill(pad_.begin(), pad_.end(), 0.0f);
    padPos_ = 0;
  }
  int factor() const { return 1 << stages_; }
  int latency() const { return latency_; }

  // Upsamples n samples into the returned buffer of n * factor() samples.
  float* up(const float* in, int n) {
    const float* src = in;
    int count = n;
    for (int s = 0; s < stages_; ++s) {
      float* dst = buffers_[s % 2].data();
      for (int i = 0; i < count; ++i) stage_[s].up(src[i], dst + 2 * i);
      src = dst;
      count *= 2;
    }
    return const_cast<float*>(src);
  }
  // Downsamples n * factor() samples (at `data`) into out[0..n).
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
      for (int i = 0; i < count / 2; ++i) dst[i] = stage_[s].down(src + 2 * i);
      src = dst;
      count /= 2;
    }
  }

 private:
  HalfBandStage stage_[kMaxStages];
  std::vector<float> buffers_[2];
  std::vector<float> pad_;
  int stages_ = 3, latency_ = 0, padLength_ = 0, padPos_ = 0;
};

}  // namespace rig
