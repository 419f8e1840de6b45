// True-peak brickwall limiter. The required gain at each sample comes from a 4x oversampled
// peak estimate of the driven input, refined near each peak; a running minimum over the
// lookahead window followed by a moving average of the same length yields a gain curve that is
// smooth (a linear attack ramp) and provably never above the required gain at the sample it
// multiplies: every averaged minimum window contains that sample.
//
// Release in two stages, applied to the minimum before averaging (each can only lower the
// gain below the minimum, so the proof still holds):
//  - the peak stage holds each peak's requirement a little longer than the lookahead (the hold),
//    then recovers fast. The hold is the peak's own half period, read from the waveform (twice
//    the time from its last zero crossing to the peak), up to that of the lowest bass the style
//    protects (50 Hz in the transparent style): a steady low note then sees a constant gain
//    instead of one that breathes within each cycle, which is what sets a limiter's
//    low-frequency THD, while a snare or a hi-hat is released after its own short half period
//    instead of a bass note's (a fixed 10 ms hold took 0.5 LU of loudness range from music);
//  - the program stage (auto release) follows the required gain slowly, attacking over hundreds
//    of milliseconds and releasing over longer. The peak stage recovers only to it, so on dense
//    music the gain rests where the material needs it instead of swinging to unity between
//    hits, and an isolated kick barely moves it, so the gain recovers fully between kicks.
// Styles set the hold, the stages' time constants and the link; the release knob scales the
// peak stage's recovery within a style.
#pragma once

#include <array>
#include <vector>

#include "common.h"
#include "band-limit.h"
#include "true-peak.h"

namespace rig {

class Limiter {
 public:
  // The chain routes by id; setParam switches on these, which the assert ties to the ids.
  enum Param : int { kBypass, kCeiling, kGain, kLookahead, kRelease, kAutoRelease, kLink, kStyle, kCount };
  static constexpr std::array<const char*, kCount> kParamIds = {
      "limiter.bypass",  "limiter.ceiling",     "limiter.gain", "limiter.lookahead",
      "limiter.release", "limiter.autoRelease", "limiter.link", "limiter.style"};
  static_assert(sameId(kParamIds[kBypass], "limiter.bypass") &&
                    sameId(kParamIds[kCeiling], "limiter.ceiling") &&
                    sameId(kParamIds[kGain], "limiter.gain") &&
                    sameId(kParamIds[kLookahead], "limiter.lookahead") &&
                    sameId(kParamIds[kRelease], "limiter.release") &&
                    sameId(kParamIds[kAutoRelease], "limiter.autoRelease") &&
                    sameId(kParamIds[kLink], "limiter.link") && sameId(kParamIds[kStyle], "limiter.style"),
                "each Param enumerator names its id");

  // Per style: the lowest frequency whose half period the hold covers (so a steady note there
  // sees a constant gain), a factor on the release knob, the program stage's attack and release
  // (ms), how deep it follows (a fraction of the required reduction, in dB) and a factor on the
  // stereo link. Transparent protects 50 Hz; punchy 80 Hz and recovers faster; loud 160 Hz,
  // recovers fastest, follows the program least and links the channels less, so a peak on one
  // side costs the other less.
  struct Style {
    double protectedHz, releaseScale, programAttackMs, programReleaseMs, programDepth, linkScale;
  };
  static constexpr std::array<Style, 3> kStyles = {{
      {50.0, 1.0, 500.0, 1500.0, 0.5, 1.0},
      {80.0, 0.6, 300.0, 900.0, 0.4, 1.0},
      {160.0, 0.35, 200.0, 500.0, 0.25, 0.8},
  }};

  void prepare(double sampleRate, int maxBlock) {
    sampleRate_ = sampleRate;
    maxWindow_ = std::max(2, static_cast<int>(std::ceil(kMaxLookaheadMs * 1e-3 * sampleRate)));
    for (Channel& ch : channels_) {
      ch.detector.prepare(sampleRate);
      ch.detector.prepareBlock(maxBlock);
      ch.bandLimit.prepare(sampleRate, maxBlock);
      ch.driven.assign(static_cast<size_t>(maxBlock), 0.0f);
      ch.limited.assign(static_cast<size_t>(maxBlock), 0.0f);
      ch.peaks.assign(static_cast<size_t>(maxBlock), 0.0f);
      ch.gain.assign(static_cast<size_t>(maxBlock), 1.0f);
    }
    ceilings_.assign(static_cast<size_t>(maxBlock), 0.0f);
    // The interpolator's kernel reaches this far around a sample; the gain must hold over it.
    guard_ = channels_[0].detector.latency();
    maxHold_ = 0;
    for (const Style& style : kStyles)
      maxHold_ = std::max(maxHold_, static_cast<int>(std::ceil(sampleRate / (2.0 * style.protectedHz))) + 2);
    ringSize_ = 1;
    // A block beyond the reach back: the required gains of a whole block are written before
    // the gain curve reads back over them (see runLimiter).
    while (ringSize_ < 2 * maxWindow_ + 4 * guard_ + maxHold_ + 8 + maxBlock) ringSize_ *= 2;
    for (Channel& ch : channels_) {
      ch.audio.assign(static_cast<size_t>(ringSize_), 0.0f);
      ch.required.assign(static_cast<size_t>(ringSize_), 1.0f);
      ch.held.assign(static_cast<size_t>(ringSize_), 1.0f);
      ch.dequeIndex.assign(static_cast<size_t>(ringSize_), 0);
      ch.holdLength.assign(static_cast<size_t>(ringSize_), 0);
    }
    driveGain_.prepare(sampleRate, 20.0);
    ceiling_.prepare(sampleRate, 20.0);
    bypass_.prepare(sampleRate, latency(), maxBlock);
    driveGain_.snap(dbToGain(driveDb_));
    ceiling_.snap(ceilingLinear());
    setWindow(lookaheadSamples());
    reset();
  }

  void setParam(int local, double value) {
    switch (local) {
      case kBypass: bypass_.setBypassed(value >= 0.5); break;
      case kCeiling:
        ceilingDb_ = value;
        ceiling_.setTarget(ceilingLinear());
        break;
      case kGain:
        driveDb_ = value;
        driveGain_.setTarget(dbToGain(value));
        break;
      case kLookahead:
        lookaheadMs_ = value;
        pendingWindow_ = lookaheadSamples();
        break;
      case kRelease: releaseMs_ = value; break;
      case kAutoRelease: autoRelease_ = value >= 0.5; break;
      case kLink: linkSetting_ = std::clamp(value / 100.0, 0.0, 1.0); break;
      case kStyle:
        style_ = std::clamp(static_cast<int>(std::lround(value)), 0, static_cast<int>(kStyles.size()) - 1);
        updateHold();
        break;
    }
    linkTarget_ = static_cast<float>(linkSetting_ * kStyles[static_cast<size_t>(style_)].linkScale);
  }

  void reset() {
    driveGain_.snap(driveGain_.target());
    ceiling_.snap(ceiling_.target());
    if (pendingWindow_ != window_) setWindow(pendingWindow_);
    clearState();
    bypass_.reset();
  }

  // Constant: the longest lookahead plus the detector's delay and guard, whatever lookahead is set.
  int latency() const { return maxWindow_ + 2 * guard_ - 1 + channels_[0].bandLimit.latency(); }
  float gainReductionDb() const { return grDb_; }
  // The program stage's share of this block's deepest reduction; the rest is the peak stage's.
  float programReductionDb() const { return std::min(programGrDb_, grDb_); }
  double ceilingDbtp() const { return ceilingDb_; }

  void process(float* left, float* right, int n) {
    if (pendingWindow_ != window_) setWindow(pendingWindow_);
    bypass_.capture(left, right, n);
    if (bypass_.fullyBypassed()) {
      // Idle: the aligned dry signal is the output; the limiter restarts clean when it returns
      // (its first, silent milliseconds hide under the 20 ms crossfade).
      bypass_.copyDry(left, right, n);
      grDb_ = programGrDb_ = 0;
      idle_ = true;
      return;
    }
    if (idle_) {
      idle_ = false;
      clearState();
    }
    runLimiter(left, right, n);
    if (!bypass_.fullyActive()) bypass_.mix(left, right, n);
  }

 private:
  static constexpr double kMaxLookaheadMs = 5.0;
  // The gain's fastest rise. The interpolator's kernel spans 0.7 ms at 48 kHz; a gain moving
  // faster than this across it lets a peak's neighbours (the kernel's negative lobes) shrink
  // before the peak does, and the product's intersample peak then exceeds what the detector saw.
  static constexpr double kMaxRecoveryDbPerMs = 0.5;
  // The gain's slowest rise (in the transparent style; faster styles scale it up): an exponential
  // release in dB crawls over its last few dB, slower than a kick's own decay (0.19 dB/ms for a
  // 46 ms decay), so a tone under the kick stayed held down long after the kick needed it (74 ms
  // of every 500 in the pumping test, 48 ms with this floor). Below this rate the release runs
  // straight in dB.
  static constexpr double kMinRecoveryDbPerMs = 0.3;
  // The detector reads within 0.003 dB of the true peak, and the gain's movement across the
  // interpolation kernel adds about as much: on four real tracks at +8, +14 and +20 dB drive, in
  // every style, with and without the program stage and at 1 and 5 ms lookahead, the 8x judge read
  // at most 0.004 dB above the aim. The margin is five times that; the torture tests and the
  // bench measure what is left.
  static constexpr double kSafetyDb = 0.02;

  static constexpr float kSafetyUndo = 1.00230524f;  // 10^(0.02/20): from the aim back to the ceiling

  // One channel's state. The rings (audio, required, held, dequeIndex) have ringSize_ entries
  // indexed by the shared write_ position; gains in them are linear. The release stages keep
  // their gains in log2 (one unit = 6.02 dB), where a recovery is a straight line.
  struct Channel {
    TruePeakDetector<32, true> detector;  // the 4x true-peak estimate of the band-limited input
    BandLimiter bandLimit;                // clears the band below Nyquist, so the 4x estimate holds
    std::vector<float> driven, limited;   // this block after drive, and after the band limit
    std::vector<float> peaks;             // this block's 4x peaks (refined near the ceiling)
    std::vector<float> gain;              // this block's gain for the samples leaving the delay
    std::vector<float> audio;             // ring: band-limited input, waiting out the lookahead
    std::vector<float> required;          // ring: the gain each sample needs (ceiling / true peak)
    std::vector<float> held;              // ring: the span's minimum after both release stages
    std::vector<int> dequeIndex;          // ring of indices into `required`: the running minimum
    int dequeHead = 0, dequeTail = 0;
    double sum = 0;         // `held` summed over the window: the moving average's numerator
    double program = 1;     // the program stage's gain
    float programLog = 0;   // its log2, refreshed every 16 samples
    float releasedLog = 0;  // the peak stage's gain, log2
    double lastMin = 1;     // the last window minimum the peak stage took, and its log2
    float lastMinLog = 0;
    std::vector<int> holdLength;  // ring: how long each required gain is held after its span
    long long lastCrossing = 0;   // when the band-limited input last changed sign (sample count)
    bool positive = true;
    // The holds: the deepest requirement that left the span and is still held, and the next one
    // to take over when it ends (a decaying note's later, shallower peaks).
    float holdValue = 1, nextValue = 1;
    long long holdUntil = 0, nextUntil = 0;
  };

  void clearState() {
    for (Channel& ch : channels_) {
      std::fill(ch.audio.begin(), ch.audio.end(), 0.0f);
      std::fill(ch.required.begin(), ch.required.end(), 1.0f);
      std::fill(ch.held.begin(), ch.held.end(), 1.0f);
      ch.detector.reset();
      ch.bandLimit.reset();
      ch.dequeHead = ch.dequeTail = 0;
      ch.releasedLog = ch.programLog = ch.lastMinLog = 0.0f;
      ch.lastMin = 1.0;
      ch.program = 1.0;
      ch.sum = window_;
      ch.lastCrossing = now_;
      ch.holdValue = ch.nextValue = 1.0f;
      ch.holdUntil = ch.nextUntil = 0;
    }
    link_ = linkTarget_;
    write_ = 0;
    sinceRecompute_ = 0;
    grDb_ = programGrDb_ = 0;
  }

  double ceilingLinear() const { return dbToGain(ceilingDb_ - kSafetyDb); }

  // The longest hold: with it, the minimum's whole reach (lookahead, guard and hold) covers half a
  // period of the style's protected frequency, whatever the lookahead.
  void updateHold() {
    const double halfPeriod = sampleRate_ / (2.0 * kStyles[static_cast<size_t>(style_)].protectedHz);
    hold_ = std::clamp(static_cast<int>(std::ceil(halfPeriod)) + 2 - (window_ + 2 * guard_), 0, maxHold_);
  }
  int lookaheadSamples() const {
    return std::clamp(static_cast<int>(std::lround(lookaheadMs_ * 1e-3 * sampleRate_)), 2, maxWindow_);
  }

  // Timing (t = newest input index, W = window, g = guard): the output sample's requirement
  // sits at t - maxWindow - g + 1. Averaging held[t-W+1 .. t], each the minimum of required
  // gains over [k - delay - W - 2g + 1, k - delay] with delay = maxWindow - W, covers that
  // requirement +- g in every term, so the gain never exceeds it. A shorter lookahead only
  // shifts the window; the latency stays put.
  void setWindow(int window) {
    window_ = window;
    // A multiply per sample instead of a division (whose latency sat on the per-sample path).
    inverseWindow_ = 1.0 / window_;
    updateHold();
    pendingWindow_ = window;
    delay_ = maxWindow_ - window_;
    const int mask = ringSize_ - 1;
    for (int c = 0; c < 2; ++c) {
      double sum = 0;
      for (int k = 0; k < window_; ++k)
        sum += channels_[c].held[static_cast<size_t>((write_ - 1 - k) & mask)];
      channels_[c].sum = sum;
      // Refill the minimum's deque over the new span of required gains.
      channels_[c].dequeHead = channels_[c].dequeTail = 0;
      const int span = window_ + 2 * guard_;
      for (int k = span - 1; k >= 1; --k) pushRequired(c, (write_ - 1 - delay_ - k + 1) & mask, span);
    }
  }

  void hold(Channel& ch, float value, long long until) const {
    if (now_ >= ch.holdUntil) {
      ch.holdValue = value;
      ch.holdUntil = until;
    } else if (value <= ch.holdValue) {
      // Deeper: it rules now; the current hold, if it outlasts it, waits as the next.
      if (ch.holdUntil > until) merge(ch.nextValue, ch.nextUntil, ch.holdValue, ch.holdUntil);
      ch.holdValue = value;
      ch.holdUntil = until;
    } else if (until > ch.holdUntil) {
      // Shallower but longer: it takes over when the current hold ends.
      merge(ch.nextValue, ch.nextUntil, value, until);
    }
  }
  static void merge(float& value, long long& until, float addValue, long long addUntil) {
    value = std::min(value, addValue);
    until = std::max(until, addUntil);
  }

  void pushRequired(int c, int index, int span) {
    const int mask = ringSize_ - 1;
    auto& dq = channels_[c].dequeIndex;
    int& head = channels_[c].dequeHead;
    int& tail = channels_[c].dequeTail;
    const float r = channels_[c].required[static_cast<size_t>(index)];
    while (tail != head &&
           channels_[c].required[static_cast<size_t>(dq[static_cast<size_t>((tail - 1) & mask)])] >= r)
      tail = (tail - 1) & mask;
    dq[static_cast<size_t>(tail)] = index;
    tail = (tail + 1) & mask;
    while (((index - dq[static_cast<size_t>(head)]) & mask) >= span) {
      // A requirement leaving the span stays in force for its hold. Two holds keep overlapping
      // ones: the deepest, and the next, which merges the rest (their deepest value to their latest
      // end: held longer or deeper than asked, never less, so it can only overstate).
      Channel& ch = channels_[c];
      const int leaving = dq[static_cast<size_t>(head)];
      const float value = ch.required[static_cast<size_t>(leaving)];
      if (value < 1.0f) hold(ch, value, now_ + ch.holdLength[static_cast<size_t>(leaving)]);
      head = (head + 1) & mask;
    }
  }

  // Three passes over the block: the required gains of both channels (coupled by the link), then
  // each channel's gain curve on its own with its state in registers (the channels share
  // nothing there, and one channel at a time leaves the compiler no aliasing to guard against),
  // then the delayed audio times the gain. The ring holds a whole block beyond the reach back,
  // so the first pass may run ahead of the second by a block.
  void runLimiter(float* left, float* right, int n) {
    float* io[2] = {left, right};
    const int mask = ringSize_ - 1;
    const int span = window_ + 2 * guard_;
    const Style& style = kStyles[static_cast<size_t>(style_)];
    const auto coefficient = [this](double ms) {
      return std::exp(-1.0 / (std::max(0.1, ms) * 1e-3 * sampleRate_));
    };
    GainCurve curve;
    curve.peakRelease = static_cast<float>(coefficient(releaseMs_ * style.releaseScale));
    curve.maxRiseLog2 = static_cast<float>(kMaxRecoveryDbPerMs / kDbPerOctave * 1e3 / sampleRate_);
    curve.minRiseLog2 = std::min(
        curve.maxRiseLog2,
        static_cast<float>(kMinRecoveryDbPerMs / style.releaseScale / kDbPerOctave * 1e3 / sampleRate_));
    curve.programAttack = 1.0 - coefficient(style.programAttackMs);
    curve.programRelease = 1.0 - coefficient(style.programReleaseMs);
    curve.programDepth = static_cast<float>(style.programDepth);
    // The link glides per block: a style change must not step the required gains.
    const float linkStep = (linkTarget_ - link_) / static_cast<float>(std::max(1, n));
    // Drive and band-limit the block up front (vectorised), then walk it sample by sample.
    for (int i = 0; i < n; ++i) {
      const float drive = static_cast<float>(driveGain_.next());
      channels_[0].driven[static_cast<size_t>(i)] = io[0][i] * drive;
      channels_[1].driven[static_cast<size_t>(i)] = io[1][i] * drive;
    }
    for (int c = 0; c < 2; ++c)
      channels_[c].bandLimit.processBlock(channels_[c].driven.data(), channels_[c].limited.data(), n);
    for (int i = 0; i < n; ++i) ceilings_[static_cast<size_t>(i)] = static_cast<float>(ceiling_.next());
    // The 4x peaks of the whole block at once (vectorised). The refinement adds well under
    // 0.7 dB; below that distance of the ceiling it cannot matter.
    for (int c = 0; c < 2; ++c)
      channels_[c].detector.blockPeaks(channels_[c].limited.data(), n, ceilings_.data(), 0.92f,
                                       channels_[c].peaks.data());
    {
      // Locals, so the stores into the rings need not be guarded against aliasing the members.
      const float* limited[2] = {channels_[0].limited.data(), channels_[1].limited.data()};
      const float* peaks[2] = {channels_[0].peaks.data(), channels_[1].peaks.data()};
      float* audio[2] = {channels_[0].audio.data(), channels_[1].audio.data()};
      float* required[2] = {channels_[0].required.data(), channels_[1].required.data()};
      int* holdLength[2] = {channels_[0].holdLength.data(), channels_[1].holdLength.data()};
      long long lastCrossing[2] = {channels_[0].lastCrossing, channels_[1].lastCrossing};
      bool positive[2] = {channels_[0].positive, channels_[1].positive};
      // 2 (now - guard - crossing) + 2 - (window + 2 guard) = 2 (now - crossing) - holdOffset.
      const long long holdOffset = window_ + 4LL * guard_ - 2;
      const long long holdMax = hold_;
      const int write = write_;
      const long long start = now_;
      float link = link_;
      for (int i = 0; i < n; ++i) {
        const float ceiling = ceilings_[static_cast<size_t>(i)];
        const long long now = start + i;
        const int slot = (write + i) & mask;
        link += linkStep;
        float need[2];
        for (int c = 0; c < 2; ++c) {
          const float x = limited[c][i];
          audio[c][slot] = x;
          if ((x >= 0.0f) != positive[c]) {
            positive[c] = x >= 0.0f;
            lastCrossing[c] = now;
          }
          const float peak = peaks[c][i];
          need[c] = peak > ceiling ? ceiling / peak : 1.0f;
        }
        // Stereo link: the linked share follows the channel that needs more reduction.
        const float linked = std::min(need[0], need[1]);
        const int deeper = need[0] <= need[1] ? 0 : 1;
        for (int c = 0; c < 2; ++c) {
          required[c][slot] = link * linked + (1.0f - link) * need[c];
          // The peak's half period: twice the time since the waveform that sets its requirement
          // (the deeper channel's, when linked) crossed zero; the detector reads guard_ behind.
          const long long sinceCrossing = now - lastCrossing[link > 0.5f ? deeper : c];
          holdLength[c][slot] =
              static_cast<int>(std::clamp<long long>(2 * sinceCrossing - holdOffset, 0, holdMax));
        }
      }
      link_ = link;
      for (int c = 0; c < 2; ++c) {
        channels_[c].lastCrossing = lastCrossing[c];
        channels_[c].positive = positive[c];
      }
    }
    double deepestProgram = 1.0;
    for (Channel& ch : channels_) deepestProgram = std::min(deepestProgram, runGainCurve(ch, n, span, curve));
    // The output sample's requirement sits maxWindow + guard - 1 behind the newest input.
    const int back = maxWindow_ + 2 * guard_ - 1;
    float maxReduction = 0;
    for (int c = 0; c < 2; ++c) {
      const float* audio = channels_[c].audio.data();
      const float* gain = channels_[c].gain.data();
      // The deepest reduction is the smallest gain.
      maxReduction = std::max(maxReduction, 1.0f - leastValue(gain, n, 1.0f));
      for (int i = 0; i < n; ++i) {
        const float g = std::min(gain[i], 1.0f);
        const float y = audio[(write_ + i - back) & mask] * g;
        // Last resort against float rounding: no sample may exceed the ceiling itself.
        const float hard = ceilings_[static_cast<size_t>(i)] * kSafetyUndo;
        io[c][i] = std::clamp(y, -hard, hard);
      }
    }
    write_ = (write_ + n) & mask;
    now_ += n;
    // Re-sum now and then: the running sum would otherwise drift by rounding over hours. Only
    // between samples (here: after the block), does the window end at write_ - 1 as setWindow
    // sums it. (Re-summing before the write position moved left the newest gain out of the sum
    // and the oldest in: for 1.4 s the gain could sit a fraction of a dB above what the samples
    // needed. That, not the gain's movement across the interpolation kernel, was what a 0.1 dB
    // margin covered.)
    sinceRecompute_ += n;
    if (sinceRecompute_ >= 65536) {
      sinceRecompute_ = 0;
      setWindow(window_);
    }
    link_ = linkTarget_;
    grDb_ = maxReduction > 0 ? static_cast<float>(-20.0 * std::log10(1.0 - maxReduction)) : 0.0f;
    programGrDb_ = deepestProgram < 1.0
                       ? static_cast<float>(-20.0 * style.programDepth * std::log10(deepestProgram))
                       : 0.0f;
  }

  struct GainCurve {
    float peakRelease, maxRiseLog2, minRiseLog2, programDepth;
    double programAttack, programRelease;
  };

  // One channel's gain over the block from its required gains (written for the block already):
  // the running minimum with its holds, the program stage and the peak stage's release, averaged
  // over the window into ch.gain. Returns the program stage's deepest gain.
  double runGainCurve(Channel& ch, int n, int span, const GainCurve& curve) {
    const int mask = ringSize_ - 1;
    const float* required = ch.required.data();
    const int* holdLength = ch.holdLength.data();
    float* held = ch.held.data();
    int* dq = ch.dequeIndex.data();
    float* gain = ch.gain.data();
    int head = ch.dequeHead, tail = ch.dequeTail;
    double sum = ch.sum, program = ch.program, lastMin = ch.lastMin;
    float programLog = ch.programLog, releasedLog = ch.releasedLog, lastMinLog = ch.lastMinLog;
    float holdValue = ch.holdValue, nextValue = ch.nextValue;
    long long holdUntil = ch.holdUntil, nextUntil = ch.nextUntil;
    const double inverseWindow = inverseWindow_;
    const int window = window_, delay = delay_;
    const bool autoRelease = autoRelease_;
    double deepestProgram = 1.0;
    for (int i = 0; i < n; ++i) {
      const long long now = now_ + i;
      const int w = (write_ + i) & mask;
      // Running minimum (monotonic deque) over `span` required gains ending `delay` back.
      const int index = (w - delay) & mask;
      const float r = required[index];
      while (tail != head && required[dq[(tail - 1) & mask]] >= r) tail = (tail - 1) & mask;
      dq[tail] = index;
      tail = (tail + 1) & mask;
      while (((index - dq[head]) & mask) >= span) {
        // A requirement leaving the span stays in force for its hold. Two holds keep overlapping
        // ones: the deepest, and the next, which merges the rest (their deepest value to their
        // latest end: held longer or deeper than asked, never less, so it can only overstate).
        const int leaving = dq[head];
        const float value = required[leaving];
        if (value < 1.0f) {
          const long long until = now + holdLength[leaving];
          if (now >= holdUntil) {
            holdValue = value;
            holdUntil = until;
          } else if (value <= holdValue) {
            // Deeper: it rules now; the current hold, if it outlasts it, waits as the next.
            if (holdUntil > until) {
              nextValue = std::min(nextValue, holdValue);
              nextUntil = std::max(nextUntil, holdUntil);
            }
            holdValue = value;
            holdUntil = until;
          } else if (until > holdUntil) {
            // Shallower but longer: it takes over when the current hold ends.
            nextValue = std::min(nextValue, value);
            nextUntil = std::max(nextUntil, until);
          }
        }
        head = (head + 1) & mask;
      }
      double windowMin = required[dq[head]];
      if (now >= holdUntil && now < nextUntil) {
        holdValue = nextValue;
        holdUntil = nextUntil;
        nextValue = 1.0f;
        nextUntil = 0;
      }
      if (now < holdUntil) windowMin = std::min<double>(windowMin, holdValue);
      // Program stage: a slow follower of the held minimum, so it never sits below what the
      // material needs for long (the old auto release lengthened itself on dense music and
      // never let go).
      float floorLog = 0.0f;
      if (autoRelease) {
        program += (windowMin - program) * (windowMin < program ? curve.programAttack : curve.programRelease);
        deepestProgram = std::min(deepestProgram, program);
        // Part of the required reduction only: the rest is the peak stage's to recover, so
        // dense music keeps its transients' recoveries and loudness rises with drive.
        // The program stage moves by under 0.01 dB in 16 samples: its log is refreshed that often.
        if ((w & 15) == 0) programLog = program < 0.99999 ? fastLog2(static_cast<float>(program)) : 0.0f;
        floorLog = curve.programDepth * programLog;
      }
      // Peak stage: instant down to the minimum, back up exponentially to the program stage, in
      // dB (a linear-gain release would rise several dB per millisecond out of deep reduction)
      // and never faster than kMaxRecoveryDbPerMs.
      const float oldest = held[(w - window) & mask];
      if (releasedLog == 0.0f && floorLog == 0.0f && windowMin >= 1.0) {
        // Not limiting: the common case on most program, without the log-domain arithmetic.
        held[w] = 1.0f;
        sum += 1.0 - oldest;
        gain[i] = static_cast<float>(sum * inverseWindow);
        continue;
      }
      float recoveredLog = floorLog;
      if (releasedLog < floorLog)
        recoveredLog = std::min(std::max(floorLog + (releasedLog - floorLog) * curve.peakRelease,
                                         releasedLog + curve.minRiseLog2),
                                std::min(floorLog, releasedLog + curve.maxRiseLog2));
      // The approach is asymptotic; within 1e-5 dB it has arrived (and the idle path above applies).
      if (floorLog - recoveredLog < 2e-6f) recoveredLog = floorLog;
      const double recovered = fastExp2(recoveredLog);
      double value;
      if (windowMin < recovered) {
        value = windowMin;
        // The minimum often stays put for many samples (one peak rules the span): reuse its log.
        if (windowMin != lastMin) {
          lastMin = windowMin;
          lastMinLog = fastLog2(static_cast<float>(windowMin));
        }
        releasedLog = lastMinLog;
      } else {
        value = recovered;
        releasedLog = recoveredLog;
      }
      held[w] = static_cast<float>(value);
      sum += value - oldest;
      gain[i] = static_cast<float>(sum * inverseWindow);
    }
    ch.dequeHead = head;
    ch.dequeTail = tail;
    ch.sum = sum;
    ch.program = program;
    ch.lastMin = lastMin;
    ch.programLog = programLog;
    ch.releasedLog = releasedLog;
    ch.lastMinLog = lastMinLog;
    ch.holdValue = holdValue;
    ch.nextValue = nextValue;
    ch.holdUntil = holdUntil;
    ch.nextUntil = nextUntil;
    return deepestProgram;
  }

  double sampleRate_ = 48000;
  int maxWindow_ = 240, maxHold_ = 480, hold_ = 480, style_ = 0, delay_ = 0, guard_ = 8, ringSize_ = 512,
      window_ = 72, pendingWindow_ = 72, write_ = 0, sinceRecompute_ = 0;
  Channel channels_[2];
  double inverseWindow_ = 1.0 / 72;
  long long now_ = 0;            // samples since prepare: the holds' clock
  std::vector<float> ceilings_;  // this block's ceiling, per sample
  LinearSmoother driveGain_, ceiling_;
  BypassCrossfade bypass_;
  double ceilingDb_ = -1.0, driveDb_ = 0.0, lookaheadMs_ = 5.0, releaseMs_ = 20.0;
  bool autoRelease_ = true, idle_ = false;
  double linkSetting_ = 1.0;
  float link_ = 1.0f, linkTarget_ = 1.0f;
  float grDb_ = 0, programGrDb_ = 0;
};

}  // namespace rig
