// Reference firmware for the rig's knob box: 8 pots, 4 buttons, 2 detented encoders, an LED ring
// per pot and encoder and a light per button, on a Teensy 4.0 or an Arduino Micro.
//
// This file is only the hardware: pins in, pixels out. Everything the protocol needs (framing,
// checksums, smoothing, hysteresis, quadrature, debounce, rate limits) lives in core/, which is
// compiled and tested on the host by CI (test/core_test.cpp). Wiring: ../WIRING.md.
// Build: `pio run -e teensy40 -t upload` (or -e micro) in this folder; see platformio.ini.

#include <Adafruit_NeoPixel.h>
#include <EEPROM.h>

#include "core/knob_box.h"

namespace {

constexpr char kFirmwareVersion[] = "1.0.0";
constexpr uint8_t kKnobs = 8;
constexpr uint8_t kButtons = 4;
constexpr uint8_t kEncoders = 2;

#if defined(TEENSYDUINO)
const uint8_t kKnobPins[kKnobs] = {A0, A1, A2, A3, A4, A5, A6, A7};
const uint8_t kButtonPins[kButtons] = {2, 3, 4, 5};
const uint8_t kEncoderPins[kEncoders][2] = {{6, 7}, {8, 9}};
constexpr uint8_t kPixelPin = 10;
#else  // Arduino Micro (ATmega32U4): A6 and A7 are the analog inputs on D4 and D6
const uint8_t kKnobPins[kKnobs] = {A0, A1, A2, A3, A4, A5, A6, A7};
const uint8_t kButtonPins[kButtons] = {0, 1, 2, 3};
const uint8_t kEncoderPins[kEncoders][2] = {{5, 7}, {15, 16}};
constexpr uint8_t kPixelPin = 14;
#endif

// One WS2812B chain: ring 0 (knob 1) first, ..., ring 9 (encoder 2), then the 4 button lights.
constexpr uint8_t kPixelsPerRing = 12;
constexpr uint8_t kRings = kKnobs + kEncoders;
constexpr uint16_t kPixels = kRings * kPixelsPerRing + kButtons;
// Colour of a lit pixel. Kept dim on purpose: all 124 pixels lit stay inside a USB port's
// 500 mA budget (WIRING.md, "Power"); raise only with a separate 5 V supply.
constexpr uint8_t kRingRed = 0, kRingGreen = 6, kRingBlue = 16;
constexpr uint8_t kButtonRed = 16, kButtonGreen = 4, kButtonBlue = 0;

// EEPROM layout: 4 magic bytes, then the 4 random bytes of this box's serial number.
constexpr int kSerialAddress = 0;
const uint8_t kSerialMagic[4] = {'R', 'K', 'B', '1'};

Adafruit_NeoPixel pixels(kPixels, kPixelPin, NEO_GRB + NEO_KHZ800);

class SerialOutput : public knobbox::Output {
 public:
  // What fits in the USB buffer now: the core never blocks the scan on a host that is not reading.
  size_t room() override { return static_cast<size_t>(Serial.availableForWrite()); }
  void write(const char* data, size_t length) override { Serial.write(data, length); }
};

SerialOutput output;
char serialNumber[13];  // "RKB-" + 8 hex digits

// A serial number made once per box from ADC noise and boot timing, then kept in EEPROM, so the
// host tells two boxes apart even on boards without a unique chip id.
void loadSerialNumber() {
  bool stored = true;
  for (uint8_t i = 0; i < 4; i++) stored = stored && EEPROM.read(kSerialAddress + i) == kSerialMagic[i];
  if (!stored) {
    uint32_t seed = micros();
    for (uint8_t i = 0; i < 32; i++)
      seed = (seed << 1 | (seed >> 31)) ^ static_cast<uint32_t>(analogRead(kKnobPins[i % kKnobs]));
    randomSeed(seed);
    for (uint8_t i = 0; i < 4; i++) EEPROM.write(kSerialAddress + 4 + i, static_cast<uint8_t>(random(256)));
    for (uint8_t i = 0; i < 4; i++) EEPROM.write(kSerialAddress + i, kSerialMagic[i]);
  }
  static const char kHex[] = "0123456789ABCDEF";
  memcpy(serialNumber, "RKB-", 4);
  for (uint8_t i = 0; i < 4; i++) {
    const uint8_t byte = EEPROM.read(kSerialAddress + 4 + i);
    serialNumber[4 + 2 * i] = kHex[byte >> 4];
    serialNumber[5 + 2 * i] = kHex[byte & 0x0f];
  }
  serialNumber[12] = '\0';
}

knobbox::BoxConfig boxConfig() {
  knobbox::BoxConfig config{};
  config.knobs = kKnobs;
  config.buttons = kButtons;
  config.encoders = kEncoders;
  config.motors = 0;
  config.firmwareVersion = kFirmwareVersion;
  config.serialNumber = serialNumber;
  // Measured per build with the calibration mode below; these suit most 10k linear pots.
  config.calibration.adcLow = 4;
  config.calibration.adcHigh = 1019;
  config.encoderStepsPerDetent = 4;
  config.debounceMs = 5;
  return config;
}

knobbox::KnobBox* box = nullptr;

void pollEncoders() {
  for (uint8_t i = 0; i < kEncoders; i++)
    box->sampleEncoder(i, digitalRead(kEncoderPins[i][0]) == HIGH, digitalRead(kEncoderPins[i][1]) == HIGH);
}

void showFeedback() {
  for (uint8_t ring = 0; ring < kRings; ring++) {
    // A ring shows its value as an arc: the number of lit pixels, rounded.
    const uint16_t lit =
        static_cast<uint16_t>((static_cast<uint32_t>(box->ring(ring)) * kPixelsPerRing + 511) / 1023);
    for (uint8_t pixel = 0; pixel < kPixelsPerRing; pixel++) {
      const uint16_t at = ring * kPixelsPerRing + pixel;
      pixels.setPixelColor(at, pixel < lit ? pixels.Color(kRingRed, kRingGreen, kRingBlue) : 0);
    }
  }
  for (uint8_t button = 0; button < kButtons; button++) {
    pixels.setPixelColor(kRings * kPixelsPerRing + button,
                         box->led(button) ? pixels.Color(kButtonRed, kButtonGreen, kButtonBlue) : 0);
  }
  // show() blocks interrupts for about 4 ms: done only when something changed, and the
  // quadrature decoder counts a step missed meanwhile as invalid rather than as a wrong turn.
  pixels.show();
}

// Button 1 held at power-up: print raw pot readings as plain text instead of speaking the
// protocol (the host will not take this for a knob box, by design). Turn every pot to both
// ends, note the extremes, put them in boxConfig().
void calibrationMode() {
  uint16_t lowest[kKnobs];
  uint16_t highest[kKnobs];
  for (uint8_t i = 0; i < kKnobs; i++) {
    lowest[i] = 1023;
    highest[i] = 0;
  }
  uint32_t printedAt = 0;
  for (;;) {
    for (uint8_t i = 0; i < kKnobs; i++) {
      const uint16_t reading = static_cast<uint16_t>(analogRead(kKnobPins[i]));
      if (reading < lowest[i]) lowest[i] = reading;
      if (reading > highest[i]) highest[i] = reading;
    }
    if (millis() - printedAt >= 500) {
      printedAt = millis();
      for (uint8_t i = 0; i < kKnobs; i++) {
        Serial.print("cal knob ");
        Serial.print(i + 1);
        Serial.print(" low ");
        Serial.print(lowest[i]);
        Serial.print(" high ");
        Serial.println(highest[i]);
      }
    }
  }
}

}  // namespace

void setup() {
  Serial.begin(115200);  // 8N1; USB CDC ignores the rate, a USB-UART bridge does not
#if defined(TEENSYDUINO)
  analogReadResolution(10);  // the protocol's 0..1023; the AVR's ADC is 10-bit already
#endif
  for (uint8_t i = 0; i < kButtons; i++) pinMode(kButtonPins[i], INPUT_PULLUP);
  for (uint8_t i = 0; i < kEncoders; i++) {
    pinMode(kEncoderPins[i][0], INPUT_PULLUP);
    pinMode(kEncoderPins[i][1], INPUT_PULLUP);
  }
  pixels.begin();
  pixels.clear();
  pixels.show();

  delay(10);  // let the pull-ups settle before the first reading
  if (digitalRead(kButtonPins[0]) == LOW) calibrationMode();

  loadSerialNumber();
  static knobbox::KnobBox instance(boxConfig(), output);
  box = &instance;

  uint16_t adc[kKnobs];
  bool encoderA[kEncoders];
  bool encoderB[kEncoders];
  bool buttonDown[kButtons];
  for (uint8_t i = 0; i < kKnobs; i++) adc[i] = static_cast<uint16_t>(analogRead(kKnobPins[i]));
  for (uint8_t i = 0; i < kEncoders; i++) {
    encoderA[i] = digitalRead(kEncoderPins[i][0]) == HIGH;
    encoderB[i] = digitalRead(kEncoderPins[i][1]) == HIGH;
  }
  for (uint8_t i = 0; i < kButtons; i++) buttonDown[i] = digitalRead(kButtonPins[i]) == LOW;
  box->begin(adc, encoderA, encoderB, buttonDown);
}

void loop() {
  const uint32_t now = millis();
  while (Serial.available() > 0) box->receive(static_cast<uint8_t>(Serial.read()), now);
  // The host closed the port: say nothing until the next HELLO?.
  if (!Serial.dtr() && box->inSession()) box->endSession();

  for (uint8_t i = 0; i < kKnobs; i++) {
    box->sampleKnob(i, static_cast<uint16_t>(analogRead(kKnobPins[i])));
    // An AVR conversion takes ~110 us; reading the encoders after each keeps their sampling
    // well above the fastest hand-turned transition rate.
    pollEncoders();
  }
  for (uint8_t i = 0; i < kButtons; i++) box->sampleButton(i, digitalRead(kButtonPins[i]) == LOW, now);
  box->service(now);
  if (box->takeFeedbackChange()) showFeedback();
}
