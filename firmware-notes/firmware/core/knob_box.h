// The whole device behind the wire: turns scanned inputs into protocol lines and host lines into
// LED/motor state, following PROTOCOL.md. The hardware layer (knob_box.ino, or the host test)
// feeds it pin readings and bytes and drives LEDs from what it holds; it knows no pins itself.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "debounce.h"
#include "knob_filter.h"
#include "line_assembler.h"
#include "protocol.h"
#include "quadrature.h"

namespace knobbox {

// Storage is static: these bound what one firmware build can describe in its HELLO.
constexpr uint8_t kMaxKnobs = 16;
constexpr uint8_t kMaxButtons = 16;
constexpr uint8_t kMaxEncoders = 8;

struct BoxConfig {
  uint8_t knobs;
  uint8_t buttons;
  uint8_t encoders;
  // Motorised knobs (the first `motors` knobs); 0 on the reference box.
  uint8_t motors;
  const char* firmwareVersion;
  const char* serialNumber;
  KnobCalibration calibration;
  uint8_t encoderStepsPerDetent;
  uint8_t debounceMs;
};

// Where lines go. room() is what can be written now without blocking (Serial.availableForWrite):
// the core never blocks the scan loop on a slow or absent host.
class Output {
 public:
  virtual size_t room() = 0;
  virtual void write(const char* data, size_t length) = 0;

 protected:
  ~Output() = default;
};

class KnobBox {
 public:
  // Minimum time between two lines about the same knob or encoder: movement in between is
  // coalesced (latest position, summed detents), so a box never sends more than 200 lines/s per
  // control however fast it scans.
  static constexpr uint32_t kControlIntervalMs = 5;
  // ERR replies are limited to one per this interval; a host spewing garbage gets the count, not
  // an echo flood.
  static constexpr uint32_t kErrorIntervalMs = 100;
  // Button edges waiting to be sent, per button; beyond it the newest press/release pair is lost.
  static constexpr uint8_t kMaxQueuedEdges = 4;

  struct Counters {
    uint16_t faults[kFaultKinds] = {};
    uint16_t errorsNotSent = 0;
    uint16_t buttonEdgesDropped = 0;
  };

  KnobBox(const BoxConfig& config, Output& output);

  // First readings after power-up: filters start at the real positions, nothing is reported.
  void begin(const uint16_t* knobAdc, const bool* encoderA, const bool* encoderB, const bool* buttonDown);

  void receive(uint8_t byte, uint32_t nowMs);
  void sampleKnob(uint8_t index, uint16_t adc);
  void sampleEncoder(uint8_t index, bool a, bool b);
  void sampleButton(uint8_t index, bool down, uint32_t nowMs);
  // Sends whatever is due and fits in the output. Call every scan.
  void service(uint32_t nowMs);
  // The host closed the port (USB DTR dropped): stop sending until the next HELLO?.
  void endSession();

  bool inSession() const { return inSession_; }
  uint16_t ring(uint8_t index) const { return index < ringCount() ? rings_[index] : 0; }
  bool led(uint8_t index) const { return index < config_.buttons && leds_[index]; }
  uint16_t motorTarget(uint8_t index) const { return index < config_.motors ? motors_[index] : 0; }
  uint16_t knobPosition(uint8_t index) const { return index < config_.knobs ? knobs_[index].position() : 0; }
  // True once after any ring/LED/motor change, so the LED driver refreshes only when needed.
  bool takeFeedbackChange();
  const Counters& counters() const { return counters_; }
  uint8_t ringCount() const { return static_cast<uint8_t>(config_.knobs + config_.encoders); }

 private:
  struct ButtonState {
    Debouncer debouncer;
    // Edges alternate, so a queue of them is a count plus the direction of the oldest.
    uint8_t queuedEdges = 0;
    bool oldestEdgeDown = false;
  };

  void handleLine(const char* line, size_t length, uint32_t nowMs);
  void refuse(Fault fault, uint32_t nowMs);
  bool send(LineWriter& writer);
  bool sendPending(uint32_t nowMs);

  BoxConfig config_;
  Output& output_;
  LineAssembler assembler_;
  KnobFilter knobs_[kMaxKnobs];
  bool knobDirty_[kMaxKnobs] = {};
  uint32_t knobSentMs_[kMaxKnobs] = {};
  QuadratureDecoder encoders_[kMaxEncoders];
  int16_t encoderDelta_[kMaxEncoders] = {};
  uint32_t encoderSentMs_[kMaxEncoders] = {};
  ButtonState buttons_[kMaxButtons];
  uint16_t rings_[kMaxKnobs + kMaxEncoders] = {};
  bool leds_[kMaxButtons] = {};
  uint16_t motors_[kMaxKnobs] = {};
  bool feedbackChanged_ = true;

  bool inSession_ = false;
  bool helloPending_ = false;
  bool pongPending_ = false;
  uint16_t pongToken_ = 0;
  Fault errorPending_ = Fault::None;
  bool errorSentOnce_ = false;
  uint32_t errorSentMs_ = 0;
  // Round-robin start, so a flood on knob 0 cannot starve knob 7 when the output is tight.
  uint8_t nextKnob_ = 0;
  Counters counters_;
};

}  // namespace knobbox
