#pragma once
// WriteQueue: serializes writes on a gRPC stream (one outstanding Write at a time). A frame pushed while the
// stream is idle is written on the pushing thread (no hand-off: each hand-off to a writer thread costs a thread
// wake-up, tens of µs on a busy machine, and a routed round trip crosses four streams); a frame pushed while a
// write is in progress is queued for the queue's writer thread, so at most one pushing thread per stream blocks
// in Write (for as long as gRPC flow control holds that one write) and the others return at once.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace chorus::runtime {

template <typename Frame>
class WriteQueue {
 public:
  // `write` performs one blocking Write; false means the stream is broken (later frames are dropped).
  explicit WriteQueue(std::function<bool(const Frame&)> write)
      : write_(std::move(write)), thread_([this] { run(); }) {}
  ~WriteQueue() { close(); }
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Writes the frame now when the stream is idle, else queues it; false when the queue is closed or the stream
  // broke. With `inline_ok` false the frame always goes through the writer thread (for callers that must not
  // block, e.g. the thread that reads the same stream).
  bool push(Frame frame, bool inline_ok = true) {
    std::unique_lock lock(mutex_);
    if (closed_ || broken_) return false;
    if (!inline_ok || writing_ || !queue_.empty()) {
      queue_.push_back(std::move(frame));
      lock.unlock();
      wake_.notify_all();
      return true;
    }
    writing_ = true;
    lock.unlock();
    const bool ok = write_(frame);
    lock.lock();
    writing_ = false;
    if (!ok) {
      broken_ = true;
      queue_.clear();
    }
    const bool more = !queue_.empty() || closed_;
    lock.unlock();
    if (more || !ok) wake_.notify_all();  // frames queued meanwhile go to the writer thread; close() may wait
    return ok;
  }
  // Writes what is queued, waits for an in-progress write, then stops the thread (idempotent).
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    wake_.notify_all();
    {
      std::lock_guard join_lock(join_mutex_);
      if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
    }
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return !writing_; });  // a pushing thread's write must end before the stream does
  }

 private:
  void run() {
    for (;;) {
      Frame frame;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return (closed_ && !writing_) || (!queue_.empty() && !writing_); });
        if (queue_.empty()) return;
        frame = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
      }
      const bool ok = write_(frame);
      {
        std::lock_guard lock(mutex_);
        writing_ = false;
        if (!ok) {
          broken_ = true;
          queue_.clear();
        }
      }
      wake_.notify_all();
    }
  }

  std::function<bool(const Frame&)> write_;
  std::mutex mutex_, join_mutex_;
  std::condition_variable wake_;
  std::deque<Frame> queue_;
  bool closed_ = false;
  bool broken_ = false;
  bool writing_ = false;  // a Write is in progress (on the writer thread or a pushing thread)
  std::thread thread_;    // last: starts after the members above exist
};

}  // namespace chorus::runtime
