// Band spectrum for display and tonal comparison: a Hann-windowed FFT of the mono sum every
// N samples, summed into fractional-octave bands and smoothed over time. Levels are dB relative
// to a full-scale sine (a 0 dBFS sine reads 0 dB in its band).
#pragma once

#include <cmath>
#include <complex>
#include <vector>

#include "common.h"

namespace rig {

// Written out: std::complex's operator* must handle inf/NaN operands (C99 Annex G), a branch
// and a library call path that cost more than the multiply itself.
inline std::complex<float> multiply(std::complex<float> a, std::complex<float> b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

// In-place iterative radix-2 FFT (N a power of two); twiddles precomputed in prepare.
class Fft {
 public:
  void prepare(int size) {
    size_ = size;
    twiddles_.resize(static_cast<size_t>(size / 2));
    for (int k = 0; k < size / 2; ++k)
      twiddles_[static_cast<size_t>(k)] = std::polar(1.0f, static_cast<float>(-2.0 * kPi * k / size));
    stageTwiddles_.assign(static_cast<size_t>(std::max(1, size)), {1.0f, 0.0f});
    for (int half = 1; half < size; half *= 2)
      for (int k = 0; k < half; ++k)
        stageTwiddles_[static_cast<size_t>(half + k)] =
            twiddles_[static_cast<size_t>(k * (size / (2 * half)))];
    bitReverse_.resize(static_cast<size_t>(size));
    int bits = 0;
    while ((1 << bits) < size) ++bits;
    stages_ = bits;
    for (int i = 0; i < size; ++i) {
      int r = 0;
      for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
      bitReverse_[static_cast<size_t>(i)] = r;
    }
  }
  // The transform as steps: the bit-reversal permutation, then one step per radix-2 stage.
  int steps() const { return 1 + stages_; }
  void transform(std::complex<float>* data) const {
    for (int step = 0; step < steps(); ++step) transformStep(data, step);
  }
  void transformStep(std::complex<float>* data, int step) const {
    if (step == 0) {
      for (int i = 0; i < size_; ++i) {
        const int j = bitReverse_[static_cast<size_t>(i)];
        if (j > i) std::swap(data[i], data[j]);
      }
      return;
    }
    const int half = 1 << (step - 1);
    // This stage's twiddles, contiguous (W^(k N / 2 half) at half + k), so the loop vectorises.
    const std::complex<float>* w = stageTwiddles_.data() + half;
    for (int start = 0; start < size_; start += 2 * half) {
      for (int k = 0; k < half; ++k) {
        const std::complex<float> t = multiply(w[k], data[start + k + half]);
        data[start + k + half] = data[start + k] - t;
        data[start + k] += t;
      }
    }
  }

 private:
  int size_ = 0, stages_ = 0;
  std::vector<std::complex<float>> twiddles_, stageTwiddles_;
  std::vector<int> bitReverse_;
};

class BandSpectrum {
 public:
  void prepare(double sampleRate, const std::vector<double>& bandCentersHz) {
    // ~11 Hz resolution at 48 kHz; the low bands narrower than a bin borrow the nearest bin.
    size_ = sampleRate <= 50000 ? 4096 : sampleRate <= 100000 ? 8192 : 16384;
    const int half = size_ / 2;
    fft_.prepare(half);  // a real N-point transform done as an N/2-point complex one
    window_.resize(static_cast<size_t>(size_));
    double sumSquares = 0;
    for (int i = 0; i < size_; ++i) {
      window_[static_cast<size_t>(i)] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * i / size_));
      sumSquares += window_[static_cast<size_t>(i)] * window_[static_cast<size_t>(i)];
    }
    // Parseval with the window's power: band power = 2 sum|X|^2 / (N sum w^2) is the mean square;
    // doubling it makes a full-scale sine read 0 dB.
    scale_ = 4.0 / (size_ * sumSquares);
    input_.assign(static_cast<size_t>(size_), 0.0f);
    packed_.assign(static_cast<size_t>(half), {});
    power_.assign(static_cast<size_t>(half + 1), 0.0);
    postTwiddles_.resize(static_cast<size_t>(half));
    for (int k = 0; k < half; ++k)
      postTwiddles_[static_cast<size_t>(k)] = std::polar(1.0f, static_cast<float>(-2.0 * kPi * k / size_));
    bands_.clear();
    const double binHz = sampleRate / size_;
    for (double centre : bandCentersHz) {
      Band band;
      const double lo = centre * std::pow(2.0, -1.0 / 12.0), hi = centre * std::pow(2.0, 1.0 / 12.0);
      band.first = std::max(1, static_cast<int>(std::ceil(lo / binHz)));
      band.last = std::min(half, static_cast<int>(std::floor(hi / binHz)));
      if (band.last < band.first) {
        // Narrower than a bin: the nearest bin's density times the band's width.
        band.first = band.last = std::clamp(static_cast<int>(std::lround(centre / binHz)), 1, half);
        band.weight = (hi - lo) / binHz;
      }
      bands_.push_back(band);
    }
    levelsDb_.assign(bands_.size(), -INFINITY);
    smoothed_.assign(bands_.size(), 0.0);
    fill_ = 0;
    step_ = 1 << 30;
  }

  void reset() {
    std::fill(input_.begin(), input_.end(), 0.0f);
    std::fill(smoothed_.begin(), smoothed_.end(), 0.0);
    std::fill(levelsDb_.begin(), levelsDb_.end(), -INFINITY);
    fill_ = 0;
    skipping_ = false;
    step_ = 1 << 30;
  }

  // Analyses every other window (~6 frames a second at 48 kHz): a display's ballistics need no
  // more, and the skipped windows cost nothing. One analysis is spread over the samples that
  // follow its window, a step (a transform stage, a quarter of the power spectrum, or the
  // bands) per kPace / totalSteps() samples: done at once, the transform made every 128th
  // 64-frame block cost several times the rest (what sets a live block's worst case), while a
  // block of kPace samples or more still finishes it in the block whose window completed it.
  void process(const float* left, const float* right, int n) {
    for (int i = 0; i < n;) {
      const int take = std::min(n - i, size_ - fill_);
      if (!skipping_)
        for (int k = 0; k < take; ++k)
          input_[static_cast<size_t>(fill_ + k)] = 0.5f * (left[i + k] + right[i + k]);
      fill_ += take;
      i += take;
      if (fill_ == size_) {
        if (!skipping_) startAnalysis();
        skipping_ = !skipping_;
        fill_ = 0;
      }
    }
    if (step_ < totalSteps()) {
      const int budget = static_cast<int>((static_cast<long long>(n) * totalSteps() + kPace - 1) / kPace);
      for (int k = 0; k < budget && step_ < totalSteps(); ++k) analysisStep();
    }
  }

  const std::vector<float>& levelsDb() const { return levelsDb_; }

 private:
  struct Band {
    int first = 1, last = 1;
    double weight = 1.0;
  };

  static constexpr int kPace = 2048;  // samples within which a started analysis completes
  static constexpr int kPackSteps = 2, kUntangleSteps = 4;
  // Packing the input in kPackSteps, the transform's steps, the power spectrum in
  // kUntangleSteps, then the bands.
  int totalSteps() const { return kPackSteps + fft_.steps() + kUntangleSteps + 1; }

  // Starts an analysis of input_, which the skipped window that follows leaves untouched while
  // the steps pack and transform it.
  void startAnalysis() {
    while (step_ < totalSteps()) analysisStep();  // never pending this long (kPace < size_)
    step_ = 0;
  }

  void analysisStep() {
    const int half = size_ / 2;
    if (step_ < kPackSteps) {
      // The windowed input, packed as half as many complex values, in kPackSteps parts.
      const int first = step_ * (half / kPackSteps), end = first + half / kPackSteps;
      for (int k = first; k < end; ++k) {
        packed_[static_cast<size_t>(k)] = {
            input_[static_cast<size_t>(2 * k)] * window_[static_cast<size_t>(2 * k)],
            input_[static_cast<size_t>(2 * k + 1)] * window_[static_cast<size_t>(2 * k + 1)]};
      }
      ++step_;
      return;
    }
    if (step_ < kPackSteps + fft_.steps()) {
      fft_.transformStep(packed_.data(), step_ - kPackSteps);
      ++step_;
      return;
    }
    const int part = step_ - kPackSteps - fft_.steps();
    ++step_;
    if (part < kUntangleSteps) {
      // Untangle the even/odd halves: X[k] = E[k] + W^k O[k], a quarter of the bins per step.
      const int first = part * (half / kUntangleSteps);
      const int last = part + 1 == kUntangleSteps ? half : first + half / kUntangleSteps - 1;
      for (int k = first; k <= last; ++k) {
        // k mod half and (half - k) mod half, without the two integer divisions per bin.
        const std::complex<float> zk = packed_[static_cast<size_t>(k == half ? 0 : k)];
        const std::complex<float> zc = std::conj(packed_[static_cast<size_t>(k == 0 ? 0 : half - k)]);
        const std::complex<float> even = 0.5f * (zk + zc);
        const std::complex<float> difference = zk - zc;
        const std::complex<float> odd = {0.5f * difference.imag(),
                                         -0.5f * difference.real()};  // -i/2 (zk - zc)
        const std::complex<float> w =
            k < half ? postTwiddles_[static_cast<size_t>(k)] : std::complex<float>(-1.0f, 0.0f);
        const std::complex<float> x = even + multiply(w, odd);
        power_[static_cast<size_t>(k)] =
            static_cast<double>(x.real()) * x.real() + static_cast<double>(x.imag()) * x.imag();
      }
      return;
    }
    for (size_t b = 0; b < bands_.size(); ++b) {
      double sum = 0;
      for (int k = bands_[b].first; k <= bands_[b].last; ++k) sum += power_[static_cast<size_t>(k)];
      const double power = sum * bands_[b].weight * scale_;
      // Ballistics: half of each new frame, so the display settles in a few frames without flicker.
      smoothed_[b] += 0.5 * (power - smoothed_[b]);
      levelsDb_[b] = smoothed_[b] > 1e-20 ? static_cast<float>(10.0 * std::log10(smoothed_[b])) : -INFINITY;
    }
  }

  Fft fft_;
  int size_ = 4096, fill_ = 0;
  int step_ = 1 << 30;  // the pending analysis's next step; >= totalSteps() when none is pending
  bool skipping_ = false;
  double scale_ = 1.0;
  std::vector<float> window_, input_;
  std::vector<std::complex<float>> packed_;
  std::vector<std::complex<float>> postTwiddles_;
  std::vector<double> power_, smoothed_;
  std::vector<Band> bands_;
  std::vector<float> levelsDb_;
};

}  // namespace rig
