#!/usr/bin/env bash
# A private PulseAudio server for the real-audio-path tests: two null sinks at 48 kHz float,
# rig_in (fed with paplay; its monitor is the rig's input) and rig_out (the rig's output; its
# monitor is recorded with parec). PortAudio reaches them through ALSA's pulse plugin, routed by
# PULSE_SOURCE / PULSE_SINK. Idempotent: restarts the server under $PULSE_RUNTIME_PATH.
set -euo pipefail
: "${PULSE_RUNTIME_PATH:?set PULSE_RUNTIME_PATH to a private directory}"
mkdir -p "$PULSE_RUNTIME_PATH"
pulseaudio --kill >/dev/null 2>&1 || true
sleep 0.2
pulseaudio --daemonize=yes --exit-idle-time=-1 --disallow-exit -n \
  --load="module-native-protocol-unix" \
  --load="module-null-sink sink_name=rig_in rate=48000 format=float32le channels=2" \
  --load="module-null-sink sink_name=rig_out rate=48000 format=float32le channels=2" \
  --log-target=file:"$PULSE_RUNTIME_PATH/pulse.log"
for _ in $(seq 50); do
  pactl list short sinks 2>/dev/null | grep -q rig_out && exit 0
  sleep 0.1
done
echo "pulse.sh: PulseAudio did not come up; its log:" >&2
cat "$PULSE_RUNTIME_PATH/pulse.log" >&2 || true
exit 1
