// Gated loudness over long spans in constant memory: histograms of 400 ms block loudness
// (integrated, BS.1770-4 section 2.8) and of 3 s short-term loudness (LRA, EBU Tech 3342),
// binned at 0.01 LU from -70 to +10 LUFS. Each bin keeps its exact energy sum, so the
// integrated value is exact; only the relative-gate decision is quantised (to 0.01 LU).
#pragma once

#include <cmath>
#include <vector>

namespace rig {

constexpr double kLufsOffset = -0.691;  // BS.1770-4 eq. 2: L = -0.691 + 10 log10(sum G_i z_i)

inline double energyToLufs(double meanSquare) { return meanSquare > 0 ? kLufsOffset + 10.0 * std::log10(meanSquare) : -INFINITY; }
inline double lufsToEnergy(double lufs) { return std::pow(10.0, (lufs - kLufsOffset) / 10.0); }

class LoudnessHistogram {
 public:
  static constexpr double kMinLufs = -70.0;  // the absolute gate of both BS.1770-4 and Tech 3342
  static constexpr double kMaxLufs = 10.0;
  static constexpr double kBinLu = 0.01;
  static constexpr int kBins = static_cast<int>((kMaxLufs - kMinLufs) / kBinLu);

  LoudnessHistogram() : counts_(kBins, 0), energies_(kBins, 0.0) {}

  void reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    std::fill(energies_.begin(), energies_.end(), 0.0);
    count_ = 0;
    energy_ = 0;
  }

  // Blocks at or below the absolute gate never enter: they would be gated out anyway.
  void add(double meanSquare) {
    const double lufs = energyToLufs(meanSquare);
    if (!(lufs > kMinLufs)) return;
    const int bin = std::min(kBins - 1, static_cast<int>((lufs - kMinLufs) / kBinLu));
    counts_[static_cast<size_t>(bin)] += 1;
    energies_[static_cast<size_t>(bin)] += meanSquare;
    count_ += 1;
    energy_ += meanSquare;
  }

  // Integrated loudness: mean energy of blocks above (mean of all above -70) - 10 LU. NaN if none.
  double gatedLoudness(double relativeGateLu) const {
    if (count_ == 0) return NAN;
    const double gate = energyToLufs(energy_ / count_) + relativeGateLu;
    double energy = 0;
    long long count = 0;
    for (int bin = gateBin(gate); bin < kBins; ++bin) {
      energy += energies_[static_cast<size_t>(bin)];
      count += counts_[static_cast<size_t>(bin)];
    }
    return count > 0 ? energyToLufs(energy / static_cast<double>(count)) : NAN;
  }

  // Loudness range: spread between the 10th and 95th percentiles of the values above the
  // relative gate (Tech 3342: -20 LU). NaN until at least two values pass the gates.
  double range(double relativeGateLu, double lowPercentile = 0.10, double highPercentile = 0.95) const {
    if (count_ == 0) return NAN;
    const double gate = energyToLufs(energy_ / count_) + relativeGateLu;
    const int first = gateBin(gate);
    long long total = 0;
    for (int bin = first; bin < kBins; ++bin) total += counts_[static_cast<size_t>(bin)];
    if (total < 2) return NAN;
    const double low = percentile(first, total, lowPercentile);
    const double high = percentile(first, total, highPercentile);
    return high - low;
  }

  long long count() const { return count_; }

 private:
  int gateBin(double gateLufs) const {
    // The bin holding the gate counts as above it only for values >= gate; with 0.01 LU bins
    // the difference is below any meter's display resolution.
    const int bin = static_cast<int>(std::ceil((gateLufs - kMinLufs) / kBinLu - 1e-9));
    return std::clamp(bin, 0, kBins);
  }

  // Nearest-rank percentile over the gated values; a bin stands for its centre.
  double percentile(int firstBin, long long total, double fraction) const {
    const long long rank = static_cast<long long>(std::llround(fraction * static_cast<double>(total - 1)));
    long long seen = 0;
    for (int bin = firstBin; bin < kBins; ++bin) {
      seen += counts_[static_cast<size_t>(bin)];
      if (seen > rank) return kMinLufs + (bin + 0.5) * kBinLu;
    }
    return kMaxLufs;
  }

  std::vector<long long> counts_;
  std::vector<double> energies_;
  long long count_ = 0;
  double energy_ = 0;
};

}  // namespace rig
