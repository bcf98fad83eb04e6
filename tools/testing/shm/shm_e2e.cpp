// SPDX-License-Identifier: GPL-2.0
/*
 * shm_e2e: host and remote as two processes over the hosted shared-memory
 * backend (shmlink: an ivshmem-protocol server, a memfd region, eventfd
 * doorbells). The parent runs the server and the host; the remote is this
 * program re-executed with --remote. Checks, each bounded by a timeout:
 *  1. negotiation and DRIVER_OK across processes, 2000 echoed buffers;
 *  2. host restart (detach/attach) three times: indices start at 0 again;
 *  3. remote crash (SIGKILL): the host sees the disconnect, its queues fail
 *     at once; region reset, a new remote, echoes again.
 * Exits nonzero on any mismatch.
 */
#include <test_support/shm_peer.h>

#include <signal.h>

using namespace shmpeer;

namespace {

const s64 TIMEOUT = keel::ms_to_ns(5000);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "shm_e2e: FAILED at line %d: %s\n", __LINE__, #cond);      \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

keel::Atomic<u32> s_crashes{ 0 };

u16 used_idx(ShmHost &h, u32 vring)
{
	const rproc::RscVring &rv = h.table().vdevs[0].vring[vring];
	auto l = VringLayout::compute(rv.num, rv.align);
	return l.is_ok() ? h.region().read<u16>(rv.da + l.value().used_idx()).value_or(0xffff)
			 : 0xffff;
}

int exchange(u32 bursts, u32 burst, u32 seed)
{
	for (u32 b = 0; b < bursts; b++) {
		HostDriver *d = s_host_drv;
		CHECK(d);
		auto r = d->send_burst(burst, seed + b, TIMEOUT);
		if (r.is_error())
			fprintf(stderr, "shm_e2e: burst %u: %d\n", b, r.error().to_errno());
		CHECK(r.is_ok());
	}
	return 0;
}

int host_main(const char *self, const char *sock)
{
	auto srv = shmlink::Server::create(sock, 1 << 20, VECTORS);
	CHECK(srv.is_ok());
	CHECK(srv.value()->start().is_ok());
	const char *args[] = { self, "--remote", sock, nullptr };
	pid_t child = spawn_self(args);
	CHECK(child > 0);

	auto c = shmlink::Client::connect(sock, VECTORS, TIMEOUT);
	CHECK(c.is_ok());
	shmlink::Client *cl = c.value();
	CHECK(cl->wait_peer(TIMEOUT).is_ok());
	CHECK(virtio_init().is_ok());
	CHECK(register_virtio_driver(s_host_driver).is_ok());
	ShmHostConfig hc;
	hc.name = "e2e-host";
	hc.region = keel::ShmRegion(cl->mem(), cl->mem_size(), 0);
	hc.doorbell = cl;
	hc.crashed = [](void *) { s_crashes.fetch_add(1); };
	auto h = ShmHost::create(hc, GFP_KERNEL);
	CHECK(h.is_ok());
	keel::UniquePtr<ShmHost> host = keel::move(h.value());

	/* 1. negotiate, DRIVER_OK, buffers both ways */
	CHECK(host->attach(TIMEOUT).is_ok());
	CHECK(s_host_drv);
	CHECK(exchange(250, 8, 1) == 0);
	printf("shm_e2e: 2000 buffers echoed across processes\n");

	/* 2. host restart: fresh indices each session */
	for (u32 s = 0; s < 3; s++) {
		host->detach();
		CHECK(host->attach(TIMEOUT).is_ok());
		CHECK(used_idx(*host, 1) == 0);
		CHECK(exchange(10, 4, 100 * s) == 0);
		CHECK(used_idx(*host, 1) == 40);
	}
	printf("shm_e2e: 3 host restarts, indices restart at 0\n");

	/* 3. remote crash: disconnect seen, fail fast, region reset, a new remote */
	kill(child, SIGKILL);
	int status;
	waitpid(child, &status, 0);
	s64 deadline = keel::ktime_get_ns() + TIMEOUT;
	while (s_crashes.load() == 0 && keel::ktime_get_ns() < deadline)
		keel::msleep(1);
	CHECK(host->crashed());
	CHECK(s_crashes.load() == 1);
	CHECK(s_host_drv && s_host_drv->send_burst(1, 7, keel::ms_to_ns(100)).is_error());
	host->detach();
	CHECK(host->reset_region().is_ok());
	host->clear_crashed();
	child = spawn_self(args);
	CHECK(child > 0);
	CHECK(cl->wait_peer(TIMEOUT).is_ok());
	CHECK(host->attach(TIMEOUT).is_ok());
	CHECK(exchange(50, 8, 9) == 0);
	CHECK(used_idx(*host, 1) == 400);
	printf("shm_e2e: remote crash detected, region reset, new remote serves\n");

	/* The remote exits 0 when the host leaves. */
	host.reset();
	unregister_virtio_driver(s_host_driver);
	virtio_exit();
	delete cl;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	srv.value()->stop();
	delete srv.value();
	printf("shm_e2e: ok\n");
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	/* Bounded: a hung peer fails the test instead of hanging ctest. */
	alarm(120);
	if (argc >= 3 && !strcmp(argv[1], "--remote"))
		return run_remote(argv[2], true, keel::ms_to_ns(100000));
	keel::log_set_echo(getenv("SHM_E2E_VERBOSE") != nullptr);
	char dir[] = "/tmp/keel-shm-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/ivshmem.sock", dir);
	int r = host_main(argv[0], sock);
	unlink(sock);
	rmdir(dir);
	return r;
}
