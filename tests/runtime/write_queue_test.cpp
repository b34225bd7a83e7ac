// WriteQueue: idle pushes write on the pushing thread, busy ones queue for the writer thread, order is kept,
// one write at a time, close() waits for an in-progress write, a broken stream drops later frames.
#include "runtime/write-queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace chorus::runtime {
namespace {

using namespace std::chrono_literals;

TEST(WriteQueue, AnIdlePushWritesOnThePushingThread) {
  std::thread::id writer_thread;
  WriteQueue<int> queue([&](const int&) {
    writer_thread = std::this_thread::get_id();
    return true;
  });
  EXPECT_TRUE(queue.push(1));
  EXPECT_EQ(writer_thread, std::this_thread::get_id());
}

TEST(WriteQueue, PushesDuringAWriteQueueAndKeepTheirOrderOneWriteAtATime) {
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::vector<int> written;
  std::atomic<int> concurrent{0}, max_concurrent{0};
  std::promise<void> first_started;
  WriteQueue<int> queue([&](const int& frame) {
    int now = ++concurrent;
    max_concurrent = std::max(max_concurrent.load(), now);
    if (frame == 0) {
      first_started.set_value();
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return release; });
    }
    {
      std::lock_guard lock(mutex);
      written.push_back(frame);
    }
    --concurrent;
    return true;
  });
  std::thread blocked([&] { EXPECT_TRUE(queue.push(0)); });  // writes inline and blocks in the write
  first_started.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i <= 50; ++i) EXPECT_TRUE(queue.push(i));  // busy: queued, returns at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  blocked.join();
  queue.close();  // writes what is queued first
  ASSERT_EQ(written.size(), 51u);
  for (int i = 0; i <= 50; ++i) EXPECT_EQ(written[static_cast<size_t>(i)], i);
  EXPECT_EQ(max_concurrent.load(), 1);
}

TEST(WriteQueue, CloseWaitsForAnInlineWriteInProgress) {
  std::atomic<bool> finished{false};
  std::promise<void> started;
  WriteQueue<int> queue([&](const int&) {
    started.set_value();
    std::this_thread::sleep_for(100ms);
    finished = true;
    return true;
  });
  std::thread pusher([&] { queue.push(1); });
  started.get_future().wait();
  queue.close();
  EXPECT_TRUE(finished.load());
  EXPECT_FALSE(queue.push(2));  // closed
  pusher.join();
}

TEST(WriteQueue, ABrokenStreamDropsLaterFrames) {
  std::atomic<int> writes{0};
  WriteQueue<int> queue([&](const int&) {
    ++writes;
    return false;
  });
  EXPECT_FALSE(queue.push(1));  // written inline: the failure is known at once
  EXPECT_FALSE(queue.push(2));
  queue.close();
  EXPECT_EQ(writes.load(), 1);
}

TEST(WriteQueue, AFrameThatMustNotBlockGoesThroughTheWriterThread) {
  std::promise<std::thread::id> writer_thread;
  WriteQueue<int> queue([&](const int&) {
    writer_thread.set_value(std::this_thread::get_id());
    return true;
  });
  EXPECT_TRUE(queue.push(1, /*inline_ok=*/false));
  auto id = writer_thread.get_future();
  ASSERT_EQ(id.wait_for(5s), std::future_status::ready);
  EXPECT_NE(id.get(), std::this_thread::get_id());
}

}  // namespace
}  // namespace chorus::runtime
