#include "chain.h"

#include <cmath>
#include <limits>
#include <unordered_map>

namespace rig {

namespace {

const char* const kChainParamIds[] = {"input.trim", "input.polarity", "input.dcBlock", "output.trim",
                                      "chain.bypass"};

// Anything beyond +30 dBFS is not audio but a broken upstream; clamping keeps every filter
// state finite so the chain never needs more than one bad block to recover.
constexpr float kInputClamp = 31.6f;
constexpr float kFloatMax = std::numeric_limits<float>::max();

// Level-matched bypass follows loudness slowly (short-term) and never more than this apart,
// so a silent passage cannot drive the dry signal to absurd gain.
constexpr double kMaxMatchDb = 24.0;

template <typename Processor>
void addRoutes(std::unordered_map<std::string, std::pair<int, int>>& table, int stage) {
  for (size_t i = 0; i < Processor::kParamIds.size(); ++i)
    table[Processor::kParamIds[i]] = {stage, static_cast<int>(i)};
}

}  // namespace

std::string Chain::configure(const std::vector<std::string>& parameterIds, const MeterOffsets& meterOffsets,
                             const std::vector<double>& bandCentersHz) {
  std::unordered_map<std::string, std::pair<int, int>> table;
  for (int i = 0; i < kChainParamCount; ++i) table[kChainParamIds[i]] = {static_cast<int>(Stage::kChain), i};
  addRoutes<Eq>(table, static_cast<int>(Stage::kEq));
  addRoutes<Compressor>(table, static_cast<int>(Stage::kCompressor));
  addRoutes<StereoImage>(table, static_cast<int>(Stage::kImage));
  addRoutes<Character>(table, static_cast<int>(Stage::kCharacter));
  addRoutes<Clipper>(table, static_cast<int>(Stage::kClipper));
  addRoutes<Limiter>(table, static_cast<int>(Stage::kLimiter));

  routes_.clear();
  for (const auto& id : parameterIds) {
    auto found = table.find(id);
    if (found == table.end()) return "the native chain has no parameter \"" + id + "\"";
    routes_.push_back({static_cast<Stage>(found->second.first), found->second.second});
    table.erase(found);
  }
  if (!table.empty())
    return "the parameter schema lacks the native parameter \"" + table.begin()->first + "\"";

  for (const auto& [name, offset] :
       std::initializer_list<std::pair<const char*, int*>>{{"comp.grDb", &offCompGr_},
                                                           {"comp.grMaxDb", &offCompGrMax_},
                                                           {"limiter.grDb", &offLimGr_},
                                                           {"limiter.grMaxDb", &offLimGrMax_},
                                                           {"limiter.fastGrDb", &offLimFastGr_},
                                                           {"limiter.slowGrDb", &offLimSlowGr_},
                                                           {"clipper.grDb", &offClipGr_}}) {
    auto found = meterOffsets.find(name);
    if (found == meterOffsets.end()) return std::string("the meter layout lacks \"") + name + "\"";
    *offset = found->second;
  }
  std::string error = inputMeter_.configure(meterOffsets, "input.", bandCentersHz);
  if (error.empty()) error = outputMeter_.configure(meterOffsets, "output.", bandCentersHz);
  return error;
}

void Chain::prepare(double sampleRate, int maxBlock) {
  sampleRate_ = sampleRate;
  maxBlock_ = maxBlock;
  eq_.prepare(sampleRate, maxBlock);
  compressor_.prepare(sampleRate, maxBlock);
  image_.prepare(sampleRate, maxBlock);
  character_.prepare(sampleRate, maxBlock);
  dcBlocker_.prepare(sampleRate, maxBlock);
  clipper_.prepare(sampleRate, maxBlock);
  clipper_.setThresholdDb(limiter_.ceilingDbtp());
  limiter_.prepare(sampleRate, maxBlock);
  bypassSafety_.prepare(sampleRate, maxBlock);
  inputMeter_.prepare(sampleRate, maxBlock);
  outputMeter_.prepare(sampleRate, maxBlock);

  latency_ = dcBlocker_.latency() + eq_.latency() + compressor_.latency() + image_.latency() +
             character_.latency() + clipper_.latency() + limiter_.latency();
  // 1 ms: long enough that the ramp's spectrum stays inside the limiter's band, short enough
  // that no one hears it as anything but the file's start.
  startFadeLength_ = std::max(1, static_cast<int>(std::lround(1e-3 * sampleRate)));
  startFadeLeft_ = startFadeLength_;
  // The dry path of the level-matched bypass runs through its own safety limiter.
  dryDelayL_.prepare(latency_ - bypassSafety_.latency());
  dryDelayR_.prepare(latency_ - bypassSafety_.latency());
  dryL_.assign(static_cast<size_t>(maxBlock), 0.0f);
  dryR_.assign(static_cast<size_t>(maxBlock), 0.0f);

  inputGain_.prepare(sampleRate, 20.0);
  outputGain_.prepare(sampleRate, 20.0);
  bypassMix_.prepare(sampleRate, 30.0);
  matchGain_.prepare(sampleRate, 200.0);
  inputGain_.snap(dbToGain(inputTrimDb_) * (inverted_ ? -1.0 : 1.0));
  outputGain_.snap(dbToGain(outputTrimDb_));
  bypassMix_.snap(chainBypassed_ ? 1.0 : 0.0);
  matchGain_.snap(1.0);
}

void Chain::setParam(int index, double value) {
  if (index < 0 || index >= static_cast<int>(routes_.size()) || !std::isfinite(value)) return;
  const Route& route = routes_[static_cast<size_t>(index)];
  switch (route.stage) {
    case Stage::kChain: setChainParam(route.local, value); break;
    case Stage::kEq: eq_.setParam(route.local, value); break;
    case Stage::kCompressor: compressor_.setParam(route.local, value); break;
    case Stage::kImage: image_.setParam(route.local, value); break;
    case Stage::kCharacter: character_.setParam(route.local, value); break;
    case Stage::kClipper: clipper_.setParam(route.local, value); break;
    case Stage::kLimiter:
      limiter_.setParam(route.local, value);
      // The safety limiter shares the ceiling (and nothing else: it must stay transparent); the
      // clipper bends towards it.
      if (route.local == Limiter::kCeiling) {
        bypassSafety_.setParam(route.local, value);
        clipper_.setThresholdDb(value);
      }
      break;
  }
}

void Chain::setChainParam(int local, double value) {
  switch (local) {
    case kInputTrim: inputTrimDb_ = value; break;
    case kPolarity: inverted_ = value >= 0.5; break;
    case kDcBlock: dcBlocker_.setEnabled(value >= 0.5); break;
    case kOutputTrim: outputTrimDb_ = std::min(0.0, value); break;
    case kChainBypass:
      chainBypassed_ = value >= 0.5;
      bypassMix_.setTarget(chainBypassed_ ? 1.0 : 0.0);
      break;
  }
  // Polarity is a gain of -1: ramping through zero is a short dip, never a click.
  inputGain_.setTarget(dbToGain(inputTrimDb_) * (inverted_ ? -1.0 : 1.0));
  outputGain_.setTarget(dbToGain(outputTrimDb_));
}

void Chain::applyGain(float* left, float* right, int n, LinearSmoother& gain) {
  if (!gain.ramping() && gain.current() == 1.0) return;
  for (int i = 0; i < n; ++i) {
    const float g = static_cast<float>(gain.next());
    left[i] *= g;
    right[i] *= g;
  }
}

void Chain::process(float* left, float* right, int n, float* frame) {
  ScopedFlushDenormals noDenormals;
  n = std::min(n, maxBlock_);

  // Branch-free so it vectorises: NaN fails every comparison, Inf fails the magnitude test.
  int nonFinite = 0;
  for (int i = 0; i < n; ++i) {
    const float l = left[i], r = right[i];
    const bool badL = !(std::fabs(l) <= 3.0e38f), badR = !(std::fabs(r) <= 3.0e38f);
    nonFinite |= static_cast<int>(badL) | static_cast<int>(badR);
    left[i] = badL ? 0.0f : std::min(kInputClamp, std::max(-kInputClamp, l));
    right[i] = badR ? 0.0f : std::min(kInputClamp, std::max(-kInputClamp, r));
  }
  if (nonFinite) nonFiniteBlocks_ += 1;

  // A stream or file starts from silence: a first sample at full level would be a step whose
  // intersample overshoot no limiter downstream can see (the samples before it do not exist),
  // and any meter or DAC reading the output would find an over there. A raised-cosine fade-in
  // over the first millisecond after a reset makes the start a signal like any other.
  for (int i = 0; i < n && startFadeLeft_ > 0; ++i, --startFadeLeft_) {
    const double t = static_cast<double>(startFadeLength_ - startFadeLeft_) / startFadeLength_;
    const float g = static_cast<float>(0.5 - 0.5 * std::cos(kPi * t));
    left[i] *= g;
    right[i] *= g;
  }

  inputMeter_.process(left, right, n);
  dryDelayL_.process(left, dryL_.data(), n);
  dryDelayR_.process(right, dryR_.data(), n);

  applyGain(left, right, n, inputGain_);
  dcBlocker_.process(left, right, n);
  eq_.process(left, right, n);
  compressor_.process(left, right, n);
  image_.process(left, right, n);
  character_.process(left, right, n);
  clipper_.process(left, right, n);
  limiter_.process(left, right, n);
  applyGain(left, right, n, outputGain_);

  processBypassPath(left, right, n);

  // The processors keep their state finite for finite input; this is the last line of defence
  // so that a bug can cost one block of silence, never a stream of NaN.
  // Branch-free like the input check, so it vectorises: NaN fails every comparison.
  int outputBroken = 0;
  for (int i = 0; i < n; ++i)
    outputBroken |= static_cast<int>(!(std::fabs(left[i]) <= kFloatMax)) |
                    static_cast<int>(!(std::fabs(right[i]) <= kFloatMax));
  if (outputBroken) {
    std::fill(left, left + n, 0.0f);
    std::fill(right, right + n, 0.0f);
    eq_.reset();
    compressor_.reset();
    image_.reset();
    character_.reset();
    dcBlocker_.reset();
    clipper_.reset();
    limiter_.reset();
    bypassSafety_.reset();
  }

  outputMeter_.process(left, right, n);
  if (frame) {
    inputMeter_.writeFrame(frame);
    outputMeter_.writeFrame(frame);
    writeDynamics(frame);
  }
}

void Chain::processBypassPath(float* left, float* right, int n) {
  // The match is learned while the processed signal plays (the output meter then measures it)
  // and held while bypassed: A/B compares against the sound just heard, at its loudness.
  if (!chainBypassed_ && !bypassMix_.ramping()) {
    const double dry = inputMeter_.shortTermLufs();
    const double wet = outputMeter_.shortTermLufs();
    if (std::isfinite(dry) && std::isfinite(wet))
      matchGain_.setTarget(dbToGain(std::clamp(wet - dry, -kMaxMatchDb, kMaxMatchDb)));
  }

  if (!chainBypassed_ && !bypassMix_.ramping()) return;
  const float* dryIn[2] = {dryL_.data(), dryR_.data()};
  for (int i = 0; i < n; ++i) {
    const float g = static_cast<float>(matchGain_.next());
    dryL_[static_cast<size_t>(i)] = dryIn[0][i] * g;
    dryR_[static_cast<size_t>(i)] = dryIn[1][i] * g;
  }
  bypassSafety_.process(dryL_.data(), dryR_.data(), n);
  for (int i = 0; i < n; ++i) {
    const float b = static_cast<float>(bypassMix_.next());
    left[i] += b * (dryL_[static_cast<size_t>(i)] - left[i]);
    right[i] += b * (dryR_[static_cast<size_t>(i)] - right[i]);
  }
}

void Chain::writeDynamics(float* frame) {
  const float compGr = compressor_.gainReductionDb();
  const float limGr = limiter_.gainReductionDb();
  compGrMax_ = std::max(compGrMax_, compGr);
  limGrMax_ = std::max(limGrMax_, limGr);
  frame[offCompGr_] = compGr;
  frame[offCompGrMax_] = compGrMax_;
  frame[offLimGr_] = limGr;
  frame[offLimGrMax_] = limGrMax_;
  const float programGr = limiter_.programReductionDb();
  frame[offLimSlowGr_] = programGr;
  frame[offLimFastGr_] = std::max(0.0f, limGr - programGr);
  frame[offClipGr_] = clipper_.gainReductionDb();
}

void Chain::reset() {
  startFadeLeft_ = startFadeLength_;
  dcBlocker_.reset();
  clipper_.reset();
  eq_.reset();
  compressor_.reset();
  image_.reset();
  character_.reset();
  limiter_.reset();
  bypassSafety_.reset();
  inputMeter_.reset();
  outputMeter_.reset();
  dryDelayL_.reset();
  dryDelayR_.reset();
  inputGain_.snap(inputGain_.target());
  outputGain_.snap(outputGain_.target());
  bypassMix_.snap(bypassMix_.target());
  matchGain_.snap(1.0);
  compGrMax_ = limGrMax_ = 0;
}

void Chain::resetIntegrated() {
  inputMeter_.resetIntegrated();
  outputMeter_.resetIntegrated();
  compGrMax_ = limGrMax_ = 0;
}

void Chain::setIntegrationPaused(bool paused) {
  inputMeter_.setIntegrationPaused(paused);
  outputMeter_.setIntegrationPaused(paused);
}

}  // namespace rig
