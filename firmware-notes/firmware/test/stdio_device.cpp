// The firmware core as a host process, for testing the real host adapter against the real device
// logic: stdin/stdout are the serial line; fd 3 takes what a hand would do to the box, one
// command per line; stderr reports what the LEDs show whenever it changes. It scans like
// knob_box.ino does: every input sampled every loop, one quadrature step per loop.
//
//   knob <index> <adc 0..1023>      the pot's wiper now reads this
//   encoder <index> <detents>       turn, negative = counter-clockwise
//   button <index> <0|1>            contact closed (1) or open (0)
//
// stderr lines: "show rings r0 r1 ... leds l0 l1 ..."

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "../core/knob_box.h"

using namespace knobbox;

namespace {

constexpr uint8_t kKnobs = 8;
constexpr uint8_t kButtons = 4;
constexpr uint8_t kEncoders = 2;
constexpr int kControlFd = 3;

uint32_t millisNow() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint32_t>(now.tv_sec * 1000u + now.tv_nsec / 1000000);
}

class StdoutOutput : public Output {
 public:
  // A USB CDC endpoint holds 64 bytes; pretending the same keeps the core's pacing honest.
  size_t room() override { return 64; }
  void write(const char* data, size_t length) override {
    while (length > 0) {
      const ssize_t written = ::write(STDOUT_FILENO, data, length);
      if (written <= 0) exit(0);  // the host closed the line
      data += written;
      length -= static_cast<size_t>(written);
    }
  }
};

struct Inputs {
  uint16_t adc[kKnobs];
  bool buttonDown[kButtons];
  bool encoderA[kEncoders];
  bool encoderB[kEncoders];
  // Quarter steps still to make per encoder, signed.
  int pendingSteps[kEncoders];
  uint8_t phase[kEncoders];
};

// Clockwise Gray sequence from rest (A,B both high): 11 -> 10 -> 00 -> 01 -> 11.
const bool kSequenceA[4] = {true, true, false, false};
const bool kSequenceB[4] = {true, false, false, true};

void stepEncoders(Inputs& inputs) {
  for (uint8_t i = 0; i < kEncoders; i++) {
    if (inputs.pendingSteps[i] == 0) continue;
    const int direction = inputs.pendingSteps[i] > 0 ? 1 : -1;
    inputs.phase[i] = static_cast<uint8_t>((inputs.phase[i] + 4 + direction) % 4);
    inputs.pendingSteps[i] -= direction;
    inputs.encoderA[i] = kSequenceA[inputs.phase[i]];
    inputs.encoderB[i] = kSequenceB[inputs.phase[i]];
  }
}

void command(const std::string& line, Inputs& inputs) {
  char verb[16] = {};
  int index = 0;
  int value = 0;
  if (sscanf(line.c_str(), "%15s %d %d", verb, &index, &value) != 3 || index < 0) return;
  if (strcmp(verb, "knob") == 0 && index < kKnobs) inputs.adc[index] = static_cast<uint16_t>(value);
  if (strcmp(verb, "encoder") == 0 && index < kEncoders) inputs.pendingSteps[index] += value * 4;
  if (strcmp(verb, "button") == 0 && index < kButtons) inputs.buttonDown[index] = value != 0;
}

void show(const KnobBox& box) {
  fprintf(stderr, "show rings");
  for (uint8_t i = 0; i < box.ringCount(); i++) fprintf(stderr, " %u", box.ring(i));
  fprintf(stderr, " leds");
  for (uint8_t i = 0; i < kButtons; i++) fprintf(stderr, " %d", box.led(i) ? 1 : 0);
  fprintf(stderr, "\n");
  fflush(stderr);
}

}  // namespace

int main() {
  StdoutOutput output;
  BoxConfig config{};
  config.knobs = kKnobs;
  config.buttons = kButtons;
  config.encoders = kEncoders;
  config.motors = 0;
  config.firmwareVersion = "1.0.0-host";
  config.serialNumber = "HOST-0001";
  config.encoderStepsPerDetent = 4;
  config.debounceMs = 5;
  KnobBox box(config, output);

  Inputs inputs{};
  for (uint16_t& adc : inputs.adc) adc = 512;
  for (uint8_t i = 0; i < kEncoders; i++) {
    inputs.encoderA[i] = true;
    inputs.encoderB[i] = true;
  }
  box.begin(inputs.adc, inputs.encoderA, inputs.encoderB, inputs.buttonDown);

  std::string controlLine;
  bool controlOpen = true;
  for (;;) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0},
                     {kControlFd, static_cast<short>(controlOpen ? POLLIN : 0), 0}};
    poll(fds, 2, 1);
    const uint32_t now = millisNow();
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      uint8_t bytes[256];
      const ssize_t count = read(STDIN_FILENO, bytes, sizeof bytes);
      if (count <= 0) return 0;  // the host let go of the line
      for (ssize_t i = 0; i < count; i++) box.receive(bytes[i], now);
    }
    if (controlOpen && (fds[1].revents & (POLLIN | POLLHUP))) {
      char bytes[256];
      const ssize_t count = read(kControlFd, bytes, sizeof bytes);
      if (count <= 0) controlOpen = false;
      for (ssize_t i = 0; i < count; i++) {
        if (bytes[i] == '\n') {
          command(controlLine, inputs);
          controlLine.clear();
        } else {
          controlLine += bytes[i];
        }
      }
    }
    stepEncoders(inputs);
    for (uint8_t i = 0; i < kKnobs; i++) box.sampleKnob(i, inputs.adc[i]);
    for (uint8_t i = 0; i < kEncoders; i++) box.sampleEncoder(i, inputs.encoderA[i], inputs.encoderB[i]);
    for (uint8_t i = 0; i < kButtons; i++) box.sampleButton(i, inputs.buttonDown[i], now);
    box.service(now);
    if (box.takeFeedbackChange()) show(box);
  }
}
