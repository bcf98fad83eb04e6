/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake rpmsg transport for the core's tests: plain memory instead of
 * virtqueues, so that a test plays the remote directly. It injects byte
 * images as received buffers (any header, any length: the hostile remote),
 * sees every message sent with its bytes, and decides when tx buffers come
 * back. The core (rpmsg_core.cpp, rpmsg_ns.cpp) runs unchanged on it.
 *
 * Framework headers only: compiled hosted and into the KUnit module.
 */
#ifndef RPMSG_TESTS_RPMSG_TEST_LINK_H
#define RPMSG_TESTS_RPMSG_TEST_LINK_H

#include <keel/string.h>
#include <keel/test.h>

#include "../rpmsg_internal.h"
#include "rpmsg_test_util.h"

namespace rpmsg::test {

using keel::Guard;

class TestLinkDevice : public keel::Device {
public:
	TestLinkDevice() = default;
};

/*
 * TestLink - one link over the fake transport (large: allocate it, see
 * make_test_link()). @NRX rx buffers of
 * @rx_size, @NTX tx buffers of @tx_size. Sent messages are kept (the last
 * SENT_LOG of them) for the test to inspect; with auto_complete (the
 * default) a sent buffer is free again at once, otherwise it stays with
 * the "remote" until complete_tx().
 */
class TestLink : keel::NonMovable {
public:
	static constexpr u32 NRX = 16;
	static constexpr u32 NTX = 8;
	static constexpr u32 MAX_BUF = 1024;
	static constexpr u32 SENT_LOG = 64;

	struct Sent {
		u32 src, dst, len;
		u8 bytes[MAX_BUF]; /* the whole buffer as written: header then payload */
	};

	bool auto_complete = true;
	keel::Atomic<u32> recycled{ 0 };
	keel::Atomic<u32> sleepers{ 0 };
	keel::Atomic<u32> tx_wait_calls{ 0 };
	keel::Atomic<u32> nr_sent{ 0 };
	/* submit_tx() calls: one per send, one per batch. */
	keel::Atomic<u32> nr_submits{ 0 };

	~TestLink() { teardown(); }

	/* Set-up: the link's device, the link, and (optionally) the name service endpoint. */
	Result<void> setup(bool ns, const RpmsgLinkConfig &cfg = RpmsgLinkConfig(),
			   u32 rx_size = RPMSG_BUF_SIZE, u32 tx_size = RPMSG_BUF_SIZE,
			   bool le = keel::CPU_IS_LITTLE_ENDIAN)
	{
		m_rx_size = rx_size;
		m_tx_size = tx_size;
		m_sent = static_cast<Sent *>(keel::kzalloc(sizeof(Sent) * SENT_LOG, GFP_KERNEL));
		if (!m_sent)
			return keel::err(-ENOMEM);
		TestLinkDevice *d = new (GFP_KERNEL) TestLinkDevice;
		if (!d)
			return keel::err(-ENOMEM);
		(void)keel::device_initialize(*d, keel::device_release_fn<TestLinkDevice>());
		m_dev = d;
		TRY(d->set_name("rpmsg-test%u", s_seq.fetch_add(1)));
		TRY(keel::device_add(*d));
		m_dev_added = true;
		RpmsgLink::Params p;
		p.name = "test-link";
		p.dev = d;
		p.little_endian = le;
		p.rx_buf_size = rx_size;
		p.tx_buf_size = tx_size;
		p.nr_rx_slots = NRX;
		p.config = cfg;
		TRY(link.init(p, GFP_KERNEL));
		m_inited = true;
		link.set_peer_ns(ns);
		if (ns)
			TRY(link.create_ns_ept());
		link.set_up(true);
		return keel::ok();
	}

	void teardown()
	{
		if (m_inited) {
			link.shutdown();
			m_inited = false;
		}
		if (m_dev) {
			if (m_dev_added)
				keel::device_del(*m_dev);
			m_dev->put();
			m_dev = nullptr;
		}
		keel::kfree(m_sent);
		m_sent = nullptr;
	}

	/*
	 * inject() - the remote wrote @image into an rx buffer and gave it
	 * back with used length @used_len (default: the image's size).
	 * Return: the core's verdict; -ENOSPC when every rx buffer is held.
	 */
	Result<RpmsgLink::RxVerdict> inject(Span<const u8> image, u32 used_len = ~0u)
	{
		u32 slot;
		{
			Guard g{ m_lock };
			u32 i = 0;
			while (i < NRX && m_rx_busy[i])
				i++;
			if (i == NRX)
				return keel::err(-ENOSPC);
			m_rx_busy[i] = true;
			slot = i;
		}
		memset(m_rx[slot], 0, MAX_BUF);
		memcpy(m_rx[slot], image.data(), keel::min<size_t>(image.size(), MAX_BUF));
		RpmsgLink::RxVerdict v;
		{
			Guard rx{ link.m_rx_lock };
			v = link.receive(slot, m_rx[slot],
					 used_len == ~0u ? u32(image.size()) : used_len);
		}
		if (v == RpmsgLink::RxVerdict::Recycle)
			free_rx(slot);
		return v;
	}

	/* A well-formed message from the remote, in the link's byte order. */
	Result<RpmsgLink::RxVerdict> inject_msg(u32 src, u32 dst, Span<const u8> payload)
	{
		u8 img[MAX_BUF];
		RpmsgHdr h = rpmsg_hdr_encode(link.little_endian(), src, dst, u16(payload.size()));
		memcpy(img, &h, sizeof(h));
		if (payload.size())
			memcpy(img + sizeof(h), payload.data(), payload.size());
		return inject(Span<const u8>(img, sizeof(h) + payload.size()));
	}
	Result<RpmsgLink::RxVerdict> inject_str(u32 src, u32 dst, const char *s)
	{
		return inject_msg(src, dst,
				  Span<const u8>(reinterpret_cast<const u8 *>(s), strlen(s)));
	}

	/* A name service announcement from the remote. */
	Result<RpmsgLink::RxVerdict> announce(const char *name, u32 addr, u32 flags)
	{
		RpmsgNsMsg m = {};
		memcpy(m.name, name, keel::min<size_t>(strlen(name), sizeof(m.name)));
		m.addr = cpu_to_rpmsg32(link.little_endian(), addr);
		m.flags = cpu_to_rpmsg32(link.little_endian(), flags);
		return inject_msg(0x400, RPMSG_NS_ADDR,
				  Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m)));
	}

	/* Rx buffers the core holds (not given back). */
	u32 rx_held()
	{
		Guard g{ m_lock };
		u32 n = 0;
		for (bool b : m_rx_busy)
			n += b;
		return n;
	}

	/* The @i-th message sent (0: the first), or null when not (or no longer) logged. */
	const Sent *sent(u32 i)
	{
		u32 n = nr_sent.load();
		if (!m_sent || i >= n || n - i > SENT_LOG)
			return nullptr;
		return &m_sent[i % SENT_LOG];
	}
	const Sent *last_sent() { return nr_sent.load() ? sent(nr_sent.load() - 1) : nullptr; }

	/* The remote returns every tx buffer it has (auto_complete off). */
	void complete_tx()
	{
		{
			Guard g{ m_lock };
			for (auto &s : m_tx_state)
				if (s == Tx::Remote)
					s = Tx::Free;
		}
		link.tx_wake();
	}
	u32 tx_free()
	{
		Guard g{ m_lock };
		u32 n = 0;
		for (auto s : m_tx_state)
			n += s == Tx::Free;
		return n;
	}

	keel::Device &dev() { return *m_dev; }
	u8 *tx_buf(u32 i) { return m_tx[i]; }

	RpmsgLink link{ s_ops };

private:
	enum class Tx : u8 { Free, Taken, Remote };
	static TestLink &of(RpmsgLink &l) { return *keel::container_of(&l, &TestLink::link); }

	void free_rx(u32 slot)
	{
		Guard g{ m_lock };
		m_rx_busy[slot] = false;
	}

	static Result<u32> get_tx(RpmsgLink &l, Span<RpmsgTxBuf> out)
	{
		TestLink &t = of(l);
		if (!l.is_up())
			return keel::err(-ENOTCONN);
		Guard g{ t.m_lock };
		u32 n = 0;
		for (u32 i = 0; i < NTX && n < out.size(); i++) {
			if (t.m_tx_state[i] == Tx::Free) {
				t.m_tx_state[i] = Tx::Taken;
				out[n++] = RpmsgTxBuf{ Span<u8>(t.m_tx[i] + RPMSG_HDR_SIZE,
								t.m_tx_size - RPMSG_HDR_SIZE),
						       i };
			}
		}
		if (!n)
			return keel::err(-ENOMEM);
		return n;
	}
	static bool lent(TestLink &t, const RpmsgTxBuf &b, u32 len) REQUIRES(t.m_lock)
	{
		return b.cookie < NTX && b.payload.data() == t.m_tx[b.cookie] + RPMSG_HDR_SIZE &&
		       t.m_tx_state[b.cookie] == Tx::Taken && len <= t.m_tx_size - RPMSG_HDR_SIZE;
	}
	static Result<void> submit_tx(RpmsgLink &l, u32 src, u32 dst, Span<const RpmsgTxBuf> bufs,
				      Span<const u32> lens)
	{
		TestLink &t = of(l);
		Guard g{ t.m_lock };
		t.nr_submits.fetch_add(1);
		/* All or nothing, as the real transports; Remote marks those seen. */
		for (size_t k = 0; k < bufs.size(); k++) {
			if (!lent(t, bufs[k], lens[k])) {
				while (k--)
					t.m_tx_state[bufs[k].cookie] = Tx::Taken;
				return keel::err(-EINVAL);
			}
			t.m_tx_state[bufs[k].cookie] = Tx::Remote;
		}
		bool le = l.little_endian();
		for (size_t k = 0; k < bufs.size(); k++) {
			u32 i = bufs[k].cookie;
			RpmsgHdr hdr = rpmsg_hdr_encode(le, src, dst, u16(lens[k]));
			memcpy(t.m_tx[i], &hdr, sizeof(hdr));
			Sent &s = t.m_sent[t.nr_sent.load() % SENT_LOG];
			/* What a remote reads: the header as written, in the link's byte order. */
			memcpy(&hdr, t.m_tx[i], sizeof(hdr));
			s.src = rpmsg32_to_cpu(le, hdr.src);
			s.dst = rpmsg32_to_cpu(le, hdr.dst);
			s.len = rpmsg16_to_cpu(le, hdr.len);
			memcpy(s.bytes, t.m_tx[i], RPMSG_HDR_SIZE + lens[k]);
			t.nr_sent.fetch_add(1);
			t.m_tx_state[i] = t.auto_complete ? Tx::Free : Tx::Remote;
		}
		return keel::ok();
	}
	static Result<void> put_tx(RpmsgLink &l, u32 cookie, const u8 *buf)
	{
		TestLink &t = of(l);
		Guard g{ t.m_lock };
		if (cookie >= NTX || buf != t.m_tx[cookie] || t.m_tx_state[cookie] != Tx::Taken)
			return keel::err(-EINVAL);
		t.m_tx_state[cookie] = Tx::Free;
		return keel::ok();
	}
	static void tx_wait(RpmsgLink &l, bool waiting)
	{
		TestLink &t = of(l);
		t.tx_wait_calls.fetch_add(1);
		if (waiting)
			t.sleepers.fetch_add(1);
		else
			t.sleepers.fetch_sub(1);
	}
	static bool tx_poll(RpmsgLink &l)
	{
		TestLink &t = of(l);
		Guard g{ t.m_lock };
		for (auto s : t.m_tx_state)
			if (s == Tx::Free)
				return true;
		return false;
	}
	static void recycle_rx(RpmsgLink &l, u32 cookie)
	{
		TestLink &t = of(l);
		if (cookie < NRX) {
			t.free_rx(cookie);
			t.recycled.fetch_add(1);
		}
	}

	static constexpr RpmsgLinkOps s_ops = {
		.get_tx = &TestLink::get_tx,
		.submit_tx = &TestLink::submit_tx,
		.put_tx = &TestLink::put_tx,
		.tx_wait = &TestLink::tx_wait,
		.tx_poll = &TestLink::tx_poll,
		.recycle_rx = &TestLink::recycle_rx,
	};
	static inline constinit keel::Atomic<u32> s_seq{ 0 };

	keel::SpinLock m_lock{ "rpmsg_test_link", KEEL_LOCK_KEY() };
	bool m_rx_busy[NRX] GUARDED_BY(m_lock) = {};
	Tx m_tx_state[NTX] GUARDED_BY(m_lock) = {};
	Sent *m_sent = nullptr;
	u32 m_rx_size = RPMSG_BUF_SIZE;
	u32 m_tx_size = RPMSG_BUF_SIZE;
	alignas(16) u8 m_rx[NRX][MAX_BUF];
	alignas(16) u8 m_tx[NTX][MAX_BUF];
	TestLinkDevice *m_dev = nullptr;
	bool m_dev_added = false;
	bool m_inited = false;
};

/* A TestLink set up for @t, torn down when the case ends; null on failure (the case failed). */
inline TestLink *make_test_link(keel::test::Test &t, bool ns,
				const RpmsgLinkConfig &cfg = RpmsgLinkConfig(),
				u32 rx_size = RPMSG_BUF_SIZE, u32 tx_size = RPMSG_BUF_SIZE,
				bool le = keel::CPU_IS_LITTLE_ENDIAN)
{
	if (rpmsg_init().is_error()) {
		EXPECT_FAIL(t, "rpmsg_init failed");
		return nullptr;
	}
	TestLink *l = new (GFP_KERNEL) TestLink;
	auto cleanup = [](void *p) {
		delete static_cast<TestLink *>(p);
		rpmsg_exit();
	};
	if (!l || t.add_cleanup(cleanup, l).is_error()) {
		delete l;
		rpmsg_exit();
		EXPECT_FAIL(t, "no memory for the test link");
		return nullptr;
	}
	Result<void> r = l->setup(ns, cfg, rx_size, tx_size, le);
	if (r.is_error()) {
		EXPECT_FAIL(t, "test link set-up failed: %d", r.error().to_errno());
		return nullptr;
	}
	return l;
}

} // namespace rpmsg::test

#endif
