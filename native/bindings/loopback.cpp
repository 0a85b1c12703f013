// startLoopback(options): runs a whole sender↔receiver call on a worker thread and resolves
// with both results and both event lists. Returns {promise, cancel}; cancel() (or the
// environment's teardown) makes both sides hang up at the next frame.
#include "engine/loopback.h"

#include <atomic>
#include <cstring>
#include <memory>

#include "bindings/args.h"
#include "bindings/convert.h"
#include "bindings/promise_worker.h"

namespace faxline::bindings {
namespace {

Napi::Int16Array CopyAudio(Napi::Env env, const std::vector<int16_t>& samples) {
  Napi::Int16Array a = Napi::Int16Array::New(env, samples.size());
  if (!samples.empty()) std::memcpy(a.Data(), samples.data(), samples.size() * sizeof(int16_t));
  return a;
}

class LoopbackWorker : public PromiseWorker {
 public:
  LoopbackWorker(Napi::Env env, LoopbackOptions options)
      : LoopbackWorker(env, std::move(options), std::make_shared<std::atomic<bool>>(false)) {}

  std::shared_ptr<std::atomic<bool>> cancel_flag() { return cancel_; }

 protected:
  void Run() override { outcome_ = RunLoopback(options_, cancel_.get()); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("sender", ResultToJs(env, outcome_.sender));
    o.Set("receiver",
          options_.receiver_answers ? Napi::Value(ResultToJs(env, outcome_.receiver)) : env.Null());
    o.Set("senderEvents", EventsToJs(env, outcome_.sender_events));
    o.Set("receiverEvents", EventsToJs(env, outcome_.receiver_events));
    o.Set("durationMs", static_cast<double>(outcome_.samples) * 1000.0 / kSampleRate);
    o.Set("cancelled", outcome_.cancelled);
    o.Set("hitTimeLimit", outcome_.hit_sample_limit);
    if (options_.record_audio) {
      o.Set("senderAudio", CopyAudio(env, outcome_.sender_audio));
      o.Set("receiverAudio", CopyAudio(env, outcome_.receiver_audio));
    }
    return o;
  }

 private:
  // The environment's teardown cancels a call still running, so a worker_thread can exit.
  LoopbackWorker(Napi::Env env, LoopbackOptions options, std::shared_ptr<std::atomic<bool>> cancel)
      : PromiseWorker(env, "faxline:loopback", [cancel] { cancel->store(true); }),
        options_(std::move(options)),
        cancel_(std::move(cancel)) {}

  LoopbackOptions options_;
  LoopbackOutcome outcome_;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

constexpr double kMaxCallMs = 24.0 * 3600 * 1000;

Napi::Value StartLoopback(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ObjectArg(info, 0, "options");
  LoopbackOptions options;
  Napi::Value sender = o.Get("sender");
  if (!sender.IsObject()) ThrowType(env, "an object", "options.sender", sender);
  options.sender = TerminalOptionsFromJs(sender.As<Napi::Object>());
  if (options.sender.direction != Direction::kSend)
    ThrowRange(env, "options.sender.direction must be 'send'");
  options.receiver_answers = BoolProp(o, "receiverAnswers", true);
  Napi::Value receiver = o.Get("receiver");
  if (options.receiver_answers) {
    if (!receiver.IsObject()) ThrowType(env, "an object", "options.receiver", receiver);
    options.receiver = TerminalOptionsFromJs(receiver.As<Napi::Object>());
    if (options.receiver.direction != Direction::kReceive)
      ThrowRange(env, "options.receiver.direction must be 'receive'");
  }
  const double hang_up_ms = NumberProp(o, "hangUpAtMs", -1, -1, kMaxCallMs);
  options.hang_up_at_sample =
      hang_up_ms < 0 ? -1 : static_cast<int64_t>(hang_up_ms * kSampleRate / 1000.0);
  const double max_ms = NumberProp(o, "maxMs", 3600.0 * 1000, 1, kMaxCallMs);
  options.max_samples = static_cast<int64_t>(max_ms * kSampleRate / 1000.0);
  options.record_audio = BoolProp(o, "recordAudio", false);

  auto* worker = new LoopbackWorker(env, std::move(options));
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->promise());
  std::weak_ptr<std::atomic<bool>> weak_flag = worker->cancel_flag();
  handle.Set("cancel", Napi::Function::New(env, [weak_flag](const Napi::CallbackInfo& ci) {
               if (auto flag = weak_flag.lock()) flag->store(true);
               return ci.Env().Undefined();
             }));
  worker->Queue();
  return handle;
}

}  // namespace

void InitLoopback(Napi::Env env, Napi::Object exports) {
  exports.Set("startLoopback", Napi::Function::New(env, StartLoopback, "startLoopback"));
}

}  // namespace faxline::bindings
