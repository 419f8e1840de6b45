#include "knob_filter.h"

#include "protocol.h"

namespace knobbox {

namespace {
constexpr uint8_t kFractionBits = 6;
}

KnobFilter::KnobFilter(const KnobCalibration& calibration) : calibration_(calibration) {}

void KnobFilter::reset(uint16_t adc) {
  smoothed_ = static_cast<uint32_t>(adc) << kFractionBits;
  reported_ = calibrated();
}

uint16_t KnobFilter::calibrated() const {
  const uint32_t rounded = (smoothed_ + (1u << (kFractionBits - 1))) >> kFractionBits;
  const uint32_t low = calibration_.adcLow;
  const uint32_t high = calibration_.adcHigh;
  if (rounded <= low) return 0;
  if (rounded >= high) return kPositionMax;
  return static_cast<uint16_t>(((rounded - low) * kPositionMax + (high - low) / 2) / (high - low));
}

bool KnobFilter::update(uint16_t adc) {
  const int32_t target = static_cast<int32_t>(adc) << kFractionBits;
  const int32_t current = static_cast<int32_t>(smoothed_);
  smoothed_ = static_cast<uint32_t>(current + ((target - current) >> calibration_.smoothingShift));

  const uint16_t position = calibrated();
  if (position == reported_) return false;
  const uint16_t distance = position > reported_ ? position - reported_ : reported_ - position;
  const bool atEnd = position == 0 || position == kPositionMax;
  if (distance < calibration_.deadband && !atEnd) return false;
  reported_ = position;
  return true;
}

}  // namespace knobbox
