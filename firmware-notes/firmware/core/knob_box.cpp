#include "knob_box.h"

namespace knobbox {

namespace {

uint8_t atMost(uint8_t value, uint8_t limit) {
  return value < limit ? value : limit;
}

bool intervalPassed(uint32_t nowMs, uint32_t sinceMs, uint32_t intervalMs) {
  return static_cast<uint32_t>(nowMs - sinceMs) >= intervalMs;
}

}  // namespace

KnobBox::KnobBox(const BoxConfig& config, Output& output) : config_(config), output_(output) {
  config_.knobs = atMost(config.knobs, kMaxKnobs);
  config_.buttons = atMost(config.buttons, kMaxButtons);
  config_.encoders = atMost(config.encoders, kMaxEncoders);
  config_.motors = atMost(config.motors, config_.knobs);
  for (uint8_t i = 0; i < kMaxKnobs; i++) knobs_[i] = KnobFilter(config.calibration);
  for (uint8_t i = 0; i < kMaxEncoders; i++) encoders_[i] = QuadratureDecoder(config.encoderStepsPerDetent);
  for (uint8_t i = 0; i < kMaxButtons; i++) buttons_[i].debouncer = Debouncer(config.debounceMs);
}

void KnobBox::begin(const uint16_t* knobAdc, const bool* encoderA, const bool* encoderB,
                    const bool* buttonDown) {
  for (uint8_t i = 0; i < config_.knobs; i++) knobs_[i].reset(knobAdc[i]);
  for (uint8_t i = 0; i < config_.encoders; i++) encoders_[i].reset(encoderA[i], encoderB[i]);
  for (uint8_t i = 0; i < config_.buttons; i++) buttons_[i].debouncer.reset(buttonDown[i]);
}

void KnobBox::receive(uint8_t byte, uint32_t nowMs) {
  switch (assembler_.push(byte)) {
    case LineAssembler::Result::Line: handleLine(assembler_.line(), assembler_.lineLength(), nowMs); break;
    case LineAssembler::Result::Overlong: refuse(Fault::Overlong, nowMs); break;
    case LineAssembler::Result::Pending: break;
  }
}

void KnobBox::handleLine(const char* line, size_t length, uint32_t nowMs) {
  HostCommand command{};
  const Fault fault = parseHostLine(line, length, command);
  if (fault != Fault::None) {
    refuse(fault, nowMs);
    return;
  }
  if (command.type == HostCommandType::Hello) {
    if (!(command.offeredMajors & (static_cast<uint32_t>(1) << kProtocolMajor))) {
      refuse(Fault::Version, nowMs);
      return;
    }
    // A new session (host restarted, or re-asked after our reset): announce, then report every
    // knob once so the host knows where they physically are. Movement and presses from before
    // the session belong to nobody and are dropped.
    inSession_ = true;
    helloPending_ = true;
    pongPending_ = false;
    for (uint8_t i = 0; i < config_.knobs; i++) {
      knobDirty_[i] = true;
      knobSentMs_[i] = nowMs - kControlIntervalMs;
    }
    for (uint8_t i = 0; i < config_.encoders; i++) encoderDelta_[i] = 0;
    for (uint8_t i = 0; i < config_.buttons; i++) buttons_[i].queuedEdges = 0;
    return;
  }
  // Feedback from a host that has not said HELLO? might be meant for another device: never act.
  if (!inSession_) {
    refuse(Fault::Hello, nowMs);
    return;
  }
  switch (command.type) {
    case HostCommandType::Ring:
      if (command.index >= ringCount()) return refuse(Fault::Range, nowMs);
      feedbackChanged_ |= rings_[command.index] != command.value;
      rings_[command.index] = command.value;
      break;
    case HostCommandType::Led:
      if (command.index >= config_.buttons) return refuse(Fault::Range, nowMs);
      feedbackChanged_ |= leds_[command.index] != (command.value == 1);
      leds_[command.index] = command.value == 1;
      break;
    case HostCommandType::Motor:
      if (command.index >= config_.motors) return refuse(Fault::Range, nowMs);
      feedbackChanged_ |= motors_[command.index] != command.value;
      motors_[command.index] = command.value;
      break;
    case HostCommandType::Ping:
      pongPending_ = true;
      pongToken_ = command.value;
      break;
    case HostCommandType::Hello: break;
  }
}

void KnobBox::refuse(Fault fault, uint32_t nowMs) {
  (void)nowMs;
  counters_.faults[static_cast<uint8_t>(fault)]++;
  if (errorPending_ != Fault::None) {
    counters_.errorsNotSent++;
    return;
  }
  errorPending_ = fault;
}

void KnobBox::sampleKnob(uint8_t index, uint16_t adc) {
  if (index >= config_.knobs) return;
  if (knobs_[index].update(adc) && inSession_) knobDirty_[index] = true;
}

void KnobBox::sampleEncoder(uint8_t index, bool a, bool b) {
  if (index >= config_.encoders) return;
  const int8_t detent = encoders_[index].update(a, b);
  if (detent == 0 || !inSession_) return;
  // Bounded so a stalled output cannot wrap the count; 30000 detents is minutes of spinning.
  const int16_t delta = encoderDelta_[index];
  if ((detent > 0 && delta < 30000) || (detent < 0 && delta > -30000))
    encoderDelta_[index] = static_cast<int16_t>(delta + detent);
}

void KnobBox::sampleButton(uint8_t index, bool down, uint32_t nowMs) {
  if (index >= config_.buttons) return;
  ButtonState& button = buttons_[index];
  if (!button.debouncer.update(down, nowMs) || !inSession_) return;
  if (button.queuedEdges == 0) {
    button.oldestEdgeDown = button.debouncer.down();
    button.queuedEdges = 1;
  } else if (button.queuedEdges < kMaxQueuedEdges) {
    button.queuedEdges++;
  } else {
    // Queue full: drop this edge and the newest queued one, a press/release pair, so the edges
    // still alternate and the last one sent is still the button's real state.
    button.queuedEdges--;
    counters_.buttonEdgesDropped += 2;
  }
}

bool KnobBox::send(LineWriter& writer) {
  if (!writer.finish() || output_.room() < writer.size()) return false;
  output_.write(writer.data(), writer.size());
  return true;
}

bool KnobBox::sendPending(uint32_t nowMs) {
  LineWriter writer;
  if (errorPending_ != Fault::None &&
      (!errorSentOnce_ || intervalPassed(nowMs, errorSentMs_, kErrorIntervalMs))) {
    writer.text("ERR ").text(faultCode(errorPending_));
    if (errorPending_ == Fault::Version) writer.space().number(kProtocolMajor);
    if (!send(writer)) return false;
    errorPending_ = Fault::None;
    errorSentOnce_ = true;
    errorSentMs_ = nowMs;
  }
  if (helloPending_) {
    writer.clear();
    writer.text("HELLO ").number(kProtocolMajor).text(".").number(kProtocolMinor).space().text(kDeviceKind);
    writer.space().text(config_.firmwareVersion).space().text(config_.serialNumber);
    writer.space()
        .number(config_.knobs)
        .space()
        .number(config_.buttons)
        .space()
        .number(config_.encoders)
        .space()
        .number(config_.motors);
    if (!send(writer)) return false;
    helloPending_ = false;
  }
  if (pongPending_) {
    writer.clear();
    writer.text("PONG ").number(pongToken_);
    if (!send(writer)) return false;
    pongPending_ = false;
  }
  return true;
}

void KnobBox::service(uint32_t nowMs) {
  // Replies first, and no control line may overtake the HELLO it belongs after.
  if (!sendPending(nowMs) || !inSession_) return;
  LineWriter writer;

  // Buttons before knobs: a press is an action and must not wait behind a knob sweep.
  for (uint8_t i = 0; i < config_.buttons; i++) {
    ButtonState& button = buttons_[i];
    while (button.queuedEdges > 0) {
      writer.clear();
      writer.text("B ").number(i).space().number(button.oldestEdgeDown ? 1 : 0);
      if (!send(writer)) return;
      button.oldestEdgeDown = !button.oldestEdgeDown;
      button.queuedEdges--;
    }
  }

  for (uint8_t i = 0; i < config_.encoders; i++) {
    const int16_t delta = encoderDelta_[i];
    if (delta == 0 || !intervalPassed(nowMs, encoderSentMs_[i], kControlIntervalMs)) continue;
    const int16_t chunk = delta > kEncoderDeltaMax    ? kEncoderDeltaMax
                          : delta < -kEncoderDeltaMax ? static_cast<int16_t>(-kEncoderDeltaMax)
                                                      : delta;
    writer.clear();
    writer.text("E ").number(i).space().number(chunk);
    if (!send(writer)) return;
    encoderDelta_[i] = static_cast<int16_t>(delta - chunk);
    encoderSentMs_[i] = nowMs;
  }

  for (uint8_t n = 0; n < config_.knobs; n++) {
    const uint8_t i = static_cast<uint8_t>((nextKnob_ + n) % config_.knobs);
    if (!knobDirty_[i] || !intervalPassed(nowMs, knobSentMs_[i], kControlIntervalMs)) continue;
    writer.clear();
    writer.text("K ").number(i).space().number(knobs_[i].position());
    if (!send(writer)) {
      nextKnob_ = i;
      return;
    }
    knobDirty_[i] = false;
    knobSentMs_[i] = nowMs;
  }
}

void KnobBox::endSession() {
  inSession_ = false;
  helloPending_ = false;
  pongPending_ = false;
}

bool KnobBox::takeFeedbackChange() {
  const bool changed = feedbackChanged_;
  feedbackChanged_ = false;
  return changed;
}

}  // namespace knobbox
