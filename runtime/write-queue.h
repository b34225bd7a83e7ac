#pragma once
// WriteQueue: serializes writes on a gRPC stream (one outstanding Write at a time) through a queue and a thread.
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

  // Queues a frame; false when the queue is closed or the stream broke.
  bool push(Frame frame) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || broken_) return false;
      queue_.push_back(std::move(frame));
    }
    wake_.notify_one();
    return true;
  }
  // Writes what is queued, then stops the thread (idempotent).
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    wake_.notify_all();
    std::lock_guard join_lock(join_mutex_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      Frame frame;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        frame = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!write_(frame)) {
        std::lock_guard lock(mutex_);
        broken_ = true;
        queue_.clear();
        if (closed_) return;
      }
    }
  }

  std::function<bool(const Frame&)> write_;
  std::mutex mutex_, join_mutex_;
  std::condition_variable wake_;
  std::deque<Frame> queue_;
  bool closed_ = false;
  bool broken_ = false;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace chorus::runtime
