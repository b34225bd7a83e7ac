// Selection of kept KV entries: the oracle's tie rule (ties to the lower position; globally to the lower
// head, then position), protected positions, global mode and budgets.
#include "inference/kv-select.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace chorus::inference {
namespace {

std::vector<int64_t> row(const torch::Tensor& kept, int64_t h) {
  auto r = kept[h].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

TEST(KvSelect, KeepsHighestPerHeadSorted) {
  auto s = torch::tensor({{0.1, 0.9, 0.5, 0.7}, {3.0, 1.0, 2.0, 0.0}}, torch::kFloat32);
  auto kept = select_kept(s, 2);
  ASSERT_EQ(kept.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(row(kept, 0), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(row(kept, 1), (std::vector<int64_t>{0, 2}));
}

TEST(KvSelect, TiesGoToLowerPositionOnLargeInput) {
  // 500 equal scores with a few larger ones: an unstable sort picks arbitrary tied positions.
  auto s = torch::zeros({1, 500}, torch::kFloat64);
  s[0][499] = 1.0;
  s[0][250] = 1.0;
  auto kept = select_kept(s, 10);
  std::vector<int64_t> expected = {0, 1, 2, 3, 4, 5, 6, 7, 250, 499};
  EXPECT_EQ(row(kept, 0), expected);
  // Many tie groups in random order.
  auto t = torch::randint(0, 3, {2, 500}, torch::kInt64).to(torch::kFloat32);
  auto k2 = select_kept(t, 123);
  for (int64_t h = 0; h < 2; ++h) {
    std::vector<std::pair<float, int64_t>> v;
    for (int64_t i = 0; i < 500; ++i) v.emplace_back(-t[h][i].item<float>(), i);
    std::sort(v.begin(), v.end());
    std::vector<int64_t> want;
    for (int i = 0; i < 123; ++i) want.push_back(v[static_cast<size_t>(i)].second);
    std::sort(want.begin(), want.end());
    EXPECT_EQ(row(k2, h), want);
  }
}

TEST(KvSelect, ProtectedPositionsAlwaysKeptAndCounted) {
  auto s = torch::tensor({{-5.0, 1.0, 2.0, 3.0, 4.0, -9.0}}, torch::kFloat64);
  auto kept = select_kept(s, 3, true, /*protect_first=*/1, /*protect_last=*/1);
  EXPECT_EQ(row(kept, 0), (std::vector<int64_t>{0, 4, 5}));
  // The protected set alone exceeds the budget: all of it is kept.
  auto all = select_kept(s, 1, true, 2, 1);
  EXPECT_EQ(row(all, 0), (std::vector<int64_t>{0, 1, 5}));
}

TEST(KvSelect, GlobalModeRanksAllHeadsTogether) {
  auto s = torch::tensor({{5.0, 1.0, 1.0}, {1.0, 4.0, 3.0}}, torch::kFloat64);
  // n * H = 4 pairs: 5 (h0,p0), 4 (h1,p1), 3 (h1,p2), then the tie at 1 goes to head 0, position 1.
  auto kept = select_kept(s, 2, /*per_head=*/false);
  ASSERT_EQ(kept.size(1), 2);
  EXPECT_EQ(row(kept, 0), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(row(kept, 1), (std::vector<int64_t>{1, 2}));
  auto uneven = torch::tensor({{9.0, 8.0, 7.0}, {0.0, 0.0, 0.0}}, torch::kFloat64);
  auto k2 = select_kept(uneven, 1, false);
  ASSERT_EQ(k2.size(1), 2);  // head 0 keeps 2, head 1 keeps 0: padded with -1
  EXPECT_EQ(row(k2, 0), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(row(k2, 1), (std::vector<int64_t>{-1, -1}));
}

TEST(KvSelect, BudgetsFollowTheOracle) {
  EXPECT_EQ(keep_count_for_ratio(100, 0.29), 28);  // int(100 * 0.29) = 28 in float64
  EXPECT_EQ(keep_count_for_ratio(10, 1.5), 10);
  EXPECT_EQ(keep_count_for_ratio(10, 0.0), 0);
  EXPECT_EQ(keep_count_for_compression(80, 0.5), 40);
  EXPECT_EQ(keep_count_for_compression(100, 0.71), static_cast<int64_t>(100 * (1 - 0.71)));
  auto s = torch::rand({2, 7});
  EXPECT_EQ(select_kept(s, 0).size(1), 0);
  EXPECT_EQ(select_kept(s, 100).size(1), 7);
  EXPECT_THROW(select_kept(torch::full({1, 3}, NAN), 1), std::invalid_argument);
}

}  // namespace
}  // namespace chorus::inference
