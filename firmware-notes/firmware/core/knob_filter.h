// Pot reading -> reported knob position. A one-pole low-pass takes the ADC's noise down, a
// calibration maps the pot's real travel onto 0..1023, and a deadband around the last reported
// value keeps a knob that nobody touches silent. The ends are exempt from the deadband so a knob
// turned fully always reports exactly 0 or 1023.
#pragma once

#include <stdint.h>

namespace knobbox {

struct KnobCalibration {
  // Raw (smoothed) ADC readings at the two ends of travel: wiper resistance and supply drop keep
  // most pots a few counts off the rails. Readings beyond them clamp to 0 / 1023.
  uint16_t adcLow = 4;
  uint16_t adcHigh = 1019;
  // One-pole coefficient 2^-smoothingShift: 3 gives a time constant of 8 samples (about 8 ms at
  // a 1 kHz scan), short enough not to feel laggy, long enough to average out +-2 counts of noise.
  uint8_t smoothingShift = 3;
  // Counts the reading must move from the last report before a new one. Smoothed noise of a
  // decent pot stays under 1 count; 3 leaves margin for a noisy USB supply.
  uint8_t deadband = 3;
};

class KnobFilter {
 public:
  explicit KnobFilter(const KnobCalibration& calibration = KnobCalibration());
  // Starts the smoother at this reading (boot), so the first report is not a slow glide from 0.
  void reset(uint16_t adc);
  // One ADC sample (0..1023). True when the reported position changed.
  bool update(uint16_t adc);
  uint16_t position() const { return reported_; }

 private:
  uint16_t calibrated() const;

  KnobCalibration calibration_;
  // Smoothed reading with kFractionBits below the point, so slow drifts are not lost to rounding.
  uint32_t smoothed_ = 0;
  uint16_t reported_ = 0;
};

}  // namespace knobbox
