// The N-API boundary: one call per block with typed arrays, parameters by schema index,
// meters written into one Float32Array the caller owns. Nothing here runs per sample.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "chain.h"
#include "dsp/dither.h"
#include "dsp/input-guard.h"
#include "dsp/meters.h"
#include "dsp/over-counter.h"
#include "dsp/resampler.h"

namespace {

using rig::MeterOffsets;

bool readLayout(const Napi::Object& options, MeterOffsets& offsets, std::vector<double>& bands,
                std::string& error) {
  Napi::Value offsetsValue = options.Get("meterOffsets");
  Napi::Value bandsValue = options.Get("spectrumBandsHz");
  if (!offsetsValue.IsObject() || !bandsValue.IsArray()) {
    error = "options need meterOffsets (object) and spectrumBandsHz (array)";
    return false;
  }
  Napi::Object offsetsObject = offsetsValue.As<Napi::Object>();
  Napi::Array names = offsetsObject.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    offsets[name] = offsetsObject.Get(name).As<Napi::Number>().Int32Value();
  }
  Napi::Array bandsArray = bandsValue.As<Napi::Array>();
  for (uint32_t i = 0; i < bandsArray.Length(); ++i)
    bands.push_back(bandsArray.Get(i).As<Napi::Number>().DoubleValue());
  return true;
}

bool readRate(const Napi::Object& options, double& sampleRate, int& maxBlock, std::string& error) {
  sampleRate = options.Get("sampleRate").ToNumber().DoubleValue();
  maxBlock = options.Get("maxBlock").ToNumber().Int32Value();
  if (!(sampleRate >= 8000 && sampleRate <= 384000)) {
    error = "sampleRate must be between 8000 and 384000 Hz";
    return false;
  }
  if (maxBlock < 1 || maxBlock > 65536) {
    error = "maxBlock must be between 1 and 65536 frames";
    return false;
  }
  return true;
}

// A Float32Array the native side keeps writing into; held by reference so it outlives GC.
struct HeldFrame {
  Napi::Reference<Napi::Float32Array> ref;
  float* data = nullptr;
  size_t length = 0;

  bool hold(const Napi::Value& value) {
    if (value.IsUndefined() || value.IsNull()) return true;
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      return false;
    auto array = value.As<Napi::Float32Array>();
    ref = Napi::Persistent(array);
    data = array.Data();
    length = array.ElementLength();
    return true;
  }
};

bool checkStereoBlock(const Napi::CallbackInfo& info, int maxBlock, float*& left, float*& right, int& n) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(env, "process(left, right) takes two Float32Arrays").ThrowAsJavaScriptException();
    return false;
  }
  auto l = info[0].As<Napi::Float32Array>();
  auto r = info[1].As<Napi::Float32Array>();
  if (l.ElementLength() != r.ElementLength()) {
    Napi::RangeError::New(env, "left and right blocks differ in length").ThrowAsJavaScriptException();
    return false;
  }
  if (static_cast<int>(l.ElementLength()) > maxBlock) {
    Napi::RangeError::New(env, "block of " + std::to_string(l.ElementLength()) + " frames exceeds maxBlock " +
                                   std::to_string(maxBlock))
        .ThrowAsJavaScriptException();
    return false;
  }
  left = l.Data();
  right = r.Data();
  n = static_cast<int>(l.ElementLength());
  return true;
}

class NativeChain : public Napi::ObjectWrap<NativeChain> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeChain",
        {InstanceMethod("process", &NativeChain::Process), InstanceMethod("setParam", &NativeChain::SetParam),
         InstanceMethod("setParams", &NativeChain::SetParams),
         InstanceMethod("latency", &NativeChain::Latency), InstanceMethod("reset", &NativeChain::Reset),
         InstanceMethod("resetIntegrated", &NativeChain::ResetIntegrated),
         InstanceMethod("setIntegrationPaused", &NativeChain::SetIntegrationPaused),
         InstanceMethod("nonFiniteBlocks", &NativeChain::NonFiniteBlocks)});
  }

  explicit NativeChain(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeChain>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "NativeChain(options) needs an options object").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object options = info[0].As<Napi::Object>();
    std::string error;
    double sampleRate;
    int maxBlock;
    MeterOffsets offsets;
    std::vector<double> bands;
    if (!readRate(options, sampleRate, maxBlock, error) || !readLayout(options, offsets, bands, error)) {
      Napi::TypeError::New(env, error).ThrowAsJavaScriptException();
      return;
    }
    Napi::Value idsValue = options.Get("parameterIds");
    if (!idsValue.IsArray()) {
      Napi::TypeError::New(env, "options.parameterIds must be an array of ids").ThrowAsJavaScriptException();
      return;
    }
    std::vector<std::string> ids;
    Napi::Array idsArray = idsValue.As<Napi::Array>();
    for (uint32_t i = 0; i < idsArray.Length(); ++i) ids.push_back(idsArray.Get(i).ToString().Utf8Value());
    if (!frame_.hold(options.Get("meterFrame"))) {
      Napi::TypeError::New(env, "options.meterFrame must be a Float32Array").ThrowAsJavaScriptException();
      return;
    }
    chain_ = std::make_unique<rig::Chain>();
    error = chain_->configure(ids, offsets, bands);
    if (error.empty() && frame_.data) {
      for (const auto& [name, offset] : offsets)
        if (offset < 0 || static_cast<size_t>(offset) >= frame_.length)
          error = "meter field \"" + name + "\" lies outside meterFrame";
    }
    if (!error.empty()) {
      Napi::Error::New(env, error).ThrowAsJavaScriptException();
      return;
    }
    chain_->prepare(sampleRate, maxBlock);
    parameterCount_ = static_cast<int>(ids.size());
  }

 private:
  Napi::Value Process(const Napi::CallbackInfo& info) {
    float *left, *right;
    int n;
    if (checkStereoBlock(info, chain_->maxBlock(), left, right, n))
      chain_->process(left, right, n, frame_.data);
    return info.Env().Undefined();
  }
  Napi::Value SetParam(const Napi::CallbackInfo& info) {
    chain_->setParam(info[0].ToNumber().Int32Value(), info[1].ToNumber().DoubleValue());
    return info.Env().Undefined();
  }
  // All parameters at once, by schema index (a Float64Array the length of the schema).
  Napi::Value SetParams(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      Napi::TypeError::New(info.Env(), "setParams takes a Float64Array").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    auto values = info[0].As<Napi::Float64Array>();
    const int count = std::min(parameterCount_, static_cast<int>(values.ElementLength()));
    for (int i = 0; i < count; ++i) chain_->setParam(i, values[static_cast<size_t>(i)]);
    return info.Env().Undefined();
  }
  Napi::Value Latency(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), chain_->latency());
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    chain_->reset();
    return info.Env().Undefined();
  }
  Napi::Value ResetIntegrated(const Napi::CallbackInfo& info) {
    chain_->resetIntegrated();
    return info.Env().Undefined();
  }
  Napi::Value SetIntegrationPaused(const Napi::CallbackInfo& info) {
    chain_->setIntegrationPaused(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }
  Napi::Value NonFiniteBlocks(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), chain_->nonFiniteBlocks());
  }

  std::unique_ptr<rig::Chain> chain_;
  HeldFrame frame_;
  int parameterCount_ = 0;
};

// The meters alone, for `analyze` and for measuring renders: one tap writing into a frame. The
// input is guarded as the live chain guards its own (a file's NaN is measured as the silence the
// chain would play), and what the guard repaired is counted for the report.
class NativeAnalyzer : public Napi::ObjectWrap<NativeAnalyzer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeAnalyzer",
        {InstanceMethod("process", &NativeAnalyzer::Process), InstanceMethod("reset", &NativeAnalyzer::Reset),
         InstanceMethod("resetIntegrated", &NativeAnalyzer::ResetIntegrated),
         InstanceMethod("setIntegrationPaused", &NativeAnalyzer::SetIntegrationPaused),
         InstanceMethod("guardCounts", &NativeAnalyzer::GuardCounts)});
  }

  explicit NativeAnalyzer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeAnalyzer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "NativeAnalyzer(options) needs an options object")
          .ThrowAsJavaScriptException();
      return;
    }
    Napi::Object options = info[0].As<Napi::Object>();
    std::string error;
    double sampleRate;
    MeterOffsets offsets;
    std::vector<double> bands;
    if (!readRate(options, sampleRate, maxBlock_, error) || !readLayout(options, offsets, bands, error)) {
      Napi::TypeError::New(env, error).ThrowAsJavaScriptException();
      return;
    }
    if (!frame_.hold(options.Get("meterFrame")) || !frame_.data) {
      Napi::TypeError::New(env, "options.meterFrame must be a Float32Array").ThrowAsJavaScriptException();
      return;
    }
    std::string tap = options.Has("tap") ? options.Get("tap").ToString().Utf8Value() : "input";
    error = meter_.configure(offsets, tap + ".", bands);
    if (!error.empty()) {
      Napi::Error::New(env, error).ThrowAsJavaScriptException();
      return;
    }
    meter_.prepare(sampleRate, maxBlock_);
    guard_.prepare(maxBlock_);
  }

 private:
  Napi::Value Process(const Napi::CallbackInfo& info) {
    float *left, *right;
    int n;
    if (checkStereoBlock(info, maxBlock_, left, right, n)) {
      rig::ScopedFlushDenormals noDenormals;
      const float *safeLeft = left, *safeRight = right;
      guard_.guard(safeLeft, safeRight, n);
      meter_.process(safeLeft, safeRight, n);
      meter_.writeFrame(frame_.data);
    }
    return info.Env().Undefined();
  }
  Napi::Value Reset(const Napi::CallbackInfo& info) {
    meter_.reset();
    guard_.reset();
    return info.Env().Undefined();
  }
  // A new song: its report counts its own repaired samples, not the last song's.
  Napi::Value ResetIntegrated(const Napi::CallbackInfo& info) {
    meter_.resetIntegrated();
    guard_.reset();
    return info.Env().Undefined();
  }
  Napi::Value SetIntegrationPaused(const Napi::CallbackInfo& info) {
    meter_.setIntegrationPaused(info[0].ToBoolean().Value());
    return info.Env().Undefined();
  }
  // { nonFinite: [left, right], clamped: [left, right] }: read once per report, off the audio path.
  Napi::Value GuardCounts(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto pair = [env](double left, double right) {
      Napi::Array array = Napi::Array::New(env, 2);
      array.Set(0u, left);
      array.Set(1u, right);
      return array;
    };
    Napi::Object counts = Napi::Object::New(env);
    counts.Set("nonFinite", pair(guard_.nonFinite(0), guard_.nonFinite(1)));
    counts.Set("clamped", pair(guard_.clamped(0), guard_.clamped(1)));
    return counts;
  }

  rig::TapMeter meter_;
  rig::InputGuard guard_;
  HeldFrame frame_;
  int maxBlock_ = 0;
};

class NativeResampler : public Napi::ObjectWrap<NativeResampler> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeResampler",
                       {InstanceMethod("process", &NativeResampler::Process),
                        InstanceMethod("flush", &NativeResampler::Flush),
                        InstanceMethod("latencyInputFrames", &NativeResampler::Latency)});
  }

  explicit NativeResampler(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeResampler>(info) {
    inputRate_ = info[0].ToNumber().Int32Value();
    outputRate_ = info[1].ToNumber().Int32Value();
    channels_ = info[2].ToNumber().Int32Value();
    if (channels_ < 1 || channels_ > 2 || !resampler_.prepare(inputRate_, outputRate_, channels_)) {
      Napi::RangeError::New(info.Env(), "cannot resample " + std::to_string(channels_) + " channel(s) from " +
                                            std::to_string(inputRate_) + " Hz to " +
                                            std::to_string(outputRate_) + " Hz")
          .ThrowAsJavaScriptException();
    }
  }

 private:
  // Interleaved Float32Array in -> new interleaved Float32Array out (offline use only).
  Napi::Value Process(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      Napi::TypeError::New(info.Env(), "process takes an interleaved Float32Array")
          .ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    auto input = info[0].As<Napi::Float32Array>();
    const int frames = static_cast<int>(input.ElementLength()) / channels_;
    const int capacity = static_cast<int>(static_cast<long long>(frames) * outputRate_ / inputRate_) + 16;
    scratch_.resize(static_cast<size_t>(capacity * channels_));
    const int written = resampler_.process(input.Data(), frames, scratch_.data(), capacity);
    return copyOut(info.Env(), written);
  }
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    const int capacity = 1 << 16;
    scratch_.resize(static_cast<size_t>(capacity * channels_));
    const int written = resampler_.flush(scratch_.data(), capacity);
    return copyOut(info.Env(), written);
  }
  Napi::Value Latency(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), resampler_.latencyInputFrames());
  }
  Napi::Value copyOut(Napi::Env env, int frames) {
    auto out = Napi::Float32Array::New(env, static_cast<size_t>(frames * channels_));
    std::copy(scratch_.begin(), scratch_.begin() + frames * channels_, out.Data());
    return out;
  }

  rig::Resampler resampler_;
  std::vector<float> scratch_;
  int inputRate_ = 0, outputRate_ = 0, channels_ = 0;
};

class NativeDither : public Napi::ObjectWrap<NativeDither> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeDither", {InstanceMethod("process", &NativeDither::Process)});
  }

  // (bits, channels, noiseShaping, seed)
  explicit NativeDither(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeDither>(info) {
    const int bits = info[0].ToNumber().Int32Value();
    const int channels = info[1].ToNumber().Int32Value();
    if ((bits != 16 && bits != 24) || channels < 1 || channels > 2) {
      Napi::RangeError::New(info.Env(), "dither needs 16 or 24 bits and 1 or 2 channels")
          .ThrowAsJavaScriptException();
      return;
    }
    dither_.prepare(bits, channels, info[2].ToBoolean().Value(), info[3].ToNumber().Uint32Value());
  }

 private:
  // (Float32Array interleaved in, Int32Array out of the same length)
  Napi::Value Process(const Napi::CallbackInfo& info) {
    if (!info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      Napi::TypeError::New(info.Env(), "process(Float32Array, Int32Array)").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    auto input = info[0].As<Napi::Float32Array>();
    auto output = info[1].As<Napi::Int32Array>();
    const size_t samples = std::min(input.ElementLength(), output.ElementLength());
    dither_.process(input.Data(), output.Data(), static_cast<int>(samples));
    return info.Env().Undefined();
  }

  rig::Dither dither_;
};

// countOvers(channel: Float32Array, ceilingDb) -> { overs, maxDbtp }: the benchmark's judge.
Napi::Value CountOvers(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    Napi::TypeError::New(info.Env(), "countOvers(Float32Array, ceilingDb)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  auto channel = info[0].As<Napi::Float32Array>();
  const rig::OverCount count = rig::countOvers(
      channel.Data(), static_cast<long long>(channel.ElementLength()), info[1].ToNumber().DoubleValue());
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("overs", count.overs);
  result.Set("maxDbtp", count.maxDbtp);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("countOvers", Napi::Function::New(env, CountOvers));
  exports.Set("NativeChain", NativeChain::Define(env));
  exports.Set("NativeAnalyzer", NativeAnalyzer::Define(env));
  exports.Set("NativeResampler", NativeResampler::Define(env));
  exports.Set("NativeDither", NativeDither::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(rig_dsp, Init)
