// SPDX-License-Identifier: GPL-2.0
/*
 * The hosted remoteproc platform, firmware side (see hosted_rproc.h): what
 * a firmware executable started by HostedRproc runs. Its main thread
 * beats and obeys the control socket; the shmlink client's thread is its
 * interrupt context; the rpmsg remote role has its session thread.
 */
#include "hosted_rproc.h"

#include <keel/log.h>
#include <keel/string.h>
#include <keel/time.h>
#include <keel/wait.h>

#include "../shmlink/shmlink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace rproc::hosted {

using keel::err;
using keel::ok;

struct Firmware::Impl {
	explicit Impl(const FirmwareConfig &c) : cfg(c) {}

	FirmwareConfig cfg;
	shmlink::Client *client = nullptr;
	keel::UniquePtr<rpmsg::RpmsgRemote> remote;
	u32 heartbeat_ms = 20;
	char name[64] = "firmware";
	keel::Atomic<bool> host_gone{ false };
	bool hung = false;
	u32 beats = 0;

	void send(u32 type, u32 arg, const char *text = nullptr)
	{
		FwCtrlMsg m = {};
		m.type = type;
		m.arg = arg;
		if (text)
			(void)keel::strscpy(m.text, text, sizeof(m.text));
		(void)!::send(FW_CTRL_FD, &m, sizeof(m), MSG_NOSIGNAL);
	}
	[[noreturn]] void halt()
	{
		/* Dead to the host: no beats, no service, until it stops us. */
		client->disable();
		for (;;)
			pause();
	}
	int handle(const FwCtrlMsg &m);
};

Result<keel::UniquePtr<Firmware>> Firmware::create(const FirmwareConfig &cfg)
{
	const char *sock = getenv(FW_ENV_SOCK);
	const char *vec = getenv(FW_ENV_VECTORS);
	if (!sock || !vec || fcntl(FW_CTRL_FD, F_GETFD) < 0) {
		pr_err("firmware: not started by a hosted remoteproc (no %s, %s or control socket)",
		       FW_ENV_SOCK, FW_ENV_VECTORS);
		return err(-ENOENT);
	}
	keel::UniquePtr<Firmware> f(new (GFP_KERNEL) Firmware);
	if (!f)
		return err(-ENOMEM);
	f->m_impl = TRY(keel::make_unique<Impl>(GFP_KERNEL, cfg));
	Impl *im = f->m_impl.get();
	if (const char *hb = getenv(FW_ENV_HEARTBEAT_MS))
		im->heartbeat_ms = u32(strtoul(hb, nullptr, 10));
	if (im->heartbeat_ms == 0)
		im->heartbeat_ms = 20;
	if (const char *n = getenv(FW_ENV_NAME))
		(void)keel::strscpy(im->name, n, sizeof(im->name));
	u32 vectors = u32(strtoul(vec, nullptr, 10));
	im->client = TRY(
		shmlink::Client::connect(sock, vectors, keel::ms_to_ns(cfg.connect_timeout_ms)));
	TRY(im->client->wait_peer(keel::ms_to_ns(cfg.connect_timeout_ms)));
	rpmsg::RpmsgRemoteConfig rc = cfg.remote;
	rc.region = keel::ShmRegion(im->client->mem(), im->client->mem_size(), 0);
	rc.doorbell = im->client;
	rc.host_gone = [](void *ctx) { static_cast<Impl *>(ctx)->host_gone.store(true); };
	rc.host_gone_ctx = im;
	im->remote = TRY(rpmsg::RpmsgRemote::create(rc, GFP_KERNEL));
	im->send(FW_HELLO, u32(getpid()));
	return f;
}

Firmware::~Firmware()
{
	if (!m_impl)
		return;
	m_impl->remote.reset();
	delete m_impl->client;
}

rpmsg::RpmsgRemote &Firmware::remote()
{
	return *m_impl->remote;
}

bool Firmware::asleep() const
{
	return m_impl->remote && m_impl->remote->asleep();
}

void Firmware::report_fatal(const char *msg)
{
	m_impl->send(FW_FATAL, 0, msg);
	m_impl->halt();
}

/* One control message: 0 to go on, else run()'s exit status + 1. */
int Firmware::Impl::handle(const FwCtrlMsg &m)
{
	switch (m.type) {
	case HOST_SLEEP: {
		Result<void> r = remote->suspend();
		send(r.is_ok() ? FW_SLEEP_ACK : FW_SLEEP_NACK, u32(-keel::result_errno(r)));
		return 0;
	}
	case HOST_WAKE:
		remote->resume();
		send(FW_WAKE_ACK, 0);
		return 0;
	case HOST_EXIT:
		return 1;
	case HOST_INJECT:
		switch (m.arg) {
		case FW_INJECT_FATAL:
			send(FW_FATAL, 0, "injected fatal error");
			halt();
		case FW_INJECT_HANG:
			/* Stuck: the doorbell is not served and no beat goes out. */
			hung = true;
			client->disable();
			return 0;
		case FW_INJECT_EXIT:
			_exit(3);
		case FW_INJECT_ABORT:
			abort();
		default:
			pr_warn("%s: unknown injection %u", name, m.arg);
			return 0;
		}
	default:
		pr_warn_ratelimited("%s: unknown control message %u", name, m.type);
		return 0;
	}
}

int Firmware::run()
{
	Impl *im = m_impl.get();
	if (im->remote->start().is_error())
		return 1;
	s64 next_beat = keel::ktime_get_ns();
	for (;;) {
		if (im->host_gone.load())
			return 0;
		s64 now = keel::ktime_get_ns();
		if (!im->hung && now >= next_beat) {
			im->send(FW_HEARTBEAT, im->beats++);
			next_beat = now + keel::ms_to_ns(im->heartbeat_ms);
		}
		int wait_ms = int(keel::ns_to_ms(next_beat - now)) + 1;
		struct pollfd pf = { FW_CTRL_FD, POLLIN, 0 };
		int n = ::poll(&pf, 1, wait_ms > 0 ? wait_ms : 1);
		if (n < 0 && errno != EINTR)
			return 1;
		if (n <= 0)
			continue;
		FwCtrlMsg m;
		ssize_t got = recv(FW_CTRL_FD, &m, sizeof(m), MSG_DONTWAIT);
		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			return 0; /* the host closed the control socket: it is gone */
		if (got != ssize_t(sizeof(m)))
			continue;
		m.text[sizeof(m.text) - 1] = '\0';
		if (int rc = im->handle(m))
			return rc - 1;
	}
}

} // namespace rproc::hosted
