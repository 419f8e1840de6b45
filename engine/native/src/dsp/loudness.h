// Gated loudness over long spans in constant memory: histograms of 400 ms block loudness
// (integrated, BS.1770-4 section 2.8) and of 3 s short-term loudness (LRA, EBU Tech 3342),
// binned at 0.01 LU from -70 to +40 LUFS (libebur128's bins for hours-long programmes, reaching
// higher: see kMaxLufs). Each bin keeps its exact energy sum, so the integrated value is exact;
// only the relative-gate decision is quantised (to 0.01 LU). The bins are Fenwick trees (prefix
// sums in O(log bins)), so reading the gated values ten times a second costs ~14 steps instead of
// a scan of 11000 bins.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace rig {

constexpr double kLufsOffset = -0.691;  // BS.1770-4 eq. 2: L = -0.691 + 10 log10(sum G_i z_i)

inline double energyToLufs(double meanSquare) {
  return meanSquare > 0 ? kLufsOffset + 10.0 * std::log10(meanSquare) : -INFINITY;
}

// Prefix sums over a fixed number of slots with O(log n) update and query.
template <typename T>
class FenwickTree {
 public:
  void assign(int size) {
    tree_.assign(static_cast<size_t>(size) + 1, T{});
    top_ = 1;
    while (top_ * 2 <= size) top_ *= 2;
  }
  void clear() { std::fill(tree_.begin(), tree_.end(), T{}); }
  void add(int slot, T value) {
    for (int i = slot + 1; i < static_cast<int>(tree_.size()); i += i & -i)
      tree_[static_cast<size_t>(i)] += value;
  }
  // Sum of slots [0, end).
  T prefix(int end) const {
    T sum{};
    for (int i = end; i > 0; i -= i & -i) sum += tree_[static_cast<size_t>(i)];
    return sum;
  }
  // The first slot s with prefix(s + 1) > target (target >= 0, integer counts).
  int firstAbove(T target) const {
    int position = 0;
    for (int step = top_; step > 0; step /= 2) {
      const int next = position + step;
      if (next < static_cast<int>(tree_.size()) && tree_[static_cast<size_t>(next)] <= target) {
        position = next;
        target -= tree_[static_cast<size_t>(next)];
      }
    }
    return position;
  }

 private:
  std::vector<T> tree_;
  int top_ = 1;
};

class LoudnessHistogram {
 public:
  static constexpr double kMinLufs = -70.0;  // the absolute gate of both BS.1770-4 and Tech 3342
  // The input guard (input-guard.h) lets through at most +30 dBFS; such a signal in both
  // channels reads at most ~+37 LUFS (+3 dB for the channel sum, K-weighting's high shelf +4 dB).
  // At libebur128's +10 a relative gate above the top bin gated out every block, so a +30 dBFS
  // tone read as undefined, which `master` takes for silence.
  static constexpr double kMaxLufs = 40.0;
  static constexpr double kBinLu = 0.01;
  static constexpr int kBins = static_cast<int>((kMaxLufs - kMinLufs) / kBinLu + 0.5);

  LoudnessHistogram() {
    counts_.assign(kBins);
    energies_.assign(kBins);
  }

  void reset() {
    counts_.clear();
    energies_.clear();
    count_ = 0;
    energy_ = 0;
  }

  // Blocks at or below the absolute gate never enter: they would be gated out anyway.
  void add(double meanSquare) {
    const double lufs = energyToLufs(meanSquare);
    if (!(lufs > kMinLufs)) return;
    const int bin = std::min(kBins - 1, static_cast<int>((lufs - kMinLufs) / kBinLu));
    counts_.add(bin, 1);
    energies_.add(bin, meanSquare);
    count_ += 1;
    energy_ += meanSquare;
  }

  // Integrated loudness: mean energy of the blocks at or above (mean of all above -70) - 10 LU.
  // NaN if no block passed the absolute gate.
  double gatedLoudness(double relativeGateLu) const {
    if (count_ == 0) return NAN;
    const int first = gateBin(energyToLufs(energy_ / static_cast<double>(count_)) + relativeGateLu);
    const long long count = count_ - counts_.prefix(first);
    // The blocks under the relative gate hold under a tenth of the energy, so this difference
    // loses nothing to cancellation.
    const double energy = energy_ - energies_.prefix(first);
    return count > 0 && energy > 0 ? energyToLufs(energy / static_cast<double>(count)) : NAN;
  }

  // Loudness range: spread between the 10th and 95th percentiles of the values above the
  // relative gate (Tech 3342: -20 LU). NaN until at least two values pass the gates.
  double range(double relativeGateLu, double lowPercentile = 0.10, double highPercentile = 0.95) const {
    if (count_ == 0) return NAN;
    const int first = gateBin(energyToLufs(energy_ / static_cast<double>(count_)) + relativeGateLu);
    const long long below = counts_.prefix(first);
    const long long total = count_ - below;
    if (total < 2) return NAN;
    return percentile(below, total, highPercentile) - percentile(below, total, lowPercentile);
  }

  long long count() const { return count_; }

 private:
  int gateBin(double gateLufs) const {
    // The bin holding the gate counts as above it; with 0.01 LU bins the difference is below
    // any meter's display resolution.
    const int bin = static_cast<int>(std::floor((gateLufs - kMinLufs) / kBinLu + 1e-9));
    return std::clamp(bin, 0, kBins);
  }

  // Nearest-rank percentile over the gated values (rank rounded as libebur128 does); a bin
  // stands for its centre.
  double percentile(long long below, long long total, double fraction) const {
    const long long rank = static_cast<long long>(std::llround(fraction * static_cast<double>(total - 1)));
    const int bin = counts_.firstAbove(below + rank);
    return kMinLufs + (std::min(bin, kBins - 1) + 0.5) * kBinLu;
  }

  FenwickTree<long long> counts_;
  FenwickTree<double> energies_;
  long long count_ = 0;
  double energy_ = 0;
};

}  // namespace rig
