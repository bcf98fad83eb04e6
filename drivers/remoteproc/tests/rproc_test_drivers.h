/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rpmsg drivers the remoteproc suites run: an echo service on the
 * remote, and a host client that counts its probes and removes, checks
 * what comes back (pings with a number, echoes in order) and can be told
 * to misbehave in probe (block until released, report a crash). One
 * instance of the drivers per suite file (the templates bind them to the
 * suite's own state), since drivers are constinit objects with a name of
 * their own on the bus.
 *
 * Framework headers only: compiled hosted and into the KUnit module.
 */
#ifndef REMOTEPROC_TESTS_RPROC_TEST_DRIVERS_H
#define REMOTEPROC_TESTS_RPROC_TEST_DRIVERS_H

#include <keel/string.h>
#include <keel/wait.h>
#include <rpmsg/rpmsg.h>

#include "rproc_loopback.h"

namespace rproc::test {

using keel::Span;
using keel::UniquePtr;
using rpmsg::RpmsgEndpoint;

/*
 * What a suite's client driver records: allocated by each case (it holds
 * wait queues, which need a constructor) and published through the
 * suite's constinit pointer, which the driver templates below take.
 */
struct ClientState {
	Atomic<u32> probes{ 0 };
	Atomic<u32> removes{ 0 };
	Atomic<u32> probe_errors{ 0 };
	Atomic<u64> received{ 0 };
	Atomic<u32> last_ping{ 0 };
	/* ping()'s last call: its sends and the last send's result (for a failure's report). */
	Atomic<u32> ping_sends{ 0 };
	Atomic<int> ping_err{ 0 };
	/* Echoes of numbered messages: the next expected number, and those out of order. */
	Atomic<u32> next_seq{ 0 };
	Atomic<u32> out_of_order{ 0 };
	/* Probe misbehaviour. */
	Atomic<bool> block_probe{ false };
	Atomic<bool> in_probe{ false };
	Atomic<int> probe_send_err{ 0 };
	Atomic<LoopbackRemote *> crash_in_probe{ nullptr };
	keel::Completion probe_release{ "rproc_test_probe", KEEL_LOCK_KEY() };
	keel::WaitQueue wq{ "rproc_test_client", KEEL_LOCK_KEY() };
	Atomic<RpmsgDevice *> dev{ nullptr };

	void reset()
	{
		probes.store(0);
		removes.store(0);
		probe_errors.store(0);
		received.store(0);
		last_ping.store(0);
		next_seq.store(0);
		out_of_order.store(0);
		block_probe.store(false);
		in_probe.store(false);
		probe_send_err.store(0);
		crash_in_probe.store(nullptr);
		probe_release.reinit();
		dev.store(nullptr);
	}
};

/* Message kinds: a ping carries its number; a numbered message its sequence. */
inline constexpr u32 MSG_PING = 0x676e6970; /* "ping" */
inline constexpr u32 MSG_SEQ = 0x71657373;  /* "sseq" */

struct TestMsg {
	u32 kind;
	u32 n;
	u8 pad[24];
};

inline Span<const u8> msg_bytes(const TestMsg &m)
{
	return Span<const u8>(reinterpret_cast<const u8 *>(&m), sizeof(m));
}

/*
 * The host client's behaviour, shared by the suites' driver classes
 * (each suite declares its own class deriving from it, bound to its own
 * ClientState and channel name).
 */
using ClientPtr = Atomic<ClientState *>;

template <ClientPtr *P> struct ClientBase : keel::NonMovable {
	static Result<void> common_probe(RpmsgDevice &rpdev)
	{
		ClientState *S = P->load();
		if (!S)
			return keel::err(-ENODEV);
		S->in_probe.store(true);
		if (S->block_probe.load()) {
			/* A probe that takes its time (talks to the remote, say). */
			(void)S->probe_release.wait_timeout(keel::ms_to_ns(10000));
			TestMsg m = { MSG_PING, 0, {} };
			S->probe_send_err.store(
				keel::result_errno(rpmsg::send(*rpdev.ept(), msg_bytes(m))));
		}
		if (LoopbackRemote *lr = S->crash_in_probe.exchange(nullptr)) {
			/* The remote dies while its announcement is being handled. */
			lr->fatal("crashed during the announcement");
		}
		S->in_probe.store(false);
		S->probes.fetch_add(1);
		S->dev.store(&rpdev);
		S->wq.wake_up();
		return keel::ok();
	}
	void common_remove(RpmsgDevice &)
	{
		ClientState *S = P->load();
		if (!S)
			return;
		S->dev.store(nullptr);
		S->removes.fetch_add(1);
		S->wq.wake_up();
	}
	Result<void> common_message(Span<const u8> data)
	{
		ClientState *S = P->load();
		if (!S)
			return keel::ok();
		TestMsg m = {};
		if (data.size() == sizeof(m)) {
			memcpy(&m, data.data(), sizeof(m));
			if (m.kind == MSG_PING) {
				S->last_ping.store(m.n);
			} else if (m.kind == MSG_SEQ) {
				if (m.n != S->next_seq.load())
					S->out_of_order.fetch_add(1);
				S->next_seq.store(m.n + 1);
			}
		}
		S->received.fetch_add(1);
		S->wq.wake_up();
		return keel::ok();
	}
};

/* The remote's echo: answers from the callback, never waiting (counted when it cannot). */
struct EchoCounters {
	Atomic<u64> echoed;
	Atomic<u64> dropped;
};

template <EchoCounters *E> struct EchoBase : keel::NonMovable {
	Result<void> on_message(RpmsgDevice &rpdev, Span<const u8> data, u32 src)
	{
		Result<void> r = rpmsg::trysendto(*rpdev.ept(), data, src);
		if (r.is_ok())
			E->echoed.fetch_add(1, keel::MemoryOrder::Relaxed);
		else
			E->dropped.fetch_add(1, keel::MemoryOrder::Relaxed);
		return r;
	}
};

/* The remote's echo driver, bound to a suite's counters. */
template <EchoCounters *E> struct EchoDriver : EchoBase<E> {
	static Result<UniquePtr<EchoDriver>> probe(RpmsgDevice &)
	{
		return keel::make_unique<EchoDriver>(GFP_KERNEL);
	}
};

/*
 * The host's client driver, bound to a suite's state and to the channel
 * names in @Ids (a constexpr id table of the suite's own, ended by {}).
 */
template <ClientPtr *P, const rpmsg::RpmsgDeviceId (&Ids)[2]> struct ClientDriver : ClientBase<P> {
	static constexpr const rpmsg::RpmsgDeviceId (&id_table)[2] = Ids;
	static Result<UniquePtr<ClientDriver>> probe(RpmsgDevice &rpdev)
	{
		TRY(ClientBase<P>::common_probe(rpdev));
		return keel::make_unique<ClientDriver>(GFP_KERNEL);
	}
	void remove(RpmsgDevice &rpdev) { this->common_remove(rpdev); }
	Result<void> on_message(RpmsgDevice &, Span<const u8> data, u32)
	{
		return this->common_message(data);
	}
};

/*
 * The state of a case's client: allocated, published through @P, freed
 * (and unpublished) when the case ends; @E's counters start from zero.
 * Null, with the case failed, without memory.
 */
template <ClientPtr *P, EchoCounters *E> ClientState *client_state(keel::test::Test &t)
{
	ClientState *cs = new (GFP_KERNEL) ClientState;
	if (!cs || t.add_cleanup(
			    [](void *p) {
				    P->store(nullptr);
				    delete static_cast<ClientState *>(p);
			    },
			    cs)
			   .is_error()) {
		delete cs;
		EXPECT_FAIL(t, "no memory for the client state");
		return nullptr;
	}
	P->store(cs);
	E->echoed.store(0);
	E->dropped.store(0);
	return cs;
}

/*
 * A loopback whose remote offers @service, bound there to @echo, with
 * @client registered for the host's side.
 */
inline LoopbackConfig echo_config(const char *service, RpmsgDriver &echo, RpmsgDriver &client)
{
	LoopbackConfig c;
	c.services[0] = { service, echo.name() };
	c.drivers[0] = &echo;
	c.drivers[1] = &client;
	return c;
}

/*
 * Waits until @S's client is probed and its probe has returned (the
 * channel receives: messages sent before would be held, and beyond the
 * hold limit dropped): the channel, or null. @lr's remote must not crash
 * meanwhile (the channel is looked at).
 */
inline RpmsgDevice *wait_client(ClientState *S, LoopbackRemote *lr,
				s64 timeout_ns = keel::ms_to_ns(5000))
{
	RpmsgDevice *d = nullptr;
	bool ok = rpmsg::test::wait_for(
		[&] {
			d = S->dev.load();
			RpmsgLink *l = d ? lr->host_link() : nullptr;
			return l && l->channel_active(*d);
		},
		timeout_ns);
	return ok ? d : nullptr;
}

/*
 * Sends ping @n on @ch and waits for its echo: the link works. The echo
 * answers without waiting and drops what it cannot send at once (counted),
 * so under load a ping is sent again every quarter second.
 */
inline bool ping(ClientState *S, RpmsgDevice &ch, u32 n, s64 timeout_ns = keel::ms_to_ns(5000))
{
	TestMsg m = { MSG_PING, n, {} };
	s64 deadline = keel::ktime_get_ns() + timeout_ns;
	S->ping_sends.store(0);
	S->ping_err.store(0);
	for (;;) {
		Result<void> r = rpmsg::send(*ch.ept(), msg_bytes(m));
		S->ping_sends.fetch_add(1);
		if (r.is_error()) {
			S->ping_err.store(r.error().to_errno());
			return false;
		}
		s64 left = deadline - keel::ktime_get_ns();
		if (left <= 0)
			return false;
		s64 slice = left < keel::ms_to_ns(250) ? left : keel::ms_to_ns(250);
		if (S->wq.wait_event_timeout([&] { return S->last_ping.load() == n; }, slice) > 0)
			return true;
	}
}

} // namespace rproc::test

#endif
