// Second-order sections and their design from analog prototypes.
//
// Bells, shelves, high- and low-passes use a magnitude-matched design after M. Vicanek,
// "Matched Second Order Digital Filters" (2016): poles by impulse invariance (z = e^{sT}),
// zeros chosen so the digital magnitude equals the analog one at DC, at Nyquist and at the
// band's centre. Unlike the bilinear transform (RBJ cookbook), nothing is warped towards
// Nyquist, so a 16 kHz bell at 44.1 kHz keeps its analog width instead of cramping.
#pragma once

#include <cmath>
#include <complex>

#include "common.h"

namespace rig {

struct BiquadCoeffs {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
};

struct Biquad {
  BiquadCoeffs c;
  float z1 = 0, z2 = 0;
  float process(float x) {  // transposed direct form II
    const float y = static_cast<float>(c.b0) * x + z1;
    z1 = static_cast<float>(c.b1) * x - static_cast<float>(c.a1) * y + z2;
    z2 = static_cast<float>(c.b2) * x - static_cast<float>(c.a2) * y;
    return y;
  }
  void reset() { z1 = z2 = 0; }
};

// Left and right as the two lanes of one vector (GCC/Clang vector extension): the channels
// share coefficients, so one instruction filters both.
using StereoSample = double __attribute__((vector_size(16)));

// Direct form I: its only loop-carried path is one multiply and one subtraction through y1
// (transposed form II chains two), which is what bounds a recursive filter's speed. In double
// precision its noise stays far below what any meter or detector resolves, even for poles at a
// few hertz (K-weighting's 38 Hz, the DC blocker's 5 Hz).
struct StereoBiquad {
  BiquadCoeffs c;
  StereoSample x1{}, x2{}, y1{}, y2{};

  StereoSample process(StereoSample x) {
    const StereoSample y = c.b0 * x + c.b1 * x1 + c.b2 * x2 - c.a2 * y2 - c.a1 * y1;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    return y;
  }
  void reset() { x1 = x2 = y1 = y2 = StereoSample{}; }
};

// Analog second-order prototype, normalised to its centre frequency: (n2 s^2 + n1 s + n0) /
// (d2 s^2 + d1 s + d0).
struct AnalogBiquad {
  double n2, n1, n0, d2, d1, d0;
  double magnitudeSquared(double omega) const {  // omega relative to the centre frequency
    const std::complex<double> s(0.0, omega);
    return std::norm((n2 * s * s + n1 * s + n0) / (d2 * s * s + d1 * s + d0));
  }
};

// |H(e^{jw})|^2 = (B0 p0 + B1 p1 + B2 p2) / (A0 p0 + A1 p1 + A2 p2) with p1 = sin^2(w/2),
// p0 = 1 - p1, p2 = 4 p0 p1: linear in B, so three matched points fix the numerator.
inline BiquadCoeffs designMatched(const AnalogBiquad& h, double sampleRate, double freqHz) {
  const double w0 = 2.0 * kPi * freqHz / sampleRate;  // analog centre in radians per sample
  BiquadCoeffs c;
  // Poles: roots of d2 s^2 + d1 s + d0, mapped by z = exp(s w0).
  const double disc = h.d1 * h.d1 - 4.0 * h.d2 * h.d0;
  if (disc < 0) {
    const double re = -h.d1 / (2.0 * h.d2), im = std::sqrt(-disc) / (2.0 * h.d2);
    const double r = std::exp(re * w0);
    c.a1 = -2.0 * r * std::cos(im * w0);
    c.a2 = r * r;
  } else {
    const double root = std::sqrt(disc);
    const double p1 = (-h.d1 + root) / (2.0 * h.d2), p2 = (-h.d1 - root) / (2.0 * h.d2);
    const double z1 = std::exp(p1 * w0), z2 = std::exp(p2 * w0);
    c.a1 = -(z1 + z2);
    c.a2 = z1 * z2;
  }
  const double A0 = (1 + c.a1 + c.a2) * (1 + c.a1 + c.a2);
  const double A1 = (1 - c.a1 + c.a2) * (1 - c.a1 + c.a2);
  const double A2 = -4.0 * c.a2;
  const double B0 = h.magnitudeSquared(0.0) * A0;
  const double B1 = h.magnitudeSquared(kPi / w0) * A1;  // Nyquist, in units of the centre
  const double sqrtB0 = std::sqrt(B0), sqrtB1 = std::sqrt(B1);
  const double W = 0.5 * (sqrtB0 + sqrtB1);
  // Third point: the centre (or 0.9 Nyquist above it). Near Nyquist the impulse-invariant poles
  // can make that point unreachable; then match progressively lower, where the ear is.
  double B2 = -W * W;
  for (double wm = std::min(w0, 0.9 * kPi); wm > 1e-3; wm *= 0.7) {
    const double p1m = std::sin(wm / 2) * std::sin(wm / 2), p0m = 1 - p1m, p2m = 4 * p0m * p1m;
    const double candidate =
        (h.magnitudeSquared(wm / w0) * (A0 * p0m + A1 * p1m + A2 * p2m) - B0 * p0m - B1 * p1m) / p2m;
    if (W * W + candidate >= 0) {
      B2 = candidate;
      break;
    }
  }
  c.b0 = 0.5 * (W + std::sqrt(W * W + B2));
  c.b1 = 0.5 * (sqrtB0 - sqrtB1);
  c.b2 = c.b0 != 0 ? -B2 / (4.0 * c.b0) : 0.0;
  return c;
}

// Prototypes (RBJ's analog definitions, A = 10^(gain/40)): peak gain at the centre for the bell,
// shelf midpoint at the centre for the shelves.
inline BiquadCoeffs designBell(double sampleRate, double freqHz, double gainDb, double q) {
  const double a = std::pow(10.0, gainDb / 40.0);
  return designMatched({1.0, a / q, 1.0, 1.0, 1.0 / (a * q), 1.0}, sampleRate, freqHz);
}
inline BiquadCoeffs designLowShelf(double sampleRate, double freqHz, double gainDb, double q) {
  const double a = std::pow(10.0, gainDb / 40.0), sa = std::sqrt(a);
  return designMatched({a, a * sa / q, a * a, a, sa / q, 1.0}, sampleRate, freqHz);
}
inline BiquadCoeffs designHighShelf(double sampleRate, double freqHz, double gainDb, double q) {
  const double a = std::pow(10.0, gainDb / 40.0), sa = std::sqrt(a);
  return designMatched({a * a, a * sa / q, a, 1.0, sa / q, a}, sampleRate, freqHz);
}
inline BiquadCoeffs designHighPass(double sampleRate, double freqHz, double q) {
  return designMatched({1.0, 0.0, 0.0, 1.0, 1.0 / q, 1.0}, sampleRate, freqHz);
}
inline BiquadCoeffs designLowPass(double sampleRate, double freqHz, double q) {
  return designMatched({0.0, 0.0, 1.0, 1.0, 1.0 / q, 1.0}, sampleRate, freqHz);
}

// Digital magnitude in dB at a frequency: for tests and displays, never on the audio path.
inline double magnitudeDb(const BiquadCoeffs& c, double sampleRate, double freqHz) {
  const std::complex<double> z = std::polar(1.0, -2.0 * kPi * freqHz / sampleRate);
  const std::complex<double> h = (c.b0 + c.b1 * z + c.b2 * z * z) / (1.0 + c.a1 * z + c.a2 * z * z);
  return 20.0 * std::log10(std::abs(h));
}

}  // namespace rig
