// SPDX-License-Identifier: GPL-2.0
/* DmaBuffer (dma_alloc_coherent): zeroed, distinct device addresses, ownership. */
#include <keel/dma.h>
#include <keel/string.h>
#include <keel/test.h>

using namespace keel;
using namespace keel::test;

namespace {

void coherent_memory_is_zeroed(Test &t)
{
	auto r = DmaBuffer::alloc_coherent(nullptr, 3 * 4096 + 100, GFP_KERNEL);
	ASSERT_OK(t, r);
	DmaBuffer b = r.release_value();
	ASSERT_NOT_NULL(t, b.cpu_addr());
	EXPECT_EQ(t, b.size(), size_t(3 * 4096 + 100));
	const u8 *p = static_cast<const u8 *>(b.cpu_addr());
	size_t nonzero = 0;
	for (size_t i = 0; i < b.size(); i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(t, nonzero, size_t(0));
	memset(b.cpu_addr(), 0xff, b.size());
	cache_clean(b.cpu_addr(), b.size());
	cache_invalidate(b.cpu_addr(), b.size());
}

void buffers_get_distinct_device_addresses(Test &t)
{
	constexpr int N = 8;
	DmaBuffer bufs[N];
	for (auto &b : bufs) {
		auto r = DmaBuffer::alloc_coherent(nullptr, 512, GFP_KERNEL);
		ASSERT_OK(t, r);
		b = r.release_value();
	}
	for (int i = 0; i < N; i++) {
		EXPECT_NE(t, bufs[i].dma_addr(), dma_addr_t(0));
		for (int j = i + 1; j < N; j++) {
			/* Device ranges must not overlap either. */
			dma_addr_t a = bufs[i].dma_addr(), b = bufs[j].dma_addr();
			EXPECT_TRUE(t, a + 512 <= b || b + 512 <= a);
		}
	}
}

void move_transfers_ownership(Test &t)
{
	auto r = DmaBuffer::alloc_coherent(nullptr, 64, GFP_KERNEL);
	ASSERT_OK(t, r);
	DmaBuffer a = r.release_value();
	void *cpu = a.cpu_addr();
	dma_addr_t dma = a.dma_addr();
	DmaBuffer b = move(a);
	EXPECT_NULL(t, a.cpu_addr());
	EXPECT_EQ(t, a.size(), size_t(0));
	EXPECT_EQ(t, b.cpu_addr(), cpu);
	EXPECT_EQ(t, b.dma_addr(), dma);
	b.free();
	EXPECT_NULL(t, b.cpu_addr());
	b.free();
}

const TestCase dma_cases[] = {
	KEEL_CASE(coherent_memory_is_zeroed),
	KEEL_CASE(buffers_get_distinct_device_addresses),
	KEEL_CASE(move_transfers_ownership),
	{},
};

const TestSuite dma_suite = { .name = "keel_dma", .cases = dma_cases };

} // namespace

KEEL_TEST_SUITE(dma_suite);
